//! An organization's invitations, for whoever manages them: the pending ones (a page at a time),
//! revoking and resending one, as pages and under `/api/v1/invitations/`. (The link an
//! invitation mails is `accept_invitation`.)

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::tenant_page;
use crate::error::AppError;
use crate::invitations::{self, InviteError};
use crate::state::AppState;
use crate::tenancy::{Grant, TenantTxn};
use crate::web::Query;
use crate::web::page_links::{Counted, PagesQuery, Total};
use crate::web::render::redirect;
use crate::web::rows::{Invitation, PendingInvitation};
use crate::web::{Found, Tenant, TenantCtx, flash, render};

/// `GET /invitations/` on a tenant: the pending invitations, newest first, a page at a time,
/// each with the roles it offers and who sent it.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query<PagesQuery>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let cursors = state.cursors.of("invitations.page");
    let at = query.resolve(&cursors, MAX_PER_PAGE)?;
    let page = invitations::pending_page(&tx, &at.position, at.per_page).await?;
    let counted = Counted {
        total: page.total.map(Total::Exact),
        noun: ("pending", "pending"),
        matching: None,
    };
    let pages = at.links(&cursors, &page, &counted, &[]);
    let total = page.total;
    let pending = invitations::shown::lines(&tx, page.items).await?;
    let page = tenant_page("invitations/list.html", &tenant).with("invitations", pending);
    render(&req, super::with_page_links(page, &at, pages, total)).await
}

/// Where a revoke or resend from a page goes back to: the people page it was pressed on, or the
/// invitations page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BackTo {
    back: String,
}

impl BackTo {
    fn path(&self) -> &'static str {
        if self.back == "people" {
            "/people/"
        } else {
            "/invitations/"
        }
    }
}

/// `POST /invitations/{id}/revoke/` on a tenant.
pub async fn revoke(
    session: Session,
    back: crate::web::Form<BackTo>,
    Found {
        tenant, tx, row, ..
    }: Found<PendingInvitation>,
) -> Result<HttpResponse, AppError> {
    invitations::revoke(&tx, row.id).await?;
    flash::success(&session, format!("Invitation to {} revoked.", row.email));
    Ok(redirect(&tenant.url(back.path())))
}

/// `POST /invitations/{id}/resend/` on a tenant: a new link; the old one stops working.
pub async fn resend(
    state: web::Data<AppState>,
    session: Session,
    back: crate::web::Form<BackTo>,
    Found {
        tenant,
        tx,
        row,
        grant,
        ..
    }: Found<PendingInvitation>,
) -> Result<HttpResponse, AppError> {
    match send_again(&state, &tx, &tenant, &grant, row).await {
        Ok(invitation) => {
            flash::success(
                &session,
                format!("Invitation sent again to {}.", invitation.email),
            );
            Ok(redirect(&tenant.url(back.path())))
        }
        Err(refused @ (InviteError::InvalidEmail | InviteError::AlreadyMember)) => {
            Err(AppError::Conflict(refused.to_string()))
        }
        Err(error) => Err(error.into()),
    }
}

/// Sends the pending invitation `row` again through the configured backend (the service
/// checks the grant rule); the backend's refusal is for the caller to show.
pub(crate) async fn send_again(
    state: &AppState,
    tx: &TenantTxn,
    tenant: &Tenant,
    grant: &Grant,
    row: entity::organization_invitation::Model,
) -> Result<entity::organization_invitation::Model, InviteError> {
    let (organization, inviter) = (tenant.organization(), tenant.user());
    let backend = &state.invitation_backend;
    invitations::send::again(tx, grant, row, |id| {
        backend.resend(state.flows(), tx, organization, inviter, id)
    })
    .await
}

/// An invitation as the API shows it: the row (never its token), where it stands and the
/// roles it gives.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Invitation)]
pub struct InvitationView {
    #[serde(flatten)]
    invitation: entity::organization_invitation::Model,
    status: invitations::Status,
    /// The role keys it gives.
    roles: Vec<String>,
}

/// The API's view of `invitation`.
pub(crate) async fn view(
    tx: &crate::tenancy::TenantTxn,
    invitation: entity::organization_invitation::Model,
) -> Result<InvitationView, AppError> {
    let roles = crate::organizations::roles::invitation_keys(tx, invitation.id).await?;
    Ok(InvitationView {
        status: invitations::Status::of(&invitation),
        roles: if roles.is_empty() {
            vec!["member".to_string()]
        } else {
            roles
        },
        invitation,
    })
}

/// The most invitations one page holds.
pub const MAX_PER_PAGE: u64 = 200;

