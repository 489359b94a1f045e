//! Password reset: a mailed, single-use, expiring link; using it sets the password, signs the
//! account out everywhere and revokes its personal API tokens. Asking for a link answers the same whether or not the address has an
//! account.

use entity::UserId;
use entity::user;
use sea_orm::TransactionTrait;
use tera::Context;

use sea_orm::DatabaseConnection;

use super::password::{PasswordError, PasswordHasher};
use super::user_tokens::{self, Purpose, TokenError};
use super::{throttle, users};
use crate::mail::{Mailer, Outbox};
use crate::text::describe_ttl;

/// [`request`] as a task of its own, after the answer: the requester waits for neither the
/// lookup nor the mail, so how long the answer takes does not depend on whether the address
/// has an account. The task starts after a random pause of up to half a second, so the work
/// done for an account does not slow the requester's next request either. A failure is logged
/// (the requester can ask again).
pub fn request_later(
    db: DatabaseConnection,
    outbox: Outbox,
    mailer: Mailer,
    ttl_secs: u64,
    email: String,
) {
    use rand::Rng as _;
    let pause = std::time::Duration::from_millis(rand::rng().random_range(50..500));
    tokio::spawn(async move {
        tokio::time::sleep(pause).await;
        if let Err(error) = request(&db, &outbox, &mailer, ttl_secs, &email).await {
            tracing::error!(error = ?error, "the password reset mail was not queued");
        }
    });
}

/// Queues a reset link, valid `ttl_secs`, for the account with this email, if there is an
/// active one.
pub async fn request(
    db: &DatabaseConnection,
    outbox: &Outbox,
    mailer: &Mailer,
    ttl_secs: u64,
    email: &str,
) -> anyhow::Result<()> {
    let Ok(email) = users::normalize_email(email) else {
        return Ok(());
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "a password reset mail belongs to no organization"
    )]
    let system = crate::tenancy::door::system(db, "password reset")
        .await?
        .waking(outbox);
    let txn = system.conn();
    let Some(user) = users::find_by_email(txn, &email)
        .await?
        .filter(|u| u.is_active)
    else {
        return Ok(());
    };
    let ttl = ttl_secs;
    let token = user_tokens::issue(txn, user.id(), Purpose::PasswordReset, ttl).await?;
    let mut context = Context::new();
    context.insert("name", &user.name);
    context.insert("link", &mailer.link(&format!("/password-reset/{token}/")));
    context.insert("expires_in", &describe_ttl(ttl));
    mailer
        .send(
            &system,
            "password_reset",
            &email,
            "Reset your orgs password",
            &context,
        )
        .await?;
    system.commit().await?;
    Ok(())
}

/// Why a new password was not set.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// The link is unknown, expired or used.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The password breaks a rule.
    #[error("{0}")]
    Password(#[from] PasswordError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// Anything else (hashing the password).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl crate::fields::FieldError for ResetError {
    fn field(&self) -> Option<&'static str> {
        matches!(self, Self::Password(_)).then_some("password")
    }
}

/// Whether the link can still be used (for showing the form).
pub async fn check(db: &crate::db::Db, secret: &str) -> Result<(), ResetError> {
    user_tokens::check(db, secret, Purpose::PasswordReset).await??;
    Ok(())
}

/// Sets the password through the link, once; ends every sign-in and personal API token of the
/// account.
pub async fn complete(
    db: &crate::db::Db,
    hasher: &PasswordHasher,
    secret: &str,
    password: &str,
) -> Result<user::Model, ResetError> {
    let token = user_tokens::check(db, secret, Purpose::PasswordReset).await??;
    let user = users::find_by_id(db, UserId(token.user_id))
        .await?
        .ok_or(TokenError::Unknown)?;
    hasher.check_rules(password, &user.email)?;
    let hash = hasher.hash(password).await?;
    let txn = db.begin().await?;
    if !user_tokens::consume(&txn, token.id).await? {
        return Err(TokenError::Used.into());
    }
    let email = user.email.clone();
    let user = users::set_password(&txn, user, hash, None).await?;
    throttle::clear_login_failures(&txn, &email).await?;
    txn.commit().await?;
    Ok(user)
}
