//! Roles of an organization: the built-in `owner`, `admin` and `member` (defined in code, never
//! edited) and its custom roles (rows, with one row per permission); which roles each member
//! holds (one row per role). Every grant here passes the one grant rule of
//! [`super::grants`]. Rules about the owner are checked under the organization's lock, from
//! fresh rows.
//!
//! Here: the roles as they are read (views, lists, the permissions a member's roles give). Writing
//! custom roles is `custom`; giving members their roles is `members`; the roles an invitation
//! carries are `invitations`.

use entity::MembershipId;
mod custom;
mod invitations;
mod members;

use std::collections::HashMap;

use entity::{
    organization_member_role as member_role, organization_role as role,
    organization_role_permission as role_permission,
};
use sea_orm::{ColumnTrait, DbErr, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

pub use custom::{NewRole, RolePatch, check_unused, create, delete, update};
pub use invitations::invitation_keys;
pub(crate) use invitations::invitation_role_rows;
pub(in crate::organizations) use invitations::write_invitation_roles;
pub(crate) use members::{add_builtin, write_role_rows};
pub use members::{set_admin_flag, set_member_roles};

use super::OrgError;
use crate::permissions::{BuiltinRole, Catalog, Permission, PermissionSet};
use crate::tenancy::TenantTxn;

/// The longest role key.
pub const MAX_KEY_LEN: usize = 40;

/// A role as the pages and the API show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Role)]
pub struct RoleView {
    /// `admin`, `billing-manager` ...
    pub key: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Its permissions, in catalog order.
    pub permissions: Vec<Permission>,
    /// Built in (cannot be edited or deleted).
    pub builtin: bool,
    /// The custom role's row; `None` for a built-in one.
    #[serde(skip)]
    pub id: Option<i64>,
    /// Its permissions as a set.
    #[serde(skip)]
    pub set: PermissionSet,
}

/// Why a role could not be written, assigned or deleted.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    /// The key is malformed.
    #[error("must be 1 to {MAX_KEY_LEN} characters of a-z, 0-9 and -")]
    InvalidKey,
    /// The key is a built-in role's.
    #[error("is the key of a built-in role")]
    ReservedKey,
    /// Another role of the organization has the key.
    #[error("another role of this organization has this key")]
    KeyTaken,
    /// The name is empty or too long.
    #[error("{0}")]
    InvalidName(String),
    /// The description holds what it may not.
    #[error("{0}")]
    InvalidDescription(String),
    /// A permission the catalog does not know.
    #[error("unknown permission {0:?}")]
    UnknownPermission(String),
    /// A permission only the owner holds.
    #[error("{0} belongs to the owner alone")]
    OwnerOnly(Permission),
    /// A role key the organization does not have.
    #[error("unknown role {0:?}")]
    UnknownRole(String),
    /// `owner` was asked for.
    #[error("the owner role follows ownership and is never assigned")]
    OwnerNotAssignable,
    /// No role was given.
    #[error("give at least one role")]
    NoRoles,
    /// The grant rule: the granter lacks this permission.
    #[error("You need the {0} permission to grant it.")]
    NotHeld(Permission),
    /// A built-in role was to be changed.
    #[error("Built-in roles cannot be changed or deleted.")]
    Builtin,
    /// The role is held.
    #[error(
        "This role is held by {members} member(s) and {invitations} pending invitation(s); give them other roles first."
    )]
    InUse {
        /// Members holding it.
        members: u64,
        /// Pending invitations carrying it.
        invitations: u64,
    },
    /// The owner's roles were to be changed.
    #[error("The owner's roles follow ownership; transfer ownership first.")]
    OwnerRoles,
    /// No such role.
    #[error("no such role")]
    NotFound,
    /// A membership rule.
    #[error(transparent)]
    Org(#[from] OrgError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl crate::fields::FieldError for RoleError {
    fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidKey | Self::ReservedKey | Self::KeyTaken => Some("key"),
            Self::InvalidName(_) => Some("name"),
            Self::InvalidDescription(_) => Some("description"),
            Self::UnknownPermission(_) | Self::OwnerOnly(_) => Some("permissions"),
            Self::UnknownRole(_) | Self::OwnerNotAssignable | Self::NoRoles => Some("roles"),
            _ => None,
        }
    }
}

