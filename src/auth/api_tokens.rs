//! Personal API tokens: created and revoked on the account page, shown once, stored hashed,
//! accepted as `Authorization: Bearer orgs_...`; a new password revokes them all.

use entity::UserId;
use entity::{api_token, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, QueryFilter,
    QueryOrder,
};

use crate::tenancy::global;
use crate::tokens;

/// What every token starts with, so a leaked one is easy to recognise and scan for.
pub const PREFIX: &str = "orgs_";

/// Creates a token for the user; the returned secret is shown once and never stored.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    name: &str,
) -> Result<(api_token::Model, String), DbErr> {
    create_with(db, user_id, name, false, None).await
}

/// Creates a token for the user, recording whether the sign-in that made it was completed with
/// a second factor (an organization requiring two-factor refuses a token made without).
pub async fn create_with<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    name: &str,
    second_factor: bool,
    sso: Option<(i64, bool)>,
) -> Result<(api_token::Model, String), DbErr> {
    let secret = format!("{PREFIX}{}", tokens::generate());
    let token = api_token::ActiveModel {
        user_id: Set(user_id.get()),
        name: Set(name.to_string()),
        token_prefix: Set(secret.chars().take(PREFIX.len() + 8).collect()),
        token_hash: Set(tokens::hash(&secret)),
        last_used_at: Set(None),
        revoked_at: Set(None),
        second_factor: Set(second_factor),
        sso_organization_id: Set(sso.map(|(id, _)| id)),
        sso_second_factor: Set(sso.is_some_and(|(_, factor)| factor)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((token, secret))
}

/// The user's tokens that still work, newest first.
pub async fn list_active<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
) -> Result<Vec<api_token::Model>, DbErr> {
    global::select::<api_token::Entity>()
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await
}

/// Revokes one of the user's tokens; `false` when the user has no such working token.
pub async fn revoke<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    token_id: i64,
) -> Result<bool, DbErr> {
    let result = global::update_many::<api_token::Entity>()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(entity::chrono_now()),
        )
        .filter(api_token::Column::Id.eq(token_id))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every working token of the user (a new password ends them); how many.
pub async fn revoke_all<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<u64, DbErr> {
    let result = global::update_many::<api_token::Entity>()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(entity::chrono_now()),
        )
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Marks every token of the user as made without a second factor (they have none left): an
/// organization requiring two-factor refuses them from now on.
pub async fn forget_second_factor<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
) -> Result<u64, DbErr> {
    let result = global::update_many::<api_token::Entity>()
        .col_expr(
            api_token::Column::SecondFactor,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::SecondFactor.eq(true))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The active user a working token belongs to.
pub async fn resolve<C: ConnectionTrait>(
    db: &C,
    secret: &str,
) -> Result<Option<user::Model>, DbErr> {
    Ok(resolve_token(db, secret).await?.map(|(user, _)| user))
}

/// The active user a working token belongs to, and the token.
pub async fn resolve_token<C: ConnectionTrait>(
    db: &C,
    secret: &str,
) -> Result<Option<(user::Model, api_token::Model)>, DbErr> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    let found = global::select::<api_token::Entity>()
        .find_also_related(user::Entity)
        .filter(api_token::Column::TokenHash.eq(tokens::hash(secret)))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(user::Column::IsActive.eq(true))
        .one(db)
        .await?;
    Ok(found.and_then(|(token, user)| user.map(|user| (user, token))))
}
