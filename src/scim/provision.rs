//! What a provisioned User is linked to: for an address at a domain the organization verified
//! as an email domain (never a custom host's domain), the account with that address (made
//! without a password when there is none, an unconfirmed sign-up of it taken over) and its
//! membership, made at once; for any other address, an invitation the person accepts by proving
//! it, nothing linked before. Someone already a member is adopted whatever their domain. Every
//! change goes through the membership services and the grant rule, with the token maker's
//! authority ([`ScimTxn::grant`]).

use std::collections::HashMap;

use entity::{UserId, organization_invitation as invitation, organization_user, scim_user, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, IntoActiveModel, QueryFilter,
};
use serde_json::{Value, json};

use super::ScimError;
use super::auth::ScimTxn;
use super::users::Input;
use crate::audit::{self, Target};
use crate::error::AppError;
use crate::invitations::InviteError;
use crate::invitations::send::{self, Asked, Reinvite};
use crate::organizations::email_domains::{self, domain_of};
use crate::organizations::seats::Take;
use crate::organizations::{self, OrgError, grants, group_roles, members};
use crate::permissions::BuiltinRole;
use crate::state::AppState;
use crate::tenancy::TenantTxn;

/// Where a User's membership stands, as orgs' extension shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    /// `active`, `suspended`, `pending` (invited), `removed` (its membership is gone) or
    /// `unlinked` (no address, or an invitation that ended unaccepted).
    pub state: &'static str,
    /// The account, once there is one.
    pub user_id: Option<i64>,
}

impl Link {
    /// `{"state": ..., "userId": ...}`, returned on request (`discovery::project`), and the
    /// extension's `schemas` when the directory wrote it (`extended`).
    pub fn to_json(&self, extended: bool) -> Value {
        let state = if self.state.is_empty() {
            "unlinked"
        } else {
            self.state
        };
        let mut out = json!({ "state": state });
        if extended {
            out["schemas"] = json!([super::ORGS_USER_SCHEMA]);
        }
        if let Some(id) = self.user_id {
            out["userId"] = id.to_string().into();
        }
        out
    }
}

/// The link of one User.
pub async fn link_of(tx: &TenantTxn, row: &scim_user::Model) -> Result<Link, DbErr> {
    Ok(links(tx, std::slice::from_ref(row))
        .await?
        .into_iter()
        .next()
        .unwrap_or_default())
}

/// The links of `rows`, in their order: two statements a thousand rows.
pub async fn links(tx: &TenantTxn, rows: &[scim_user::Model]) -> Result<Vec<Link>, DbErr> {
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(1000) {
        out.extend(links_of(tx, chunk).await?);
    }
    Ok(out)
}

async fn links_of(tx: &TenantTxn, rows: &[scim_user::Model]) -> Result<Vec<Link>, DbErr> {
    let invitation_ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.user_id.is_none())
        .filter_map(|r| r.invitation_id)
        .collect();
    let invitations: HashMap<i64, invitation::Model> = if invitation_ids.is_empty() {
        HashMap::new()
    } else {
        tx.select::<invitation::Entity>()
            .filter(invitation::Column::Id.is_in(invitation_ids))
            .all(tx.conn())
            .await?
            .into_iter()
            .map(|i| (i.id, i))
            .collect()
    };
    let account = |row: &scim_user::Model| {
        row.user_id.or_else(|| {
            row.invitation_id
                .and_then(|id| invitations.get(&id))
                .and_then(|i| i.accepted_by_id)
        })
    };
    let user_ids: Vec<i64> = rows.iter().filter_map(account).collect();
    let memberships: HashMap<i64, organization_user::Model> = if user_ids.is_empty() {
        HashMap::new()
    } else {
        tx.select::<organization_user::Entity>()
            .filter(organization_user::Column::UserId.is_in(user_ids))
            .all(tx.conn())
            .await?
            .into_iter()
            .map(|m| (m.user_id, m))
            .collect()
    };
    let now = entity::chrono_now();
    Ok(rows
        .iter()
        .map(|row| match account(row) {
            Some(user_id) => Link {
                state: match memberships.get(&user_id) {
                    Some(m) if m.suspended_at.is_some() => "suspended",
                    Some(_) => "active",
                    None => "removed",
                },
                user_id: Some(user_id),
            },
            None => Link {
                state: match row.invitation_id.and_then(|id| invitations.get(&id)) {
                    Some(i) if i.revoked_at.is_none() && i.expires_at > now => "pending",
                    _ => "unlinked",
                },
                user_id: None,
            },
        })
        .collect())
}

