//! Organization settings for admins: API keys and custom domains, as a page and as JSON.
//! Only people manage them: an API key cannot mint keys or claim domains.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::tenant_page;
use crate::cursor::ListCursors;
use crate::error::{AppError, FieldErrors};
use crate::organizations::api_keys;
use crate::organizations::domains::{self, DomainError};
use crate::permissions::{Catalog, Permission};
use crate::state::AppState;
use crate::tenancy::TenantTxn;
use crate::web::pagination::{self, CursorPage};
use crate::web::render::redirect;
use crate::web::rows::{ApiKey, Domain};
use crate::web::{Found, Tenant, TenantCtx};
use crate::web::{Json, Query};
use crate::web::{flash, forms, render};

use crate::web::flash::NEW_API_KEY as NEW_KEY;

fn person_only(tenant: &Tenant) -> Result<i64, AppError> {
    tenant.user().map(|u| u.id).ok_or_else(|| {
        AppError::Forbidden("API keys and domains are managed by people, not by API keys.".into())
    })
}

/// A new key: its name and, optionally, its permissions (all the maker may give when absent).
#[derive(Debug, Default, Deserialize, Serialize, Validate, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(as = NewApiKey)]
pub struct KeyForm {
    #[validate(
        length(
            min = 1,
            max = 100,
            message = "give the key a name of 1 to 100 characters"
        ),
        custom(function = "crate::text::name")
    )]
    #[schema(min_length = 1, max_length = 100, example = "CI deploys")]
    name: String,
    /// Permission names the key holds (each must be yours); all you may give when left out.
    #[serde(deserialize_with = "crate::web::json::not_null")]
    #[schema(value_type = Option<Vec<Permission>>, max_items = 128)]
    permissions: Option<Vec<String>>,
}

impl KeyForm {
    /// The form of the settings page: `name`, and a `permissions` pair per ticked box.
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        let mut permissions = Vec::new();
        for (field, value) in pairs {
            match field.as_str() {
                "name" => form.name = value,
                "permissions" => permissions.push(value),
                _ => {}
            }
        }
        form.permissions = Some(permissions).filter(|p| !p.is_empty());
        form
    }
}

/// A domain to add.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DomainForm {
    domain: String,
}

/// A domain as shown: the row and the record that proves it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CustomDomain)]
pub struct DomainView {
    #[serde(flatten)]
    domain: entity::organization_domain::Model,
    /// The name of the TXT record to publish.
    txt_name: String,
    /// Its value.
    txt_value: String,
}

fn view(domain: entity::organization_domain::Model) -> DomainView {
    DomainView {
        txt_name: domains::challenge_name(&domain.domain),
        txt_value: domains::challenge_value(&domain),
        domain,
    }
}

/// A key as listed: the row, who made it and what it may do.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OrganizationApiKey)]
pub struct KeyView {
    #[serde(flatten)]
    key: entity::organization_api_key::Model,
    /// The maker's name, if they are still known.
    created_by_name: Option<String>,
    permissions: Vec<Permission>,
}

async fn key_views(tx: &TenantTxn, catalog: &Catalog) -> Result<Vec<KeyView>, AppError> {
    let held = api_keys::permissions(tx, catalog).await?;
    let mut views = Vec::new();
    for key in api_keys::list_active(tx).await? {
        let created_by_name = match key.created_by_id {
            Some(id) => crate::auth::users::find_by_id(tx.conn(), id)
                .await?
                .map(|u| u.display_name().to_string()),
            None => None,
        };
        views.push(KeyView {
            permissions: catalog.list(held.get(&key.id).copied().unwrap_or_default()),
            key,
            created_by_name,
        });
    }
    Ok(views)
}

/// The settings page, read in the request's transaction: the sections the requester may manage.
async fn settings_page(
    req: &HttpRequest,
    txn: &TenantTxn,
    tenant: &Tenant,
    new_key: Option<String>,
    errors: &FieldErrors,
) -> Result<HttpResponse, AppError> {
    let catalog = tenant.catalog();
    let keys = if tenant.can(Permission::API_KEYS_MANAGE) {
        key_views(txn, catalog).await?
    } else {
        Vec::new()
    };
    let domains: Vec<DomainView> = if tenant.can(Permission::DOMAINS_MANAGE) {
        domains::list(txn).await?.into_iter().map(view).collect()
    } else {
        Vec::new()
    };
    let grantable: Vec<Permission> =
        catalog.list(tenant.permissions().intersection(catalog.assignable()));
    let page = tenant_page("tenant/settings.html", tenant)
        .with("keys", keys)
        .with("domains", domains)
        .with("grantable", grantable)
        .with("new_key", new_key)
        .with("errors", errors);
    render(req, page).await
}

