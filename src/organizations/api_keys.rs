//! Organization API keys: created and revoked by admins, shown once, stored hashed. A key acts
//! for its organization with admin rights (never owner rights) on the tenant API.

use entity::organization_api_key;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, QueryFilter, QueryOrder,
    sea_query::Expr,
};

use crate::tenancy::TenantTxn;
use crate::tokens;

/// What every organization API key starts with.
pub const API_KEY_PREFIX: &str = "orgs_key_";

/// Creates a key; the returned secret is shown once and never stored.
pub async fn create(
    tx: &TenantTxn,
    name: &str,
    created_by: Option<i64>,
) -> Result<(organization_api_key::Model, String), DbErr> {
    let secret = format!("{API_KEY_PREFIX}{}", tokens::generate());
    let mut row: organization_api_key::ActiveModel = tx.new_active_model();
    row.name = Set(name.trim().to_string());
    row.token_prefix = Set(secret.chars().take(API_KEY_PREFIX.len() + 8).collect());
    row.token_hash = Set(tokens::hash(&secret));
    row.created_by_id = Set(created_by);
    row.last_used_at = Set(None);
    row.revoked_at = Set(None);
    Ok((row.insert(tx.conn()).await?, secret))
}

/// The organization's working key `id`, if any.
pub async fn get_active(
    tx: &TenantTxn,
    id: i64,
) -> Result<Option<organization_api_key::Model>, DbErr> {
    tx.select::<organization_api_key::Entity>()
        .filter(organization_api_key::Column::Id.eq(id))
        .filter(organization_api_key::Column::RevokedAt.is_null())
        .one(tx.conn())
        .await
}

/// The organization's working keys, newest first.
pub async fn list_active(tx: &TenantTxn) -> Result<Vec<organization_api_key::Model>, DbErr> {
    tx.select::<organization_api_key::Entity>()
        .filter(organization_api_key::Column::RevokedAt.is_null())
        .order_by_desc(organization_api_key::Column::Id)
        .all(tx.conn())
        .await
}

/// Revokes one of the organization's keys; `false` when it has no such working key.
pub async fn revoke(tx: &TenantTxn, id: i64) -> Result<bool, DbErr> {
    let result = tx
        .update_many::<organization_api_key::Entity>()
        .col_expr(
            organization_api_key::Column::RevokedAt,
            Expr::value(entity::chrono_now()),
        )
        .filter(organization_api_key::Column::Id.eq(id))
        .filter(organization_api_key::Column::RevokedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected == 1)
}
