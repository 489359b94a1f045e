//! Roles of an organization, for holders of `roles.manage`: the list, new, edit and delete pages
//! and `/api/v1/roles/`. Built-in roles are listed but never changed; a role is addressed by its
//! key; nobody writes a role with a permission they do not hold.

use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldErrors};
use crate::organizations::roles::{self, NewRole, RolePatch, RoleView};
use crate::permissions::{BuiltinRole, Permission};
use crate::tenancy::TenantTxn;
use crate::web::Json;
use crate::web::RequestTx;
use crate::web::pagination::CursorPage;
use crate::web::render::redirect;
use crate::web::{Page, Tenant, TenantCtx, etag, flash, forms, render};

/// The role form of the pages.
#[derive(Debug, Default, Serialize)]
struct RoleForm {
    key: String,
    name: String,
    description: String,
    permissions: Vec<String>,
}

impl RoleForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (field, value) in pairs {
            match field.as_str() {
                "key" => form.key = value,
                "name" => form.name = value,
                "description" => form.description = value,
                "permissions" => form.permissions.push(value),
                _ => {}
            }
        }
        form
    }

    fn of(role: &RoleView) -> Self {
        Self {
            key: role.key.clone(),
            name: role.name.clone(),
            description: role.description.clone(),
            permissions: role
                .permissions
                .iter()
                .map(|p| p.name().to_string())
                .collect(),
        }
    }
}

fn form_page(tenant: &Tenant, form: &RoleForm, editing: bool, errors: &FieldErrors) -> Page {
    let catalog = tenant.catalog();
    let choices = forms::permission_choices(
        catalog,
        catalog.assignable(),
        tenant.permissions().intersection(catalog.assignable()),
    );
    super::settings::sections::page("roles/form.html", tenant, "roles")
        .with("editing", editing)
        .with("permissions", choices)
        .form(form, errors)
}

