//! Members' roles: the roles a member holds, given by whoever holds every permission of the
//! roles given and of the member (the grant rule; the owner's roles follow ownership), and the
//! rows the membership rules write for a new member or a new owner.

use entity::organization_member_role as member_role;
use entity::{MembershipId, UserId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, PaginatorTrait, QueryFilter,
};
use serde_json::json;

use super::{OrgError, RoleError, RoleView, held_by, permissions_of, resolve};
use crate::audit::{self, Target};
use crate::organizations::api_keys;
use crate::organizations::grants::may_grant;
use crate::organizations::members;
use crate::permissions::BuiltinRole;
use crate::tenancy::{Grant, TenantTxn};

/// Replaces the roles of the membership (no rule checked: the callers check).
async fn write_member_roles(
    tx: &TenantTxn,
    membership_id: MembershipId,
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
    membership_id: MembershipId,
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
        row.organization_user_id = Set(membership_id.get());
        row.role_key = Set(role.key().to_string());
        row.role_id = Set(None);
        row.insert(tx.conn()).await?;
    }
    Ok(())
}

/// Gives a new membership the roles `rows` (each key with its custom role's id).
pub(crate) async fn write_role_rows(
    tx: &TenantTxn,
    membership_id: MembershipId,
    rows: &[(String, Option<i64>)],
) -> Result<(), DbErr> {
    for (key, role_id) in rows {
        let mut row: member_role::ActiveModel = tx.new_active_model();
        row.organization_user_id = Set(membership_id.get());
        row.role_key = Set(key.clone());
        row.role_id = Set(*role_id);
        row.insert(tx.conn()).await?;
    }
    Ok(())
}

/// Gives the member `user_id` exactly the roles `keys`. The `grant` must hold every
/// permission of the roles given, and every permission the member holds now (nobody changes
/// the roles of someone above them); the owner's roles are not changed by anyone. Recorded as
/// `member.roles_changed`; keys the member made that now hold more than the member are revoked.
pub async fn set_member_roles(
    tx: &TenantTxn,
    grant: &Grant,
    user_id: UserId,
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
    let (before, current) = held_by(tx, catalog, membership.id()).await?;
    let mut after: Vec<String> = roles.iter().map(|r| r.key.clone()).collect();
    after.sort_by_key(|k| (BuiltinRole::from_key(k).is_none(), k.clone()));
    if members::owner_user_id(tx).await? == Some(user_id.get()) {
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
    // A role their directory groups give, and that was not theirs directly, stays the groups'
    // (leaving the group takes it away); the rest is theirs directly.
    let given = crate::organizations::group_roles::given_to(tx, catalog, user_id).await?;
    let direct_before: Vec<String> = tx
        .select::<member_role::Entity>()
        .filter(member_role::Column::OrganizationUserId.eq(membership.id))
        .filter(member_role::Column::FromGroup.eq(false))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|r| r.role_key)
        .collect();
    let direct: Vec<RoleView> = roles
        .iter()
        .filter(|r| direct_before.contains(&r.key) || !given.iter().any(|(k, _)| *k == r.key))
        .cloned()
        .collect();
    write_member_roles(tx, membership.id(), &direct).await?;
    crate::organizations::group_roles::sync(tx, catalog, user_id).await?;
    let label = members::label_of(tx, user_id).await?;
    audit::record(
        tx,
        "member.roles_changed",
        Some(Target::new("member", user_id.get(), label)),
        Some(json!({ "from": before, "to": after })),
    )
    .await?;
    api_keys::enforce_trust(tx, catalog).await?;
    Ok(after)
}

/// The deprecated admin flag as a shorthand: `true` adds `admin` to the member's roles, `false`
/// takes it away (leaving `member` if nothing else is left). The owner keeps `admin`.
pub async fn set_admin_flag(
    tx: &TenantTxn,
    grant: &Grant,
    user_id: UserId,
    is_admin: bool,
) -> Result<Vec<String>, RoleError> {
    let catalog = grant.catalog();
    let membership = members::membership(tx, user_id)
        .await?
        .ok_or(OrgError::NotMember)?;
    if !is_admin && members::owner_user_id(tx).await? == Some(user_id.get()) {
        return Err(RoleError::Org(OrgError::OwnerMustBeAdmin));
    }
    let (mut keys, _) = held_by(tx, catalog, membership.id()).await?;
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
