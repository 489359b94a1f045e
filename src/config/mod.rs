//! Settings: `config/default.toml` -> `config/{ORGS_ENV}.toml` -> `$ORGS_CONFIG_FILE` ->
//! environment `ORGS_<SECTION>__<KEY>`. Unknown keys and bad values fail with the key named.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

mod proxies;
mod sections;
#[cfg(test)]
mod tests;
mod validate;

pub use proxies::TrustedProxies;
pub use sections::{
    BillingSettings, MetricsSettings, ProjectsSettings, SsoSettings, UiSettings, WebhookSettings,
};

const DEFAULT_TOML: &str = include_str!("../../config/default.toml");
const DEVELOPMENT_TOML: &str = include_str!("../../config/development.toml");
const TEST_TOML: &str = include_str!("../../config/test.toml");
const PRODUCTION_TOML: &str = include_str!("../../config/production.toml");

/// The shortest session key production accepts, in bytes (actix's `Key::from` needs 64).
pub const MIN_SECRET_KEY_LEN: usize = 64;

/// Which configuration layer is in force, from `ORGS_ENV`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A workstation (the default).
    #[default]
    Development,
    /// The test suite.
    Test,
    /// A deployed server.
    Production,
}

impl Environment {
    /// Parses the value of `ORGS_ENV`.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" | "prod" => Ok(Self::Production),
            other => Err(ConfigError(format!(
                "ORGS_ENV: unknown environment `{other}`; expected development, test or production"
            ))),
        }
    }

    fn layer(self) -> &'static str {
        match self {
            Self::Development => DEVELOPMENT_TOML,
            Self::Test => TEST_TOML,
            Self::Production => PRODUCTION_TOML,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        })
    }
}

/// A configuration that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// All settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The layer that was loaded; not a key of the files.
    #[serde(skip)]
    pub environment: Environment,
    /// HTTP listener.
    pub server: ServerSettings,
    /// Database connection.
    pub database: DatabaseSettings,
    /// Tenant resolution.
    pub tenant: TenantSettings,
    /// Outgoing mail.
    pub email: EmailSettings,
    /// Session cookies.
    pub session: SessionSettings,
    /// Passwords.
    pub auth: AuthSettings,
    /// Sign-up.
    pub registration: RegistrationSettings,
    /// Logging.
    pub log: LogSettings,
    /// In-process lookup caches.
    pub cache: CacheSettings,
    /// The audit log.
    #[serde(default)]
    pub audit: AuditSettings,
    /// The pages' look.
    #[serde(default)]
    pub ui: UiSettings,
    /// `/metrics`.
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// The built-in example resource.
    #[serde(default)]
    pub projects: ProjectsSettings,
    /// Seats and plans: the operator's API.
    #[serde(default)]
    pub billing: BillingSettings,
    /// Single sign-on: what its outgoing requests may reach.
    #[serde(default)]
    pub sso: SsoSettings,
    /// Outgoing webhooks: what deliveries may reach, how many go at once.
    #[serde(default)]
    pub webhooks: WebhookSettings,
}

/// `[audit]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Days an audit event is kept; older ones are pruned (by the server every hour, or
    /// `orgs audit prune`). 0 keeps every event. On PostgreSQL `orgs migrate` stores it in the
    /// database, which prunes nothing newer (`audit::retention`).
    pub retention_days: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            retention_days: 365,
        }
    }
}

/// `[cache]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// How long a session, slug or membership lookup may be reused, in milliseconds; 0 turns
    /// the caches off. Changes made through this server are seen at once whatever the value.
    pub ttl_ms: u64,
    /// Entries each cache holds at most.
    pub max_entries: usize,
    /// How this instance tells the others that their caches are stale: `none` (one instance;
    /// they trust `ttl_ms`), `postgres` (LISTEN/NOTIFY over `database.listen_url`) or `redis`
    /// (pub/sub on `session.redis_url`).
    pub notify: CacheNotify,
}

/// `cache.notify`: the channel between the instances' caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheNotify {
    /// No other instance: changes made elsewhere are seen after `cache.ttl_ms`.
    None,
    /// PostgreSQL `LISTEN`/`NOTIFY`.
    Postgres,
    /// Redis pub/sub.
    Redis,
}

