//! Custom roles: created, edited and deleted by whoever holds every permission the role carries
//! (the grant rule); built-in roles are never written, and a role somebody holds is not deleted.

use entity::{
    organization_invitation as invitation, organization_invitation_role as invitation_role,
    organization_member_role as member_role, organization_role as role,
    organization_role_permission as role_permission,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, IntoActiveModel, PaginatorTrait,
    QueryFilter, QuerySelect,
};
use serde_json::json;

use super::{MAX_KEY_LEN, RoleError, RoleView, check_permissions, get, view_of};
use crate::audit::{self, Target};
use crate::organizations::api_keys;
use crate::organizations::grants::may_grant;
use crate::permissions::{BuiltinRole, Catalog, PermissionSet};
use crate::tenancy::{Grant, TenantTxn};

fn check_key(key: &str) -> Result<(), RoleError> {
    let well_formed = (1..=MAX_KEY_LEN).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !well_formed {
        return Err(RoleError::InvalidKey);
    }
    if BuiltinRole::from_key(key).is_some() {
        return Err(RoleError::ReservedKey);
    }
    Ok(())
}

fn check_name(name: &str) -> Result<String, RoleError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(RoleError::InvalidName(
            "must be 1 to 100 characters long".into(),
        ));
    }
    crate::text::check_name(name).map_err(|e| RoleError::InvalidName(e.to_string()))?;
    Ok(name.to_string())
}

fn check_description(description: &str) -> Result<String, RoleError> {
    let description = description.trim();
    if description.chars().count() > 1000 {
        return Err(RoleError::InvalidDescription(
            "must be at most 1000 characters long".into(),
        ));
    }
    crate::text::check_multiline(description)
        .map_err(|e| RoleError::InvalidDescription(e.to_string()))?;
    Ok(description.to_string())
}

/// What a new custom role is.
#[derive(Clone, Debug, Default)]
pub struct NewRole {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Its permissions' names.
    pub permissions: Vec<String>,
}

async fn write_permissions(
    tx: &TenantTxn,
    catalog: &Catalog,
    role_id: i64,
    set: PermissionSet,
) -> Result<(), DbErr> {
    tx.delete_many::<role_permission::Entity>()
        .filter(role_permission::Column::RoleId.eq(role_id))
        .exec(tx.conn())
        .await?;
    for permission in catalog.list(set) {
        let mut row: role_permission::ActiveModel = tx.new_active_model();
        row.role_id = Set(role_id);
        row.permission = Set(permission.name().to_string());
        row.insert(tx.conn()).await?;
    }
    Ok(())
}

/// Creates a custom role; the `grant` must hold every permission it carries.
pub async fn create(tx: &TenantTxn, grant: &Grant, new: &NewRole) -> Result<RoleView, RoleError> {
    let catalog = grant.catalog();
    let key = new.key.trim();
    check_key(key)?;
    let name = check_name(&new.name)?;
    let description = check_description(&new.description)?;
    let set = check_permissions(catalog, &new.permissions)?;
    may_grant(grant, set)?;
    let mut row: role::ActiveModel = tx.new_active_model();
    row.key = Set(key.to_string());
    row.name = Set(name);
    row.description = Set(description);
    let row = crate::db::insert_unique(tx.conn(), row)
        .await?
        .ok_or(RoleError::KeyTaken)?;
    write_permissions(tx, catalog, row.id, set).await?;
    let view = view_of(catalog, row, set);
    audit::record(
        tx,
        "role.created",
        Some(Target::new("role", view.id.unwrap_or_default(), &view.key)),
        Some(json!({ "name": view.name, "permissions": view.permissions })),
    )
    .await?;
    Ok(view)
}

/// What an edit of a custom role changes (`None` keeps).
#[derive(Clone, Debug, Default)]
pub struct RolePatch {
    /// A new name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// New permissions (the whole set).
    pub permissions: Option<Vec<String>>,
}

async fn custom(tx: &TenantTxn, catalog: &Catalog, key: &str) -> Result<RoleView, RoleError> {
    if BuiltinRole::from_key(key).is_some() {
        return Err(RoleError::Builtin);
    }
    get(tx, catalog, key).await?.ok_or(RoleError::NotFound)
}

