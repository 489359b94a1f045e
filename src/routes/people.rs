//! The people of an organization: list (search, pages), invite, detail, admin flag, remove,
//! remind, as pages and under `/api/v1/people/`. People are addressed by user id; anyone outside
//! the organization is 404.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::tenant_page;
use crate::auth::users;
use crate::error::{AppError, FieldErrors};
use crate::invitations::{self, InviteError};
use crate::organizations::members::{self, PersonView};
use crate::organizations::{self, OrgError};
use crate::state::AppState;
use crate::tenancy::TenantTxn;
use crate::web::pagination::{PageQuery, Paginated};
use crate::web::render::redirect;
use crate::web::rows::{Found, Person};
use crate::web::{AdminRow, OrgAdmin, OrgMember, Tenant};
use crate::web::{Page, flash, forms, render};

/// `?q=&page=&per_page=`
#[derive(Debug, Default, Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    q: String,
    page: Option<u64>,
    per_page: Option<u64>,
}

async fn person(tx: &TenantTxn, user_id: i64) -> Result<PersonView, AppError> {
    members::get(tx, user_id).await?.ok_or(AppError::NotFound)
}

async fn people_page(
    state: &AppState,
    tenant: &Tenant,
    query: PeopleQuery,
) -> Result<Paginated<PersonView>, AppError> {
    let (page, per_page) = PageQuery::new(query.page, query.per_page).resolve()?;
    crate::text::check_term(&query.q).map_err(|e| AppError::BadRequest(format!("q: {e}")))?;
    let search = Some(query.q.as_str()).filter(|q| !q.trim().is_empty());
    let tx = tenant.begin(state).await?;
    let (items, total) = members::list(&tx, search, page, per_page).await?;
    tx.commit().await?;
    Ok(Paginated {
        items,
        page,
        per_page,
        total,
    })
}

/// What the people table shows of one person, worked out here rather than in the template: the
/// four values a row needs, instead of the whole `PersonView` (whose timestamp was formatted for
/// every row and never shown) and template logic per row.
#[derive(Serialize)]
struct PersonLine<'a> {
    user_id: i64,
    name: &'a str,
    email: &'a str,
    role: &'static str,
}

/// `GET /people/`
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    OrgMember(tenant): OrgMember,
    query: web::Query<PeopleQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let q = query.q.clone();
    let people = people_page(&state, &tenant, query).await?;
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
    let page = tenant_page("people/list.html", &tenant)
        .with("people", lines)
        .with("total", people.total)
        .with("page", people.page)
        .with("per_page", people.per_page)
        .with("has_next", people.has_next())
        .with("q", q);
    render(&req, page).await
}

/// The invite form.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct InviteForm {
    email: String,
}

fn invite_page(tenant: &Tenant, form: &InviteForm, errors: &FieldErrors) -> Page {
    tenant_page("people/add.html", tenant)
        .with("form", form)
        .with("errors", errors)
}

/// `GET /people/add/`
pub async fn add_form(
    req: HttpRequest,
    OrgAdmin(tenant): OrgAdmin,
) -> Result<HttpResponse, AppError> {
    render(
        &req,
        invite_page(&tenant, &InviteForm::default(), &FieldErrors::new()),
    )
    .await
}

fn invite_error(error: InviteError) -> Result<FieldErrors, AppError> {
    AppError::from(error).into_fields()
}

/// Invites `email` through the configured backend in the request's transaction, committed when
/// the invitation went: the one call behind the page and the API. The backend's refusal is for
/// the caller to show.
async fn invite(
    state: &AppState,
    tenant: &Tenant,
    email: &str,
) -> Result<Result<entity::organization_invitation::Model, InviteError>, AppError> {
    let tx = tenant.begin(state).await?;
    let sent = state
        .invitation_backend
        .invite(
            state.flows(),
            &tx,
            tenant.organization(),
            tenant.user(),
            email,
        )
        .await;
    if sent.is_ok() {
        tx.commit().await?;
    }
    Ok(sent)
}

/// `POST /people/add/`: invites by email (an existing member is a field error).
pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    OrgAdmin(tenant): OrgAdmin,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    match invite(&state, &tenant, &form.email).await? {
        Ok(invitation) => {
            flash::success(
                &session,
                format!("Invitation sent to {}.", invitation.email),
            );
            Ok(redirect(&tenant.url("/people/")))
        }
        Err(error) => render(&req, invite_page(&tenant, &form, &invite_error(error)?)).await,
    }
}

/// `GET /people/{user_id}/`
pub async fn detail(
    req: HttpRequest,
    AdminRow(Found {
        tenant,
        tx,
        row: person,
        ..
    }): AdminRow<Person>,
) -> Result<HttpResponse, AppError> {
    tx.commit().await?;
    render(
        &req,
        tenant_page("people/detail.html", &tenant).with("person", person),
    )
    .await
}

/// The admin checkbox (absent when unticked).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    is_admin: Option<String>,
}

fn edit_page(tenant: &Tenant, person: &PersonView, errors: &FieldErrors) -> Page {
    tenant_page("people/edit.html", tenant)
        .with("person", person)
        .with("errors", errors)
}

/// `GET /people/{user_id}/edit/`
pub async fn edit_form(
    req: HttpRequest,
    AdminRow(Found {
        tenant,
        tx,
        row: person,
        ..
    }): AdminRow<Person>,
) -> Result<HttpResponse, AppError> {
    tx.commit().await?;
    render(&req, edit_page(&tenant, &person, &FieldErrors::new())).await
}

