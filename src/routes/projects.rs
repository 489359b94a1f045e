//! Project pages and `/api/v1/projects/`: thin handlers over `crate::projects`, each taking the
//! extractor that names the role it needs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::project;
use serde::Deserialize;
use validator::Validate;

use super::tenant_page;
use crate::db::Position;
use crate::error::{AppError, FieldErrors};
use crate::permissions::Permission;
use crate::projects::{self, ProjectInput};
use crate::state::AppState;
use crate::web::page_links::{Counted, PagesQuery, Total};
use crate::web::pagination::{CursorPage, KeysetQuery, MAX_PER_PAGE};
use crate::web::render::redirect;
use crate::web::rows::Project;
use crate::web::{Found, Tenant, TenantCtx};
use crate::web::{Json, Query, etag};
use crate::web::{Page, flash, forms, render};

/// `GET /` on a tenant: the organization at a glance: members, pending invitations, projects
/// (where `projects.enabled`), and the latest activity for those who may read the audit log.
pub async fn dashboard(
    req: HttpRequest,
    state: web::Data<AppState>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let recent = if state.settings.projects.enabled {
        projects::list(&tx, &Position::After(None), 5).await?.items
    } else {
        Vec::new()
    };
    let counts = crate::tenancy::counts::of(&tx).await?;
    let pending = tenant
        .can(Permission::INVITATIONS_MANAGE)
        .then_some(counts.pending_invitations);
    let activity = if tenant.can(Permission::AUDIT_READ) {
        crate::audit::list(&tx, &crate::audit::Filter::default(), None, 5).await?
    } else {
        Vec::new()
    };
    let activity = super::audit::described(&state, &tx, &tenant, &activity).await?;
    let page = tenant_page("tenant/dashboard.html", &tenant)
        .with("projects", recent)
        .with("project_count", counts.projects)
        .with("member_count", counts.members)
        .with("pending_count", pending)
        .with(
            "seats",
            super::people::seats_shown(&tx, &tenant)
                .await?
                .filter(|s| s.limit.is_some()),
        )
        .with("activity", activity);
    render(&req, page).await
}

/// `GET /projects/`: a page of the projects with their count, Previous and Next.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query<PagesQuery>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let cursors = state.cursors.of("projects.page");
    let at = query.resolve(&cursors, MAX_PER_PAGE)?;
    let list = projects::list(&tx, &at.position, at.per_page).await?;
    let counted = Counted {
        total: list.total.map(Total::Exact),
        noun: ("project", "projects"),
        matching: None,
    };
    let pages = at.links(&cursors, &list, &counted, &[]);
    let page = tenant_page("projects/list.html", &tenant).with("projects", &list.items);
    render(&req, super::with_page_links(page, &at, pages, list.total)).await
}

fn form_page(
    tenant: &Tenant,
    form: &ProjectInput,
    errors: &FieldErrors,
    project: Option<&project::Model>,
) -> Page {
    tenant_page("projects/form.html", tenant)
        .with("form", form)
        .with("errors", errors)
        .with("project", project)
}

/// `GET /projects/new/`
pub async fn new_form(req: HttpRequest, tenant: Tenant) -> Result<HttpResponse, AppError> {
    render(
        &req,
        form_page(&tenant, &ProjectInput::default(), &FieldErrors::new(), None),
    )
    .await
}

/// `POST /projects/new/`
pub async fn create(
    req: HttpRequest,
    session: actix_session::Session,
    form: crate::web::Form<ProjectInput>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if let Err(errors) = form.validate() {
        return render(
            &req,
            form_page(&tenant, &form, &forms::field_errors(&errors), None),
        )
        .await;
    }
    let created = projects::create(&tx, form).await?;
    flash::success(&session, format!("Project “{}” created.", created.name));
    Ok(redirect(&tenant.url(&format!("/projects/{}/", created.id))))
}

/// `GET /projects/{id}/`
pub async fn detail(
    req: HttpRequest,
    Found {
        tenant,
        row: project,
        ..
    }: Found<Project>,
) -> Result<HttpResponse, AppError> {
    render(
        &req,
        tenant_page("projects/detail.html", &tenant).with("project", project),
    )
    .await
}

/// `GET /projects/{id}/edit/`
pub async fn edit_form(
    req: HttpRequest,
    Found {
        tenant,
        row: project,
        ..
    }: Found<Project>,
) -> Result<HttpResponse, AppError> {
    let form = ProjectInput {
        name: project.name.clone(),
        description: project.description.clone(),
    };
    render(
        &req,
        form_page(&tenant, &form, &FieldErrors::new(), Some(&project)),
    )
    .await
}

/// `POST /projects/{id}/edit/`
pub async fn edit(
    req: HttpRequest,
    session: actix_session::Session,
    form: crate::web::Form<ProjectInput>,
    Found {
        tenant,
        tx,
        row: project,
        ..
    }: Found<Project>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if let Err(errors) = form.validate() {
        return render(
            &req,
            form_page(
                &tenant,
                &form,
                &forms::field_errors(&errors),
                Some(&project),
            ),
        )
        .await;
    }
    let updated = projects::update(&tx, project.id, form)
        .await?
        .ok_or(AppError::NotFound)?;
    flash::success(&session, "Saved.");
    Ok(redirect(&tenant.url(&format!("/projects/{}/", updated.id))))
}

