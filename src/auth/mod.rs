//! Accounts: users, passwords, second factors, sign-in sessions, throttling, mailed tokens and
//! API tokens (the extractors and the CSRF check that read them from a request are in `web`).

pub mod api_tokens;
pub mod challenges;
pub mod login;
pub mod passkeys;
pub mod password;
pub mod password_reset;
pub mod recovery;
pub mod secrets;
pub mod security_log;
pub mod sessions;
pub mod throttle;
pub mod totp;
pub mod two_factor;
pub mod user_tokens;
pub mod users;

pub use password::PasswordHasher;
pub use users::{NewUser, UserError};