/// `POST /people/{user_id}/edit/`: the admin flag; the owner stays an admin.
pub async fn edit(
    req: HttpRequest,
    session: Session,
    form: web::Form<EditForm>,
    AdminRow(Found {
        tenant,
        tx,
        row: current,
        ..
    }): AdminRow<Person>,
) -> Result<HttpResponse, AppError> {
    let user_id = current.person.user_id;
    let is_admin = form
        .is_admin
        .as_deref()
        .is_some_and(|v| !v.is_empty() && v != "false");
    match members::set_admin(&tx, user_id, is_admin).await {
        Ok(()) => {
            tx.commit().await?;
            flash::success(&session, "Saved.");
            Ok(redirect(&tenant.url(&format!("/people/{user_id}/"))))
        }
        Err(OrgError::OwnerMustBeAdmin) => {
            let mut errors = FieldErrors::new();
            forms::add(
                &mut errors,
                "is_admin",
                "the organization owner must be an admin",
            );
            render(&req, edit_page(&tenant, &current, &errors)).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `GET /people/{user_id}/delete/`
pub async fn delete_form(
    req: HttpRequest,
    AdminRow(Found {
        tenant,
        tx,
        row: person,
        ..
    }): AdminRow<Person>,
) -> Result<HttpResponse, AppError> {
    tx.commit().await?;
    render(
        &req,
        tenant_page("people/delete.html", &tenant).with("person", person),
    )
    .await
}

async fn remove(tx: &TenantTxn, user_id: i64) -> Result<(), AppError> {
    match organizations::remove_user(tx, user_id).await {
        Ok(()) => Ok(()),
        Err(OrgError::OwnershipRequired) => Err(AppError::Conflict(
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
    AdminRow(Found {
        tenant,
        tx,
        row: person,
        ..
    }): AdminRow<Person>,
) -> Result<HttpResponse, AppError> {
    remove(&tx, person.person.user_id).await?;
    tx.commit().await?;
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
    tenant: &Tenant,
    user_id: i64,
) -> Result<entity::organization_invitation::Model, AppError> {
    let tx = tenant.begin(state).await?;
    let invitation = remindable(&tx, user_id).await?;
    let sent = state
        .invitation_backend
        .resend(
            state.flows(),
            &tx,
            tenant.organization(),
            tenant.user(),
            invitation.id,
        )
        .await
        .map_err(|e| invite_error(e).err().unwrap_or(AppError::NotFound))?;
    tx.commit().await?;
    Ok(sent)
}

/// `GET /people/{user_id}/remind/`
pub async fn remind_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    OrgAdmin(tenant): OrgAdmin,
    user_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user_id = user_id.into_inner();
    let tx = tenant.begin(&state).await?;
    let invitation = remindable(&tx, user_id).await?;
    tx.commit().await?;
    let page = tenant_page("people/remind.html", &tenant)
        .with("invitation", invitation)
        .with("user_id", user_id);
    render(&req, page).await
}

/// `POST /people/{user_id}/remind/`: sends the invitation again with a new link.
pub async fn remind(
    state: web::Data<AppState>,
    session: Session,
    OrgAdmin(tenant): OrgAdmin,
    user_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let sent = send_reminder(&state, &tenant, user_id.into_inner()).await?;
    flash::success(&session, format!("Reminder sent to {}.", sent.email));
    Ok(redirect(&tenant.url("/people/")))
}

/// `GET /api/v1/people/`
pub async fn api_list(
    state: web::Data<AppState>,
    OrgMember(tenant): OrgMember,
    query: web::Query<PeopleQuery>,
) -> Result<web::Json<Paginated<PersonView>>, AppError> {
    Ok(web::Json(
        people_page(&state, &tenant, query.into_inner()).await?,
    ))
}

/// `POST /api/v1/people/` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteJson {
    email: String,
}

/// `POST /api/v1/people/`: invites; 201 with the invitation.
pub async fn api_invite(
    state: web::Data<AppState>,
    OrgAdmin(tenant): OrgAdmin,
    body: web::Json<InviteJson>,
) -> Result<HttpResponse, AppError> {
    match invite(&state, &tenant, &body.email).await? {
        Ok(invitation) => Ok(HttpResponse::build(StatusCode::CREATED).json(invitation)),
        Err(error) => Err(forms::invalid(invite_error(error)?)),
    }
}

/// `GET /api/v1/people/{user_id}/`
pub async fn api_detail(
    AdminRow(Found { tx, row, .. }): AdminRow<Person>,
) -> Result<web::Json<PersonView>, AppError> {
    tx.commit().await?;
    Ok(web::Json(row))
}

/// `PATCH /api/v1/people/{user_id}/` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    is_admin: bool,
}

/// `PATCH /api/v1/people/{user_id}/`: the admin flag.
pub async fn api_update(
    body: web::Json<PersonPatch>,
    AdminRow(Found { tx, row, .. }): AdminRow<Person>,
) -> Result<web::Json<PersonView>, AppError> {
    let user_id = row.person.user_id;
    members::set_admin(&tx, user_id, body.is_admin).await?;
    let updated = person(&tx, user_id).await?;
    tx.commit().await?;
    Ok(web::Json(updated))
}

/// `DELETE /api/v1/people/{user_id}/`: 204; the owner is 409.
pub async fn api_delete(
    AdminRow(Found { tx, row, .. }): AdminRow<Person>,
) -> Result<HttpResponse, AppError> {
    remove(&tx, row.person.user_id).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/people/{user_id}/remind/`: 202 when re-sent; 410 once joined.
pub async fn api_remind(
    state: web::Data<AppState>,
    OrgAdmin(tenant): OrgAdmin,
    user_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let sent = send_reminder(&state, &tenant, user_id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(sent))
}
