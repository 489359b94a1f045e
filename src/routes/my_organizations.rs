//! The signed-in person's organizations, outside any tenant: "my organizations"
//! (`/organizations/`, and `GET /api/v1/organizations/`, a list like every other: by name, read by
//! cursor, `?page=` kept), creating one (`/organizations/add/`, `POST /api/v1/organizations/`),
//! and `/go/{slug}/` into one of them.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::organization;
use serde::{Deserialize, Serialize};

use super::organization::{OrganizationForm, form_errors, given_slug};
use crate::config::Settings;
use crate::error::{AppError, FieldErrors};
use crate::organizations::role_labels::{RoleLabel, labels_held};
use crate::organizations::{self, NewOrganization};
use crate::state::AppState;
use crate::web::page_links::{Counted, PageLinks, PagesQuery, Total};
use crate::web::pagination::{CursorPage, KeysetQuery, MAX_PER_PAGE};
use crate::web::render::redirect;
use crate::web::{CurrentUser, Json, Page, Query, flash, links, render};

/// An organization as listed for its member: with the address of its tenant root.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationLink {
    #[serde(flatten)]
    organization: organization::Model,
    /// Its tenant root (`https://acme.example.com/` or `/o/acme/`).
    url: String,
}

/// The organization with its tenant root's address.
fn link(settings: &Settings, organization: organization::Model) -> OrganizationLink {
    OrganizationLink {
        url: links::home_link(settings, &organization.slug),
        organization,
    }
}

/// `GET /go/{slug}/`: to an organization the user belongs to, at the address `tenant.links`
/// names (on subdomains, signed in there with a one-time handoff). Anyone else: 404.
pub async fn go(
    req: HttpRequest,
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let organization = crate::tenancy::org_rows::by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    if !user.is_superuser
        && !crate::tenancy::org_rows::is_member(&state.db, organization.id(), user.id()).await?
    {
        return Err(AppError::NotFound);
    }
    let home = links::enter(&req, &state, user.id(), &organization.slug, "/").await?;
    Ok(redirect(&home))
}

/// An organization as "my organizations" shows it: the row, its address, and the person's
/// roles there.
#[derive(Debug, Serialize)]
struct MyOrganization {
    #[serde(flatten)]
    organization: organization::Model,
    url: String,
    roles: Vec<RoleLabel>,
}

/// `?page=&per_page=` of "my organizations".
#[derive(Debug, Default, Deserialize)]
pub struct MinePageQuery {
    page: Option<u64>,
    per_page: Option<u64>,
}

/// A page of the user's active organizations, each with their roles there (two reads, however
/// many are shown), and where the page is in the list.
async fn mine_with_roles(
    state: &AppState,
    user_id: entity::UserId,
    query: &MinePageQuery,
) -> Result<(Vec<MyOrganization>, PageLinks), AppError> {
    // A person's organizations are few (their own memberships), so this list pages by number:
    // OFFSET over so short a list costs nothing and gives the rows' numbers with it. The
    // people, projects and invitations lists, which can be long, page by cursor both ways.
    let numbered = PagesQuery {
        page: Some(query.page.unwrap_or(1)),
        per_page: query.per_page,
        ..PagesQuery::default()
    };
    let cursors = state.cursors.of("organizations.page");
    let at = numbered.resolve(&cursors, MAX_PER_PAGE)?;
    let page =
        crate::tenancy::org_rows::page_of_user(&state.db, user_id, &at.position, at.per_page)
            .await?;
    let counted = Counted {
        total: page.total.map(Total::Exact),
        noun: ("organization", "organizations"),
        matching: None,
    };
    let links = at.links(&cursors, &page, &counted, &[]);
    let ids: Vec<i64> = page.items.iter().map(|o| o.id).collect();
    let held = crate::tenancy::org_rows::roles_of_user(&state.db, user_id, &ids).await?;
    let mine = page
        .items
        .into_iter()
        .map(|org| MyOrganization {
            roles: labels_held(held.get(&org.id)),
            url: links::home_link(&state.settings, &org.slug),
            organization: org,
        })
        .collect();
    Ok((mine, links))
}

