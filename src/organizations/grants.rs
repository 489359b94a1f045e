//! The one grant rule, in one place: **nobody grants what they do not hold, and nobody acts on
//! a member who holds what they do not.** Authority is never borrowed: not from a default role,
//! not from a stronger member's standing, not from an inviter who has since lost it.
//!
//! - Granting ([`may_grant`]) covers every way a permission reaches someone: a role's
//!   permissions when it is written (`roles::create`, `roles::update`), the roles given to a
//!   member (`roles::set_member_roles`, `roles::set_admin_flag`), an invitation's roles, the
//!   default role included ([`invitation_roles`], at send; [`resend`], at resend and reminder;
//!   [`inviter_still_grants`], at acceptance, against the inviter as they are then), and API
//!   keys (`api_keys::create`).
//! - Acting on a member ([`may_act_on`]): changing their roles (`roles::set_member_roles`),
//!   removing them (`organizations::remove_member`) and revoking the keys they made
//!   ([`may_revoke_key`]) need every permission the member holds. The owner holds everything, so
//!   acts on anyone; the owner's own roles and membership are guarded by their own rules
//!   (ownership is transferred, never taken).
//!
//! A caller passes the requester's [`Grant`]: what they hold, read from fresh rows in the
//! request's transaction. Only the access layer makes one (`web::ctx`; elsewhere in orgs the
//! fence asks for a reason). The membership services that take none act as the system or on the
//! requester's own membership (`add_user` and `get_or_add_user` for sign-up and acceptance,
//! `remove_user` for leaving, `set_admin`, `change_owner`, `api_keys::revoke`): jobs and the
//! CLI, not a handler acting on someone else.

use entity::UserId;
use entity::{organization_api_key, organization_invitation as invitation};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, IntoActiveModel};

use super::members;
use super::roles::{self, RoleError, RoleView};
use crate::permissions::{BuiltinRole, Catalog, PermissionSet};
use crate::tenancy::{Access, ActorKind, Grant, TenantTxn};

/// The rule itself: the `grant` holds every permission of `wanted`; else the first it lacks.
pub fn may_grant(grant: &Grant, wanted: PermissionSet) -> Result<(), RoleError> {
    match grant.catalog().list(wanted.without(grant.holds())).first() {
        None => Ok(()),
        Some(missing) => Err(RoleError::NotHeld(*missing)),
    }
}

/// Whether the `grant` allows acting on the member `user_id`: they hold every permission the member
/// holds. The owner as a target is left to the rule of each act (never removed, roles never
/// changed), which answers more clearly than a missing permission; not a member: nothing to
/// hold.
pub async fn may_act_on(tx: &TenantTxn, grant: &Grant, user_id: UserId) -> Result<(), RoleError> {
    let catalog = grant.catalog();
    if members::owner_user_id(tx).await? == Some(user_id.get()) {
        return Ok(());
    }
    let Some(membership) = members::membership(tx, user_id).await? else {
        return Ok(());
    };
    let (_, held) = roles::held_by(tx, catalog, membership.id()).await?;
    may_grant(grant, held)
}

/// Whether the `grant` allows revoking the key `key`: they hold every permission its maker holds
/// (while the maker is a member), and every permission the key holds.
pub async fn may_revoke_key(
    tx: &TenantTxn,
    grant: &Grant,
    key: &organization_api_key::Model,
) -> Result<(), RoleError> {
    let catalog = grant.catalog();
    if let Some(maker) = key.created_by_id {
        may_act_on(tx, grant, UserId(maker)).await?;
    }
    let held = super::api_keys::permissions(tx, catalog)
        .await?
        .get(&key.id)
        .copied()
        .unwrap_or_default();
    may_grant(grant, held)
}

/// Roles that passed the grant rule for an invitation; only [`invitation_roles`] makes them, and
/// only they can be written on an invitation ([`record_invitation`]).
#[derive(Clone, Debug)]
pub struct GrantedRoles(Vec<RoleView>);

impl GrantedRoles {
    /// The roles.
    pub fn roles(&self) -> &[RoleView] {
        &self.0
    }
}

