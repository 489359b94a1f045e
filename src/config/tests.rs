//! What the settings show of themselves: their `Debug` (logged, printed in panics) holds none of
//! the secrets.

use super::{Environment, Settings};

#[test]
fn the_debug_of_the_settings_shows_none_of_their_secrets() {
    let mut settings = Settings::for_environment(Environment::Test).unwrap();
    settings.session.secret_key = "session-key-that-must-not-show".into();
    settings.session.redis_url = "redis://:redis-password@cache:6379".into();
    settings.email.smtp_url = "smtps://mailer:smtp-password@mail.example.com:465".into();
    settings.database.url = "postgres://app:database-password@db:5432/orgs".into();
    settings.database.listen_url = "postgres://app:listen-password@db:5432/orgs".into();
    settings.metrics.token = "metrics-token-that-must-not-show".into();
    for shown in [format!("{settings:?}"), format!("{settings:#?}")] {
        for secret in [
            "session-key-that-must-not-show",
            "redis-password",
            "smtp-password",
            "database-password",
            "listen-password",
            "metrics-token-that-must-not-show",
        ] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("postgres://app:***@db:5432/orgs"), "{shown}");
    }
}
