//! Accounts: password hashing and the user service.

pub mod password;
pub mod users;

pub use password::PasswordHasher;
pub use users::{NewUser, UserError};