/// The roles an invitation asks for (the default role, `member`, when `keys` is empty), each
/// known and assignable, and every permission they carry held by the `grant`.
pub async fn invitation_roles(
    tx: &TenantTxn,
    grant: &Grant,
    keys: &[String],
) -> Result<GrantedRoles, RoleError> {
    let catalog = grant.catalog();
    let default = [BuiltinRole::Member.key().to_string()];
    let keys = if keys.is_empty() { &default[..] } else { keys };
    let roles = roles::resolve(tx, catalog, keys).await?;
    may_grant(grant, roles::permissions_of(&roles))?;
    Ok(GrantedRoles(roles))
}

/// Writes `roles` on the invitation and records who granted them (the transaction's actor), for
/// the check at acceptance.
pub async fn record_invitation(
    tx: &TenantTxn,
    row: invitation::Model,
    roles: &GrantedRoles,
) -> Result<invitation::Model, DbErr> {
    roles::write_invitation_roles(tx, row.id, roles.roles()).await?;
    record_inviter(tx, row).await
}

/// Records the transaction's actor as the one who grants the invitation's roles.
async fn record_inviter(
    tx: &TenantTxn,
    row: invitation::Model,
) -> Result<invitation::Model, DbErr> {
    let actor = tx.actor();
    let (kind, user, key) = match actor.kind {
        ActorKind::User => ("user", actor.id, None),
        ActorKind::ApiKey => ("api_key", None, actor.id),
        // A directory's token acts with its maker's authority: the invitation is theirs, and
        // outlives the token (a rotated token leaves its invitations acceptable).
        ActorKind::Scim => ("user", scim_token_maker(tx, actor.id).await?, None),
        ActorKind::System => ("system", None, None),
    };
    if row.invited_by_kind == kind && row.invited_by_id == user && row.invited_by_key_id == key {
        return Ok(row);
    }
    let mut row = row.into_active_model();
    row.invited_by_kind = Set(kind.to_string());
    row.invited_by_id = Set(user);
    row.invited_by_key_id = Set(key);
    row.update(tx.conn()).await
}

/// The permissions the invitation will give: its roles', or the default role's when it carries
/// none.
async fn carried(
    tx: &TenantTxn,
    catalog: &Catalog,
    invitation_id: i64,
) -> Result<PermissionSet, DbErr> {
    let keys = roles::invitation_keys(tx, invitation_id).await?;
    if keys.is_empty() {
        return Ok(catalog.builtin(BuiltinRole::Member));
    }
    roles::permissions_of_keys(tx, catalog, &keys).await
}

/// Checks that the `grant` allows sending the pending invitation `row` again (it holds every
/// permission the invitation carries), then records them as its inviter: from now on the
/// invitation carries their authority.
pub async fn resend(
    tx: &TenantTxn,
    grant: &Grant,
    row: invitation::Model,
) -> Result<invitation::Model, RoleError> {
    let catalog = grant.catalog();
    may_grant(grant, carried(tx, catalog, row.id).await?)?;
    Ok(record_inviter(tx, row).await?)
}

/// Whether the invitation's inviter, as they are now, still holds every permission it carries:
/// a person must still be a member holding them (or a superuser), a key must still work and
/// hold them. An invitation a job made carries the job's authority.
pub async fn inviter_still_grants(
    tx: &TenantTxn,
    catalog: &Catalog,
    row: &invitation::Model,
) -> Result<bool, DbErr> {
    let holds = match row.invited_by_kind.as_str() {
        "system" => return Ok(true),
        "user" => match row.invited_by_id {
            Some(user_id) => {
                match crate::auth::users::find_by_id(tx.conn(), UserId(user_id)).await? {
                    Some(user) => Access::in_txn(tx, catalog, &user).await?.permissions,
                    None => PermissionSet::EMPTY,
                }
            }
            None => PermissionSet::EMPTY,
        },
        "api_key" => match row.invited_by_key_id {
            Some(key_id) if super::api_keys::get_active(tx, key_id).await?.is_some() => {
                super::api_keys::permissions(tx, catalog)
                    .await?
                    .get(&key_id)
                    .copied()
                    .unwrap_or_default()
            }
            _ => PermissionSet::EMPTY,
        },
        _ => PermissionSet::EMPTY,
    };
    Ok(holds.contains_all(carried(tx, catalog, row.id).await?))
}

