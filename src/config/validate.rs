//! The checks of the settings that types alone cannot make: URL schemes, required companions,
//! limits, production secrets. A bad value stops the start with a message naming its key.

use secrecy::ExposeSecret as _;

use super::{
    CacheNotify, ConfigError, DEVELOPMENT_TOML, EmailBackend, Environment, MIN_SECRET_KEY_LEN,
    SessionStore, Settings, TEST_TOML, redact_url,
};

/// The longest time in days a setting may keep something: past it a date would leave the
/// calendars of the databases.
const MAX_DAYS: u32 = 36_500;

impl Settings {
    /// The host name of `server.public_url`: lower-cased, without port, user or trailing dot.
    pub fn public_host_name(&self) -> String {
        let public = self.server.public_url.trim();
        let rest = public.split_once("://").map_or(public, |(_, rest)| rest);
        let authority = rest.split('/').next().unwrap_or_default();
        let authority = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let name = match authority.rfind(':') {
            Some(i)
                if !authority[..i].contains(':')
                    && authority[i + 1..].chars().all(|c| c.is_ascii_digit()) =>
            {
                &authority[..i]
            }
            _ => authority,
        };
        name.trim_end_matches('.').to_ascii_lowercase()
    }

    /// Whether the host name `name` is `tenant.base_domain` or a name under it.
    pub fn is_under_base_domain(&self, name: &str) -> bool {
        let base = self
            .tenant
            .base_domain
            .trim_end_matches('.')
            .to_ascii_lowercase();
        name == base
            || name
                .strip_suffix(base.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    }

    /// Checks what types alone cannot: URL schemes, required companions, production secrets.
    /// The sections are checked one after the other; the first wrong key is the error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.environment == Environment::Production {
            self.check_production_secret()?;
        }
        self.check_database()?;
        self.check_tenant()?;
        self.check_email()?;
        self.check_session()?;
        self.check_cache()?;
        self.check_metrics()?;
        self.check_billing()?;
        self.check_sso()?;
        self.check_webhooks()?;
        self.check_server()?;
        self.check_auth()?;
        self.check_encryption_key(self.environment == Environment::Production)?;
        self.check_public_url_on_base_domain()?;
        self.check_audit()
    }

    /// `[database]`: a URL of a backend orgs speaks, a pool of at least one connection that a
    /// request waits for at least a millisecond.
    fn check_database(&self) -> Result<(), ConfigError> {
        let url = self.database.url.trim();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError(format!(
                "database.url: `{}` is not a database URL; expected sqlite://FILE or postgres://...",
                redact_url(url)
            )));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError(
                "database.max_connections: must be at least 1".into(),
            ));
        }
        if self.database.acquire_timeout_ms == 0 {
            return Err(ConfigError(
                "database.acquire_timeout_ms: must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// `[tenant]`: a lower-case base domain, and a DNS server that is an address when set.
    fn check_tenant(&self) -> Result<(), ConfigError> {
        let domain = &self.tenant.base_domain;
        if domain.is_empty()
            || domain.starts_with('.')
            || domain.ends_with('.')
            || !domain
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        {
            return Err(ConfigError(format!(
                "tenant.base_domain: `{domain}` is not a lower-case host name such as example.com"
            )));
        }
        let dns_server = self.tenant.dns_server.trim();
        if !dns_server.is_empty() && dns_server.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError(format!(
                "tenant.dns_server: `{}` is not an address such as 127.0.0.1:53",
                self.tenant.dns_server
            )));
        }
        Ok(())
    }

    /// `[email]`: the SMTP backend's URL, and how long sent mail is kept.
    fn check_email(&self) -> Result<(), ConfigError> {
        if self.email.backend == EmailBackend::Smtp
            && self.email.smtp_url.expose_secret().trim().is_empty()
        {
            return Err(ConfigError(
                "email.smtp_url: required when email.backend is \"smtp\"".into(),
            ));
        }
        if self.email.log_links && self.environment == Environment::Production {
            return Err(ConfigError(
                "email.log_links: must be false in production (the links sign people in)".into(),
            ));
        }
        at_most_max_days("email.keep_sent_days", self.email.keep_sent_days)
    }

    /// `[session]`: the Redis store's URL.
    fn check_session(&self) -> Result<(), ConfigError> {
        if self.session.store == SessionStore::Redis
            && self.session.redis_url.expose_secret().trim().is_empty()
        {
            return Err(ConfigError(
                "session.redis_url: required when session.store is \"redis\"".into(),
            ));
        }
        Ok(())
    }

    /// `[cache]`: the channel `cache.notify` names must be configured.
    fn check_cache(&self) -> Result<(), ConfigError> {
        match self.cache.notify {
            CacheNotify::None => {}
            CacheNotify::Postgres => {
                let listen = self.database.listen_url();
                if !(listen.starts_with("postgres://") || listen.starts_with("postgresql://")) {
                    return Err(ConfigError(
                        "cache.notify: \"postgres\" needs a PostgreSQL database.url or database.listen_url".into(),
                    ));
                }
            }
            CacheNotify::Redis => {
                if self.session.redis_url.expose_secret().trim().is_empty() {
                    return Err(ConfigError(
                        "cache.notify: \"redis\" needs session.redis_url".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `[billing]`: an operator token, when set, long enough not to be guessed.
    fn check_billing(&self) -> Result<(), ConfigError> {
        let token = self.billing.operator_token.expose_secret().trim();
        if !token.is_empty() && token.chars().count() < 24 {
            return Err(ConfigError(
                "billing.operator_token: at least 24 characters (or empty, to turn the operator API off)".into(),
            ));
        }
        Ok(())
    }

    /// `[sso]`: plain-http issuers never in production.
    fn check_sso(&self) -> Result<(), ConfigError> {
        if self.sso.allow_insecure_issuers && self.environment == Environment::Production {
            return Err(ConfigError(
                "sso.allow_insecure_issuers: must be false in production (an http issuer's tokens can be forged on the way)".into(),
            ));
        }
        Ok(())
    }

    /// `[webhooks]`: plain-http endpoints never in production; workable numbers.
    fn check_webhooks(&self) -> Result<(), ConfigError> {
        let hooks = &self.webhooks;
        if hooks.allow_insecure_urls && self.environment == Environment::Production {
            return Err(ConfigError(
                "webhooks.allow_insecure_urls: must be false in production (signed events would travel in clear)".into(),
            ));
        }
        if hooks.allowed_ports.contains(&0) {
            return Err(ConfigError(
                "webhooks.allowed_ports: 0 is not a port".into(),
            ));
        }
        if !(1..=1024).contains(&hooks.concurrency) {
            return Err(ConfigError("webhooks.concurrency: 1 to 1024".into()));
        }
        if !(20..=3_600).contains(&hooks.lease_secs) {
            return Err(ConfigError(
                "webhooks.lease_secs: 20 to 3600 (longer than an attempt's 15 s timeout)".into(),
            ));
        }
        if !(1..=365).contains(&hooks.disable_after_days) || !(1..=3_650).contains(&hooks.keep_days)
        {
            return Err(ConfigError(
                "webhooks.disable_after_days: 1 to 365; webhooks.keep_days: 1 to 3650".into(),
            ));
        }
        Ok(())
    }

    /// `[metrics]`: not open to anyone on a production server's main port, and a listener
    /// that is an address when set.
    fn check_metrics(&self) -> Result<(), ConfigError> {
        let bind = self.metrics.bind.trim();
        if self.metrics.enabled
            && self.environment == Environment::Production
            && self.metrics.token.expose_secret().trim().is_empty()
            && bind.is_empty()
        {
            return Err(ConfigError(
                "metrics.token: required in production unless metrics.bind names a listener of its own (or metrics.enabled = false)".into(),
            ));
        }
        if !bind.is_empty() && bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError(format!(
                "metrics.bind: `{}` is not an address such as 127.0.0.1:9100",
                self.metrics.bind
            )));
        }
        Ok(())
    }

    /// `[server]`: the public URL email links start with.
    fn check_server(&self) -> Result<(), ConfigError> {
        let public_url = self.server.public_url.trim();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
            || public_url.ends_with('/')
        {
            return Err(ConfigError(format!(
                "server.public_url: `{public_url}` must be an http(s) URL without a trailing slash"
            )));
        }
        Ok(())
    }

    /// `[auth]`: limits that would refuse everyone, and passwords and hashes too weak.
    fn check_auth(&self) -> Result<(), ConfigError> {
        let auth = &self.auth;
        if auth.mail_per_address_per_hour == 0 || auth.mail_per_client_per_hour == 0 {
            return Err(ConfigError(
                "auth.mail_per_address_per_hour, auth.mail_per_client_per_hour: must be at least 1"
                    .into(),
            ));
        }
        if auth.login_max_failures == 0 {
            return Err(ConfigError(
                "auth.login_max_failures: must be at least 1".into(),
            ));
        }
        if auth.sudo_ttl_secs > 86_400 {
            return Err(ConfigError(
                "auth.sudo_ttl_secs: at most 86400 (a day)".into(),
            ));
        }
        if auth.min_password_length < 8 {
            return Err(ConfigError(
                "auth.min_password_length: must be at least 8".into(),
            ));
        }
        if auth.argon2_memory_kib < 8 * auth.argon2_parallelism.max(1)
            || auth.argon2_iterations == 0
            || auth.argon2_parallelism == 0
        {
            return Err(ConfigError(
                "auth.argon2_*: memory must be at least 8 KiB per lane, passes and lanes at least 1"
                    .into(),
            ));
        }
        Ok(())
    }

    /// `[audit]`: how long events are kept.
    fn check_audit(&self) -> Result<(), ConfigError> {
        at_most_max_days("audit.retention_days", self.audit.retention_days)
    }

    /// `auth.encryption_key`: base64 of 32 bytes everywhere; in production not one of the keys
    /// this repository publishes.
    fn check_encryption_key(&self, production: bool) -> Result<(), ConfigError> {
        let key = self.auth.encryption_key.expose_secret().trim();
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD.decode(key);
        if decoded.map_or(true, |bytes| bytes.len() != 32) {
            return Err(ConfigError(
                "auth.encryption_key: must be base64 of 32 random bytes (set \
                 ORGS_AUTH__ENCRYPTION_KEY; `openssl rand -base64 32` makes one)"
                    .into(),
            ));
        }
        let published = [DEVELOPMENT_TOML, TEST_TOML]
            .iter()
            .any(|layer| layer.contains(key));
        if production && published {
            return Err(ConfigError(
                "auth.encryption_key: this key is published; production needs a random one".into(),
            ));
        }
        Ok(())
    }

    /// `tenant.base_domain` is the passkeys' relying party: `server.public_url` must be on it
    /// (or under it), or no passkey made there could be used on an organization's host.
    fn check_public_url_on_base_domain(&self) -> Result<(), ConfigError> {
        let name = self.public_host_name();
        if self.is_under_base_domain(&name) {
            return Ok(());
        }
        Err(ConfigError(format!(
            "server.public_url: its host `{name}` is not tenant.base_domain `{}` or a name under \
             it; passkeys are made for the base domain",
            self.tenant.base_domain
        )))
    }

    /// `session.secret_key` in production: long enough, varied, and none of the keys this
    /// repository publishes.
    fn check_production_secret(&self) -> Result<(), ConfigError> {
        let key = self.session.secret_key.expose_secret();
        let built_in = [DEVELOPMENT_TOML, TEST_TOML]
            .iter()
            .any(|layer| layer.contains(key));
        if key.len() < MIN_SECRET_KEY_LEN {
            return Err(ConfigError(format!(
                "session.secret_key: production needs at least {MIN_SECRET_KEY_LEN} bytes of random text \
                 (set ORGS_SESSION__SECRET_KEY; `openssl rand -base64 64` makes one)"
            )));
        }
        let distinct: std::collections::HashSet<char> = key.chars().collect();
        if built_in || distinct.len() < 16 {
            return Err(ConfigError(
                "session.secret_key: this key is weak or published; production needs a random one"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// `key`'s number of days, refused past [`MAX_DAYS`].
fn at_most_max_days(key: &str, days: u32) -> Result<(), ConfigError> {
    if days > MAX_DAYS {
        return Err(ConfigError(format!(
            "{key}: at most {MAX_DAYS} days (a hundred years)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_environment_layer_loads() {
        for env in [Environment::Development, Environment::Test] {
            let settings = Settings::for_environment(env).unwrap();
            assert_eq!(settings.environment, env);
        }
    }

    #[test]
    fn production_refuses_the_empty_default_key() {
        let error = Settings::for_environment(Environment::Production).unwrap_err();
        assert!(error.0.contains("session.secret_key"), "{error}");
    }

    #[test]
    fn production_refuses_the_development_key() {
        let mut settings = Settings::for_environment(Environment::Development).unwrap();
        settings.environment = Environment::Production;
        settings.email.smtp_url = "smtp://localhost".into();
        let error = settings.validate().unwrap_err();
        assert!(error.0.contains("weak or published"), "{error}");
    }

    #[test]
    fn a_short_operator_token_is_refused_and_an_empty_one_turns_the_api_off() {
        let mut settings = Settings::for_environment(Environment::Test).unwrap();
        settings.billing.operator_token = "guessable".into();
        let error = settings.validate().unwrap_err();
        assert!(error.0.contains("billing.operator_token"), "{error}");
        settings.billing.operator_token = "".into();
        settings.validate().unwrap();
        settings.billing.operator_token = "a-long-enough-operator-token-0123".into();
        settings.validate().unwrap();
    }

    #[test]
    fn the_encryption_key_must_be_32_bytes_and_production_refuses_a_published_one() {
        let mut settings = Settings::for_environment(Environment::Test).unwrap();
        settings.auth.encryption_key = "c2hvcnQ=".into();
        let error = settings.validate().unwrap_err();
        assert!(error.0.contains("auth.encryption_key"), "{error}");
        let mut settings = Settings::for_environment(Environment::Development).unwrap();
        settings.environment = Environment::Production;
        settings.session.secret_key =
            "Zq8vN3xR1tY7uI0oP5aS2dF6gH9jK4lM8nB3vC7xZ1qW5eR9tY3uI7oP1aS5dF9g".into();
        settings.email.smtp_url = "smtp://localhost".into();
        settings.email.log_links = false;
        settings.metrics.enabled = false;
        let error = settings.validate().unwrap_err();
        assert!(
            error
                .0
                .contains("auth.encryption_key: this key is published"),
            "{error}"
        );
    }

    #[test]
    fn the_public_url_must_be_on_the_base_domain_the_passkeys_are_made_for() {
        let mut settings = Settings::for_environment(Environment::Test).unwrap();
        settings.tenant.base_domain = "orgs.example".into();
        settings.server.public_url = "https://app.example.net".into();
        let error = settings.validate().unwrap_err();
        assert!(error.0.contains("server.public_url"), "{error}");
        settings.server.public_url = "https://app.orgs.example".into();
        settings.validate().unwrap();
    }

    #[test]
    fn unknown_environment_is_named() {
        let error = Environment::parse("staging").unwrap_err();
        assert!(error.0.contains("ORGS_ENV"));
    }

    #[test]
    fn redact_url_hides_the_password_only() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/orgs"),
            "postgres://app:***@db:5432/orgs"
        );
        assert_eq!(redact_url("sqlite://orgs.db"), "sqlite://orgs.db");
    }

    #[test]
    fn a_keep_time_past_a_hundred_years_is_refused_with_its_key() {
        let mut settings = Settings::for_environment(Environment::Test).unwrap();
        assert_eq!(settings.email.keep_sent_days, 7);
        settings.email.keep_sent_days = 36_501;
        let error = settings.validate().unwrap_err();
        assert!(error.0.contains("email.keep_sent_days"), "{error}");
        settings.email.keep_sent_days = 0;
        settings.audit.retention_days = u32::MAX;
        let error = settings.validate().unwrap_err();
        assert!(error.0.contains("audit.retention_days"), "{error}");
    }

    #[test]
    fn only_development_logs_mail_links_and_production_refuses_to() {
        let development = Settings::for_environment(Environment::Development).unwrap();
        assert!(development.email.log_links);
        let test = Settings::for_environment(Environment::Test).unwrap();
        assert!(!test.email.log_links, "the default is off");
        let mut settings = test;
        settings.environment = Environment::Production;
        settings.session.secret_key =
            "Qm9yZW1vdXQtcmFuZG9tLXRlc3Qta2V5LXRoYXQtaXMtbm90LXB1Ymxpc2hlZC1hbnl3aGVyZS0wMTIzNDU2Nzg5"
                .into();
        settings.email.log_links = true;
        let error = settings.validate().unwrap_err();
        assert!(error.0.contains("email.log_links"), "{error}");
    }

    #[test]
    fn smtp_backend_needs_a_url() {
        let mut settings = Settings::for_environment(Environment::Test).unwrap();
        settings.email.backend = EmailBackend::Smtp;
        let error = settings.validate().unwrap_err();
        assert!(error.0.contains("email.smtp_url"));
    }
}