/// `GET /settings/`
pub async fn show(
    req: HttpRequest,
    session: Session,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    if !tenant.can(Permission::API_KEYS_MANAGE) && !tenant.can(Permission::DOMAINS_MANAGE) {
        return Err(AppError::MissingPermission(Permission::API_KEYS_MANAGE));
    }
    person_only(&tenant)?;
    let new_key = flash::take_once::<String>(&session, NEW_KEY);
    settings_page(&req, &tx, &tenant, new_key, &FieldErrors::new()).await
}

/// `POST /settings/api-keys/`
pub async fn create_key(
    req: HttpRequest,
    session: Session,
    form: crate::web::Form<Vec<(String, String)>>,
    TenantCtx {
        tenant,
        mut tx,
        grant,
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let user_id = person_only(&tenant)?;
    let form = KeyForm::from_pairs(form.into_inner());
    let created = match form.validate() {
        Err(errors) => Err(forms::invalid(forms::field_errors(&errors))),
        Ok(()) => api_keys::create(
            &tx,
            &grant,
            &form.name,
            Some(user_id),
            form.permissions.as_deref(),
        )
        .await
        .map_err(AppError::from),
    };
    let secret = match created {
        Ok(created) => created.secret,
        Err(error) => {
            let errors = error.into_fields()?;
            tx.read_again().await?;
            return settings_page(&req, &tx, &tenant, None, &errors).await;
        }
    };
    session
        .insert(NEW_KEY, secret)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    flash::success(&session, "API key created.");
    Ok(redirect(&tenant.url("/settings/")))
}

/// `GET /settings/api-keys/{id}/revoke/`: asks before revoking.
pub async fn revoke_key_form(
    req: HttpRequest,
    Found { tenant, row, .. }: Found<ApiKey>,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let page = super::organizations::confirm(
        &tenant,
        format!("Revoke the API key “{}”?", row.name),
        format!(
            "Anything using the key starting with {}… stops working at once. A revoked key cannot be restored; make a new one instead.",
            row.token_prefix
        ),
        &format!("/settings/api-keys/{}/revoke/", row.id),
        "Revoke the key",
    );
    render(&req, page).await
}

/// `POST /settings/api-keys/{id}/revoke/`
pub async fn revoke_key(
    session: Session,
    Found {
        tenant,
        tx,
        row,
        grant,
        ..
    }: Found<ApiKey>,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    api_keys::revoke_for(&tx, &grant, &row).await?;
    flash::success(&session, "API key revoked.");
    Ok(redirect(&tenant.url("/settings/")))
}

/// `POST /settings/domains/`
pub async fn add_domain(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: crate::web::Form<DomainForm>,
    TenantCtx { tenant, mut tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    match domains::add(
        &tx,
        &state.db,
        &form.domain,
        &state.settings.tenant.base_domain,
    )
    .await
    {
        Ok(_) => {
            flash::success(
                &session,
                "Domain added. Publish its TXT record, then verify it.",
            );
            Ok(redirect(&tenant.url("/settings/")))
        }
        Err(error) => {
            let errors = AppError::from(error).into_fields()?;
            tx.read_again().await?;
            settings_page(&req, &tx, &tenant, None, &errors).await
        }
    }
}

/// `POST /settings/domains/{id}/verify/`
pub async fn verify_domain(
    state: web::Data<AppState>,
    session: Session,
    found: Found<Domain>,
) -> Result<HttpResponse, AppError> {
    let root = found.tenant.url("/settings/");
    match verify(&state, found).await? {
        Ok(domain) => flash::success(&session, format!("{} is verified.", domain.domain)),
        Err(
            error @ (DomainError::Taken | DomainError::NotVerified { .. } | DomainError::Lookup(_)),
        ) => flash::push(&session, "error", error.to_string()),
        Err(other) => return Err(other.into()),
    }
    Ok(redirect(&root))
}

/// Verifies the domain and settles the outcome, for the page and the API alike: a verified
/// domain commits and ends other organizations' claims of it; a claim another organization
/// beat commits its own lapse. The domain's error, when it was not verified, is for the caller
/// to show.
async fn verify(
    state: &AppState,
    Found {
        tenant, tx, row, ..
    }: Found<Domain>,
) -> Result<Result<entity::organization_domain::Model, DomainError>, AppError> {
    person_only(&tenant)?;
    match domains::verify(&tx, state.dns.as_ref(), row.id).await {
        Ok(domain) => {
            tx.commit().await?;
            domains::lapse_other_claims(&state.db, domain.organization_id, &domain.domain).await?;
            Ok(Ok(domain))
        }
        Err(DomainError::Taken) => {
            tx.commit().await?;
            Ok(Err(DomainError::Taken))
        }
        Err(DomainError::Db(e)) => Err(e.into()),
        Err(other) => Ok(Err(other)),
    }
}

/// `POST /settings/domains/{id}/delete/`
pub async fn delete_domain(
    session: Session,
    Found {
        tenant, tx, row, ..
    }: Found<Domain>,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    domains::remove(&tx, row.id).await?;
    flash::success(&session, "Domain removed.");
    Ok(redirect(&tenant.url("/settings/")))
}

/// A key as the API returns it on creation: with its secret, once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    key: entity::organization_api_key::Model,
    /// The key itself (`orgs_key_...`): shown this once, kept only as a hash. `null` when the
    /// answer is given again to a retry with the same `Idempotency-Key`
    /// (`Idempotent-Redacted: secret`): make a new key if the first answer was lost.
    secret: Option<String>,
    permissions: Vec<Permission>,
}

/// `?after=&per_page=` of the key and domain lists.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct CursorQuery {
    /// The `next` of the page before (opaque).
    #[param(value_type = Option<String>)]
    after: Option<String>,
    /// Rows per page, 1 to 100 (50 when left out).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

/// One page of `rows` (an organization's keys or domains, a handful: read whole), newest first
/// by id, in the list envelope `{"items", "per_page", "next", "total"}`.
fn cursor_page<T: Serialize>(
    list: &ListCursors,
    mut rows: Vec<T>,
    id: impl Fn(&T) -> i64,
    query: &CursorQuery,
) -> Result<HttpResponse, AppError> {
    let (after, per_page) = pagination::cursor(
        list,
        query.after.as_deref(),
        query.per_page.as_deref(),
        pagination::MAX_PER_PAGE,
    )?;
    let total = rows.len();
    rows.sort_by_key(|row| std::cmp::Reverse(id(row)));
    let mut items: Vec<T> = rows
        .into_iter()
        .filter(|row| after.is_none_or(|after| id(row) < after))
        .take(usize::try_from(per_page + 1).unwrap_or(usize::MAX))
        .collect();
    let next = pagination::next_cursor(list, &mut items, per_page, &id);
    Ok(HttpResponse::Ok().json(CursorPage {
        items,
        per_page,
        next,
        total: Some(total as u64),
        page: None,
    }))
}

/// List the API keys
///
/// Newest first, revoked ones too. Managed by people only: an API key gets 403.
#[utoipa::path(
    get,
    path = "/api/v1/api-keys/",
    tag = "api-keys",
    operation_id = "list_api_keys",
    params(CursorQuery),
    responses((status = 200, description = "A page of keys.", body = CursorPage<KeyView>)),
)]
pub async fn api_list_keys(
    state: web::Data<AppState>,
    query: Query<CursorQuery>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let keys = key_views(&tx, tenant.catalog()).await?;
    cursor_page(&state.cursors.of("api_keys"), keys, |k| k.key.id, &query)
}

