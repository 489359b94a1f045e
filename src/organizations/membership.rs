//! The membership rules: add a member (the first member of an empty organization becomes its
//! admin and owner), remove one (never the owner), hand over ownership, and the membership
//! questions. Each rule runs in the [`TenantTxn`] it is given (the request's, or a job's from
//! `tenancy::door`), under the organization's row lock, and its events fire after that
//! transaction commits.

use entity::{MembershipId, UserId};
use entity::{organization_invitation, organization_owner, organization_user, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, QueryFilter};
use serde_json::json;

use super::OrgError;
use super::lifecycle::lock_organization;
use super::members::{find_owner, label_of, membership, owner_user_id};
use super::roles::{self, RoleError};
use super::seats::{self, Take};
use crate::audit::{self, Target};
use crate::auth::users;
use crate::db::OnUniqueViolation as _;
use crate::events::{MembershipRef, OrgEvent};
use crate::permissions::{BuiltinRole, Catalog};
use crate::tenancy::TenantTxn;

/// Adds `user_id` to the organization. The first member of an empty organization becomes an
/// admin and its owner. A user who is already a member is `AlreadyMember`.
pub async fn add_user(
    tx: &TenantTxn,
    user_id: UserId,
    is_admin: bool,
) -> Result<organization_user::Model, OrgError> {
    match get_or_add_user(tx, user_id, is_admin).await? {
        (membership, true) => Ok(membership),
        (_, false) => Err(OrgError::AlreadyMember),
    }
}

/// The user's membership, adding it (as `add_user` does) when missing. The flag says whether it
/// was added; `UserAdded` fires (after the commit) only then.
pub async fn get_or_add_user(
    tx: &TenantTxn,
    user_id: UserId,
    is_admin: bool,
) -> Result<(organization_user::Model, bool), OrgError> {
    get_or_add_user_holding(tx, user_id, is_admin, &[], Take::New).await
}

/// [`get_or_add_user`], a new membership holding `roles` (each a role key and, for a custom
/// role, its id) instead of a built-in role when any are given; the first member of an empty
/// organization becomes its admin and owner all the same. The caller checked the grant rule.
///
/// A new membership takes a seat (`seats`): `seat` says which, [`Take::Held`] for an invitation
/// the caller already claimed. A pending invitation of the person's address ends here (it is
/// used), and its seat is the one they take: no address counts twice.
pub(crate) async fn get_or_add_user_holding(
    tx: &TenantTxn,
    user_id: UserId,
    is_admin: bool,
    roles: &[(String, Option<i64>)],
    seat: Take,
) -> Result<(organization_user::Model, bool), OrgError> {
    let organization_id = tx.organization_id();
    lock_organization(tx).await?;
    if let Some(existing) = membership(tx, user_id).await? {
        return Ok((existing, false));
    }
    let Some(user) = users::find_by_id(tx.conn(), user_id).await? else {
        return Err(OrgError::UserNotFound);
    };
    let invited = pending_invitations_of(tx, &user).await?;
    let seat = if invited.is_empty() { seat } else { Take::Held };
    seats::take(tx, seat).await?.map_err(OrgError::SeatLimit)?;
    end_invitations(tx, &user, &invited).await?;
    let empty = tx
        .select::<organization_user::Entity>()
        .one(tx.conn())
        .await?
        .is_none();
    let mut membership: organization_user::ActiveModel = tx.new_active_model();
    membership.user_id = Set(user_id.get());
    let membership = membership
        .insert(tx.conn())
        .await
        .on_unique_violation(OrgError::AlreadyMember)?;
    let held: Vec<&str> = if roles.is_empty() || is_admin || empty {
        let role = if is_admin || empty {
            BuiltinRole::Admin
        } else {
            BuiltinRole::Member
        };
        roles::add_builtin(tx, membership.id(), role).await?;
        vec![role.key()]
    } else {
        roles::write_role_rows(tx, membership.id(), roles).await?;
        roles.iter().map(|(key, _)| key.as_str()).collect()
    };
    audit::record(
        tx,
        "member.added",
        Some(Target::new("member", user_id.get(), user.display_name())),
        Some(json!({ "roles": held })),
    )
    .await?;
    tx.fire(OrgEvent::UserAdded {
        organization_id: organization_id.get(),
        user_id: user_id.get(),
        membership_id: membership.id,
    });
    if empty && find_owner(tx).await?.is_none() {
        let mut owner: organization_owner::ActiveModel = tx.new_active_model();
        owner.organization_user_id = Set(membership.id);
        owner.insert(tx.conn()).await?;
        tx.fire(OrgEvent::OwnerChanged {
            organization_id: organization_id.get(),
            old: None,
            new: MembershipRef {
                membership_id: membership.id,
                user_id: user_id.get(),
            },
        });
    }
    Ok((membership, true))
}