/// `GET /projects/{id}/delete/`
pub async fn delete_form(
    req: HttpRequest,
    Found {
        tenant,
        row: project,
        ..
    }: Found<Project>,
) -> Result<HttpResponse, AppError> {
    render(
        &req,
        tenant_page("projects/confirm_delete.html", &tenant).with("project", project),
    )
    .await
}

/// `POST /projects/{id}/delete/`
pub async fn delete(
    session: actix_session::Session,
    Found {
        tenant,
        tx,
        row: project,
        ..
    }: Found<Project>,
) -> Result<HttpResponse, AppError> {
    projects::delete(&tx, project.id).await?;
    flash::success(&session, format!("Project “{}” deleted.", project.name));
    Ok(redirect(&tenant.url("/projects/")))
}

/// List the projects
///
/// By name, then id. Read by cursor: `next` is the `?after=` of the page after; `?page=` still
/// works, as the slower path. `total` is kept, not counted.
#[utoipa::path(
    get,
    path = "/api/v1/projects/",
    tag = "projects",
    operation_id = "list_projects",
    params(KeysetQuery),
    responses((status = 200, description = "A page of projects.", body = CursorPage<project::Model>)),
)]
pub async fn api_list(
    state: web::Data<AppState>,
    query: Query<KeysetQuery>,
    TenantCtx { tx, .. }: TenantCtx,
) -> Result<web::Json<CursorPage<project::Model>>, AppError> {
    let (position, per_page) = query.into_inner().resolve(&state.cursors.of("projects"))?;
    let list = projects::list(&tx, &position, per_page).await?;
    Ok(web::Json(CursorPage::of(
        list,
        &position,
        per_page,
        state.cursors.of("projects"),
    )))
}

/// `POST /api/v1/projects/` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewProject)]
pub struct NewProjectJson {
    /// 1 to 200 characters, one line.
    #[schema(min_length = 1, max_length = 200, example = "Website relaunch")]
    name: String,
    /// At most 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    description: String,
}

/// `PATCH /api/v1/projects/{id}/` body: the fields to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProjectPatch)]
pub struct ProjectJson {
    /// 1 to 200 characters, one line.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    /// At most 5,000 characters.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(max_length = 5000)]
    description: Option<String>,
}

fn validated(input: ProjectInput) -> Result<ProjectInput, AppError> {
    input
        .validate()
        .map_err(|e| forms::invalid(forms::field_errors(&e)))?;
    Ok(input)
}

/// Create a project
#[utoipa::path(
    post,
    path = "/api/v1/projects/",
    tag = "projects",
    operation_id = "create_project",
    request_body = NewProjectJson,
    responses((status = 201, description = "Created.", body = project::Model, headers(("Location" = String, description = "The project's URL.")))),
)]
pub async fn api_create(
    body: Json<NewProjectJson>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let input = validated(ProjectInput {
        name: body.name,
        description: body.description,
    })?;
    let created = projects::create(&tx, input).await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((
            actix_web::http::header::LOCATION,
            tenant.url(&format!("/api/v1/projects/{}/", created.id)),
        ))
        .json(created))
}

/// Read a project
#[utoipa::path(
    get,
    path = "/api/v1/projects/{id}/",
    tag = "projects",
    operation_id = "get_project",
    params(("id" = i64, Path, minimum = 1, description = "The project's id.")),
    responses((status = 200, description = "The project.", body = project::Model, headers(("ETag" = String, description = "Its version, for `If-Match`.")))),
)]
pub async fn api_detail(
    Found { row: project, .. }: Found<Project>,
) -> Result<HttpResponse, AppError> {
    Ok(etag::json(&project))
}

/// Change a project
///
/// Changes the fields given.
#[utoipa::path(
    patch,
    path = "/api/v1/projects/{id}/",
    tag = "projects",
    operation_id = "update_project",
    params(("id" = i64, Path, minimum = 1, description = "The project's id."), crate::web::etag::IfMatch),
    request_body = ProjectJson,
    responses(
        (status = 200, description = "The project as it is now.", body = project::Model, headers(("ETag" = String, description = "Its version, for `If-Match`."))),
    ),
)]
pub async fn api_update(
    req: HttpRequest,
    body: Json<ProjectJson>,
    Found {
        tx, row: project, ..
    }: Found<Project>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let input = validated(ProjectInput {
        name: body.name.unwrap_or_else(|| project.name.clone()),
        description: body
            .description
            .unwrap_or_else(|| project.description.clone()),
    })?;
    // A bad body is 422 whatever version it names; the version is checked next.
    etag::check_if_match(&req, &project)?;
    let updated = projects::update(&tx, project.id, input)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(etag::json(&updated))
}

/// Delete a project
#[utoipa::path(
    delete,
    path = "/api/v1/projects/{id}/",
    tag = "projects",
    operation_id = "delete_project",
    params(("id" = i64, Path, minimum = 1, description = "The project's id."), crate::web::etag::IfMatch),
    responses(
        (status = 204, description = "Deleted."),
    ),
)]
pub async fn api_delete(
    req: HttpRequest,
    Found { tx, row, .. }: Found<Project>,
) -> Result<HttpResponse, AppError> {
    etag::check_if_match(&req, &row)?;
    projects::delete(&tx, row.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