/// Create an API key
///
/// Answers its secret, this once.
#[utoipa::path(
    post,
    path = "/api/v1/api-keys/",
    tag = "api-keys",
    operation_id = "create_api_key",
    request_body(content = KeyForm, description = "The key's name and permissions."),
    responses((status = 201, description = "Created.", body = CreatedKey, headers(("Location" = String, description = "The key's URL (for DELETE)")))),
)]
pub async fn api_create_key(
    body: Json<KeyForm>,
    TenantCtx { tenant, tx, grant }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let user_id = person_only(&tenant)?;
    body.validate()
        .map_err(|e| forms::invalid(forms::field_errors(&e)))?;
    let asked = body.permissions.as_deref();
    let created = api_keys::create(&tx, &grant, &body.name, Some(user_id), asked).await?;
    let (key, secret) = (created.key, created.secret);
    let location = tenant.url(&format!("/api/v1/api-keys/{}/", key.id));
    let mut response = HttpResponse::build(StatusCode::CREATED)
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(CreatedKey {
            key,
            secret: Some(secret),
            permissions: tenant.catalog().list(created.permissions),
        });
    response
        .extensions_mut()
        .insert(crate::web::idempotency::ShownOnce(&["secret"]));
    Ok(response)
}

/// Revoke an API key
#[utoipa::path(
    delete,
    path = "/api/v1/api-keys/{id}/",
    tag = "api-keys",
    operation_id = "revoke_api_key",
    params(("id" = i64, Path, minimum = 1, description = "The key's id.")),
    responses((status = 204, description = "Revoked.")),
)]
pub async fn api_revoke_key(
    Found {
        tenant,
        tx,
        row,
        grant,
        ..
    }: Found<ApiKey>,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    api_keys::revoke_for(&tx, &grant, &row).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List the custom domains
#[utoipa::path(
    get,
    path = "/api/v1/domains/",
    tag = "domains",
    operation_id = "list_domains",
    params(CursorQuery),
    responses((status = 200, description = "A page of domains.", body = CursorPage<DomainView>)),
)]
pub async fn api_list_domains(
    state: web::Data<AppState>,
    query: Query<CursorQuery>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let items: Vec<DomainView> = domains::list(&tx).await?.into_iter().map(view).collect();
    cursor_page(&state.cursors.of("domains"), items, |d| d.domain.id, &query)
}