/// `[server]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to bind.
    pub host: String,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds a graceful shutdown waits.
    pub shutdown_timeout_secs: u64,
    /// Milliseconds between SIGTERM and closing the listener, while `/readyz` already answers
    /// 503 and requests are still served (the balancer's health-check interval).
    pub drain_delay_ms: u64,
    /// Where people reach the service; email links start with it.
    pub public_url: String,
    /// Peers whose `X-Forwarded-For`, `X-Forwarded-Host`, `X-Forwarded-Proto` and `Forwarded`
    /// headers are believed (the reverse proxies in front of the app); from anyone else they
    /// are ignored.
    pub trusted_proxies: TrustedProxies,
}

/// `[database]`
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://file.db` or `postgres://...`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// Seconds to wait for a new connection to open.
    pub connect_timeout_secs: u64,
    /// Milliseconds a request waits for a connection from the pool before it is answered 503
    /// with `Retry-After`.
    pub acquire_timeout_ms: u64,
    /// Apply pending migrations when the server starts.
    pub migrate_on_start: bool,
    /// Where the cache bus `LISTEN`s (`cache.notify = "postgres"`): PostgreSQL itself, not a
    /// transaction pooler; empty for `url`.
    #[serde(default)]
    pub listen_url: String,
    /// Prepared statements each PostgreSQL connection keeps; 0 behind a transaction pooler
    /// that cannot carry them (pgbouncer before 1.21).
    pub statement_cache_capacity: usize,
}

impl DatabaseSettings {
    /// Where the cache bus listens: `listen_url`, else `url`.
    pub fn listen_url(&self) -> &str {
        match self.listen_url.trim() {
            "" => self.url.trim(),
            url => url,
        }
    }
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("listen_url", &redact_url(&self.listen_url))
            .field("statement_cache_capacity", &self.statement_cache_capacity)
            .finish()
    }
}

/// One way of finding a request's organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolver {
    /// `{slug}.{base_domain}`
    Subdomain,
    /// `/o/{slug}/`
    Path,
    /// A verified custom domain.
    CustomDomain,
    /// `Authorization: Bearer orgs_key_...`
    ApiKey,
}

/// `[tenant]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// Organizations answer at `{slug}.{base_domain}`.
    pub base_domain: String,
    /// The resolvers in use: the host's first, in this order, then the path, then the key.
    pub resolution: Vec<Resolver>,
    /// `host:port` of the DNS server for domain verification; empty for the system's.
    pub dns_server: String,
    /// Which address the app sends people to for an organization.
    pub links: TenantLinks,
}

/// Which address the app links an organization's pages at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantLinks {
    /// `/o/{slug}/` on the main host (works without wildcard DNS).
    Path,
    /// `{slug}.{base_domain}`, signed in there with a one-time handoff link.
    Subdomain,
}

/// Where outgoing mail goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailBackend {
    /// A real SMTP server.
    Smtp,
    /// `.eml` files in `email.file_dir`.
    File,
    /// Kept in process memory (tests).
    Memory,
}

/// `[email]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// Backend.
    pub backend: EmailBackend,
    /// The From header.
    pub from: String,
    /// Folder for the file backend.
    pub file_dir: PathBuf,
    /// SMTP server URL for the smtp backend; a secret, as it may carry the password.
    #[serde(skip_serializing)]
    pub smtp_url: SecretString,
    /// Seconds before the first retry of a failed send; doubles each time, at most an hour.
    pub retry_base_secs: u64,
    /// Seconds a claimed message is reserved for the instance sending it, renewed before each
    /// send; past it (the instance died) another instance sends it.
    pub send_lease_secs: u64,
    /// Days the bodies of sent mail are kept (they hold live reset and invitation links); the
    /// server empties older ones every hour. 0 empties them at the first pass after sending.
    pub keep_sent_days: u32,
    /// Log each sent mail's first link (`config/development.toml` turns it on, for a developer
    /// without a mail catcher; production refuses it: the links sign people in).
    pub log_links: bool,
}

/// Where session data lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStore {
    /// In the signed, encrypted cookie.
    Cookie,
    /// In Redis, the cookie holding only the session key.
    Redis,
}

