//! The organization's API keys: made and revoked on the settings page, and under
//! `/api/v1/api-keys/`. A new key's secret is shown once.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::settings::{CursorQuery, KeyView, cursor_page, key_views, keys_page, person_only};
use crate::error::AppError;
use crate::organizations::api_keys;
use crate::permissions::Permission;
use crate::state::AppState;
use crate::web::flash::NEW_API_KEY as NEW_KEY;
use crate::web::pagination::CursorPage;
use crate::web::render::redirect;
use crate::web::rows::ApiKey;
use crate::web::{Found, Json, Query, TenantCtx, flash, forms, render};

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

/// `POST /settings/api-keys/`
pub async fn create(
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
    tenant.require_recent(&req, "/settings/api-keys/")?;
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
            tx.read_again(&tenant).await?;
            return keys_page(&req, &tx, &tenant, None, &form, &errors).await;
        }
    };
    session
        .insert(NEW_KEY, secret)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    flash::success(&session, "API key created.");
    Ok(redirect(&tenant.url("/settings/api-keys/")))
}

/// `GET /settings/api-keys/{id}/revoke/`: asks before revoking.
pub async fn revoke_form(
    req: HttpRequest,
    Found { tenant, row, .. }: Found<ApiKey>,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let page = super::settings::sections::confirm(
        &tenant,
        "api-keys",
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
pub async fn revoke(
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
    Ok(redirect(&tenant.url("/settings/api-keys/")))
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
pub async fn api_list(
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
pub async fn api_create(
    req: HttpRequest,
    body: Json<KeyForm>,
    TenantCtx { tenant, tx, grant }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let user_id = person_only(&tenant)?;
    tenant.require_recent(&req, "/settings/api-keys/")?;
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
pub async fn api_revoke(
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
