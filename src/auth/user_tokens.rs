//! Single-use tokens (password reset and activation, mailed; handoffs, followed at once):
//! random, stored hashed, expiring, and consumed atomically so two simultaneous uses cannot both
//! succeed. A handoff is bound to the host it was made for: its stored hash is of the secret
//! with that host name, so on any other host it is unknown (404) and stays unused.

use chrono::Duration;
use entity::UserId;
use entity::user_token;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, QueryFilter,
    sea_query::Expr,
};

use crate::tenancy::global;
use crate::tokens;

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

/// Issues a mailed token for the user, replacing any unused one of the same purpose.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    purpose: Purpose,
    ttl_secs: u64,
) -> Result<String, DbErr> {
    global::delete_many::<user_token::Entity>()
        .filter(user_token::Column::UserId.eq(user_id))
        .filter(user_token::Column::Purpose.eq(purpose.as_str()))
        .filter(user_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    let secret = tokens::generate();
    let hash = tokens::hash(&secret);
    insert(
        db,
        user_id,
        purpose,
        ttl_secs,
        hash,
        None,
        Default::default(),
    )
    .await?;
    Ok(secret)
}

/// Issues a handoff that signs the user in on the host named `host` only (one per tab
/// switching organizations: they expire on their own instead of replacing each other). The
/// session it signs in joins `family` (the sign-in that made it).
pub async fn issue_handoff<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    ttl_secs: u64,
    family: Option<String>,
    host: &str,
    proof: super::sessions::Proof,
) -> Result<String, DbErr> {
    let secret = tokens::generate();
    let hash = handoff_hash(&secret, host);
    insert(db, user_id, Purpose::Handoff, ttl_secs, hash, family, proof).await?;
    Ok(secret)
}

/// The stored hash of a handoff: of the secret and the host name it is for.
fn handoff_hash(secret: &str, host: &str) -> String {
    tokens::hash(&format!("{}@{}", secret.trim(), host.to_ascii_lowercase()))
}

async fn insert<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    purpose: Purpose,
    ttl_secs: u64,
    token_hash: String,
    family: Option<String>,
    proof: super::sessions::Proof,
) -> Result<(), DbErr> {
    let ttl = Duration::seconds(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 1000));
    user_token::ActiveModel {
        user_id: Set(user_id.get()),
        purpose: Set(purpose.as_str().to_string()),
        token_hash: Set(token_hash),
        expires_at: Set(entity::chrono_now() + ttl),
        used_at: Set(None),
        family: Set(family),
        second_factor_at: Set(proof.second_factor_at),
        sso_organization_id: Set(proof.sso_organization_id),
        sso_second_factor: Set(proof.sso_second_factor),
        confirmed_at: Set(proof.confirmed_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The token row if the mailed secret is valid for `purpose` right now (never a handoff's: see
/// [`check_handoff`]).
pub async fn check<C: ConnectionTrait>(
    db: &C,
    secret: &str,
    purpose: Purpose,
) -> Result<Result<user_token::Model, TokenError>, DbErr> {
    if purpose == Purpose::Handoff {
        return Ok(Err(TokenError::Unknown));
    }
    check_hash(db, tokens::hash(secret.trim()), purpose).await
}

/// The handoff row if the secret is valid right now on the host named `host`.
pub async fn check_handoff<C: ConnectionTrait>(
    db: &C,
    secret: &str,
    host: &str,
) -> Result<Result<user_token::Model, TokenError>, DbErr> {
    let token = match check_hash(db, handoff_hash(secret, host), Purpose::Handoff).await? {
        Ok(token) => token,
        Err(reason) => return Ok(Err(reason)),
    };
    // A handoff carries a sign-in: once that one ended (signed out, or ended by a new password
    // or a factor added or removed), the link signs nobody in.
    if let Some(family) = &token.family
        && !super::sessions::family_alive(db, family).await?
    {
        return Ok(Err(TokenError::Expired));
    }
    Ok(Ok(token))
}

async fn check_hash<C: ConnectionTrait>(
    db: &C,
    token_hash: String,
    purpose: Purpose,
) -> Result<Result<user_token::Model, TokenError>, DbErr> {
    let Some(token) = global::select::<user_token::Entity>()
        .filter(user_token::Column::TokenHash.eq(token_hash))
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
