//! The organization itself, on its tenant: delete it, transfer its ownership, leave it, as pages
//! and under `/api/v1/organization/` (`/api/v1/transfer/`, `/api/v1/leave/`, the API's rename);
//! and the confirmation page other destructive actions use. Its General settings (name,
//! address, colour) are [`super::settings::general`].

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use entity::UserId;
use entity::organization;
use serde::{Deserialize, Serialize};

use super::tenant_page;
use crate::error::{AppError, FieldErrors};
use crate::organizations::members;
use crate::organizations::{self, OrgError};
use crate::permissions::Permission;
use crate::tenancy::TenantTxn;
use crate::web::Json;
use crate::web::render::redirect;
use crate::web::{Page, flash, render};
use crate::web::{Tenant, TenantCtx, etag};

/// Name, slug and colour, as typed; a form without the colour leaves it as it is.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct OrganizationForm {
    pub(super) name: String,
    pub(super) slug: String,
    pub(super) color: Option<String>,
}

/// Field errors of a refused organization form; other errors pass through.
pub(super) fn form_errors(error: OrgError) -> Result<FieldErrors, AppError> {
    AppError::from(error).into_fields()
}

/// A slug the API was given: left out is `None`; blank is a 422 (the forms read blank as "make
/// one from the name", the API says so by leaving the field out).
pub(super) fn given_slug(slug: Option<String>) -> Result<Option<String>, AppError> {
    match slug {
        Some(slug) if slug.trim().is_empty() => Err(AppError::field(
            "slug",
            "must not be blank; leave it out to keep or derive one",
        )),
        slug => Ok(slug),
    }
}

/// `PATCH /api/v1/organization/` body: the fields to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrganizationPatch)]
pub struct OrganizationJson {
    /// 1 to 200 characters, one line.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    /// A new address; the old one stops answering.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(
        min_length = 1,
        max_length = 63,
        pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
    )]
    slug: Option<String>,
    /// The colour behind its initials: one of `indigo`, `teal`, `green`, `amber`, `red`,
    /// `pink`, `violet`, `slate`; empty for the one its id picks.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(max_length = 16, example = "teal")]
    color: Option<String>,
    /// Whether every member must sign in with a second factor to reach the organization.
    /// Changing it needs `security.manage` as well and a recent sign-in; only someone whose
    /// sign-in used a second factor may turn it on.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    two_factor_required: Option<bool>,
}

/// A page asking to confirm a destructive action (`tenant/confirm.html`).
pub(super) fn confirm(
    tenant: &Tenant,
    title: String,
    message: String,
    action: &str,
    button: &str,
) -> Page {
    tenant_page("tenant/confirm.html", tenant)
        .with("title", title)
        .with("message", message)
        .with("action", tenant.url(action))
        .with("button", button)
}

/// What a destructive form's `confirm` field must hold: the organization's slug.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    confirm: String,
}

/// The field error when `typed` is not the organization's slug (spaces around it aside).
fn unconfirmed(tenant: &Tenant, typed: &str) -> Option<FieldErrors> {
    let slug = &tenant.organization().slug;
    (typed.trim() != slug).then(|| {
        let mut errors = FieldErrors::new();
        let message = format!("type {slug} to confirm");
        errors.insert("confirm".into(), vec![message]);
        errors
    })
}

fn delete_page(tenant: &Tenant, errors: &FieldErrors) -> Page {
    let name = &tenant.organization().name;
    super::settings::sections::confirm(
        tenant,
        "danger",
        format!("Delete {name}?"),
        format!(
            "{name}, its memberships, invitations and projects will be deleted. People keep their accounts."
        ),
        "/delete/",
        "Delete the organization",
    )
    .with("type_slug", true)
    .form(FormValues::default(), errors)
}

/// No value to show again: the confirmations ask for the slug afresh.
#[derive(Default, Serialize)]
struct FormValues {}

/// `GET /delete/`
pub async fn delete_form(req: HttpRequest, tenant: Tenant) -> Result<HttpResponse, AppError> {
    tenant.require_recent(&req, "/delete/")?;
    render(&req, delete_page(&tenant, &FieldErrors::new())).await
}

/// `POST /delete/`: the organization and everything scoped to it, once its slug was typed.
pub async fn delete(
    req: HttpRequest,
    session: Session,
    form: crate::web::Form<ConfirmForm>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    tenant.require_recent(&req, "/delete/")?;
    if let Some(errors) = unconfirmed(&tenant, &form.confirm) {
        let page = delete_page(&tenant, &errors).status(StatusCode::UNPROCESSABLE_ENTITY);
        return render(&req, page).await;
    }
    organizations::delete_organization(&tx).await?;
    flash::success(
        &session,
        format!("{} was deleted.", tenant.organization().name),
    );
    Ok(redirect("/organizations/"))
}

/// The new owner, by user id.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct TransferForm {
    user_id: String,
    confirm: String,
}

