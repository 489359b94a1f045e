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

use super::grants::{may_act_on, may_grant, setter_still_grants};
use super::members;
use super::roles::{self, RoleError};
use crate::audit::{self, Target};
use crate::permissions::{BuiltinRole, Catalog};
use crate::tenancy::{Grant, TenantTxn};

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

/// [`sync`] on behalf of `grant` (a directory's token, a person mapping a group): the roles it
/// adds must be the grant's to give, and taking any away acts on the member, who must hold
/// nothing the grant does not (the grant rule). The owner's roles follow ownership, never a
/// group. A change is audited (`member.roles_changed`, `"via": "group"`), and keys the member
/// made that now hold more than them are revoked.
pub async fn sync_for(tx: &TenantTxn, grant: &Grant, user_id: UserId) -> Result<(), RoleError> {
    let catalog = grant.catalog();
    let Some(membership) = members::membership(tx, user_id).await? else {
        return Ok(());
    };
    if members::owner_user_id(tx).await? == Some(user_id.get()) {
        return Ok(());
    }
    let given = given_to(tx, catalog, user_id).await?;
    let held = tx
        .select::<member_role::Entity>()
        .filter(member_role::Column::OrganizationUserId.eq(membership.id))
        .all(tx.conn())
        .await?;
    let added: Vec<String> = given
        .iter()
        .filter(|(key, _)| !held.iter().any(|r| r.role_key == *key))
        .map(|(key, _)| key.clone())
        .collect();
    let removing = held
        .iter()
        .any(|r| r.from_group && !given.iter().any(|(key, _)| *key == r.role_key));
    if added.is_empty() && !removing {
        return Ok(());
    }
    may_grant(
        grant,
        roles::permissions_of_keys(tx, catalog, &added).await?,
    )?;
    if removing {
        may_act_on(tx, grant, user_id).await?;
    }
    let (before, _) = roles::held_by(tx, catalog, MembershipId(membership.id)).await?;
    sync_membership(tx, MembershipId(membership.id), &given).await?;
    let (after, _) = roles::held_by(tx, catalog, MembershipId(membership.id)).await?;
    let label = members::label_of(tx, user_id).await?;
    audit::record(
        tx,
        "member.roles_changed",
        Some(Target::new("member", user_id.get(), label)),
        Some(serde_json::json!({ "from": before, "to": after, "via": "group" })),
    )
    .await?;
    if removing {
        super::api_keys::enforce_trust(tx, catalog).await?;
    }
    Ok(())
}

/// The rows of `membership_id` marked `from_group` made equal to `given`; a membership left
/// without any role holds `member` again.
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
    let left = held.len() - removed.len() + added.len();
    if left == 0 {
        roles::add_builtin(tx, membership_id, BuiltinRole::Member).await?;
    }
    Ok((added, removed))
}

/// At the acceptance of the invitation `invitation` (sent by the organization's directory) by
/// the account `user_id`: the directory's User that waited for it is linked to the account, and
/// its groups give their roles, with the authority of whoever the invitation was sent for (the
/// token's maker, as they are now). Roles they could no longer grant are not given (logged);
/// the acceptance goes on.
pub async fn link_invited(
    tx: &TenantTxn,
    catalog: &Catalog,
    invitation: &entity::organization_invitation::Model,
    user_id: UserId,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    let already = tx
        .select::<scim_user::Entity>()
        .filter(scim_user::Column::UserId.eq(user_id.get()))
        .one(tx.conn())
        .await?;
    if already.is_some() {
        return Ok(());
    }
    // One User waits for an invitation (a directory's second for the address is refused).
    let Some(waiting) = tx
        .select::<scim_user::Entity>()
        .filter(scim_user::Column::InvitationId.eq(invitation.id))
        .filter(scim_user::Column::UserId.is_null())
        .one(tx.conn())
        .await?
    else {
        return Ok(());
    };
    let linked = tx
        .update_many::<scim_user::Entity>()
        .col_expr(scim_user::Column::UserId, Expr::value(user_id.get()))
        .filter(scim_user::Column::Id.eq(waiting.id))
        .exec(tx.conn())
        .await?;
    let Some(inviter) = invitation
        .invited_by_id
        .filter(|_| linked.rows_affected > 0)
    else {
        return Ok(());
    };
    let Some(inviter) = crate::auth::users::find_by_id(tx.conn(), UserId(inviter)).await? else {
        return Ok(());
    };
    let holds = crate::tenancy::Access::in_txn(tx, catalog, &inviter)
        .await?
        .permissions;
    #[expect(
        clippy::disallowed_methods,
        reason = "the inviter's permissions as they are now, read in this transaction"
    )]
    let grant = Grant::new(std::sync::Arc::new(catalog.clone()), holds);
    match sync_for(tx, &grant, user_id).await {
        Ok(()) => Ok(()),
        Err(RoleError::Db(e)) => Err(e),
        Err(refused) => {
            tracing::info!(
                user_id = user_id.get(),
                "no group roles at acceptance: {refused}"
            );
            Ok(())
        }
    }
}