fn scim_of_org(error: OrgError) -> ScimError {
    AppError::from(error).into()
}

/// Whether the organization verified the domain of `email` as an email domain.
async fn managed(tx: &TenantTxn, email: &str) -> Result<bool, DbErr> {
    let Some(domain) = domain_of(email) else {
        return Ok(false);
    };
    Ok(email_domains::list(tx)
        .await?
        .iter()
        .any(|d| d.domain == domain && d.state == email_domains::state::VERIFIED))
}

/// Links a new User (see the module's rules); the row as it is then.
pub async fn link(
    state: &AppState,
    scx: &ScimTxn,
    row: scim_user::Model,
    input: &Input,
) -> Result<scim_user::Model, ScimError> {
    let tx = &scx.tx;
    let Some(email) = input.email.clone() else {
        return Ok(row);
    };
    let existing = crate::auth::users::find_by_email(tx.conn(), &email).await?;
    if let Some(account) = &existing
        && members::membership(tx, account.id()).await?.is_some()
    {
        return adopt(scx, row, account, input, "adopted").await;
    }
    if managed(tx, &email).await? {
        let account = account_for(state, tx, existing, &email, input).await?;
        grants::may_grant(&scx.grant, scx.grant.catalog().builtin(BuiltinRole::Member))
            .map_err(|e| ScimError::from(AppError::from(e)))?;
        organizations::get_or_add_user_holding(tx, account.id(), false, &[], Take::New)
            .await
            .map_err(scim_of_org)?;
        return adopt(scx, row, &account, input, "provisioned").await;
    }
    if !input.is_active() {
        return Ok(row);
    }
    invite(state, scx, row, &email).await
}

/// The account of `email` at a domain the organization manages: the one there is, an unconfirmed
/// sign-up of it taken over (its password and sessions end), or a new one without a password.
async fn account_for(
    state: &AppState,
    tx: &TenantTxn,
    existing: Option<user::Model>,
    email: &str,
    input: &Input,
) -> Result<user::Model, ScimError> {
    match existing {
        Some(squatter) if !squatter.is_active && squatter.email_verified_at.is_none() => {
            crate::auth::sessions::delete_all_for_user(tx.conn(), squatter.id(), None).await?;
            let target = Target::new("member", squatter.id, squatter.display_name());
            let mut active = squatter.into_active_model();
            active.password_hash = Set(None);
            active.email_verified_at = Set(Some(entity::chrono_now()));
            active.is_active = Set(true);
            let account = active.update(tx.conn()).await?;
            // The unconfirmed sign-up of an address the organization manages is its person's.
            audit::record(tx, "scim.account_taken_over", Some(target), None).await?;
            Ok(account)
        }
        Some(account) => Ok(account),
        None => {
            let name = input.person_name().unwrap_or_default();
            let new = |name: String| crate::auth::users::NewUser {
                email: email.to_string(),
                name,
                password: None,
                is_superuser: false,
            };
            let checked = match new(name).check(&state.hasher).await {
                Ok(checked) => checked,
                // A name orgs' rules refuse: the account goes without one.
                Err(_) => new(String::new())
                    .check(&state.hasher)
                    .await
                    .map_err(|e| ScimError::bad("invalidValue", e.to_string()))?,
            };
            checked.verified().insert(tx.conn()).await?.ok_or_else(|| {
                ScimError::uniqueness("an account with this address was made a moment ago")
            })
        }
    }
}