/// `POST /api/v1/domains/` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewDomain)]
pub struct DomainJson {
    /// A host name outside the server's own domain (`app.acme.com`).
    #[schema(min_length = 1, max_length = 253, example = "app.acme.com")]
    domain: String,
}

/// Add a custom domain
///
/// Answers the TXT record to publish before verifying.
#[utoipa::path(
    post,
    path = "/api/v1/domains/",
    tag = "domains",
    operation_id = "add_domain",
    request_body = DomainJson,
    responses(
        (status = 201, description = "Added, unverified.", body = DomainView, headers(("Location" = String, description = "The domain's URL (for DELETE)"))),
        (status = 409, description = "The domain is taken.", body = crate::error::ErrorBody),
    ),
)]
pub async fn api_add_domain(
    state: web::Data<AppState>,
    body: Json<DomainJson>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let domain = domains::add(
        &tx,
        &state.db,
        &body.domain,
        &state.settings.tenant.base_domain,
    )
    .await?;
    let location = tenant.url(&format!("/api/v1/domains/{}/", domain.id));
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(view(domain)))
}

/// Verify a custom domain
///
/// Looks up its TXT record: 409 while it is not there.
#[utoipa::path(
    post,
    path = "/api/v1/domains/{id}/verify/",
    tag = "domains",
    operation_id = "verify_domain",
    params(("id" = i64, Path, minimum = 1, description = "The domain's id.")),
    responses(
        (status = 200, description = "Verified.", body = DomainView),
        (status = 409, description = "The record is not there yet, or the domain is taken.", body = crate::error::ErrorBody),
    ),
)]
pub async fn api_verify_domain(
    state: web::Data<AppState>,
    found: Found<Domain>,
) -> Result<HttpResponse, AppError> {
    match verify(&state, found).await? {
        Ok(domain) => Ok(HttpResponse::Ok().json(view(domain))),
        Err(DomainError::Taken) => Err(AppError::Conflict(DomainError::Taken.to_string())),
        Err(other) => Err(other.into()),
    }
}

/// Remove a custom domain
#[utoipa::path(
    delete,
    path = "/api/v1/domains/{id}/",
    tag = "domains",
    operation_id = "remove_domain",
    params(("id" = i64, Path, minimum = 1, description = "The domain's id.")),
    responses((status = 204, description = "Removed.")),
)]
pub async fn api_delete_domain(
    Found {
        tenant, tx, row, ..
    }: Found<Domain>,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    domains::remove(&tx, row.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