/// `GET /organizations/`: the active organizations the user belongs to, a page at a time, with
/// their role in each.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    query: Query<MinePageQuery>,
) -> Result<HttpResponse, AppError> {
    let (mine, pages) = mine_with_roles(&state, user.id(), &query).await?;
    let offer = crate::organizations::join_by_domain::offer(state.db.connection(), &user).await?;
    let page = Page::new("organizations/list.html")
        .with("offer", offer)
        .with("organizations", mine)
        .with("pages", pages);
    render(&req, page).await
}

fn add_page(form: &OrganizationForm, errors: &FieldErrors) -> Page {
    Page::new("organizations/add.html")
        .with("form", form)
        .with("errors", errors)
}

/// `GET /organizations/add/`
pub async fn add_form(req: HttpRequest, _user: CurrentUser) -> Result<HttpResponse, AppError> {
    render(
        &req,
        add_page(&OrganizationForm::default(), &FieldErrors::new()),
    )
    .await
}

/// `POST /organizations/add/`: the creator becomes its admin and owner.
pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    form: crate::web::Form<OrganizationForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let new = NewOrganization {
        slug: Some(form.slug.clone()),
        ..NewOrganization::named(form.name.clone())
    };
    match organizations::create_organization_with(&state.db, &state.events, user.id, new).await {
        Ok(created) => {
            flash::success(&session, format!("{} is ready.", created.organization.name));
            let home =
                links::enter(&req, &state, user.id(), &created.organization.slug, "/").await?;
            Ok(redirect(&home))
        }
        Err(error) => render(&req, add_page(&form, &form_errors(error)?)).await,
    }
}

/// `POST /api/v1/organizations/` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewOrganization)]
pub struct NewOrganizationJson {
    /// 1 to 200 characters, one line.
    #[schema(min_length = 1, max_length = 200, example = "Acme")]
    name: String,
    /// The address (`acme` for `acme.example.com`): lower-case letters, digits and inner
    /// hyphens, at most 63; made from the name when left out.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(
        min_length = 1,
        max_length = 63,
        pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
    )]
    slug: Option<String>,
}

/// Create an organization
///
/// The signed-in person becomes its owner.
#[utoipa::path(
    post,
    path = "/api/v1/organizations/",
    tag = "account",
    operation_id = "create_organization",
    request_body = NewOrganizationJson,
    responses(
        (status = 201, description = "Created.", body = OrganizationLink, headers(("Location" = String, description = "The organization's API address."))),
        (status = 409, description = "The address is taken.", body = crate::error::ErrorBody),
    ),
)]
pub async fn api_add(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    body: Json<NewOrganizationJson>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let new = NewOrganization {
        slug: given_slug(body.slug)?,
        ..NewOrganization::named(body.name)
    };
    let created =
        organizations::create_organization_with(&state.db, &state.events, user.id, new).await?;
    let location = format!("/o/{}/api/v1/organization/", created.organization.slug);
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(link(&state.settings, created.organization)))
}

/// List my organizations
///
/// The organizations the signed-in person belongs to, by name.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/",
    tag = "account",
    operation_id = "list_organizations",
    params(KeysetQuery),
    responses((status = 200, description = "A page of organizations.", body = CursorPage<OrganizationLink>)),
)]
pub async fn api_list(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    query: Query<KeysetQuery>,
) -> Result<web::Json<CursorPage<OrganizationLink>>, AppError> {
    let list = state.cursors.of("organizations");
    let (position, per_page) = query.into_inner().resolve(&list)?;
    let page =
        crate::tenancy::org_rows::page_of_user(&state.db, user.id(), &position, per_page).await?;
    let page = page.map(|org| link(&state.settings, org));
    Ok(web::Json(CursorPage::of(page, &position, per_page, list)))
}
