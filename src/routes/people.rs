//! The people of an organization: list (search, pages), invite, detail, admin flag, remove,
//! remind, as pages and under `/api/v1/people/`. People are addressed by user id; anyone outside
//! the organization is 404.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::tenant_page;
use crate::auth::users;
use crate::db::Position;
use crate::error::{AppError, FieldErrors};
use crate::invitations::send::{Asked, Reinvite};
use crate::invitations::{self, InviteError};
use crate::organizations::members::{self, PersonView};
use crate::organizations::roles::{self, RoleError};
use crate::organizations::{self, OrgError};
use crate::permissions::Permission;
use crate::state::AppState;
use crate::tenancy::{Grant, TenantTxn};
use crate::web::pagination::{CursorPage, KeysetQuery};
use crate::web::render::redirect;
use crate::web::rows::Person;
use crate::web::{Found, Tenant, TenantCtx};
use crate::web::{Json, Query};
use crate::web::{Page, etag, flash, forms, render};

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

async fn person(tx: &TenantTxn, user_id: i64) -> Result<PersonView, AppError> {
    members::get(tx, user_id).await?.ok_or(AppError::NotFound)
}

/// One page of the people, read in `tx`: `form` for the HTML page (lenient with empty fields).
async fn people_page(
    tx: &TenantTxn,
    query: PeopleQuery,
    list: crate::cursor::ListCursors,
    form: bool,
) -> Result<(CursorPage<PersonView>, Position), AppError> {
    let keyset = KeysetQuery {
        after: query.after,
        page: query.page,
        per_page: query.per_page,
    };
    let (position, per_page) = keyset.resolve(&list, form)?;
    crate::text::check_term(&query.q).map_err(|e| AppError::field("q", e.to_string()))?;
    let search = Some(query.q.as_str()).filter(|q| !q.trim().is_empty());
    let page = members::list(tx, search, &position, per_page).await?;
    Ok((CursorPage::of(page, &position, per_page, list), position))
}

/// What the people table shows of one person, worked out here rather than in the template: the
/// four values a row needs, instead of the whole `PersonView` (whose timestamp was formatted for
/// every row and never shown) and template logic per row.
#[derive(Serialize)]
struct PersonLine<'a> {
    user_id: i64,
    name: &'a str,
    email: &'a str,
    role: String,
}

/// The pending invitations the people page shows (newest first); the rest are a link away.
const PENDING_SHOWN: u64 = 10;

/// `GET /people/`: the members, and the pending invitations for whoever manages them.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query<PeopleQuery>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let q = query.q.clone();
    // One transaction for the people and the pending invitations beside them.
    let (people, position) = people_page(&tx, query, state.cursors.of("people"), true).await?;
    let lines: Vec<PersonLine> = people
        .items
        .iter()
        .map(|p| PersonLine {
            user_id: p.person.user_id,
            name: p.display_name(),
            email: &p.person.email,
            role: p.role(),
        })
        .collect();
    // The pending invitations beside the members, for whoever manages them.
    let (invitations, more_invitations) = if tenant.can(Permission::INVITATIONS_MANAGE) {
        let mut pending = crate::invitations::list_by_status(
            &tx,
            crate::invitations::Status::Pending,
            None,
            PENDING_SHOWN + 1,
        )
        .await?;
        let more = pending.len() as u64 > PENDING_SHOWN;
        pending.truncate(PENDING_SHOWN as usize);
        (pending, more)
    } else {
        (Vec::new(), false)
    };
    let page = tenant_page("people/list.html", &tenant)
        .with("invitations", invitations)
        .with("more_invitations", more_invitations)
        .with("people", lines)
        .with("q", q);
    let page = super::with_page_links(page, &people, &position);
    render(&req, page).await
}

/// The invite form: the address and the roles the person will hold (`member` when none).
#[derive(Debug, Default, Serialize)]
pub struct InviteForm {
    email: String,
    roles: Vec<String>,
}

impl InviteForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (field, value) in pairs {
            match field.as_str() {
                "email" => form.email = value,
                "roles" => form.roles.push(value),
                _ => {}
            }
        }
        form
    }
}

/// The roles a requester may pick from, each marked with whether they may grant it.
#[derive(Serialize)]
struct RoleChoice {
    key: String,
    name: String,
    description: String,
    grantable: bool,
}

async fn role_choices(tx: &TenantTxn, tenant: &Tenant) -> Result<Vec<RoleChoice>, AppError> {
    Ok(roles::assignable(tx, tenant.catalog())
        .await?
        .into_iter()
        .map(|role| RoleChoice {
            grantable: tenant.permissions().contains_all(role.set),
            key: role.key,
            name: role.name,
            description: role.description,
        })
        .collect())
}

