//! Checking credentials: the same work and the same answer for an unknown email as for a wrong
//! password, so a login form cannot be used to find out who has an account.

use entity::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, IntoActiveModel};

use super::{PasswordHasher, users};

/// Why credentials were refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email or wrong password (deliberately not told apart).
    #[error("the email or password is not correct")]
    Invalid,
    /// Right password, but the account is not active (email not yet confirmed).
    #[error("this account is not active yet; follow the link in the email we sent to confirm it")]
    Inactive,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// Hashing failed.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The user these credentials belong to; records the login time.
pub async fn authenticate<C: ConnectionTrait>(
    db: &C,
    hasher: &PasswordHasher,
    email: &str,
    password: &str,
) -> Result<user::Model, LoginError> {
    let user = match users::normalize_email(email) {
        Ok(email) => users::find_by_email(db, &email).await?,
        Err(_) => None,
    };
    let phc = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let matches = hasher.verify_or_dummy(password, phc).await?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(LoginError::Invalid);
    };
    if !user.is_active {
        return Err(LoginError::Inactive);
    }
    let mut active = user.into_active_model();
    active.last_login_at = Set(Some(entity::chrono_now()));
    Ok(active.update(db).await?)
}