/// Links `row` to the member `account`, suspended when the directory says inactive, with what
/// its groups give.
async fn adopt(
    scx: &ScimTxn,
    row: scim_user::Model,
    account: &user::Model,
    input: &Input,
    how: &str,
) -> Result<scim_user::Model, ScimError> {
    let tx = &scx.tx;
    // Linked to the account, or to an invitation the account accepted.
    let accepted: Vec<i64> = {
        use sea_orm::QuerySelect as _;
        tx.select::<invitation::Entity>()
            .select_only()
            .column(invitation::Column::Id)
            .filter(invitation::Column::AcceptedById.eq(account.id))
            .into_tuple()
            .all(tx.conn())
            .await?
    };
    let taken = tx
        .select::<scim_user::Entity>()
        .filter(
            sea_orm::Condition::any()
                .add(scim_user::Column::UserId.eq(account.id))
                .add(scim_user::Column::InvitationId.is_in(accepted)),
        )
        .filter(scim_user::Column::Id.ne(row.id))
        .one(tx.conn())
        .await?;
    if let Some(other) = taken {
        return Err(ScimError::uniqueness(format!(
            "this person is the User {} of this organization's directory already",
            other.scim_id
        )));
    }
    let mut active = row.into_active_model();
    active.user_id = Set(Some(account.id));
    let row = active.update(tx.conn()).await?;
    audit::record(
        tx,
        "scim.user_linked",
        Some(Target::new("member", account.id, account.display_name())),
        Some(json!({ "scim_id": row.scim_id, "how": how })),
    )
    .await?;
    suspend(scx, account.id(), !input.is_active()).await?;
    group_roles::sync_for(tx, &scx.grant, account.id())
        .await
        .map_err(super::groups::scim_of_role)?;
    Ok(row)
}

/// Suspends the member `user_id` or lifts it, under the grant rule (the token's maker must hold
/// what the member holds); the owner is never suspended (409).
async fn suspend(scx: &ScimTxn, user_id: UserId, suspended: bool) -> Result<(), ScimError> {
    let tx = &scx.tx;
    let Some(membership) = members::membership(tx, user_id).await? else {
        return Ok(());
    };
    if (membership.suspended_at.is_some()) == suspended {
        return Ok(());
    }
    grants::may_act_on(tx, &scx.grant, user_id)
        .await
        .map_err(|e| ScimError::from(AppError::from(e)))?;
    organizations::set_suspended(tx, user_id, suspended)
        .await
        .map_err(|e| match e {
            OrgError::OwnershipRequired => ScimError::new(
                actix_web::http::StatusCode::CONFLICT,
                Some("mutability"),
                "the organization's owner cannot be suspended or deprovisioned",
            ),
            other => scim_of_org(other),
        })?;
    Ok(())
}

/// Sends the address an invitation (exempt from the organization's hourly quota, not from the
/// address's): 429 with `Retry-After` when throttled.
async fn invite(
    state: &AppState,
    scx: &ScimTxn,
    row: scim_user::Model,
    email: &str,
) -> Result<scim_user::Model, ScimError> {
    let tx = &scx.tx;
    // One User per address: a second would wait for the same invitation.
    let twin = tx
        .select::<scim_user::Entity>()
        .filter(scim_user::Column::Email.eq(email))
        .filter(scim_user::Column::Id.ne(row.id))
        .one(tx.conn())
        .await?;
    if let Some(twin) = twin {
        return Err(ScimError::uniqueness(format!(
            "the User {} of this organization's directory has this address already",
            twin.scim_id
        )));
    }
    let organization = tx
        .organization()
        .await?
        .ok_or_else(|| ScimError::not_found("organization"))?;
    let asked = Asked {
        email,
        roles: &[],
        again: Reinvite::Refuse,
    };
    let sent = send::with_roles(tx, &scx.grant, asked, || {
        send::invite_for_directory(
            tx,
            &state.mailer,
            &state.settings.auth,
            &organization,
            email,
        )
    })
    .await;
    let invitation_id = match sent {
        Ok(invitation) => invitation.id,
        Err(InviteError::AlreadyInvited { invitation_id }) => invitation_id,
        Err(other) => return Err(AppError::from(other).into()),
    };
    let mut active = row.into_active_model();
    active.invitation_id = Set(Some(invitation_id));
    Ok(active.update(tx.conn()).await?)
}