/// Who made the SCIM token `token_id`, if anyone.
async fn scim_token_maker(tx: &TenantTxn, token_id: Option<i64>) -> Result<Option<i64>, DbErr> {
    use sea_orm::{ColumnTrait as _, QueryFilter as _};
    let Some(token_id) = token_id else {
        return Ok(None);
    };
    Ok(tx
        .select::<entity::scim_token::Entity>()
        .filter(entity::scim_token::Column::Id.eq(token_id))
        .one(tx.conn())
        .await?
        .and_then(|token| token.created_by_id))
}

/// What the SCIM token `token_id` may grant: its maker's permissions while the token is not
/// revoked and they hold `sso.manage` there; nothing otherwise.
pub async fn scim_token_holds(
    tx: &TenantTxn,
    catalog: &Catalog,
    token_id: i64,
) -> Result<PermissionSet, DbErr> {
    use sea_orm::{ColumnTrait as _, QueryFilter as _};
    let Some(token) = tx
        .select::<entity::scim_token::Entity>()
        .filter(entity::scim_token::Column::Id.eq(token_id))
        .filter(entity::scim_token::Column::RevokedAt.is_null())
        .one(tx.conn())
        .await?
    else {
        return Ok(PermissionSet::EMPTY);
    };
    let Some(maker) = token.created_by_id else {
        return Ok(PermissionSet::EMPTY);
    };
    let Some(user) = crate::auth::users::find_by_id(tx.conn(), UserId(maker)).await? else {
        return Ok(PermissionSet::EMPTY);
    };
    let access = Access::in_txn(tx, catalog, &user).await?;
    let manage = catalog.one(crate::permissions::Permission::SSO_MANAGE);
    if !(access.is_superuser || access.holds(manage)) {
        return Ok(PermissionSet::EMPTY);
    }
    Ok(access.permissions)
}

/// Whether the person `setter` (by id), as they are now, still holds every permission of
/// `roles` (role rows; none is the default role, `member`): checked at each join by an email
/// domain's or a sign-on connection's role, as an invitation's inviter is at acceptance. No
/// setter grants nothing.
pub async fn setter_still_grants(
    tx: &TenantTxn,
    catalog: &Catalog,
    setter: Option<i64>,
    roles: &[(String, Option<i64>)],
) -> Result<bool, DbErr> {
    let Some(setter) = setter else {
        return Ok(false);
    };
    let Some(user) = crate::auth::users::find_by_id(tx.conn(), UserId(setter)).await? else {
        return Ok(false);
    };
    let wanted = if roles.is_empty() {
        catalog.builtin(BuiltinRole::Member)
    } else {
        let keys: Vec<String> = roles.iter().map(|(key, _)| key.clone()).collect();
        roles::permissions_of_keys(tx, catalog, &keys).await?
    };
    Ok(Access::in_txn(tx, catalog, &user)
        .await?
        .permissions
        .contains_all(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::Permission;
    use std::sync::Arc;

    #[expect(clippy::disallowed_methods, reason = "a test of the rule")]
    fn grant(catalog: &Catalog, holds: PermissionSet) -> Grant {
        Grant::new(Arc::new(catalog.clone()), holds)
    }

    #[test]
    fn the_grant_rule_names_the_first_permission_not_held() {
        let catalog = Catalog::orgs();
        let member = catalog.builtin(BuiltinRole::Member);
        let admin = catalog.builtin(BuiltinRole::Admin);
        assert!(may_grant(&grant(&catalog, admin), member).is_ok());
        match may_grant(&grant(&catalog, member), admin) {
            Err(RoleError::NotHeld(p)) => assert_eq!(p, Permission::ORGANIZATION_UPDATE),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_owner_holds_what_any_role_grants() {
        let catalog = Catalog::orgs();
        for role in BuiltinRole::ALL {
            let owner = grant(&catalog, catalog.everything());
            assert!(may_grant(&owner, catalog.builtin(role)).is_ok());
        }
    }
}