/// The ids of the pending, unexpired invitations of `user`'s address (one at most).
async fn pending_invitations_of(tx: &TenantTxn, user: &user::Model) -> Result<Vec<i64>, DbErr> {
    use sea_orm::QuerySelect as _;
    tx.select::<organization_invitation::Entity>()
        .select_only()
        .column(organization_invitation::Column::Id)
        .filter(organization_invitation::Column::Email.eq(user.email.as_str()))
        .filter(organization_invitation::Column::AcceptedAt.is_null())
        .filter(organization_invitation::Column::RevokedAt.is_null())
        .filter(organization_invitation::Column::ExpiresAt.gt(entity::chrono_now()))
        .into_tuple()
        .all(tx.conn())
        .await
}

/// Marks the invitations `ids` used by `user`, who joins by another path than their link.
async fn end_invitations(tx: &TenantTxn, user: &user::Model, ids: &[i64]) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    if ids.is_empty() {
        return Ok(());
    }
    let now = entity::chrono_now();
    tx.update_many::<organization_invitation::Entity>()
        .col_expr(
            organization_invitation::Column::AcceptedAt,
            Expr::value(now),
        )
        .col_expr(
            organization_invitation::Column::AcceptedById,
            Expr::value(user.id),
        )
        .col_expr(organization_invitation::Column::UpdatedAt, Expr::value(now))
        .filter(organization_invitation::Column::Id.is_in(ids.iter().copied()))
        .filter(organization_invitation::Column::AcceptedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Removes `user_id` from the organization. The owner cannot be removed (`OwnershipRequired`);
/// someone who is not a member is `NotMember`.
pub async fn remove_user(tx: &TenantTxn, user_id: UserId) -> Result<(), OrgError> {
    lock_organization(tx).await?;
    let membership = membership(tx, user_id).await?.ok_or(OrgError::NotMember)?;
    if let Some(owner) = find_owner(tx).await?
        && owner.organization_user_id == membership.id
    {
        return Err(OrgError::OwnershipRequired);
    }
    tx.delete_many::<organization_user::Entity>()
        .filter(organization_user::Column::Id.eq(membership.id))
        .exec(tx.conn())
        .await?;
    let actor = tx.actor();
    let left = actor.kind == crate::tenancy::ActorKind::User && actor.id == Some(user_id.get());
    let label = label_of(tx, user_id).await?;
    audit::record(
        tx,
        if left {
            "member.left"
        } else {
            "member.removed"
        },
        Some(Target::new("member", user_id.get(), label)),
        None,
    )
    .await?;
    // Keys the member made cannot outlive their membership.
    super::api_keys::revoke_made_by(tx, user_id).await?;
    tx.fire(OrgEvent::UserRemoved {
        organization_id: tx.organization_id().get(),
        user_id: user_id.get(),
    });
    Ok(())
}

/// Suspends the member `user_id` (`suspended`) or lifts their suspension, as the organization's
/// directory says: a suspended member keeps their membership, roles and account but has no
/// access here and holds no seat; the organization API keys they made are revoked (as at a
/// removal). Lifting it takes a seat again. The owner cannot be suspended
/// (`OwnershipRequired`). `Ok(false)` when nothing changed.
pub async fn set_suspended(
    tx: &TenantTxn,
    user_id: UserId,
    suspended: bool,
) -> Result<bool, OrgError> {
    lock_organization(tx).await?;
    let membership = membership(tx, user_id).await?.ok_or(OrgError::NotMember)?;
    if membership.suspended_at.is_some() == suspended {
        return Ok(false);
    }
    if suspended
        && let Some(owner) = find_owner(tx).await?
        && owner.organization_user_id == membership.id
    {
        return Err(OrgError::OwnershipRequired);
    }
    if !suspended {
        seats::take(tx, Take::New)
            .await?
            .map_err(OrgError::SeatLimit)?;
    }
    let mut row: organization_user::ActiveModel = membership.into();
    row.suspended_at = Set(suspended.then(entity::chrono_now));
    row.update(tx.conn()).await?;
    let label = label_of(tx, user_id).await?;
    audit::record(
        tx,
        if suspended {
            "member.suspended"
        } else {
            "member.reactivated"
        },
        Some(Target::new("member", user_id.get(), label)),
        None,
    )
    .await?;
    if suspended {
        super::api_keys::revoke_made_by(tx, user_id).await?;
    }
    Ok(true)
}

/// Removes the member `user_id` on someone else's behalf: besides the rules of
/// [`remove_user`], the `grant` must hold every permission the member holds (the grant rule,
/// [`super::grants::may_act_on`]).
pub async fn remove_member(
    tx: &TenantTxn,
    grant: &crate::tenancy::Grant,
    user_id: UserId,
) -> Result<(), super::roles::RoleError> {
    lock_organization(tx).await?;
    super::grants::may_act_on(tx, grant, user_id).await?;
    Ok(remove_user(tx, user_id).await?)
}

/// Makes the membership `new_owner_membership_id` the owner, and an admin. A membership of
/// another organization is `OrganizationMismatch`. Fires `OwnerChanged` unless it already was
/// the owner.
pub async fn change_owner(
    tx: &TenantTxn,
    new_owner_membership_id: MembershipId,
) -> Result<organization_owner::Model, OrgError> {
    lock_organization(tx).await?;
    let Some(new_membership) = tx
        .select::<organization_user::Entity>()
        .filter(organization_user::Column::Id.eq(new_owner_membership_id))
        .one(tx.conn())
        .await?
    else {
        // Parity: the peer raises OrganizationMismatch for a membership of another
        // organization; an id that is no membership at all gets the same answer.
        return Err(OrgError::OrganizationMismatch);
    };
    // A suspended member has no access: an owner without it would be an organization nobody
    // can run (and the owner cannot be suspended).
    if new_membership.suspended_at.is_some() {
        return Err(OrgError::NotMember);
    }
    let new_ref = MembershipRef {
        membership_id: new_membership.id,
        user_id: new_membership.user_id,
    };
    let (owner, old_ref) = match find_owner(tx).await? {
        Some(owner) if owner.organization_user_id == new_membership.id => return Ok(owner),
        Some(owner) => {
            let old_user = tx
                .select::<organization_user::Entity>()
                .filter(organization_user::Column::Id.eq(owner.organization_user_id))
                .one(tx.conn())
                .await?
                .map(|m| MembershipRef {
                    membership_id: m.id,
                    user_id: m.user_id,
                });
            let mut active: organization_owner::ActiveModel = owner.into();
            active.organization_user_id = Set(new_membership.id);
            (active.update(tx.conn()).await?, old_user)
        }
        None => {
            let mut owner: organization_owner::ActiveModel = tx.new_active_model();
            owner.organization_user_id = Set(new_membership.id);
            (owner.insert(tx.conn()).await?, None)
        }
    };
    roles::add_builtin(tx, new_membership.id(), BuiltinRole::Admin).await?;
    audit::record(
        tx,
        "ownership.transferred",
        Some(Target::new(
            "member",
            new_ref.user_id,
            label_of(tx, UserId(new_ref.user_id)).await?,
        )),
        Some(json!({ "from": old_ref.as_ref().map(|r| r.user_id), "to": new_ref.user_id })),
    )
    .await?;
    tx.fire(OrgEvent::OwnerChanged {
        organization_id: tx.organization_id().get(),
        old: old_ref,
        new: new_ref,
    });
    Ok(owner)
}

/// Hands ownership to the member `user_id` (who becomes an admin); fires `OwnerChanged`.
pub async fn transfer(tx: &TenantTxn, user_id: UserId) -> Result<(), OrgError> {
    let membership = membership(tx, user_id).await?.ok_or(OrgError::NotMember)?;
    change_owner(tx, membership.id()).await?;
    Ok(())
}

/// Adds or takes away the built-in `admin` role of a member, as a job would (no grant rule:
/// the request paths use [`roles::set_admin_flag`]). The owner must stay an admin (the peer's
/// "The organization owner must be an admin"). Checked under the organization's lock.
pub async fn set_admin(tx: &TenantTxn, user_id: UserId, is_admin: bool) -> Result<(), OrgError> {
    #[expect(
        clippy::disallowed_methods,
        reason = "a job's change, made with the system's authority (the request paths take the requester's Grant)"
    )]
    let grant = crate::tenancy::Grant::everything(std::sync::Arc::new(Catalog::orgs()));
    match roles::set_admin_flag(tx, &grant, user_id, is_admin).await {
        Ok(_) => Ok(()),
        Err(RoleError::Org(e)) => Err(e),
        Err(RoleError::Db(e)) => Err(OrgError::Db(e)),
        Err(other) => Err(OrgError::Db(DbErr::Custom(other.to_string()))),
    }
}

/// Whether the user is a member.
pub async fn is_member(tx: &TenantTxn, user_id: UserId) -> Result<bool, DbErr> {
    Ok(membership(tx, user_id).await?.is_some())
}

/// Whether the user is a member holding the built-in `admin` role.
pub async fn is_admin(tx: &TenantTxn, user_id: UserId) -> Result<bool, DbErr> {
    let Some(membership) = membership(tx, user_id).await? else {
        return Ok(false);
    };
    let keys = roles::keys_of(tx, &[membership.id]).await?;
    Ok(keys
        .get(&membership.id)
        .is_some_and(|k| k.iter().any(|k| k == BuiltinRole::Admin.key())))
}

/// Whether the user is the organization's owner. An organization without an owner row has none.
pub async fn is_owner(tx: &TenantTxn, user_id: UserId) -> Result<bool, DbErr> {
    Ok(owner_user_id(tx).await? == Some(user_id.get()))
}
