//! Roles of an organization: the built-in `owner`, `admin` and `member` (defined in code, never
//! edited) and its custom roles (rows, with one row per permission); which roles each member
//! holds (one row per role). Every grant here passes the one grant rule of
//! [`super::grants`]. Rules about the owner are checked under the organization's lock, from
//! fresh rows.

use std::collections::HashMap;

use entity::{
    organization_invitation as invitation, organization_invitation_role as invitation_role,
    organization_member_role as member_role, organization_role as role,
    organization_role_permission as role_permission,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::json;

use super::OrgError;
use super::grants::may_grant;
use super::members;
use crate::audit::{self, Target};
use crate::permissions::{BuiltinRole, Catalog, Permission, PermissionSet};
use crate::tenancy::{Grant, TenantTxn};

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
    RoleView {
        key: role.key().to_string(),
        name: role.name().to_string(),
        description: role.description().to_string(),
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
fn view_of(catalog: &Catalog, row: role::Model, set: PermissionSet) -> RoleView {
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
/// ([`super::api_keys::enforce_trust`]).
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
        super::api_keys::enforce_trust(tx, catalog).await?;
    }
    Ok(view)
}

/// Deletes a custom role nobody holds; the `grant` must hold its permissions.
pub async fn delete(tx: &TenantTxn, grant: &Grant, key: &str) -> Result<(), RoleError> {
    let catalog = grant.catalog();
    tx.lock_organization().await?.ok_or(RoleError::NotFound)?;
    let current = custom(tx, catalog, key).await?;
    may_grant(grant, current.set)?;
    let id = current.id.ok_or(RoleError::Builtin)?;
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
    if members > 0 || invitations > 0 {
        return Err(RoleError::InUse {
            members,
            invitations,
        });
    }
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

/// Replaces the roles of the membership (no rule checked: the callers check).
pub(crate) async fn write_member_roles(
    tx: &TenantTxn,
    membership_id: i64,
    roles: &[RoleView],
) -> Result<(), DbErr> {
    tx.delete_many::<member_role::Entity>()
        .filter(member_role::Column::OrganizationUserId.eq(membership_id))
        .exec(tx.conn())
        .await?;
    let rows: Vec<(String, Option<i64>)> = roles.iter().map(|r| (r.key.clone(), r.id)).collect();
    write_role_rows(tx, membership_id, &rows).await
}

/// Adds a built-in role to the membership if it lacks it.
pub(crate) async fn add_builtin(
    tx: &TenantTxn,
    membership_id: i64,
    role: BuiltinRole,
) -> Result<(), DbErr> {
    let held = tx
        .select::<member_role::Entity>()
        .filter(member_role::Column::OrganizationUserId.eq(membership_id))
        .filter(member_role::Column::RoleKey.eq(role.key()))
        .count(tx.conn())
        .await?
        > 0;
    if !held {
        let mut row: member_role::ActiveModel = tx.new_active_model();
        row.organization_user_id = Set(membership_id);
        row.role_key = Set(role.key().to_string());
        row.role_id = Set(None);
        row.insert(tx.conn()).await?;
    }
    Ok(())
}

/// The permissions the membership's roles give (not counting ownership).
pub(crate) async fn held_by(
    tx: &TenantTxn,
    catalog: &Catalog,
    membership_id: i64,
) -> Result<(Vec<String>, PermissionSet), DbErr> {
    let keys = keys_of(tx, &[membership_id])
        .await?
        .remove(&membership_id)
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

/// Gives the member `user_id` exactly the roles `keys`. The `grant` must hold every
/// permission of the roles given, and every permission the member holds now (nobody changes
/// the roles of someone above them); the owner's roles are not changed by anyone. Recorded as
/// `member.roles_changed`; keys the member made that now hold more than the member are revoked.
pub async fn set_member_roles(
    tx: &TenantTxn,
    grant: &Grant,
    user_id: i64,
    keys: &[String],
) -> Result<Vec<String>, RoleError> {
    let catalog = grant.catalog();
    tx.lock_organization()
        .await?
        .ok_or(OrgError::OrganizationNotFound)?;
    let membership = members::membership(tx, user_id)
        .await?
        .ok_or(OrgError::NotMember)?;
    let roles = resolve(tx, catalog, keys).await?;
    let (before, current) = held_by(tx, catalog, membership.id).await?;
    let mut after: Vec<String> = roles.iter().map(|r| r.key.clone()).collect();
    after.sort_by_key(|k| (BuiltinRole::from_key(k).is_none(), k.clone()));
    if members::owner_user_id(tx).await? == Some(user_id) {
        if before == after {
            return Ok(after);
        }
        return Err(RoleError::OwnerRoles);
    }
    may_grant(grant, current)?;
    may_grant(grant, permissions_of(&roles))?;
    if before == after {
        return Ok(after);
    }
    write_member_roles(tx, membership.id, &roles).await?;
    let label = members::label_of(tx, user_id).await?;
    audit::record(
        tx,
        "member.roles_changed",
        Some(Target::new("member", user_id, label)),
        Some(json!({ "from": before, "to": after })),
    )
    .await?;
    super::api_keys::enforce_trust(tx, catalog).await?;
    Ok(after)
}

/// The deprecated admin flag as a shorthand: `true` adds `admin` to the member's roles, `false`
/// takes it away (leaving `member` if nothing else is left). The owner keeps `admin`.
pub async fn set_admin_flag(
    tx: &TenantTxn,
    grant: &Grant,
    user_id: i64,
    is_admin: bool,
) -> Result<Vec<String>, RoleError> {
    let catalog = grant.catalog();
    let membership = members::membership(tx, user_id)
        .await?
        .ok_or(OrgError::NotMember)?;
    if !is_admin && members::owner_user_id(tx).await? == Some(user_id) {
        return Err(RoleError::Org(OrgError::OwnerMustBeAdmin));
    }
    let (mut keys, _) = held_by(tx, catalog, membership.id).await?;
    let admin = BuiltinRole::Admin.key().to_string();
    if is_admin {
        if !keys.contains(&admin) {
            keys.push(admin);
        }
    } else {
        keys.retain(|k| *k != admin);
        if keys.is_empty() {
            keys.push(BuiltinRole::Member.key().to_string());
        }
    }
    set_member_roles(tx, grant, user_id, &keys).await
}

/// The roles an invitation will give (for the pages and the API).
pub async fn invitation_keys(tx: &TenantTxn, invitation_id: i64) -> Result<Vec<String>, DbErr> {
    tx.select::<invitation_role::Entity>()
        .select_only()
        .column(invitation_role::Column::RoleKey)
        .filter(invitation_role::Column::InvitationId.eq(invitation_id))
        .order_by_asc(invitation_role::Column::Id)
        .into_tuple()
        .all(tx.conn())
        .await
}

/// Records the roles an invitation will give.
pub(super) async fn write_invitation_roles(
    tx: &TenantTxn,
    invitation_id: i64,
    roles: &[RoleView],
) -> Result<(), DbErr> {
    tx.delete_many::<invitation_role::Entity>()
        .filter(invitation_role::Column::InvitationId.eq(invitation_id))
        .exec(tx.conn())
        .await?;
    for role in roles {
        let mut row: invitation_role::ActiveModel = tx.new_active_model();
        row.invitation_id = Set(invitation_id);
        row.role_key = Set(role.key.clone());
        row.role_id = Set(role.id);
        row.insert(tx.conn()).await?;
    }
    Ok(())
}

/// The roles an invitation carries: each key with its custom role's id.
pub(crate) async fn invitation_role_rows(
    tx: &TenantTxn,
    invitation_id: i64,
) -> Result<Vec<(String, Option<i64>)>, DbErr> {
    tx.select::<invitation_role::Entity>()
        .select_only()
        .column(invitation_role::Column::RoleKey)
        .column(invitation_role::Column::RoleId)
        .filter(invitation_role::Column::InvitationId.eq(invitation_id))
        .order_by_asc(invitation_role::Column::Id)
        .into_tuple()
        .all(tx.conn())
        .await
}

/// Gives a new membership the roles `rows` (each key with its custom role's id).
pub(crate) async fn write_role_rows(
    tx: &TenantTxn,
    membership_id: i64,
    rows: &[(String, Option<i64>)],
) -> Result<(), DbErr> {
    for (key, role_id) in rows {
        let mut row: member_role::ActiveModel = tx.new_active_model();
        row.organization_user_id = Set(membership_id);
        row.role_key = Set(key.clone());
        row.role_id = Set(*role_id);
        row.insert(tx.conn()).await?;
    }
    Ok(())
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
