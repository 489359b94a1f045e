//! Organization API keys: created and revoked by holders of `api_keys.manage`, shown once,
//! stored hashed. A key acts for its organization with its own permissions (never the owner's
//! own), which its maker must hold (the grant rule), and it cannot outlive the trust that made
//! it: when its maker leaves, is removed or loses a permission the key holds, the key is revoked
//! ([`enforce_trust`]), with an audit event.

use entity::UserId;
use std::collections::HashMap;

use entity::{organization_api_key, organization_api_key_permission as key_permission};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use serde_json::json;

use super::roles::RoleError;
use crate::audit::{self, Target};
use crate::permissions::{Catalog, PermissionSet};
use crate::tenancy::{Access, Grant, TenantTxn};
use crate::tokens;

/// What every organization API key starts with.
pub const API_KEY_PREFIX: &str = "orgs_key_";

/// A key just made: the row, its secret (shown once, never stored) and what it holds.
#[derive(Debug)]
pub struct NewKey {
    /// The row.
    pub key: organization_api_key::Model,
    /// The secret.
    pub secret: String,
    /// Its permissions.
    pub permissions: PermissionSet,
}

/// Creates a key holding the permissions named (all the maker may give when `None`), each one
/// the maker holds (the grant rule); the returned secret is shown once and never stored.
pub async fn create(
    tx: &TenantTxn,
    grant: &Grant,
    name: &str,
    created_by: Option<i64>,
    permissions: Option<&[String]>,
) -> Result<NewKey, RoleError> {
    let catalog = grant.catalog();
    let permissions = match permissions {
        Some(names) => super::roles::check_permissions(catalog, names)?,
        None => grant.holds().intersection(catalog.assignable()),
    };
    super::grants::may_grant(grant, permissions)?;
    let secret = format!("{API_KEY_PREFIX}{}", tokens::generate());
    let mut row: organization_api_key::ActiveModel = tx.new_active_model();
    row.name = Set(name.trim().to_string());
    row.token_prefix = Set(secret.chars().take(API_KEY_PREFIX.len() + 8).collect());
    row.token_hash = Set(tokens::hash(&secret));
    row.created_by_id = Set(created_by);
    row.last_used_at = Set(None);
    row.revoked_at = Set(None);
    let key = row.insert(tx.conn()).await?;
    for permission in catalog.list(permissions) {
        let mut row: key_permission::ActiveModel = tx.new_active_model();
        row.api_key_id = Set(key.id);
        row.permission = Set(permission.name().to_string());
        row.insert(tx.conn()).await?;
    }
    audit::record(
        tx,
        "api_key.created",
        Some(Target::new("api_key", key.id, &key.name)),
        Some(json!({ "permissions": catalog.list(permissions) })),
    )
    .await?;
    Ok(NewKey {
        key,
        secret,
        permissions,
    })
}

/// The permissions of each of the organization's keys, by key id.
pub async fn permissions(
    tx: &TenantTxn,
    catalog: &Catalog,
) -> Result<HashMap<i64, PermissionSet>, DbErr> {
    let rows: Vec<(i64, String)> = tx
        .select::<key_permission::Entity>()
        .select_only()
        .column(key_permission::Column::ApiKeyId)
        .column(key_permission::Column::Permission)
        .into_tuple()
        .all(tx.conn())
        .await?;
    let mut by_key: HashMap<i64, PermissionSet> = HashMap::new();
    for (key, name) in rows {
        let entry = by_key.entry(key).or_default();
        *entry = entry.union(catalog.set_of([name.as_str()]));
    }
    Ok(by_key)
}

/// Revokes every working key whose maker no longer holds all of its permissions (not a
/// member any more, or their roles changed), recording `api_key.revoked` for each; the ids
/// revoked. Keys of no known maker (made before makers were recorded) keep their rights.
pub async fn enforce_trust(tx: &TenantTxn, catalog: &Catalog) -> Result<Vec<i64>, DbErr> {
    let keys = list_active(tx).await?;
    if keys.iter().all(|k| k.created_by_id.is_none()) {
        return Ok(Vec::new());
    }
    let held = permissions(tx, catalog).await?;
    let mut makers: HashMap<i64, PermissionSet> = HashMap::new();
    let mut revoked = Vec::new();
    for key in keys {
        let Some(maker) = key.created_by_id else {
            continue;
        };
        let maker_holds = match makers.get(&maker) {
            Some(set) => *set,
            None => {
                let set = match crate::auth::users::find_by_id(tx.conn(), UserId(maker)).await? {
                    Some(user) => Access::in_txn(tx, catalog, &user).await?.permissions,
                    None => PermissionSet::EMPTY,
                };
                makers.insert(maker, set);
                set
            }
        };
        let key_holds = held.get(&key.id).copied().unwrap_or_default();
        if maker_holds.contains_all(key_holds) {
            continue;
        }
        let lost = catalog.list(key_holds.without(maker_holds));
        let why = json!({ "reason": "its maker no longer holds its permissions", "lost": lost });
        if revoke_recorded(tx, &key, Some(why)).await? {
            revoked.push(key.id);
        }
    }
    Ok(revoked)
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

/// Revokes `key` on a requester's behalf: the `grant` must hold every permission the key holds
/// and every permission its maker holds (the grant rule, [`super::grants::may_revoke_key`]).
pub async fn revoke_for(
    tx: &TenantTxn,
    grant: &Grant,
    key: &organization_api_key::Model,
) -> Result<bool, RoleError> {
    super::grants::may_revoke_key(tx, grant, key).await?;
    Ok(revoke(tx, key.id).await?)
}

/// Revokes one of the organization's keys (recorded); `false` when it has no such working key.
pub async fn revoke(tx: &TenantTxn, id: i64) -> Result<bool, DbErr> {
    match get_active(tx, id).await? {
        Some(key) => revoke_recorded(tx, &key, None).await,
        None => Ok(false),
    }
}

/// Revokes every working key `user_id` made (they are leaving or being removed), recording
/// each.
pub async fn revoke_made_by(tx: &TenantTxn, user_id: UserId) -> Result<Vec<i64>, DbErr> {
    let mut revoked = Vec::new();
    for key in list_active(tx).await? {
        let why = json!({ "reason": "its maker left the organization" });
        if key.created_by_id == Some(user_id.get()) && revoke_recorded(tx, &key, Some(why)).await? {
            revoked.push(key.id);
        }
    }
    Ok(revoked)
}

/// Revokes `key` if it still works, recording `api_key.revoked` with `why`; whether it went.
async fn revoke_recorded(
    tx: &TenantTxn,
    key: &organization_api_key::Model,
    why: Option<serde_json::Value>,
) -> Result<bool, DbErr> {
    if !revoke_quietly(tx, key.id).await? {
        return Ok(false);
    }
    let target = Target::new("api_key", key.id, &key.name);
    audit::record(tx, "api_key.revoked", Some(target), why).await?;
    Ok(true)
}

async fn revoke_quietly(tx: &TenantTxn, id: i64) -> Result<bool, DbErr> {
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
