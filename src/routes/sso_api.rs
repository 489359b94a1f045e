//! The organization's email domains (`/api/v1/email-domains/`) and its single sign-on
//! connection (`/api/v1/sso-connection/`), as JSON. Thin: the rules are
//! `organizations::email_domains`' and `sso::connection`'s.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use entity::email_domain;
use serde::{Deserialize, Serialize};

use super::settings::{CursorQuery, cursor_page, person_only};
use crate::error::AppError;
use crate::organizations::email_domains::{self, EmailDomainError, JoinMode};
use crate::sso::connection::{self, Settings, View};
use crate::state::AppState;
use crate::web::pagination::CursorPage;
use crate::web::{Json, Query, TenantCtx};

/// An email domain as answered, with the record that proves it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailDomain {
    /// Its id.
    pub id: i64,
    /// The domain (`acme.com`).
    pub domain: String,
    /// `pending`, `verified` or `failed`.
    pub state: String,
    /// The name of the TXT record to publish (`_orgs-email.acme.com`).
    pub txt_name: String,
    /// Its value.
    pub txt_value: String,
    /// How people with a verified address there join: `off`, `suggest` or `automatic`.
    pub join: JoinMode,
    /// The role they get (`null`: `member`).
    pub role: Option<String>,
    /// When its record was last seen.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub verified_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When its record was last looked up.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub checked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `row` as answered.
pub fn email_domain_view(row: email_domain::Model) -> EmailDomain {
    EmailDomain {
        txt_name: email_domains::txt_name(&row.domain),
        txt_value: email_domains::txt_value(&row),
        join: JoinMode::parse(&row.join_mode),
        id: row.id,
        domain: row.domain,
        state: row.state,
        role: row.join_role,
        verified_at: row.verified_at,
        checked_at: row.checked_at,
    }
}

/// List the email domains
#[utoipa::path(
    get,
    path = "/api/v1/email-domains/",
    tag = "sso",
    operation_id = "list_email_domains",
    params(CursorQuery),
    responses((status = 200, description = "A page of email domains.", body = CursorPage<EmailDomain>)),
)]
pub async fn list(
    state: web::Data<AppState>,
    query: Query<CursorQuery>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let items: Vec<EmailDomain> = email_domains::list(&tx)
        .await?
        .into_iter()
        .map(email_domain_view)
        .collect();
    cursor_page(&state.cursors.of("email-domains"), items, |d| d.id, &query)
}

/// `POST /api/v1/email-domains/` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewEmailDomain)]
pub struct NewJson {
    /// An email domain the organization owns (`acme.com`); public mail services are refused.
    #[schema(min_length = 1, max_length = 253, example = "acme.com")]
    domain: String,
}

/// Add an email domain
///
/// Answers the TXT record to publish before verifying.
#[utoipa::path(
    post,
    path = "/api/v1/email-domains/",
    tag = "sso",
    operation_id = "add_email_domain",
    request_body = NewJson,
    responses(
        (status = 201, description = "Added, pending.", body = EmailDomain, headers(("Location" = String, description = "The domain's URL"))),
        (status = 409, description = "Added already, or verified by another organization.", body = crate::error::ErrorBody),
    ),
)]
pub async fn add(
    state: web::Data<AppState>,
    body: Json<NewJson>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let row = email_domains::add(&tx, state.db.connection(), &body.domain).await?;
    let location = tenant.url(&format!("/api/v1/email-domains/{}/", row.id));
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(email_domain_view(row)))
}

/// Read an email domain
#[utoipa::path(
    get,
    path = "/api/v1/email-domains/{id}/",
    tag = "sso",
    operation_id = "get_email_domain",
    params(("id" = i64, Path, minimum = 1, description = "The email domain's id.")),
    responses((status = 200, description = "The email domain.", body = EmailDomain)),
)]
pub async fn detail(
    id: web::Path<i64>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let row = email_domains::get(&tx, *id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(email_domain_view(row)))
}

