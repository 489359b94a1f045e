//! The people of an organization: list (search, pages), invite, detail, roles, remove, remind,
//! as pages ([`pages`]) and under `/api/v1/people/` ([`api`]). People are addressed by user id;
//! anyone outside the organization is 404. Here: what the two share.

use entity::UserId;
pub mod api;
mod listing;
pub mod pages;

use serde::Deserialize;

use crate::db::Position;
use crate::error::{AppError, FieldErrors};
use crate::invitations::send::Asked;
use crate::invitations::{self, InviteError};
use crate::organizations::members::{self, PersonView};
use crate::organizations::roles::{self, RoleError};
use crate::organizations::{self, OrgError};
use crate::state::AppState;
use crate::tenancy::{Grant, TenantTxn};
use crate::web::pagination::{CursorPage, KeysetQuery};
use crate::web::{Tenant, TenantCtx};

/// `?q=&after=&page=&per_page=`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// Finds people whose name or email contains it (any case; `%` and `_` are letters); no
    /// control characters. The list's `total` is `null` then.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    q: String,
    /// The `next` of the page before; the first page without it.
    #[param(value_type = Option<String>)]
    after: Option<String>,
    /// The page, from 1: the slower path (the database steps over every row before it); not
    /// with `after`.
    #[param(minimum = 1, maximum = 10_000_000)]
    page: Option<u64>,
    /// Rows per page, 1 to 100 (50 when left out).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u64>,
}

/// One page of the people for the JSON API, read in `tx` (the page's own list is `listing`).
async fn people_page(
    tx: &TenantTxn,
    query: PeopleQuery,
    list: crate::cursor::ListCursors,
) -> Result<(CursorPage<PersonView>, Position), AppError> {
    let keyset = KeysetQuery {
        after: query.after,
        page: query.page,
        per_page: query.per_page,
    };
    let (position, per_page) = keyset.resolve(&list)?;
    crate::text::check_term(&query.q).map_err(|e| AppError::field("q", e.to_string()))?;
    let search = Some(query.q.as_str()).filter(|q| !q.trim().is_empty());
    let page = members::list(tx, search, &position, per_page).await?;
    Ok((CursorPage::of(page, &position, per_page, list), position))
}

/// The organization's seats for a page, to those who may invite (they are what a seat limit
/// stops); none for anyone else.
pub(crate) async fn seats_shown(
    tx: &TenantTxn,
    tenant: &Tenant,
) -> Result<Option<crate::organizations::seats::Seats>, AppError> {
    if !tenant.can(crate::permissions::Permission::MEMBERS_INVITE) {
        return Ok(None);
    }
    Ok(Some(crate::organizations::seats::of(tx).await?))
}

fn invite_error(error: InviteError) -> Result<FieldErrors, AppError> {
    AppError::from(error).into_fields()
}

/// Invites as `asked` in the request's transaction through the configured backend: the one call
/// behind the page and the API.
async fn send_invitation(
    state: &AppState,
    tx: &TenantTxn,
    tenant: &Tenant,
    grant: &Grant,
    asked: Asked<'_>,
) -> Result<entity::organization_invitation::Model, InviteError> {
    let (organization, inviter) = (tenant.organization(), tenant.user());
    let backend = &state.invitation_backend;
    invitations::send::with_roles(tx, grant, asked, || {
        backend.invite(state.flows(), tx, organization, inviter, asked.email)
    })
    .await
}

/// Gives the member the roles asked for, or applies the admin shorthand, by the grant rule.
async fn change_roles(
    tx: &TenantTxn,
    grant: &Grant,
    user_id: UserId,
    roles: Option<&[String]>,
    is_admin: Option<bool>,
) -> Result<(), AppError> {
    match (roles, is_admin) {
        (Some(keys), _) => {
            roles::set_member_roles(tx, grant, user_id, keys).await?;
        }
        (None, Some(is_admin)) => {
            roles::set_admin_flag(tx, grant, user_id, is_admin).await?;
        }
        (None, None) => {}
    }
    Ok(())
}

async fn remove(tx: &TenantTxn, grant: &Grant, user_id: UserId) -> Result<(), AppError> {
    let removed = organizations::remove_member(tx, grant, user_id).await;
    match removed {
        Ok(()) => Ok(()),
        Err(RoleError::Org(OrgError::OwnershipRequired)) => Err(AppError::Conflict(
            "The owner cannot be removed. Transfer ownership first, or delete the organization."
                .into(),
        )),
        Err(other) => Err(other.into()),
    }
}

/// Sends the pending invitation of `user_id` again with a new link (the old one stops working).
async fn send_reminder(
    state: &AppState,
    ctx: &TenantCtx,
    user_id: UserId,
) -> Result<entity::organization_invitation::Model, AppError> {
    let invitation = invitations::send::remindable(&ctx.tx, user_id).await?;
    super::invitations::send_again(state, &ctx.tx, &ctx.tenant, &ctx.grant, invitation)
        .await
        .map_err(|e| invite_error(e).err().unwrap_or(AppError::NotFound))
}