/// After a replace: the suspension follows `active`; an invitation that was accepted links its
/// account; a User not linked yet is linked (or its invitation revoked when now inactive); names
/// reach the account only where the organization manages its domain.
pub async fn relink(
    state: &AppState,
    scx: &ScimTxn,
    before: &scim_user::Model,
    row: scim_user::Model,
    input: &Input,
) -> Result<scim_user::Model, ScimError> {
    let tx = &scx.tx;
    let current = link_of(tx, &row).await?;
    let Some(user_id) = current.user_id else {
        if let Some(id) = row.invitation_id.filter(|_| current.state == "pending") {
            // An invitation to an address the User no longer has must not let anyone in.
            let moved = before.email != row.email;
            if !input.is_active() || moved {
                crate::invitations::revoke(tx, id).await?;
            }
            if !moved {
                return Ok(row);
            }
        }
        return link(state, scx, row, input).await;
    };
    let mut row = row;
    if row.user_id.is_none() {
        use crate::db::OnUniqueViolation as _;
        let mut active = row.into_active_model();
        active.user_id = Set(Some(user_id));
        row = active
            .update(tx.conn())
            .await
            .on_unique_violation(ScimError::uniqueness(
                "this person is another User of this organization's directory already",
            ))?;
        group_roles::sync_for(tx, &scx.grant, UserId(user_id))
            .await
            .map_err(super::groups::scim_of_role)?;
    }
    suspend(scx, UserId(user_id), !input.is_active()).await?;
    let changed_name = (
        &before.given_name,
        &before.family_name,
        &before.display_name,
        &before.formatted_name,
    ) != (
        &row.given_name,
        &row.family_name,
        &row.display_name,
        &row.formatted_name,
    );
    if changed_name && let Some(name) = input.person_name() {
        rename(tx, UserId(user_id), &name).await?;
    }
    Ok(row)
}

/// Gives the account `user_id` the name `name` when the organization manages its address.
async fn rename(tx: &TenantTxn, user_id: UserId, name: &str) -> Result<(), ScimError> {
    let Some(account) = crate::auth::users::find_by_id(tx.conn(), user_id).await? else {
        return Ok(());
    };
    if !managed(tx, &account.email).await? {
        return Ok(());
    }
    let Ok(name) = crate::auth::users::clean_name(name) else {
        return Ok(());
    };
    if account.name != name {
        let target = Target::new("member", account.id, account.display_name());
        let from = account.name.clone();
        let mut active = account.into_active_model();
        active.name = Set(name.clone());
        active.update(tx.conn()).await?;
        audit::record(
            tx,
            "scim.account_renamed",
            Some(target),
            Some(json!({ "from": from, "to": name })),
        )
        .await?;
    }
    Ok(())
}

/// Before a User is deleted: its membership is removed (under the grant rule; the owner's
/// never, 409) and its pending invitation revoked. The account stays.
pub async fn unlink(scx: &ScimTxn, row: &scim_user::Model) -> Result<(), ScimError> {
    let tx = &scx.tx;
    let link = link_of(tx, row).await?;
    if let Some(id) = row.invitation_id.filter(|_| link.state == "pending") {
        crate::invitations::revoke(tx, id).await?;
    }
    let Some(user_id) = link.user_id.map(UserId) else {
        return Ok(());
    };
    if members::membership(tx, user_id).await?.is_none() {
        return Ok(());
    }
    organizations::remove_member(tx, &scx.grant, user_id)
        .await
        .map_err(|e| match e {
            organizations::roles::RoleError::Org(OrgError::OwnershipRequired) => ScimError::new(
                actix_web::http::StatusCode::CONFLICT,
                Some("mutability"),
                "the organization's owner cannot be suspended or deprovisioned",
            ),
            other => AppError::from(other).into(),
        })?;
    Ok(())
}