/// `?status=&after=&per_page=`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct InvitationsQuery {
    /// Which (`pending` when left out).
    #[param(value_type = Option<invitations::Status>)]
    status: Option<String>,
    /// The `next` of the page before (opaque).
    #[param(value_type = Option<String>)]
    after: Option<String>,
    /// Rows per page, 1 to 200 (50 when left out).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    per_page: Option<String>,
}

/// List the invitations
///
/// Newest first, the pending ones unless `?status=` asks for others.
#[utoipa::path(
    get,
    path = "/api/v1/invitations/",
    tag = "invitations",
    operation_id = "list_invitations",
    params(InvitationsQuery),
    responses((status = 200, description = "A page of invitations.", body = crate::web::pagination::CursorPage<InvitationView>)),
)]
pub async fn api_list(
    state: web::Data<AppState>,
    query: Query<InvitationsQuery>,
    TenantCtx { tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let status = match crate::web::pagination::present("status", query.status.as_deref())? {
        None => invitations::Status::Pending,
        Some(name) => invitations::Status::parse(name).ok_or_else(|| {
            AppError::field("status", "must be pending, accepted, revoked or expired")
        })?,
    };
    let cursors = state.cursors.of("invitations");
    let (after, per_page) = crate::web::pagination::cursor(
        &cursors,
        query.after.as_deref(),
        query.per_page.as_deref(),
        MAX_PER_PAGE,
    )?;
    let mut rows = invitations::list_by_status(&tx, status, after, per_page + 1).await?;
    let next = crate::web::pagination::next_cursor(&cursors, &mut rows, per_page, |r| r.id);
    // Kept for the pending ones (`tenancy::counts`); the others would have to be counted.
    let total = match status {
        invitations::Status::Pending => {
            Some(crate::tenancy::counts::of(&tx).await?.pending_invitations)
        }
        _ => None,
    };
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(view(&tx, row).await?);
    }
    Ok(HttpResponse::Ok().json(crate::web::pagination::CursorPage {
        items,
        per_page,
        next,
        total,
        page: None,
    }))
}

/// Read an invitation
#[utoipa::path(
    get,
    path = "/api/v1/invitations/{id}/",
    tag = "invitations",
    operation_id = "get_invitation",
    params(("id" = i64, Path, minimum = 1, description = "The invitation's id.")),
    responses((status = 200, description = "The invitation.", body = InvitationView)),
)]
pub async fn api_detail(
    Found { tx, row, .. }: Found<Invitation>,
) -> Result<HttpResponse, AppError> {
    let body = view(&tx, row).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Revoke an invitation
///
/// Its link stops working. One that is no longer pending is 404.
#[utoipa::path(
    post,
    path = "/api/v1/invitations/{id}/revoke/",
    tag = "invitations",
    operation_id = "revoke_invitation",
    params(("id" = i64, Path, minimum = 1, description = "The invitation's id.")),
    responses((status = 200, description = "The revoked invitation.", body = InvitationView)),
)]
pub async fn api_revoke(
    Found { tx, row, .. }: Found<PendingInvitation>,
) -> Result<HttpResponse, AppError> {
    invitations::revoke(&tx, row.id).await?;
    let revoked = invitations::by_id(&tx, row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let body = view(&tx, revoked).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Resend an invitation
///
/// With a new link (the old one stops working). One that is no longer pending is 404.
#[utoipa::path(
    post,
    path = "/api/v1/invitations/{id}/resend/",
    tag = "invitations",
    operation_id = "resend_invitation",
    params(("id" = i64, Path, minimum = 1, description = "The invitation's id.")),
    responses(
        (status = 200, description = "Sent again.", body = InvitationView, headers(
            ("RateLimit-Policy" = String, description = "The organization's hourly invitation quota."),
            ("RateLimit" = String, description = "What is left of it."),
        )),
        (status = 409, description = "`seat_limit` (with `used` and `limit`): the invitation ran out and no seat is free for it again.", body = crate::error::ErrorBody),
        (status = 429, description = "Too many invitations this hour.", body = crate::error::ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait."),
            ("RateLimit-Policy" = String, description = "The limit that was reached."),
            ("RateLimit" = String, description = "`r=0` and the seconds until more."),
        )),
    ),
)]
pub async fn api_resend(
    state: web::Data<AppState>,
    Found {
        tenant,
        tx,
        row,
        grant,
        ..
    }: Found<PendingInvitation>,
) -> Result<HttpResponse, AppError> {
    let sent = send_again(&state, &tx, &tenant, &grant, row).await?;
    let body = view(&tx, sent).await?;
    let quota = invitations::send::quota(&tx, &state.settings.auth).await?;
    let mut response = HttpResponse::Ok();
    for header in quota.headers() {
        response.insert_header(header);
    }
    Ok(response.json(body))
}