async fn invite_page(
    tx: &TenantTxn,
    tenant: &Tenant,
    form: &InviteForm,
    errors: &FieldErrors,
) -> Result<Page, AppError> {
    let choices = role_choices(tx, tenant).await?;
    Ok(tenant_page("people/add.html", tenant)
        .with("form", form)
        .with("roles", choices)
        .with("errors", errors))
}

/// `GET /people/add/`
pub async fn add_form(
    req: HttpRequest,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let page = invite_page(&tx, &tenant, &InviteForm::default(), &FieldErrors::new()).await?;
    render(&req, page).await
}

fn invite_error(error: InviteError) -> Result<FieldErrors, AppError> {
    AppError::from(error).into_fields()
}

/// Invites as `asked` in the request's transaction through the configured backend: the one call
/// behind the page and the API.
async fn invite(
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

/// `POST /people/add/`: invites by email (an existing member is a field error).
pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: crate::web::Form<Vec<(String, String)>>,
    TenantCtx {
        tenant,
        mut tx,
        grant,
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let form = InviteForm::from_pairs(form.into_inner());
    let asked = Asked {
        email: &form.email,
        roles: &form.roles,
        again: Reinvite::Resend,
    };
    let errors = match invite(&state, &tx, &tenant, &grant, asked).await {
        Ok(invitation) => {
            flash::success(
                &session,
                format!("Invitation sent to {}.", invitation.email),
            );
            return Ok(redirect(&tenant.url("/people/")));
        }
        Err(error) => invite_error(error)?,
    };
    tx.read_again().await?;
    let page = invite_page(&tx, &tenant, &form, &errors).await?;
    render(&req, page).await
}

/// `GET /people/{user_id}/`
pub async fn detail(
    req: HttpRequest,
    Found {
        tenant,

        row: person,
        ..
    }: Found<Person>,
) -> Result<HttpResponse, AppError> {
    render(
        &req,
        tenant_page("people/detail.html", &tenant).with("person", person),
    )
    .await
}

/// The edit form: the roles ticked (`roles`, with `roles_form` present), or the deprecated
/// admin checkbox (`is_admin`, absent when unticked) of older forms.
#[derive(Debug, Default)]
struct EditForm {
    roles: Option<Vec<String>>,
    is_admin: bool,
}

impl EditForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (field, value) in pairs {
            match field.as_str() {
                "roles_form" => {
                    form.roles.get_or_insert_with(Vec::new);
                }
                "roles" => form.roles.get_or_insert_with(Vec::new).push(value),
                "is_admin" => form.is_admin = !value.is_empty() && value != "false",
                _ => {}
            }
        }
        form
    }
}

async fn edit_page(
    tx: &TenantTxn,
    tenant: &Tenant,
    person: &PersonView,
    errors: &FieldErrors,
) -> Result<Page, AppError> {
    let choices = role_choices(tx, tenant).await?;
    Ok(tenant_page("people/edit.html", tenant)
        .with("person", person)
        .with("roles", choices)
        .with("errors", errors))
}

/// `GET /people/{user_id}/edit/`
pub async fn edit_form(
    req: HttpRequest,
    Found {
        tenant,
        tx,
        row: person,
        ..
    }: Found<Person>,
) -> Result<HttpResponse, AppError> {
    let page = edit_page(&tx, &tenant, &person, &FieldErrors::new()).await?;
    render(&req, page).await
}

