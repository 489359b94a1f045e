//! Accounts: users, passwords, sign-in sessions, throttling, mailed tokens and API tokens (the
//! extractors and the CSRF check that read them from a request are in `web`).

pub mod api_tokens;
pub mod login;
pub mod password;
pub mod password_reset;
pub mod sessions;
pub mod throttle;
pub mod user_tokens;
pub mod users;

pub use password::PasswordHasher;
pub use users::{NewUser, UserError};
