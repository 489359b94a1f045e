//! `/api/v1/people/`: the members (read by cursor), inviting, a member, their roles, removing
//! them, and reminding someone invited who has not joined.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::UserId;
use serde::Deserialize;

use super::{
    PeopleQuery, change_roles, invite_error, people_page, remove, send_invitation, send_reminder,
};
use crate::error::AppError;
use crate::invitations::send::{Asked, Reinvite};
use crate::organizations::members::{self, PersonView};
use crate::state::AppState;
use crate::tenancy::TenantTxn;
use crate::web::pagination::CursorPage;
use crate::web::rows::Person;
use crate::web::{Found, Json, Query, TenantCtx, etag, forms};

async fn person(tx: &TenantTxn, user_id: UserId) -> Result<PersonView, AppError> {
    members::get(tx, user_id).await?.ok_or(AppError::NotFound)
}

/// List the members
///
/// By name (lowercased), then user id. Read by cursor: `next` is the `?after=` of the page after,
/// and a page takes as long at 100,000 members as at 20. `?page=` still works, as the slower
/// path. `total` is the member count (kept, not counted), `null` with `?q=`, which searches names
/// and emails.
#[utoipa::path(
    get,
    path = "/api/v1/people/",
    tag = "people",
    operation_id = "list_people",
    params(PeopleQuery),
    responses((status = 200, description = "A page of members.", body = CursorPage<PersonView>)),
)]
pub async fn list(
    state: web::Data<AppState>,
    query: Query<PeopleQuery>,
    TenantCtx { tx, .. }: TenantCtx,
) -> Result<web::Json<CursorPage<PersonView>>, AppError> {
    let (page, _) = people_page(&tx, query.into_inner(), state.cursors.of("people")).await?;
    Ok(web::Json(page))
}

/// `POST /api/v1/people/` body: the address and, optionally, the roles (`member` when none).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Invite)]
pub struct InviteJson {
    /// The address to invite.
    #[schema(format = Email, max_length = 254, example = "ada@example.com")]
    email: String,
    /// Role keys to give on joining (`member` when empty); each must be yours to give.
    #[serde(default)]
    #[schema(max_items = 32, example = json!(["member"]))]
    roles: Vec<RoleKey>,
}

/// A role's key: `admin`, `member`, or a custom role's (`billing-manager`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, pattern = "^[a-z0-9-]{1,40}$", example = "member")]
pub struct RoleKey(String);

fn keys(roles: &[RoleKey]) -> Vec<String> {
    roles.iter().map(|r| r.0.clone()).collect()
}

/// Invite someone
///
/// Sends an invitation by mail. An address with a pending invitation is 409 `already_invited`
/// naming it: `POST .../invitations/{id}/resend/` sends it again.
#[utoipa::path(
    post,
    path = "/api/v1/people/",
    tag = "people",
    operation_id = "invite",
    request_body = InviteJson,
    responses(
        (status = 201, description = "Invited.", body = crate::routes::invitations::InvitationView, headers(
            ("Location" = String, description = "The invitation's URL."),
            ("RateLimit-Policy" = String, description = "The organization's hourly invitation quota: `\"invitations\";q=100;w=3600`."),
            ("RateLimit" = String, description = "What is left of it: `\"invitations\";r=99;t=3600` (t: seconds until more)."),
        )),
        (status = 409, description = "`already_invited` (with `invitation_id`), already a member, or `seat_limit` (with `used` and `limit`): every seat is taken.", body = crate::error::ErrorBody),
        (status = 429, description = "Too many invitations (the organization's, the address's or this client's hourly limit).", body = crate::error::ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait."),
            ("RateLimit-Policy" = String, description = "The limit that was reached."),
            ("RateLimit" = String, description = "`r=0` and the seconds until more."),
        )),
    ),
)]
pub async fn invite(
    state: web::Data<AppState>,
    body: Json<InviteJson>,
    TenantCtx { tenant, tx, grant }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let roles = keys(&body.roles);
    let asked = Asked {
        email: &body.email,
        roles: &roles,
        again: Reinvite::Refuse,
    };
    match send_invitation(&state, &tx, &tenant, &grant, asked).await {
        Ok(invitation) => {
            let location = tenant.url(&format!("/api/v1/invitations/{}/", invitation.id));
            let view = crate::routes::invitations::view(&tx, invitation).await?;
            let quota = crate::invitations::send::quota(&tx, &state.settings.auth).await?;
            let mut response = HttpResponse::build(StatusCode::CREATED);
            response.insert_header((actix_web::http::header::LOCATION, location));
            for header in quota.headers() {
                response.insert_header(header);
            }
            Ok(response.json(view))
        }
        Err(error) => Err(forms::invalid(invite_error(error)?)),
    }
}

