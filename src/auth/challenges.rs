//! Steps of a sign-in that are not finished yet: the half-signed-in state between a correct
//! password and the second factor (it grants nothing, lasts five minutes, and is bound to the
//! browser that typed the password: the browser's session holds its random key, the table its
//! hash), and WebAuthn ceremonies in progress (their state, kept server-side so any instance
//! can finish them and none can be replayed).

use chrono::Duration;
use entity::{UserId, auth_challenge};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, QueryFilter,
};

use crate::tenancy::global;
use crate::tokens;

/// How long a half-signed-in state or a ceremony lasts.
pub const TTL_SECS: i64 = 300;

/// What a pending step is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The password was right; the second factor is awaited.
    SecondFactor,
    /// A passkey is being registered by a signed-in person.
    PasskeyRegister,
    /// A sign-in with a passkey alone, not yet saying whose.
    PasskeyLogin,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::SecondFactor => "second_factor",
            Self::PasskeyRegister => "passkey_register",
            Self::PasskeyLogin => "passkey_login",
        }
    }
}

/// Starts a step for `user_id` (none: a passkey sign-in); the key the browser keeps.
pub async fn start<C: ConnectionTrait>(
    db: &C,
    user_id: Option<UserId>,
    purpose: Purpose,
    state: Option<String>,
) -> Result<String, DbErr> {
    let key = tokens::generate();
    auth_challenge::ActiveModel {
        token_hash: Set(tokens::hash(&key)),
        user_id: Set(user_id.map(UserId::get)),
        purpose: Set(purpose.as_str().to_string()),
        state: Set(state),
        expires_at: Set(entity::chrono_now() + Duration::seconds(TTL_SECS)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(key)
}

/// The step with this key, while it lasts.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    key: &str,
    purpose: Purpose,
) -> Result<Option<auth_challenge::Model>, DbErr> {
    global::select::<auth_challenge::Entity>()
        .filter(auth_challenge::Column::TokenHash.eq(tokens::hash(key)))
        .filter(auth_challenge::Column::Purpose.eq(purpose.as_str()))
        .filter(auth_challenge::Column::ExpiresAt.gt(entity::chrono_now()))
        .one(db)
        .await
}

/// Stores a ceremony's state on the step (a passkey asked for during the second-factor step).
pub async fn set_state<C: ConnectionTrait>(db: &C, id: i64, state: String) -> Result<(), DbErr> {
    global::update_many::<auth_challenge::Entity>()
        .col_expr(
            auth_challenge::Column::State,
            sea_orm::sea_query::Expr::value(state),
        )
        .filter(auth_challenge::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes the ceremony's state `state` off the step `id`, once: `false` when another request
/// took it first (an answer to a passkey request is checked once).
pub async fn take_state<C: ConnectionTrait>(db: &C, id: i64, state: &str) -> Result<bool, DbErr> {
    let result = global::update_many::<auth_challenge::Entity>()
        .col_expr(
            auth_challenge::Column::State,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .filter(auth_challenge::Column::Id.eq(id))
        .filter(auth_challenge::Column::State.eq(state))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ends the step with this key (used or abandoned): `false` when another request ended it
/// first, so a step is finished once.
pub async fn finish<C: ConnectionTrait>(db: &C, key: &str) -> Result<bool, DbErr> {
    let result = global::delete_many::<auth_challenge::Entity>()
        .filter(auth_challenge::Column::TokenHash.eq(tokens::hash(key)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ends every half-signed-in state of the user (too many wrong codes: the password again).
pub async fn end_all<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<u64, DbErr> {
    let result = global::delete_many::<auth_challenge::Entity>()
        .filter(auth_challenge::Column::UserId.eq(user_id.get()))
        .filter(auth_challenge::Column::Purpose.eq(Purpose::SecondFactor.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Removes the steps that expired (the hourly job).
pub async fn prune<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let result = global::delete_many::<auth_challenge::Entity>()
        .filter(auth_challenge::Column::ExpiresAt.lte(entity::chrono_now()))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
