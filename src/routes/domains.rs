//! The organization's custom domains: added, verified by their TXT record and removed on the
//! settings page, and under `/api/v1/domains/`.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::OrganizationId;
use serde::{Deserialize, Serialize};

use super::settings::{
    CursorQuery, DomainView, cursor_page, domain_view, domains_page, person_only,
};
use crate::error::AppError;
use crate::organizations::domains::{self, DomainError};
use crate::state::AppState;
use crate::web::pagination::CursorPage;
use crate::web::render::redirect;
use crate::web::rows::Domain;
use crate::web::{Found, Json, Query, TenantCtx, flash};

/// A domain to add.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DomainForm {
    domain: String,
}

/// `POST /settings/domains/`
pub async fn add(
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
            Ok(redirect(&tenant.url("/settings/domains/")))
        }
        Err(error) => {
            let errors = AppError::from(error).into_fields()?;
            tx.read_again(&tenant).await?;
            domains_page(&req, &tx, &tenant, &*form, &errors).await
        }
    }
}

/// `POST /settings/domains/{id}/verify/`
pub async fn verify(
    state: web::Data<AppState>,
    session: Session,
    found: Found<Domain>,
) -> Result<HttpResponse, AppError> {
    let root = found.tenant.url("/settings/domains/");
    match verify_and_settle(&state, found).await? {
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
async fn verify_and_settle(
    state: &AppState,
    Found {
        tenant, tx, row, ..
    }: Found<Domain>,
) -> Result<Result<entity::organization_domain::Model, DomainError>, AppError> {
    person_only(&tenant)?;
    match domains::verify(&tx, state.dns.as_ref(), row.id).await {
        Ok(domain) => {
            tx.commit().await?;
            domains::lapse_other_claims(
                &state.db,
                OrganizationId(domain.organization_id),
                &domain.domain,
            )
            .await?;
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
pub async fn delete(
    session: Session,
    Found {
        tenant, tx, row, ..
    }: Found<Domain>,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    domains::remove(&tx, row.id).await?;
    flash::success(&session, "Domain removed.");
    Ok(redirect(&tenant.url("/settings/domains/")))
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
pub async fn api_list(
    state: web::Data<AppState>,
    query: Query<CursorQuery>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let items: Vec<DomainView> = domains::list(&tx)
        .await?
        .into_iter()
        .map(domain_view)
        .collect();
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
pub async fn api_add(
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
        .json(domain_view(domain)))
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
pub async fn api_verify(
    state: web::Data<AppState>,
    found: Found<Domain>,
) -> Result<HttpResponse, AppError> {
    match verify_and_settle(&state, found).await? {
        Ok(domain) => Ok(HttpResponse::Ok().json(domain_view(domain))),
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
pub async fn api_delete(
    Found {
        tenant, tx, row, ..
    }: Found<Domain>,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    domains::remove(&tx, row.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
