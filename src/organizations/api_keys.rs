//! Organization API keys: created and revoked by admins, shown once, stored hashed. A key acts
//! for its organization with admin rights (never owner rights) on the tenant API.

use entity::organization_api_key;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, QueryFilter,
    QueryOrder, sea_query::Expr,
};

use crate::auth::tokens;
use crate::tenancy::{Scope, resolve::API_KEY_PREFIX};

/// Creates a key; the returned secret is shown once and never stored.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    name: &str,
    created_by: Option<i64>,
) -> Result<(organization_api_key::Model, String), DbErr> {
    let secret = format!("{API_KEY_PREFIX}{}", tokens::generate());
    let mut row: organization_api_key::ActiveModel = scope.new_active_model();
    row.name = Set(name.trim().to_string());
    row.token_prefix = Set(secret.chars().take(API_KEY_PREFIX.len() + 8).collect());
    row.token_hash = Set(tokens::hash(&secret));
    row.created_by_id = Set(created_by);
    row.last_used_at = Set(None);
    row.revoked_at = Set(None);
    Ok((row.insert(db).await?, secret))
}

/// The organization's working keys, newest first.
pub async fn list_active<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
) -> Result<Vec<organization_api_key::Model>, DbErr> {
    scope
        .select::<organization_api_key::Entity>()
        .filter(organization_api_key::Column::RevokedAt.is_null())
        .order_by_desc(organization_api_key::Column::Id)
        .all(db)
        .await
}

/// Revokes one of the organization's keys; `false` when it has no such working key.
pub async fn revoke<C: ConnectionTrait>(db: &C, scope: Scope, id: i64) -> Result<bool, DbErr> {
    let result = scope
        .update_many::<organization_api_key::Entity>()
        .col_expr(
            organization_api_key::Column::RevokedAt,
            Expr::value(entity::chrono_now()),
        )
        .filter(organization_api_key::Column::Id.eq(id))
        .filter(organization_api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