fn builtin_view(catalog: &Catalog, role: BuiltinRole) -> RoleView {
    let set = catalog.builtin(role);
    // A member sees and writes projects only where Projects are served (`projects.enabled`).
    let description = match role {
        BuiltinRole::Member if catalog.find("projects.read").is_none() => "Sees the people.",
        _ => role.description(),
    };
    RoleView {
        key: role.key().to_string(),
        name: role.name().to_string(),
        description: description.to_string(),
        permissions: catalog.list(set),
        builtin: true,
        id: None,
        set,
    }
}

/// A custom role from its row and its stored permission names (names the catalog no longer
/// knows, or the owner's own, are not held).
fn custom_view(catalog: &Catalog, row: role::Model, names: &[String]) -> RoleView {
    let set = catalog
        .set_of(names.iter().map(String::as_str))
        .intersection(catalog.assignable());
    view_of(catalog, row, set)
}

/// A custom role from its row and its permissions.
pub(super) fn view_of(catalog: &Catalog, row: role::Model, set: PermissionSet) -> RoleView {
    RoleView {
        key: row.key,
        name: row.name,
        description: row.description,
        permissions: catalog.list(set),
        builtin: false,
        id: Some(row.id),
        set,
    }
}

/// The permission names of each custom role of the organization, by role id.
async fn permissions_by_role(tx: &TenantTxn) -> Result<HashMap<i64, Vec<String>>, DbErr> {
    let rows: Vec<(i64, String)> = tx
        .select::<role_permission::Entity>()
        .select_only()
        .column(role_permission::Column::RoleId)
        .column(role_permission::Column::Permission)
        .into_tuple()
        .all(tx.conn())
        .await?;
    let mut by_role: HashMap<i64, Vec<String>> = HashMap::new();
    for (role_id, permission) in rows {
        by_role.entry(role_id).or_default().push(permission);
    }
    Ok(by_role)
}

/// Every role of the organization: the built-in ones, then the custom ones by key.
pub async fn list(tx: &TenantTxn, catalog: &Catalog) -> Result<Vec<RoleView>, DbErr> {
    let mut roles: Vec<RoleView> = BuiltinRole::ALL
        .into_iter()
        .map(|r| builtin_view(catalog, r))
        .collect();
    let custom = tx
        .select::<role::Entity>()
        .order_by_asc(role::Column::Key)
        .all(tx.conn())
        .await?;
    let by_role = permissions_by_role(tx).await?;
    for row in custom {
        let names = by_role.get(&row.id).cloned().unwrap_or_default();
        roles.push(custom_view(catalog, row, &names));
    }
    Ok(roles)
}

/// The roles a member may be given (every role but `owner`).
pub async fn assignable(tx: &TenantTxn, catalog: &Catalog) -> Result<Vec<RoleView>, DbErr> {
    let mut roles = list(tx, catalog).await?;
    roles.retain(|r| r.key != BuiltinRole::Owner.key());
    Ok(roles)
}

/// The role with this key, built-in or custom.
pub async fn get(tx: &TenantTxn, catalog: &Catalog, key: &str) -> Result<Option<RoleView>, DbErr> {
    if let Some(builtin) = BuiltinRole::from_key(key) {
        return Ok(Some(builtin_view(catalog, builtin)));
    }
    let Some(row) = tx
        .select::<role::Entity>()
        .filter(role::Column::Key.eq(key))
        .one(tx.conn())
        .await?
    else {
        return Ok(None);
    };
    let names: Vec<String> = tx
        .select::<role_permission::Entity>()
        .select_only()
        .column(role_permission::Column::Permission)
        .filter(role_permission::Column::RoleId.eq(row.id))
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(Some(custom_view(catalog, row, &names)))
}