/// Verify an email domain
///
/// Looks its TXT record up now: 200 once verified, 409 while the record is missing (a claim
/// fails 30 days after it was added) or when another organization verified the domain.
#[utoipa::path(
    post,
    path = "/api/v1/email-domains/{id}/verify/",
    tag = "sso",
    operation_id = "verify_email_domain",
    params(("id" = i64, Path, minimum = 1, description = "The email domain's id.")),
    responses(
        (status = 200, description = "Verified (or, for a domain verified before whose record is gone, back to pending).", body = EmailDomain),
        (status = 409, description = "The record is not there, or the domain is taken.", body = crate::error::ErrorBody),
    ),
)]
pub async fn verify(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    match email_domains::verify(&tx, state.dns.as_ref(), *id).await {
        Ok(row) => {
            tx.commit().await?;
            Ok(HttpResponse::Ok().json(email_domain_view(row)))
        }
        // The lookup's time (and a claim's failure) is kept though the answer is an error.
        Err(error @ EmailDomainError::NotVerified { .. }) => {
            tx.commit().await?;
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}

/// `PATCH /api/v1/email-domains/{id}/` body: each field given is set.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EmailDomainChange)]
pub struct ChangeJson {
    /// How people with a verified address there join: `off`, `suggest` (offered on their
    /// organizations page) or `automatic` (at verification and sign-in). Needs a verified
    /// domain.
    #[serde(default)]
    join: Option<JoinMode>,
    /// The role they get, one you could grant; `null` for `member`.
    #[serde(default, deserialize_with = "crate::web::json::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    role: Option<Option<String>>,
}

/// Set how people join by an email domain
#[utoipa::path(
    patch,
    path = "/api/v1/email-domains/{id}/",
    tag = "sso",
    operation_id = "update_email_domain",
    params(("id" = i64, Path, minimum = 1, description = "The email domain's id.")),
    request_body = ChangeJson,
    responses((status = 200, description = "Changed.", body = EmailDomain)),
)]
pub async fn update(
    id: web::Path<i64>,
    body: Json<ChangeJson>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let body = body.into_inner();
    let row = email_domains::set_join(&tx, &grant, *id, body.join, body.role).await?;
    Ok(HttpResponse::Ok().json(email_domain_view(row)))
}

/// Remove an email domain
#[utoipa::path(
    delete,
    path = "/api/v1/email-domains/{id}/",
    tag = "sso",
    operation_id = "remove_email_domain",
    params(("id" = i64, Path, minimum = 1, description = "The email domain's id.")),
    responses((status = 204, description = "Removed.")),
)]
pub async fn delete(
    id: web::Path<i64>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    if !email_domains::remove(&tx, *id).await? {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Read the single sign-on connection
#[utoipa::path(
    get,
    path = "/api/v1/sso-connection/",
    tag = "sso",
    operation_id = "get_sso_connection",
    responses(
        (status = 200, description = "The connection (never its secret).", body = View),
        (status = 404, description = "No connection.", body = crate::error::ErrorBody),
    ),
)]
pub async fn show_connection(
    state: web::Data<AppState>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let row = connection::get(&tx).await?.ok_or(AppError::NotFound)?;
    let public = &state.settings.server.public_url;
    Ok(HttpResponse::Ok().json(connection::view(&row, public, &tenant.organization().slug)))
}

/// Set the single sign-on connection
///
/// Creates or replaces it. `client_secret` is required to create it and may be left out to
/// keep the stored one; it is stored sealed and never answered.
#[utoipa::path(
    put,
    path = "/api/v1/sso-connection/",
    tag = "sso",
    operation_id = "put_sso_connection",
    request_body = Settings,
    responses(
        (status = 200, description = "Replaced.", body = View),
        (status = 201, description = "Created.", body = View),
    ),
)]
pub async fn put_connection(
    state: web::Data<AppState>,
    body: Json<Settings>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let insecure = state.sso.allows_insecure();
    let (row, created) =
        connection::put(&tx, &grant, &state.sealer, insecure, body.into_inner()).await?;
    let public = &state.settings.server.public_url;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(connection::view(
        &row,
        public,
        &tenant.organization().slug,
    )))
}

/// Remove the single sign-on connection
#[utoipa::path(
    delete,
    path = "/api/v1/sso-connection/",
    tag = "sso",
    operation_id = "remove_sso_connection",
    responses((status = 204, description = "Removed.")),
)]
pub async fn delete_connection(
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    if !connection::remove(&tx).await? {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}
