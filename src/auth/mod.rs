//! Accounts: users, passwords, sign-in sessions, CSRF, throttling, mailed tokens and API tokens.

pub mod api_tokens;
pub mod csrf;
pub mod extract;
pub mod login;
pub mod password;
pub mod password_reset;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod user_tokens;
pub mod users;

pub use extract::{CurrentUser, MaybeUser};
pub use password::PasswordHasher;
pub use users::{NewUser, UserError};
