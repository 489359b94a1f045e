//! The user service: creating accounts and finding them by email.

use entity::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter};
use validator::ValidateEmail;

use super::password::{PasswordError, PasswordHasher};
use crate::db::OnUniqueViolation as _;
use crate::tenancy::global;

/// What is needed to create an account.
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    /// Login; stored trimmed and lower-cased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `None` leaves the account without a password (it cannot log in until one is set).
    pub password: Option<String>,
    /// Passes every permission check.
    pub is_superuser: bool,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The email is not an address.
    #[error("enter a valid email address")]
    InvalidEmail,
    /// The name is too long.
    #[error("must be at most 200 characters long")]
    InvalidName,
    /// The name holds characters a name may not.
    #[error("{0}")]
    NameText(#[from] crate::text::TextError),
    /// The password breaks a rule.
    #[error("{0}")]
    InvalidPassword(#[from] PasswordError),
    /// Another account has this email.
    #[error("an account with this email address already exists")]
    EmailTaken,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// Hashing failed.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl crate::error::FieldError for UserError {
    fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidEmail | Self::EmailTaken => Some("email"),
            Self::InvalidName | Self::NameText(_) => Some("name"),
            Self::InvalidPassword(_) => Some("password"),
            Self::Db(_) | Self::Other(_) => None,
        }
    }
}

/// The stored form of an email: trimmed and lower-cased, so uniqueness ignores case.
pub fn normalize_email(email: &str) -> Result<String, UserError> {
    let email = email.trim().to_lowercase();
    if email.len() > 254 || !email.validate_email() {
        return Err(UserError::InvalidEmail);
    }
    Ok(email)
}

/// Creates an active account.
pub async fn create_user<C: ConnectionTrait>(
    db: &C,
    hasher: &PasswordHasher,
    new: NewUser,
) -> Result<user::Model, UserError> {
    let email = normalize_email(&new.email)?;
    let name = new.name.trim().to_string();
    if name.chars().count() > 200 {
        return Err(UserError::InvalidName);
    }
    crate::text::check_name(&name)?;
    let password_hash = match &new.password {
        Some(password) => {
            hasher.check_rules(password, &email)?;
            Some(hasher.hash(password).await?)
        }
        None => None,
    };
    let model = user::ActiveModel {
        email: Set(email),
        name: Set(name),
        password_hash: Set(password_hash),
        is_active: Set(true),
        is_superuser: Set(new.is_superuser),
        email_verified_at: Set(None),
        last_login_at: Set(None),
        ..Default::default()
    };
    model
        .insert(db)
        .await
        .on_unique_violation(UserError::EmailTaken)
}

/// The account with this email (compared case-insensitively), if any.
pub async fn find_by_email<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<user::Model>, sea_orm::DbErr> {
    let email = email.trim().to_lowercase();
    global::select::<user::Entity>()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
}

/// The account with this id, if any.
pub async fn find_by_id<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<user::Model>, sea_orm::DbErr> {
    global::select::<user::Entity>()
        .filter(user::Column::Id.eq(id))
        .one(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_email("  Kurt@Nirvana.COM ").unwrap(),
            "kurt@nirvana.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in ["", "kurt", "kurt@", "@nirvana.com", "a b@c.com"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
