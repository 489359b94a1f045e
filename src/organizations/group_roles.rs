//! Roles a member holds because of their directory groups: a SCIM group that holders of
//! `sso.manage` mapped to roles gives them to each of its members with a membership here. Such
//! a role row is marked `from_group`; [`sync`] keeps the marked rows equal to what the groups give
//! now, leaving the roles given directly alone, so leaving a group takes away only what no other
//! source gives. A group's role is given only while whoever mapped it could still grant it (the
//! grant rule, as an invitation's inviter at acceptance); `owner` is never a group's.

use std::collections::BTreeMap;

use entity::{
    MembershipId, UserId, organization_member_role as member_role, organization_user,
    scim_group_member, scim_group_role, scim_user,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, QueryFilter, QuerySelect};

use super::grants::setter_still_grants;
use crate::permissions::Catalog;
use crate::tenancy::TenantTxn;

/// The roles (key, custom role id) the groups of the account `user_id` give now, each only
/// while whoever mapped it could still grant it.
pub async fn given_to(
    tx: &TenantTxn,
    catalog: &Catalog,
    user_id: UserId,
) -> Result<Vec<(String, Option<i64>)>, DbErr> {
    let scim_users: Vec<i64> = tx
        .select::<scim_user::Entity>()
        .select_only()
        .column(scim_user::Column::Id)
        .filter(scim_user::Column::UserId.eq(user_id.get()))
        .into_tuple()
        .all(tx.conn())
        .await?;
    if scim_users.is_empty() {
        return Ok(Vec::new());
    }
    let groups: Vec<i64> = tx
        .select::<scim_group_member::Entity>()
        .select_only()
        .column(scim_group_member::Column::GroupId)
        .filter(scim_group_member::Column::ScimUserId.is_in(scim_users))
        .into_tuple()
        .all(tx.conn())
        .await?;
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, Option<i64>, Option<i64>)> = tx
        .select::<scim_group_role::Entity>()
        .select_only()
        .column(scim_group_role::Column::RoleKey)
        .column(scim_group_role::Column::RoleId)
        .column(scim_group_role::Column::SetById)
        .filter(scim_group_role::Column::GroupId.is_in(groups))
        .into_tuple()
        .all(tx.conn())
        .await?;
    let mut given: BTreeMap<String, Option<i64>> = BTreeMap::new();
    for (key, role_id, set_by) in rows {
        if given.contains_key(&key) {
            continue;
        }
        let role = [(key.clone(), role_id)];
        if setter_still_grants(tx, catalog, set_by, &role).await? {
            given.insert(key, role_id);
        }
    }
    Ok(given.into_iter().collect())
}

/// Makes the group roles of the membership of `user_id` (if there is one) what its groups give
/// now; the roles given directly stay. The role keys added and taken away.
pub async fn sync(
    tx: &TenantTxn,
    catalog: &Catalog,
    user_id: UserId,
) -> Result<(Vec<String>, Vec<String>), DbErr> {
    let Some(membership) = tx
        .select::<organization_user::Entity>()
        .filter(organization_user::Column::UserId.eq(user_id.get()))
        .one(tx.conn())
        .await?
    else {
        return Ok((Vec::new(), Vec::new()));
    };
    let given = given_to(tx, catalog, user_id).await?;
    sync_membership(tx, MembershipId(membership.id), &given).await
}

/// The rows of `membership_id` marked `from_group` made equal to `given`.
pub(crate) async fn sync_membership(
    tx: &TenantTxn,
    membership_id: MembershipId,
    given: &[(String, Option<i64>)],
) -> Result<(Vec<String>, Vec<String>), DbErr> {
    let held = tx
        .select::<member_role::Entity>()
        .filter(member_role::Column::OrganizationUserId.eq(membership_id.get()))
        .all(tx.conn())
        .await?;
    let mut removed = Vec::new();
    for row in held.iter().filter(|r| r.from_group) {
        if !given.iter().any(|(key, _)| *key == row.role_key) {
            tx.delete_many::<member_role::Entity>()
                .filter(member_role::Column::Id.eq(row.id))
                .exec(tx.conn())
                .await?;
            removed.push(row.role_key.clone());
        }
    }
    let mut added = Vec::new();
    for (key, role_id) in given {
        if held.iter().any(|r| r.role_key == *key) {
            continue;
        }
        let mut row: member_role::ActiveModel = tx.new_active_model();
        row.organization_user_id = Set(membership_id.get());
        row.role_key = Set(key.clone());
        row.role_id = Set(*role_id);
        row.from_group = Set(true);
        row.insert(tx.conn()).await?;
        added.push(key.clone());
    }
    Ok((added, removed))
}