/// `GET /transfer/`
pub async fn transfer_form(
    req: HttpRequest,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    tenant.require_recent(&req, "/transfer/")?;
    let page = transfer_page(&tenant, &tx, &TransferForm::default(), &FieldErrors::new()).await?;
    render(&req, page).await
}

/// The transfer form: every member but the owner to choose from, and `errors`.
async fn transfer_page(
    tenant: &Tenant,
    tx: &TenantTxn,
    form: &TransferForm,
    errors: &FieldErrors,
) -> Result<Page, AppError> {
    Ok(
        super::settings::sections::page("settings/transfer.html", tenant, "danger")
            .with("candidates", transfer_candidates(tx).await?)
            .form(form, errors),
    )
}

/// A member the transfer form offers.
#[derive(Serialize)]
struct Candidate {
    value: i64,
    label: String,
}

/// Everyone who could become the owner: every member but the owner, however many.
async fn transfer_candidates(tx: &TenantTxn) -> Result<Vec<Candidate>, AppError> {
    let people = members::everyone(tx).await?;
    Ok(people
        .into_iter()
        .filter(|p| !p.is_owner)
        .map(|p| Candidate {
            value: p.person.user_id,
            label: format!("{} ({})", p.person.name, p.person.email),
        })
        .collect())
}

async fn do_transfer(tx: &TenantTxn, user_id: &str) -> Result<(), AppError> {
    let user_id: i64 = user_id
        .trim()
        .parse()
        .map_err(|_| AppError::field("user_id", "choose a member"))?;
    match organizations::transfer(tx, UserId(user_id)).await {
        Ok(()) => Ok(()),
        Err(OrgError::NotMember) => Err(AppError::field(
            "user_id",
            "the new owner must be a member of this organization",
        )),
        Err(other) => Err(other.into()),
    }
}

/// `POST /transfer/`: the chosen member becomes owner (and admin).
pub async fn transfer(
    req: HttpRequest,
    session: Session,
    form: crate::web::Form<TransferForm>,
    TenantCtx { tenant, mut tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    tenant.require_recent(&req, "/transfer/")?;
    if let Some(errors) = unconfirmed(&tenant, &form.confirm) {
        let page = transfer_page(&tenant, &tx, &form, &errors).await?;
        return render(&req, page.status(StatusCode::UNPROCESSABLE_ENTITY)).await;
    }
    match do_transfer(&tx, &form.user_id).await {
        Ok(()) => {
            flash::success(&session, "Ownership transferred.");
            Ok(redirect(&tenant.url("/people/")))
        }
        Err(AppError::Invalid { fields, .. }) => {
            tx.read_again(&tenant).await?;
            render(&req, transfer_page(&tenant, &tx, &form, &fields).await?).await
        }
        Err(other) => Err(other),
    }
}

/// `GET /leave/`
pub async fn leave_form(req: HttpRequest, tenant: Tenant) -> Result<HttpResponse, AppError> {
    if tenant.access().is_owner {
        return Err(owner_cannot_leave());
    }
    let name = &tenant.organization().name;
    let page = confirm(
        &tenant,
        format!("Leave {name}?"),
        format!("You will lose access to {name} until someone invites you again."),
        "/leave/",
        "Leave",
    );
    render(&req, page).await
}

fn owner_cannot_leave() -> AppError {
    AppError::Conflict(
        "The owner cannot leave; transfer ownership or delete the organization first.".into(),
    )
}

async fn do_leave(tx: &TenantTxn, tenant: &Tenant) -> Result<(), AppError> {
    let user = tenant
        .user()
        .ok_or_else(|| AppError::Forbidden("Only people can leave.".into()))?;
    match organizations::remove_user(tx, user.id()).await {
        Ok(()) => Ok(()),
        Err(OrgError::OwnershipRequired) => Err(owner_cannot_leave()),
        Err(other) => Err(other.into()),
    }
}

/// `POST /leave/`: a member who is not the owner leaves.
pub async fn leave(
    session: Session,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    do_leave(&tx, &tenant).await?;
    flash::success(
        &session,
        format!("You left {}.", tenant.organization().name),
    );
    Ok(redirect("/organizations/"))
}

/// Read the organization
#[utoipa::path(
    get,
    path = "/api/v1/organization/",
    tag = "organization",
    operation_id = "get_organization",
    responses((status = 200, description = "The organization.", body = OrganizationView, headers(("ETag" = String, description = "Its version, for `If-Match`.")))),
)]
pub async fn api_show(TenantCtx { tenant, tx, .. }: TenantCtx) -> Result<HttpResponse, AppError> {
    view(&tenant, &tx, tenant.organization().clone()).await
}

/// The organization as the API shows it: with its seats to those who may invite.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OrganizationView)]
pub struct OrganizationView {
    #[serde(flatten)]
    organization: organization::Model,
    /// Seats it may use (`null`: no limit; 0: none). Only to members who may invite
    /// (`members.invite`); set by billing, never here.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>, nullable)]
    seat_limit: Option<Option<u64>>,
    /// Seats used: members and pending invitations. Only to members who may invite.
    #[serde(skip_serializing_if = "Option::is_none")]
    seats_used: Option<u64>,
}

