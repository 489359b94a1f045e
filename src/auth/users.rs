//! The user service: creating accounts, finding them by email, changing their name and password.

use entity::UserId;
use entity::user;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, IntoActiveModel,
    QueryFilter, TransactionSession, TransactionTrait,
};
use validator::ValidateEmail;

use super::password::{PasswordError, PasswordHasher};
use super::{api_tokens, sessions};
use crate::db::insert_unique;
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

impl crate::fields::FieldError for UserError {
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

/// The name rule of every account: trimmed, at most 200 characters, no control or invisible
/// characters, not only white space. Empty is allowed here (the address stands in for it); the
/// forms that ask for a name require one.
pub fn clean_name(name: &str) -> Result<String, UserError> {
    let name = crate::text::clean_name(name)?;
    if name.chars().count() > 200 {
        return Err(UserError::InvalidName);
    }
    Ok(name.to_string())
}

/// A new account whose fields passed every rule, its password hashed: what sign-up, an
/// invitation for a new person and the command line all insert.
#[derive(Clone, Debug)]
pub struct CheckedUser {
    email: String,
    name: String,
    password_hash: Option<String>,
    is_superuser: bool,
    is_active: bool,
    verified: bool,
}

impl NewUser {
    /// Checks the fields (address, name, password rules) and hashes the password (off the
    /// async threads): the slow part, done before any transaction opens. Active by default.
    pub async fn check(self, hasher: &PasswordHasher) -> Result<CheckedUser, UserError> {
        let email = normalize_email(&self.email)?;
        let name = clean_name(&self.name)?;
        let password_hash = match &self.password {
            Some(password) => {
                hasher.check_rules(password, &email)?;
                Some(hasher.hash(password).await?)
            }
            None => None,
        };
        Ok(CheckedUser {
            email,
            name,
            password_hash,
            is_superuser: self.is_superuser,
            is_active: true,
            verified: false,
        })
    }
}

impl CheckedUser {
    /// The normalised address.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// Not active until its address is confirmed (sign-up).
    pub fn inactive(mut self) -> Self {
        self.is_active = false;
        self
    }

    /// Its address is confirmed already (an invitation mailed to it was followed).
    pub fn verified(mut self) -> Self {
        self.verified = true;
        self
    }

    /// Inserts the account in a savepoint of `db`; `None` when an account has the address
    /// already (perhaps one that won a race a moment ago).
    pub async fn insert<C: TransactionTrait>(self, db: &C) -> Result<Option<user::Model>, DbErr> {
        let row = user::ActiveModel {
            email: Set(self.email),
            name: Set(self.name),
            password_hash: Set(self.password_hash),
            is_active: Set(self.is_active),
            is_superuser: Set(self.is_superuser),
            email_verified_at: Set(self.verified.then(entity::chrono_now)),
            last_login_at: Set(None),
            ..Default::default()
        };
        insert_unique(db, row).await
    }
}

/// Creates an active account.
pub async fn create_user<C: TransactionTrait>(
    db: &C,
    hasher: &PasswordHasher,
    new: NewUser,
) -> Result<user::Model, UserError> {
    new.check(hasher)
        .await?
        .insert(db)
        .await?
        .ok_or(UserError::EmailTaken)
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
    id: UserId,
) -> Result<Option<user::Model>, sea_orm::DbErr> {
    global::select::<user::Entity>()
        .filter(user::Column::Id.eq(id))
        .one(db)
        .await
}

/// Sets the account's name and, when given, its new password hash, in one transaction (see
/// [`set_password`]): the sign-in `keep_session` stays.
pub async fn update_account<C: TransactionTrait>(
    db: &C,
    user: user::Model,
    name: String,
    new_hash: Option<String>,
    keep_session: Option<&str>,
) -> Result<user::Model, DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let mut active = user.into_active_model();
    active.name = Set(name);
    let user = active.update(&txn).await?;
    let user = match new_hash {
        Some(hash) => set_password(&txn, user, hash, keep_session).await?,
        None => user,
    };
    txn.commit().await?;
    Ok(user)
}

/// Writes a new password hash and ends every other way in that the old password opened: the
/// sign-ins (but `keep_session`) and the personal API tokens. Run it in the transaction of the
/// change, so that none of it happens without the rest.
pub async fn set_password<C: ConnectionTrait>(
    txn: &C,
    user: user::Model,
    hash: String,
    keep_session: Option<&str>,
) -> Result<user::Model, DbErr> {
    let mut active = user.into_active_model();
    active.password_hash = Set(Some(hash));
    let user = active.update(txn).await?;
    sessions::delete_all_for_user(txn, user.id(), keep_session).await?;
    api_tokens::revoke_all(txn, user.id()).await?;
    // A password typed before the change is no way in either: its half-signed-in step ends.
    super::challenges::end_all(txn, user.id()).await?;
    Ok(user)
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