/// The named permissions as a set: each must be in the catalog and not the owner's alone.
pub fn check_permissions(catalog: &Catalog, names: &[String]) -> Result<PermissionSet, RoleError> {
    let mut set = PermissionSet::EMPTY;
    for name in names {
        let permission = catalog
            .find(name)
            .ok_or_else(|| RoleError::UnknownPermission(name.clone()))?;
        let one = catalog.one(permission);
        if !catalog.assignable().contains_all(one) {
            return Err(RoleError::OwnerOnly(permission));
        }
        set = set.union(one);
    }
    Ok(set)
}

/// The roles named by `keys`, for assigning: at least one, each known, none `owner`;
/// repeated keys count once.
pub async fn resolve(
    tx: &TenantTxn,
    catalog: &Catalog,
    keys: &[String],
) -> Result<Vec<RoleView>, RoleError> {
    if keys.is_empty() {
        return Err(RoleError::NoRoles);
    }
    let mut roles: Vec<RoleView> = Vec::new();
    for key in keys {
        let key = key.trim();
        if key == BuiltinRole::Owner.key() {
            return Err(RoleError::OwnerNotAssignable);
        }
        if roles.iter().any(|r| r.key == key) {
            continue;
        }
        let role = get(tx, catalog, key)
            .await?
            .ok_or_else(|| RoleError::UnknownRole(key.to_string()))?;
        roles.push(role);
    }
    Ok(roles)
}

/// The union of the roles' permissions.
pub fn permissions_of(roles: &[RoleView]) -> PermissionSet {
    roles
        .iter()
        .fold(PermissionSet::EMPTY, |set, role| set.union(role.set))
}

/// The role keys each of these memberships holds (built-in first, then custom, by key).
pub async fn keys_of(
    tx: &TenantTxn,
    membership_ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>, DbErr> {
    let mut by_membership: HashMap<i64, Vec<String>> = HashMap::new();
    if membership_ids.is_empty() {
        return Ok(by_membership);
    }
    let rows: Vec<(i64, String, Option<i64>)> = tx
        .select::<member_role::Entity>()
        .select_only()
        .column(member_role::Column::OrganizationUserId)
        .column(member_role::Column::RoleKey)
        .column(member_role::Column::RoleId)
        .filter(member_role::Column::OrganizationUserId.is_in(membership_ids.iter().copied()))
        .into_tuple()
        .all(tx.conn())
        .await?;
    let mut rows = rows;
    // Built-in roles first, then custom ones, each by key.
    rows.sort_by(|a, b| (a.2.is_some(), &a.1).cmp(&(b.2.is_some(), &b.1)));
    for (membership, key, _) in rows {
        by_membership.entry(membership).or_default().push(key);
    }
    Ok(by_membership)
}

/// The permissions the membership's roles give (not counting ownership).
pub(crate) async fn held_by(
    tx: &TenantTxn,
    catalog: &Catalog,
    membership_id: MembershipId,
) -> Result<(Vec<String>, PermissionSet), DbErr> {
    let keys = keys_of(tx, &[membership_id.get()])
        .await?
        .remove(&membership_id.get())
        .unwrap_or_default();
    let set = permissions_of_keys(tx, catalog, &keys).await?;
    Ok((keys, set))
}

/// The union of the permissions of the roles `keys` (keys of no role count for nothing).
pub(crate) async fn permissions_of_keys(
    tx: &TenantTxn,
    catalog: &Catalog,
    keys: &[String],
) -> Result<PermissionSet, DbErr> {
    let mut set = PermissionSet::EMPTY;
    for key in keys {
        if let Some(role) = get(tx, catalog, key).await? {
            set = set.union(role.set);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_only_and_unknown_permissions_are_refused_for_roles() {
        let catalog = Catalog::orgs();
        assert!(matches!(
            check_permissions(&catalog, &["organization.delete".into()]),
            Err(RoleError::OwnerOnly(_))
        ));
        assert!(matches!(
            check_permissions(&catalog, &["nope.never".into()]),
            Err(RoleError::UnknownPermission(_))
        ));
    }
}