async fn custom_role(tx: &TenantTxn, tenant: &Tenant, key: &str) -> Result<RoleView, AppError> {
    if BuiltinRole::from_key(key).is_some() {
        return Err(roles::RoleError::Builtin.into());
    }
    roles::get(tx, tenant.catalog(), key)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /roles/`
pub async fn list(
    req: HttpRequest,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let all = roles::list(&tx, tenant.catalog()).await?;
    render(
        &req,
        super::settings::sections::page("roles/list.html", &tenant, "roles")
            .with("roles", all)
            .with(
                "permission_names",
                forms::permission_names(tenant.catalog()),
            ),
    )
    .await
}

/// `GET /roles/new/`
pub async fn new_form(req: HttpRequest, tenant: Tenant) -> Result<HttpResponse, AppError> {
    let page = form_page(&tenant, &RoleForm::default(), false, &FieldErrors::new());
    render(&req, page).await
}

/// `POST /roles/new/`
pub async fn create(
    req: HttpRequest,
    session: Session,
    form: crate::web::Form<Vec<(String, String)>>,
    TenantCtx { tenant, tx, grant }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let form = RoleForm::from_pairs(form.into_inner());
    let new = NewRole {
        key: form.key.clone(),
        name: form.name.clone(),
        description: form.description.clone(),
        permissions: form.permissions.clone(),
    };
    let saved = roles::create(&tx, &grant, &new).await;
    answer_saved(&req, &session, &tenant, tx, &form, false, saved).await
}

/// After a role form was saved: back to the list, or the form again with its field
/// errors (any other refusal is the answer).
async fn answer_saved(
    req: &HttpRequest,
    session: &Session,
    tenant: &Tenant,
    mut tx: RequestTx,
    form: &RoleForm,
    editing: bool,
    saved: Result<RoleView, roles::RoleError>,
) -> Result<HttpResponse, AppError> {
    match saved {
        Ok(role) => {
            let done = if editing { "saved" } else { "created" };
            flash::success(session, format!("Role {} {done}.", role.name));
            Ok(redirect(&tenant.url("/roles/")))
        }
        Err(error) => {
            let errors = AppError::from(error).into_fields()?;
            tx.read_again(tenant).await?;
            render(req, form_page(tenant, form, editing, &errors)).await
        }
    }
}

/// `GET /roles/{key}/edit/`
pub async fn edit_form(
    req: HttpRequest,
    key: web::Path<String>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let role = custom_role(&tx, &tenant, &key).await?;
    let page = form_page(&tenant, &RoleForm::of(&role), true, &FieldErrors::new());
    render(&req, page).await
}

/// `POST /roles/{key}/edit/`
pub async fn edit(
    req: HttpRequest,
    session: Session,
    key: web::Path<String>,
    form: crate::web::Form<Vec<(String, String)>>,
    TenantCtx { tenant, tx, grant }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let mut form = RoleForm::from_pairs(form.into_inner());
    form.key = key.into_inner();
    let patch = RolePatch {
        name: Some(form.name.clone()),
        description: Some(form.description.clone()),
        permissions: Some(form.permissions.clone()),
    };
    let saved = roles::update(&tx, &grant, &form.key, &patch).await;
    answer_saved(&req, &session, &tenant, tx, &form, true, saved).await
}

/// The page asking to delete `role`; when someone holds it, the page says who and offers no
/// button (`refused`).
fn delete_page(tenant: &Tenant, role: &RoleView, in_use: Option<(u64, u64)>) -> Page {
    let page = super::settings::sections::confirm(
        tenant,
        "roles",
        format!("Delete the role {}?", role.name),
        "Its permissions go with it. This cannot be undone.".to_string(),
        &format!("/roles/{}/delete/", role.key),
        "Delete the role",
    );
    match in_use {
        Some((members, invitations)) => page.with("refused", held_by(members, invitations)),
        None => page,
    }
}

/// "2 members hold it and 1 pending invitation offers it; …"
fn held_by(members: u64, invitations: u64) -> String {
    let count = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if members > 0 {
        let verb = if members == 1 { "holds" } else { "hold" };
        parts.push(format!("{} {verb} it", count(members, "member", "members")));
    }
    if invitations > 0 {
        let verb = if invitations == 1 { "offers" } else { "offer" };
        parts.push(format!(
            "{} {verb} it",
            count(invitations, "pending invitation", "pending invitations")
        ));
    }
    format!(
        "It cannot be deleted while it is in use: {}. Give its members other roles on the People page, and revoke the invitations that offer it, first.",
        parts.join(" and ")
    )
}

/// `GET /roles/{key}/delete/`: asks, or says who still holds the role.
pub async fn delete_form(
    req: HttpRequest,
    key: web::Path<String>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let role = custom_role(&tx, &tenant, &key).await?;
    let in_use = match roles::check_unused(&tx, tenant.catalog(), &role.key).await {
        Ok(()) => None,
        Err(roles::RoleError::InUse {
            members,
            invitations,
        }) => Some((members, invitations)),
        Err(other) => return Err(other.into()),
    };
    render(&req, delete_page(&tenant, &role, in_use)).await
}

/// `POST /roles/{key}/delete/`: refused (409, on the confirmation page) while anyone holds the
/// role.
pub async fn delete(
    req: HttpRequest,
    session: Session,
    key: web::Path<String>,
    TenantCtx {
        tenant,
        mut tx,
        grant,
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    match roles::delete(&tx, &grant, &key).await {
        Ok(()) => {
            flash::success(&session, "Role deleted.");
            Ok(redirect(&tenant.url("/roles/")))
        }
        Err(roles::RoleError::InUse {
            members,
            invitations,
        }) => {
            tx.read_again(&tenant).await?;
            let role = custom_role(&tx, &tenant, &key).await?;
            let page = delete_page(&tenant, &role, Some((members, invitations)));
            render(&req, page.status(StatusCode::CONFLICT)).await
        }
        Err(other) => Err(other.into()),
    }
}

/// List the roles
///
/// Every role, built-in first, on one page.
#[utoipa::path(
    get,
    path = "/api/v1/roles/",
    tag = "roles",
    operation_id = "list_roles",
    responses((status = 200, description = "Every role.", body = CursorPage<RoleView>)),
)]
pub async fn api_list(TenantCtx { tenant, tx, .. }: TenantCtx) -> Result<HttpResponse, AppError> {
    let all = roles::list(&tx, tenant.catalog()).await?;
    let total = all.len() as u64;
    Ok(HttpResponse::Ok().json(CursorPage {
        items: all,
        per_page: total,
        next: None,
        total: Some(total),
        page: None,
    }))
}

/// `POST /api/v1/roles/` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewRole)]
pub struct RoleJson {
    /// 1 to 40 of `a-z`, `0-9` and `-`, not a built-in role's; fixed once made.
    #[schema(pattern = "^[a-z0-9-]{1,40}$", example = "billing-manager")]
    key: String,
    /// 1 to 100 characters, one line.
    #[schema(min_length = 1, max_length = 100, example = "Billing manager")]
    name: String,
    /// At most 1,000 characters.
    #[serde(default)]
    #[schema(max_length = 1000)]
    description: String,
    /// Permission names (each must be yours to give; `organization.delete` and
    /// `ownership.transfer` are the owner's alone).
    #[serde(default)]
    #[schema(value_type = Vec<Permission>, max_items = 128)]
    permissions: Vec<String>,
}

/// Create a role
#[utoipa::path(
    post,
    path = "/api/v1/roles/",
    tag = "roles",
    operation_id = "create_role",
    request_body = RoleJson,
    responses(
        (status = 201, description = "Created.", body = RoleView, headers(("Location" = String, description = "The role's URL."))),
        (status = 409, description = "The key is taken.", body = crate::error::ErrorBody),
    ),
)]
pub async fn api_create(
    body: Json<RoleJson>,
    TenantCtx { tenant, tx, grant }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let new = NewRole {
        key: body.key,
        name: body.name,
        description: body.description,
        permissions: body.permissions,
    };
    let role = roles::create(&tx, &grant, &new).await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((
            header::LOCATION,
            tenant.url(&format!("/api/v1/roles/{}/", role.key)),
        ))
        .json(role))
}

/// Read a role
#[utoipa::path(
    get,
    path = "/api/v1/roles/{key}/",
    tag = "roles",
    operation_id = "get_role",
    params(("key" = String, Path, pattern = "^[a-z0-9-]{1,40}$", description = "The role's key.")),
    responses((status = 200, description = "The role.", body = RoleView, headers(("ETag" = String, description = "Its version, for `If-Match`.")))),
)]
pub async fn api_detail(
    key: web::Path<String>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let role = roles::get(&tx, tenant.catalog(), &key)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(etag::json(&role))
}

/// `If-Match` against the role as it was read (a role that does not exist is for the write to
/// report).
fn if_match(req: &HttpRequest, before: Option<&RoleView>) -> Result<(), AppError> {
    before.map_or(Ok(()), |role| etag::check_if_match(req, role))
}

/// `PATCH /api/v1/roles/{key}/` body (the key is fixed).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RolePatch)]
pub struct RolePatchJson {
    /// 1 to 100 characters, one line.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    /// At most 1,000 characters.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(max_length = 1000)]
    description: Option<String>,
    /// The whole set of permission names from now.
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(value_type = Option<Vec<Permission>>, max_items = 128)]
    permissions: Option<Vec<String>>,
}

/// Change a role
///
/// A built-in role is 409.
#[utoipa::path(
    patch,
    path = "/api/v1/roles/{key}/",
    tag = "roles",
    operation_id = "update_role",
    params(("key" = String, Path, pattern = "^[a-z0-9-]{1,40}$", description = "The role's key."), crate::web::etag::IfMatch),
    request_body = RolePatchJson,
    responses(
        (status = 200, description = "The role as it is now.", body = RoleView, headers(("ETag" = String, description = "Its version."))),
        (status = 409, description = "A built-in role.", body = crate::error::ErrorBody),
    ),
)]
pub async fn api_update(
    req: HttpRequest,
    key: web::Path<String>,
    body: Json<RolePatchJson>,
    TenantCtx { tenant, tx, grant }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let before = roles::get(&tx, tenant.catalog(), &key).await?;
    let patch = RolePatch {
        name: body.name,
        description: body.description,
        permissions: body.permissions,
    };
    let role = roles::update(&tx, &grant, &key, &patch).await?;
    // Checked after the write so that a bad body is 422 whatever version it names; a stale
    // version rolls the write back.
    if_match(&req, before.as_ref())?;
    Ok(etag::json(&role))
}

/// Delete a role
///
/// A built-in role, or one someone holds, is 409.
#[utoipa::path(
    delete,
    path = "/api/v1/roles/{key}/",
    tag = "roles",
    operation_id = "delete_role",
    params(("key" = String, Path, pattern = "^[a-z0-9-]{1,40}$", description = "The role's key."), crate::web::etag::IfMatch),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "Built in, or held by someone.", body = crate::error::ErrorBody),
    ),
)]
pub async fn api_delete(
    req: HttpRequest,
    key: web::Path<String>,
    TenantCtx { tenant, tx, grant }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let before = roles::get(&tx, tenant.catalog(), &key).await?;
    if_match(&req, before.as_ref())?;
    roles::delete(&tx, &grant, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}