/// `[session]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// Key that signs and encrypts session cookies.
    #[serde(skip_serializing)]
    pub secret_key: SecretString,
    /// Cookie or Redis.
    pub store: SessionStore,
    /// `redis://host:6379` for the Redis store; a secret, as it may carry the password.
    #[serde(skip_serializing)]
    pub redis_url: SecretString,
    /// Mark the cookie `Secure` (HTTPS only).
    pub cookie_secure: bool,
    /// Lifetime of a sign-in, in hours.
    pub ttl_hours: u32,
}

/// `[auth]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Shortest password accepted.
    pub min_password_length: usize,
    /// Failed logins for one account from one client address before that pair is refused
    /// (one client address across all accounts gets four times as many).
    pub login_max_failures: u32,
    /// Seconds a refused pair or address waits; also the window failures are counted in.
    pub login_lockout_secs: u64,
    /// Extra wait per failed login of an account (from any address) beyond the second, in
    /// milliseconds, at most two seconds: a slow-down for every attempt on it, never a refusal.
    pub login_failure_delay_ms: u64,
    /// Mails an hour to one address from the flows where the requester types it (password
    /// reset, sign-up, invitations and reminders).
    pub mail_per_address_per_hour: u32,
    /// Such mails an hour requested from one client address.
    pub mail_per_client_per_hour: u32,
    /// Lifetime of a password-reset link, in seconds.
    pub password_reset_ttl_secs: u64,
    /// Lifetime of an activation link, in seconds.
    pub activation_ttl_secs: u64,
    /// Lifetime of an invitation link, in seconds.
    pub invitation_ttl_secs: u64,
    /// Invitations and reminders one organization may send per hour.
    pub invitations_per_hour: u32,
    /// argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
    /// Base64 of 32 random bytes: the key stored secrets (TOTP seeds) are sealed with.
    #[serde(skip_serializing)]
    pub encryption_key: SecretString,
    /// How long a password or second-factor confirmation lets a session take dangerous actions
    /// (delete or transfer an organization, make keys and tokens, change factors), in seconds.
    pub sudo_ttl_secs: u64,
}

/// The built-in sign-up flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationKind {
    /// Open sign-up with an account organization.
    Default,
    /// Invitation only.
    Disabled,
}

/// `[registration]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSettings {
    /// Which flow `/signup/` uses.
    pub backend: RegistrationKind,
}

/// `[log]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// A `tracing_subscriber::EnvFilter` directive.
    pub filter: String,
    /// `text` (for people) or `json` (one object a line, for a log collector).
    #[serde(default)]
    pub format: LogFormat,
}

/// `log.format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people; colours only on a terminal.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

impl Settings {
    /// Loads the settings the way `orgs` does at start: `ORGS_ENV` picks the layer,
    /// `ORGS_CONFIG_FILE` adds a file, `ORGS_<SECTION>__<KEY>` variables override.
    pub fn load() -> Result<Self, ConfigError> {
        let environment = match std::env::var("ORGS_ENV") {
            Ok(value) => Environment::parse(&value)?,
            Err(_) => Environment::default(),
        };
        let mut figment = Self::layers(environment);
        if let Ok(file) = std::env::var("ORGS_CONFIG_FILE") {
            let path = Path::new(&file);
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "ORGS_CONFIG_FILE: no such file `{}`",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("ORGS_")
                .ignore(&["ENV", "CONFIG_FILE"])
                .split("__"),
        );
        Self::extract(figment, environment)
    }

    /// The built-in layers of one environment, without files or variables from outside. Tests
    /// start from this and change fields.
    pub fn for_environment(environment: Environment) -> Result<Self, ConfigError> {
        Self::extract(Self::layers(environment), environment)
    }

    fn layers(environment: Environment) -> Figment {
        Figment::new()
            .merge(Toml::string(DEFAULT_TOML))
            .merge(Toml::string(environment.layer()))
    }

    fn extract(figment: Figment, environment: Environment) -> Result<Self, ConfigError> {
        let mut settings: Settings = figment.extract().map_err(|error| {
            let messages: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
            ConfigError(messages.join("; "))
        })?;
        settings.environment = environment;
        settings.validate()?;
        Ok(settings)
    }

    /// `host:port` to bind.
    pub fn bind_address(&self) -> String {
        format!("{}:{}", self.server.host, self.server.port)
    }
}

/// Hides the password of a `scheme://user:password@host` URL for logs and messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}
