//! The people pages: the list with the pending invitations beside it, the invite form, a
//! person's page, their roles, removing them, and reminding someone invited who has not joined.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::UserId;
use serde::Serialize;

use super::listing::{self, PeoplePageQuery};
use super::{change_roles, invite_error, remove, seats_shown, send_invitation, send_reminder};
use crate::error::{AppError, FieldErrors};
use crate::invitations::InviteError;
use crate::invitations::send::{Asked, Reinvite};
use crate::organizations::members::PersonView;
use crate::organizations::role_labels::{RoleNames, labels_of};
use crate::organizations::roles;
use crate::routes::tenant_page;
use crate::state::AppState;
use crate::tenancy::TenantTxn;
use crate::web::render::redirect;
use crate::web::rows::Person;
use crate::web::{Found, Page, Query, Tenant, TenantCtx, flash, render};
use actix_web::http::StatusCode;

/// `GET /people/`: the members (a page, or a search's matches, counted), and the pending
/// invitations for whoever manages them.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query<PeoplePageQuery>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let listed = listing::listed(&state, &tenant, &tx, &query).await?;
    let seats = seats_shown(&tx, &tenant).await?;
    let page = tenant_page("people/list.html", &tenant)
        .with(
            "seats_line",
            seats.filter(|s| s.limit.is_some()).map(|s| s.used_line()),
        )
        .with("invitations", listed.invitations)
        .with("more_invitations", listed.more_invitations)
        .with("people", listed.people)
        .with("q", query.q);
    let page = crate::routes::with_page_links(page, &listed.at, listed.pages, listed.members);
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
    let seats = seats_shown(tx, tenant).await?;
    Ok(tenant_page("people/add.html", tenant)
        .with("seats_line", seats.and_then(|s| s.free_line()))
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
    let (errors, status) = match send_invitation(&state, &tx, &tenant, &grant, asked).await {
        Ok(invitation) => {
            flash::success(
                &session,
                format!("Invitation sent to {}.", invitation.email),
            );
            return Ok(redirect(&tenant.url("/people/")));
        }
        // Shown above the form, which keeps what was typed.
        Err(InviteError::SeatLimit(full)) => (
            FieldErrors::from([(
                "seats".to_string(),
                vec![crate::text::capitalized(&full.to_string())],
            )]),
            Some(StatusCode::CONFLICT),
        ),
        Err(error) => (invite_error(error)?, None),
    };
    tx.read_again(&tenant).await?;
    let mut page = invite_page(&tx, &tenant, &form, &errors).await?;
    if let Some(status) = status {
        page = page.status(status);
    }
    render(&req, page).await
}

/// `GET /people/{user_id}/`: the person with a badge per role.
pub async fn detail(
    req: HttpRequest,
    Found {
        tenant,
        tx,
        row: person,
        ..
    }: Found<Person>,
) -> Result<HttpResponse, AppError> {
    let p = &person.person;
    let names = RoleNames::of(&tx, p.roles.iter().map(String::as_str)).await?;
    let page = tenant_page("people/detail.html", &tenant)
        .with("roles", labels_of(&p.roles, &names))
        .with("you", tenant.user().is_some_and(|u| u.id == p.user_id))
        .with("person", &person);
    render(&req, page).await
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
        UserId(user_id),
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
            tx.read_again(&tenant).await?;
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
    remove(&tx, &grant, UserId(person.person.user_id)).await?;
    flash::success(&session, format!("{} was removed.", person.person.email));
    Ok(redirect(&tenant.url("/people/")))
}

/// `GET /people/{user_id}/remind/`
pub async fn remind_form(
    req: HttpRequest,
    user_id: web::Path<i64>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let user_id = user_id.into_inner();
    let invitation = crate::invitations::send::remindable(&tx, UserId(user_id)).await?;
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
    let sent = send_reminder(&state, &ctx, UserId(user_id.into_inner())).await?;
    flash::success(&session, format!("Reminder sent to {}.", sent.email));
    Ok(redirect(&ctx.tenant.url("/people/")))
}