/// Read a member
#[utoipa::path(
    get,
    path = "/api/v1/people/{user_id}/",
    tag = "people",
    operation_id = "get_person",
    params(("user_id" = i64, Path, minimum = 1, description = "The member's user id.")),
    responses((status = 200, description = "The member.", body = PersonView, headers(("ETag" = String, description = "Its version, for `If-Match`.")))),
)]
pub async fn detail(Found { row, .. }: Found<Person>) -> Result<HttpResponse, AppError> {
    Ok(etag::json(&row))
}

/// `PATCH /api/v1/people/{user_id}/` body: `roles` (the whole set), or the deprecated
/// `is_admin` shorthand (adds or takes away `admin`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    /// The whole set of role keys the member holds from now (at least one).
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(min_items = 1, max_items = 32)]
    roles: Option<Vec<RoleKey>>,
    /// Deprecated: adds or takes away `admin`.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(deprecated)]
    is_admin: Option<bool>,
}

/// Change a member's roles
#[utoipa::path(
    patch,
    path = "/api/v1/people/{user_id}/",
    tag = "people",
    operation_id = "update_person",
    params(("user_id" = i64, Path, minimum = 1, description = "The member's user id."), crate::web::etag::IfMatch),
    request_body = PersonPatch,
    responses(
        (status = 200, description = "The member as they are now.", body = PersonView, headers(("ETag" = String, description = "Its version."))),
        (status = 409, description = "The owner's roles are not changed.", body = crate::error::ErrorBody),
    ),
)]
pub async fn update(
    req: HttpRequest,
    body: Json<PersonPatch>,
    Found { tx, grant, row, .. }: Found<Person>,
) -> Result<HttpResponse, AppError> {
    let user_id = row.person.user_id;
    let roles = body.roles.as_deref().map(keys);
    change_roles(
        &tx,
        &grant,
        UserId(user_id),
        roles.as_deref(),
        body.is_admin,
    )
    .await?;
    // Checked after the write so that a bad body is 422 whatever version it names; a stale
    // version rolls the write back.
    etag::check_if_match(&req, &row)?;
    let updated = person(&tx, UserId(user_id)).await?;
    Ok(etag::json(&updated))
}

/// Remove a member
#[utoipa::path(
    delete,
    path = "/api/v1/people/{user_id}/",
    tag = "people",
    operation_id = "remove_person",
    params(("user_id" = i64, Path, minimum = 1, description = "The member's user id."), crate::web::etag::IfMatch),
    responses(
        (status = 204, description = "Removed."),
        (status = 409, description = "The owner is not removed.", body = crate::error::ErrorBody),
    ),
)]
pub async fn delete(
    req: HttpRequest,
    Found { tx, grant, row, .. }: Found<Person>,
) -> Result<HttpResponse, AppError> {
    etag::check_if_match(&req, &row)?;
    remove(&tx, &grant, UserId(row.person.user_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remind an invited member
///
/// Sends the invitation of someone who was added but has not signed in yet again.
#[utoipa::path(
    post,
    path = "/api/v1/people/{user_id}/remind/",
    tag = "people",
    operation_id = "remind_person",
    params(("user_id" = i64, Path, minimum = 1, description = "The member's user id.")),
    responses(
        (status = 202, description = "Sent again.", body = entity::organization_invitation::Model),
        (status = 410, description = "They joined already.", body = crate::error::ErrorBody),
        (status = 429, description = "Too many invitations this hour.", body = crate::error::ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait."),
            ("RateLimit-Policy" = String, description = "The limit that was reached."),
            ("RateLimit" = String, description = "`r=0` and the seconds until more."),
        )),
    ),
)]
pub async fn remind(
    state: web::Data<AppState>,
    user_id: web::Path<i64>,
    ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let sent = send_reminder(&state, &ctx, UserId(user_id.into_inner())).await?;
    Ok(HttpResponse::Accepted().json(sent))
}