/// Edits a custom role. the `grant` must hold every permission the role holds now and will hold:
/// nobody changes a role above their own. Members' keys are checked again afterwards
/// ([`api_keys::enforce_trust`]).
pub async fn update(
    tx: &TenantTxn,
    grant: &Grant,
    key: &str,
    patch: &RolePatch,
) -> Result<RoleView, RoleError> {
    let catalog = grant.catalog();
    tx.lock_organization().await?.ok_or(RoleError::NotFound)?;
    let current = custom(tx, catalog, key).await?;
    may_grant(grant, current.set)?;
    let id = current.id.ok_or(RoleError::Builtin)?;
    let row = tx
        .select::<role::Entity>()
        .filter(role::Column::Id.eq(id))
        .one(tx.conn())
        .await?
        .ok_or(RoleError::NotFound)?;
    let mut active = row.into_active_model();
    let mut changes = serde_json::Map::new();
    if let Some(name) = &patch.name {
        let name = check_name(name)?;
        changes.insert("name".into(), json!({ "from": current.name, "to": name }));
        active.name = Set(name);
    }
    if let Some(description) = &patch.description {
        active.description = Set(check_description(description)?);
        changes.insert("description".into(), json!(true));
    }
    let set = match &patch.permissions {
        Some(names) => {
            let set = check_permissions(catalog, names)?;
            may_grant(grant, set)?;
            Some(set)
        }
        None => None,
    };
    let row = active.update(tx.conn()).await?;
    if let Some(set) = set {
        write_permissions(tx, catalog, id, set).await?;
        changes.insert(
            "permissions".into(),
            json!({ "from": current.permissions, "to": catalog.list(set) }),
        );
    }
    let view = view_of(catalog, row, set.unwrap_or(current.set));
    audit::record(
        tx,
        "role.updated",
        Some(Target::new("role", id, &view.key)),
        Some(serde_json::Value::Object(changes)),
    )
    .await?;
    if set.is_some() {
        api_keys::enforce_trust(tx, catalog).await?;
    }
    Ok(view)
}

/// How many members hold the role `id`, and how many pending invitations carry it.
async fn holders(tx: &TenantTxn, id: i64) -> Result<(u64, u64), sea_orm::DbErr> {
    let members = tx
        .select::<member_role::Entity>()
        .filter(member_role::Column::RoleId.eq(id))
        .count(tx.conn())
        .await?;
    let carrying: Vec<i64> = tx
        .select::<invitation_role::Entity>()
        .select_only()
        .column(invitation_role::Column::InvitationId)
        .filter(invitation_role::Column::RoleId.eq(id))
        .into_tuple()
        .all(tx.conn())
        .await?;
    let invitations = if carrying.is_empty() {
        0
    } else {
        tx.select::<invitation::Entity>()
            .filter(invitation::Column::Id.is_in(carrying))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .count(tx.conn())
            .await?
    };
    Ok((members, invitations))
}

/// Who keeps the custom role `key` from being deleted: `RoleError::InUse` with the members who
/// hold it and the pending invitations that carry it, `Ok` when nobody does.
pub async fn check_unused(tx: &TenantTxn, catalog: &Catalog, key: &str) -> Result<(), RoleError> {
    let current = custom(tx, catalog, key).await?;
    unused(tx, current.id.ok_or(RoleError::Builtin)?).await
}

/// `RoleError::InUse` while members hold the role `id` or pending invitations offer it.
async fn unused(tx: &TenantTxn, id: i64) -> Result<(), RoleError> {
    let (members, invitations) = holders(tx, id).await?;
    if members > 0 || invitations > 0 {
        return Err(RoleError::InUse {
            members,
            invitations,
        });
    }
    Ok(())
}

/// Deletes a custom role nobody holds; the `grant` must hold its permissions.
pub async fn delete(tx: &TenantTxn, grant: &Grant, key: &str) -> Result<(), RoleError> {
    let catalog = grant.catalog();
    tx.lock_organization().await?.ok_or(RoleError::NotFound)?;
    let current = custom(tx, catalog, key).await?;
    may_grant(grant, current.set)?;
    let id = current.id.ok_or(RoleError::Builtin)?;
    unused(tx, id).await?;
    // Invitations that are no longer pending keep no hold on the role.
    tx.delete_many::<invitation_role::Entity>()
        .filter(invitation_role::Column::RoleId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_row::<role::Entity>(role::Column::Id, id).await?;
    audit::record(
        tx,
        "role.deleted",
        Some(Target::new("role", id, &current.key)),
        Some(json!({ "name": current.name, "permissions": current.permissions })),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_lowercase_and_not_built_in() {
        assert!(check_key("billing-manager").is_ok());
        assert!(check_key("a").is_ok());
        assert!(matches!(check_key("admin"), Err(RoleError::ReservedKey)));
        assert!(matches!(check_key("owner"), Err(RoleError::ReservedKey)));
        assert!(matches!(check_key("Billing"), Err(RoleError::InvalidKey)));
        assert!(matches!(check_key(""), Err(RoleError::InvalidKey)));
        assert!(matches!(
            check_key(&"a".repeat(41)),
            Err(RoleError::InvalidKey)
        ));
        assert!(matches!(check_key("a_b"), Err(RoleError::InvalidKey)));
    }
}
