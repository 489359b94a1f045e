//! Password reset: a mailed, single-use, expiring link; using it sets the password and signs the
//! account out everywhere. Asking for a link answers the same whether or not the address has an
//! account.

use entity::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel, TransactionTrait};
use tera::Context;

use super::password::PasswordError;
use super::user_tokens::{self, Purpose, TokenError};
use super::{sessions, throttle, users};
use crate::mail;
use crate::startup::AppState;
use crate::text::describe_ttl;

/// [`request`] as a task of its own, after the answer: the requester waits for neither the
/// lookup nor the mail, so how long the answer takes does not depend on whether the address
/// has an account. The task starts after a random pause of up to half a second, so the work
/// done for an account does not slow the requester's next request either. A failure is logged
/// (the requester can ask again).
pub fn request_later(state: AppState, email: String) {
    use rand::Rng as _;
    let pause = std::time::Duration::from_millis(rand::rng().random_range(50..500));
    tokio::spawn(async move {
        tokio::time::sleep(pause).await;
        if let Err(error) = request(&state, &email).await {
            tracing::error!(error = ?error, "the password reset mail was not queued");
        }
    });
}

/// Queues a reset link for the account with this email, if there is an active one.
pub async fn request(state: &AppState, email: &str) -> anyhow::Result<()> {
    let Ok(email) = users::normalize_email(email) else {
        return Ok(());
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "a password reset mail belongs to no organization"
    )]
    let system = crate::tenancy::door::system(&state.db, "password reset")
        .await?
        .waking(&state.outbox);
    let txn = system.conn();
    let Some(user) = users::find_by_email(txn, &email)
        .await?
        .filter(|u| u.is_active)
    else {
        return Ok(());
    };
    let ttl = state.settings.auth.password_reset_ttl_secs;
    let token = user_tokens::issue(txn, user.id, Purpose::PasswordReset, ttl).await?;
    let mut context = Context::new();
    context.insert("name", &user.name);
    context.insert(
        "link",
        &format!(
            "{}/password-reset/{token}/",
            state.settings.server.public_url
        ),
    );
    context.insert("expires_in", &describe_ttl(ttl));
    let message = mail::compose(
        &state.templates,
        "password_reset",
        &email,
        "Reset your orgs password",
        &context,
    )?;
    system.enqueue_mail(message).await?;
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
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl crate::fields::FieldError for ResetError {
    fn field(&self) -> Option<&'static str> {
        matches!(self, Self::Password(_)).then_some("password")
    }
}

impl From<sea_orm::DbErr> for ResetError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Other(error.into())
    }
}

/// Whether the link can still be used (for showing the form).
pub async fn check(state: &AppState, secret: &str) -> Result<(), ResetError> {
    user_tokens::check(&state.db, secret, Purpose::PasswordReset).await??;
    Ok(())
}

/// Sets the password through the link, once; ends every sign-in of the account.
pub async fn complete(
    state: &AppState,
    secret: &str,
    password: &str,
) -> Result<user::Model, ResetError> {
    let token = user_tokens::check(&state.db, secret, Purpose::PasswordReset).await??;
    let user = users::find_by_id(&state.db, token.user_id)
        .await?
        .ok_or(TokenError::Unknown)?;
    state.hasher.check_rules(password, &user.email)?;
    let hash = state.hasher.hash(password).await?;
    let txn = state.db.begin().await?;
    if !user_tokens::consume(&txn, token.id).await? {
        return Err(TokenError::Used.into());
    }
    let email = user.email.clone();
    let mut active = user.into_active_model();
    active.password_hash = Set(Some(hash));
    let user = active.update(&txn).await?;
    sessions::delete_all_for_user(&txn, user.id, None).await?;
    throttle::clear_login_failures(&txn, &email).await?;
    txn.commit().await?;
    Ok(user)
}