/// Gives the member the roles asked for, or applies the admin shorthand, by the grant rule.
async fn change_roles(
    tx: &TenantTxn,
    grant: &Grant,
    user_id: i64,
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

/// `POST /people/{user_id}/edit/`: the member's roles (nobody grants what they do not hold;
/// the owner's roles stay).
pub async fn edit(
    req: HttpRequest,
    session: Session,
    form: crate::web::Form<Vec<(String, String)>>,
    Found {
        tenant,
        mut tx,
        grant,
        row: current,
    }: Found<Person>,
) -> Result<HttpResponse, AppError> {
    let user_id = current.person.user_id;
    let form = EditForm::from_pairs(form.into_inner());
    let changed = change_roles(
        &tx,
        &grant,
        user_id,
        form.roles.as_deref(),
        Some(form.is_admin),
    )
    .await;
    match changed {
        Ok(()) => {
            flash::success(&session, "Saved.");
            Ok(redirect(&tenant.url(&format!("/people/{user_id}/"))))
        }
        Err(error) => {
            let errors = error.into_fields()?;
            tx.read_again().await?;
            let page = edit_page(&tx, &tenant, &current, &errors).await?;
            render(&req, page).await
        }
    }
}

/// `GET /people/{user_id}/delete/`
pub async fn delete_form(
    req: HttpRequest,
    Found {
        tenant,

        row: person,
        ..
    }: Found<Person>,
) -> Result<HttpResponse, AppError> {
    render(
        &req,
        tenant_page("people/delete.html", &tenant).with("person", person),
    )
    .await
}

async fn remove(tx: &TenantTxn, grant: &Grant, user_id: i64) -> Result<(), AppError> {
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

/// `POST /people/{user_id}/delete/`: removes a member; the owner cannot be removed (409 with a
/// message, never a 500).
pub async fn delete(
    session: Session,
    Found {
        tenant,
        tx,
        grant,
        row: person,
    }: Found<Person>,
) -> Result<HttpResponse, AppError> {
    remove(&tx, &grant, person.person.user_id).await?;
    flash::success(&session, format!("{} was removed.", person.person.email));
    Ok(redirect(&tenant.url("/people/")))
}

/// The pending invitation of a user who has not joined: 410 once they have, 404 when there is
/// none.
async fn remindable(
    tx: &TenantTxn,
    user_id: i64,
) -> Result<entity::organization_invitation::Model, AppError> {
    if members::get(tx, user_id).await?.is_some() {
        return Err(AppError::Gone("This person has already joined.".into()));
    }
    let user = users::find_by_id(tx.conn(), user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    invitations::pending_for_email(tx, &user.email)
        .await?
        .ok_or(AppError::NotFound)
}

/// Sends the pending invitation of `user_id` again with a new link (the old one stops working).
async fn send_reminder(
    state: &AppState,
    ctx: &TenantCtx,
    user_id: i64,
) -> Result<entity::organization_invitation::Model, AppError> {
    let invitation = remindable(&ctx.tx, user_id).await?;
    super::invitations::send_again(state, &ctx.tx, &ctx.tenant, &ctx.grant, invitation)
        .await
        .map_err(|e| invite_error(e).err().unwrap_or(AppError::NotFound))
}

/// `GET /people/{user_id}/remind/`
pub async fn remind_form(
    req: HttpRequest,
    user_id: web::Path<i64>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let user_id = user_id.into_inner();
    let invitation = remindable(&tx, user_id).await?;
    let page = tenant_page("people/remind.html", &tenant)
        .with("invitation", invitation)
        .with("user_id", user_id);
    render(&req, page).await
}

/// `POST /people/{user_id}/remind/`: sends the invitation again with a new link.
pub async fn remind(
    state: web::Data<AppState>,
    session: Session,
    user_id: web::Path<i64>,
    ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let sent = send_reminder(&state, &ctx, user_id.into_inner()).await?;
    flash::success(&session, format!("Reminder sent to {}.", sent.email));
    Ok(redirect(&ctx.tenant.url("/people/")))
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
pub async fn api_list(
    state: web::Data<AppState>,
    query: Query<PeopleQuery>,
    TenantCtx { tx, .. }: TenantCtx,
) -> Result<web::Json<CursorPage<PersonView>>, AppError> {
    let (page, _) = people_page(&tx, query.into_inner(), state.cursors.of("people"), false).await?;
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
        (status = 409, description = "`already_invited` (with `invitation_id`), or already a member.", body = crate::error::ErrorBody),
        (status = 429, description = "Too many invitations (the organization's, the address's or this client's hourly limit).", body = crate::error::ErrorBody, headers(
            ("Retry-After" = u64, description = "Seconds to wait."),
            ("RateLimit-Policy" = String, description = "The limit that was reached."),
            ("RateLimit" = String, description = "`r=0` and the seconds until more."),
        )),
    ),
)]
pub async fn api_invite(
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
    match invite(&state, &tx, &tenant, &grant, asked).await {
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
pub async fn api_detail(Found { row, .. }: Found<Person>) -> Result<HttpResponse, AppError> {
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
pub async fn api_update(
    req: HttpRequest,
    body: Json<PersonPatch>,
    Found { tx, grant, row, .. }: Found<Person>,
) -> Result<HttpResponse, AppError> {
    let user_id = row.person.user_id;
    let roles = body.roles.as_deref().map(keys);
    change_roles(&tx, &grant, user_id, roles.as_deref(), body.is_admin).await?;
    // Checked after the write so that a bad body is 422 whatever version it names; a stale
    // version rolls the write back.
    etag::check_if_match(&req, &row)?;
    let updated = person(&tx, user_id).await?;
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
pub async fn api_delete(
    req: HttpRequest,
    Found { tx, grant, row, .. }: Found<Person>,
) -> Result<HttpResponse, AppError> {
    etag::check_if_match(&req, &row)?;
    remove(&tx, &grant, row.person.user_id).await?;
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
pub async fn api_remind(
    state: web::Data<AppState>,
    user_id: web::Path<i64>,
    ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let sent = send_reminder(&state, &ctx, user_id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(sent))
}
