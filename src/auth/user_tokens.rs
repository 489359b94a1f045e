//! Mailed single-use tokens (password reset, activation): random, stored hashed, expiring, and
//! consumed atomically so two simultaneous uses cannot both succeed.

use chrono::Duration;
use entity::user_token;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, QueryFilter,
    sea_query::Expr,
};

use super::tokens;
use crate::tenancy::global;

/// What a token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Choose a new password.
    PasswordReset,
    /// Confirm the email address of a new account.
    Activation,
    /// Carry a sign-in over to an organization's own host (its subdomain).
    Handoff,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::Activation => "activation",
            Self::Handoff => "handoff",
        }
    }
}

/// Why a token cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// No such token (or one for another purpose).
    #[error("this link is not valid")]
    Unknown,
    /// Past its expiry.
    #[error("this link has expired")]
    Expired,
    /// Already used.
    #[error("this link has already been used")]
    Used,
}

/// Issues a token for the user, replacing any unused one of the same purpose (handoffs, one
/// per tab switching organizations, expire on their own instead).
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    purpose: Purpose,
    ttl_secs: u64,
) -> Result<String, DbErr> {
    issue_in_family(db, user_id, purpose, ttl_secs, None).await
}

/// [`issue`], for a handoff: the session it signs in joins `family` (the sign-in that made it).
pub async fn issue_in_family<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    purpose: Purpose,
    ttl_secs: u64,
    family: Option<String>,
) -> Result<String, DbErr> {
    if purpose != Purpose::Handoff {
        global::delete_many::<user_token::Entity>()
            .filter(user_token::Column::UserId.eq(user_id))
            .filter(user_token::Column::Purpose.eq(purpose.as_str()))
            .filter(user_token::Column::UsedAt.is_null())
            .exec(db)
            .await?;
    }
    let secret = tokens::generate();
    let ttl = Duration::seconds(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 1000));
    user_token::ActiveModel {
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_string()),
        token_hash: Set(tokens::hash(&secret)),
        expires_at: Set(entity::chrono_now() + ttl),
        used_at: Set(None),
        family: Set(family),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(secret)
}

/// The token row if the secret is valid for `purpose` right now.
pub async fn check<C: ConnectionTrait>(
    db: &C,
    secret: &str,
    purpose: Purpose,
) -> Result<Result<user_token::Model, TokenError>, DbErr> {
    let Some(token) = global::select::<user_token::Entity>()
        .filter(user_token::Column::TokenHash.eq(tokens::hash(secret.trim())))
        .filter(user_token::Column::Purpose.eq(purpose.as_str()))
        .one(db)
        .await?
    else {
        return Ok(Err(TokenError::Unknown));
    };
    if token.used_at.is_some() {
        return Ok(Err(TokenError::Used));
    }
    if token.expires_at <= entity::chrono_now() {
        return Ok(Err(TokenError::Expired));
    }
    Ok(Ok(token))
}

/// Marks the token used. `false` when another request used it first.
pub async fn consume<C: ConnectionTrait>(db: &C, token_id: i64) -> Result<bool, DbErr> {
    let now = entity::chrono_now();
    let result = global::update_many::<user_token::Entity>()
        .col_expr(user_token::Column::UsedAt, Expr::value(now))
        .col_expr(user_token::Column::UpdatedAt, Expr::value(now))
        .filter(user_token::Column::Id.eq(token_id))
        .filter(user_token::Column::UsedAt.is_null())
        .filter(user_token::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