/// `200` with the organization (and its seats, to those who may invite) and its `ETag`, the
/// version of the organization itself (what `If-Match` compares).
async fn view(
    tenant: &Tenant,
    tx: &TenantTxn,
    organization: organization::Model,
) -> Result<HttpResponse, AppError> {
    let seats = if tenant.can(Permission::MEMBERS_INVITE) {
        Some(organizations::seats::of(tx).await?)
    } else {
        None
    };
    let tag = etag::of(&organization);
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, tag))
        .json(OrganizationView {
            organization,
            seat_limit: seats.map(|s| s.limit),
            seats_used: seats.map(|s| s.used),
        }))
}

/// The organization as it is in `tx`, for `If-Match`.
async fn current(tx: &crate::tenancy::TenantTxn) -> Result<organization::Model, AppError> {
    tx.organization().await?.ok_or(AppError::NotFound)
}

/// Rename the organization
///
/// Its name, its address or both.
#[utoipa::path(
    patch,
    path = "/api/v1/organization/",
    tag = "organization",
    operation_id = "update_organization",
    params(crate::web::etag::IfMatch),
    request_body = OrganizationJson,
    responses(
        (status = 200, description = "The organization as it is now.", body = OrganizationView, headers(("ETag" = String, description = "Its version."))),
        (status = 409, description = "The address is taken.", body = crate::error::ErrorBody),
    ),
)]
pub async fn api_update(
    req: HttpRequest,
    body: Json<OrganizationJson>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    // Checked when it would change: a client sending back what GET answered changes nothing.
    if body
        .two_factor_required
        .is_some_and(|required| required != tenant.organization().two_factor_required)
    {
        // A key is no person: it could turn the requirement off with nobody behind it.
        if tenant.user().is_none() {
            return Err(AppError::Forbidden(
                "two_factor_required is changed by people, not by API keys".into(),
            ));
        }
        if !tenant.can(Permission::SECURITY_MANAGE) {
            return Err(AppError::MissingPermission(Permission::SECURITY_MANAGE));
        }
        tenant.require_recent(&req, "/settings/security/")?;
    }
    let slug = given_slug(body.slug)?;
    let name = body
        .name
        .unwrap_or_else(|| tenant.organization().name.clone());
    let before = current(&tx).await?;
    let mut updated =
        organizations::update_organization(&tx, &name, slug.as_deref(), body.color.as_deref())
            .await?;
    if let Some(required) = body.two_factor_required {
        let yours = tenant.credential().is_some_and(|c| c.has_second_factor());
        updated = organizations::security::set_two_factor_required(&tx, required, yours).await?;
    }
    // Checked after the write so that a bad body is 422 whatever version it names; a stale
    // version rolls the write back.
    etag::check_if_match(&req, &before)?;
    view(&tenant, &tx, updated).await
}

/// Delete the organization
///
/// With everything in it; the audit log is kept (`orgs audit export`).
#[utoipa::path(
    delete,
    path = "/api/v1/organization/",
    tag = "organization",
    operation_id = "delete_organization",
    params(crate::web::etag::IfMatch),
    responses(
        (status = 204, description = "Deleted."),
    ),
)]
pub async fn api_delete(
    req: HttpRequest,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    tenant.require_recent(&req, "/delete/")?;
    etag::check_if_match(&req, &current(&tx).await?)?;
    organizations::delete_organization(&tx).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/transfer/` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Transfer)]
pub struct TransferJson {
    /// The member who becomes the owner.
    #[schema(minimum = 1)]
    user_id: i64,
}

/// Transfer ownership
///
/// To another member; the owner stays a member with the `admin` role.
#[utoipa::path(
    post,
    path = "/api/v1/transfer/",
    tag = "organization",
    operation_id = "transfer_ownership",
    request_body = TransferJson,
    responses(
        (status = 204, description = "Transferred."),
        (status = 409, description = "Not possible now.", body = crate::error::ErrorBody),
    ),
)]
pub async fn api_transfer(
    req: HttpRequest,
    body: Json<TransferJson>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    tenant.require_recent(&req, "/transfer/")?;
    do_transfer(&tx, &body.user_id.to_string()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Leave the organization
#[utoipa::path(
    post,
    path = "/api/v1/leave/",
    tag = "organization",
    operation_id = "leave_organization",
    responses(
        (status = 204, description = "Left."),
        (status = 409, description = "The owner cannot leave: transfer ownership or delete the organization first.", body = crate::error::ErrorBody),
    ),
)]
pub async fn api_leave(TenantCtx { tenant, tx, .. }: TenantCtx) -> Result<HttpResponse, AppError> {
    do_leave(&tx, &tenant).await?;
    Ok(HttpResponse::NoContent().finish())
}
