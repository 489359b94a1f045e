//! The organization's settings area: a page per section ([`sections`] lists them), General
//! (`/settings/`, the organization's own form in [`super::organization`]), API keys and custom
//! domains (their forms and JSON are [`super::api_keys`] and [`super::domains`]), and the danger
//! zone. Here too is what the key and domain sections show and their API lists share. Only
//! people open them: an API key cannot mint keys or claim domains.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse};
use entity::UserId;
use serde::{Deserialize, Serialize};

pub mod general;
pub mod scim;
pub mod sections;
pub mod security;
pub mod sso;
pub mod webhooks;

use crate::cursor::ListCursors;
use crate::error::{AppError, FieldErrors};
use crate::organizations::{api_keys, domains};
use crate::permissions::{Catalog, Permission};
use crate::tenancy::TenantTxn;
use crate::web::flash::NEW_API_KEY as NEW_KEY;
use crate::web::pagination::{self, CursorPage};
use crate::web::{Tenant, TenantCtx, flash, forms, render};

/// The requester's user id: the settings are managed by people (an API key is 403).
pub(super) fn person_only(tenant: &Tenant) -> Result<i64, AppError> {
    tenant.user().map(|u| u.id).ok_or_else(|| {
        AppError::Forbidden(
            "The organization's settings are managed by people, not by API keys.".into(),
        )
    })
}

/// A domain as shown: the row and the record that proves it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CustomDomain)]
pub struct DomainView {
    #[serde(flatten)]
    pub(super) domain: entity::organization_domain::Model,
    /// The name of the TXT record to publish.
    txt_name: String,
    /// Its value.
    txt_value: String,
}

/// `domain` as shown, with the TXT record that proves it.
pub(super) fn domain_view(domain: entity::organization_domain::Model) -> DomainView {
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
    pub(super) key: entity::organization_api_key::Model,
    /// The maker's name, if they are still known.
    created_by_name: Option<String>,
    permissions: Vec<Permission>,
}

/// The organization's keys as listed, each with its maker's name and its permissions.
pub(super) async fn key_views(tx: &TenantTxn, catalog: &Catalog) -> Result<Vec<KeyView>, AppError> {
    let held = api_keys::permissions(tx, catalog).await?;
    let mut views = Vec::new();
    for key in api_keys::list_active(tx).await? {
        let created_by_name = match key.created_by_id {
            Some(id) => crate::auth::users::find_by_id(tx.conn(), UserId(id))
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

/// The API keys section, read in the request's transaction: the keys, the secret of a key
/// just made (shown once), and the form for a new one with `form` and `errors`.
pub(super) async fn keys_page(
    req: &HttpRequest,
    txn: &TenantTxn,
    tenant: &Tenant,
    new_key: Option<String>,
    form: impl Serialize,
    errors: &FieldErrors,
) -> Result<HttpResponse, AppError> {
    let catalog = tenant.catalog();
    let keys = key_views(txn, catalog).await?;
    let grantable = forms::permission_choices(
        catalog,
        catalog.assignable(),
        tenant.permissions().intersection(catalog.assignable()),
    );
    let page = sections::page("settings/api_keys.html", tenant, "api-keys")
        .with("keys", keys)
        .with("grantable", grantable)
        .with("permission_names", forms::permission_names(catalog))
        .with("new_key", new_key)
        .form(form, errors);
    render(req, page).await
}

/// The domains section, read in the request's transaction, with the form for a new one.
pub(super) async fn domains_page(
    req: &HttpRequest,
    txn: &TenantTxn,
    tenant: &Tenant,
    form: impl Serialize,
    errors: &FieldErrors,
) -> Result<HttpResponse, AppError> {
    let domains: Vec<DomainView> = domains::list(txn)
        .await?
        .into_iter()
        .map(domain_view)
        .collect();
    let page = sections::page("settings/domains.html", tenant, "domains")
        .with("domains", domains)
        .form(form, errors);
    render(req, page).await
}

/// No value to show again: a blank form.
#[derive(Default, Serialize)]
pub(super) struct Blank {}

/// `GET /settings/api-keys/`
pub async fn api_keys(
    req: HttpRequest,
    session: Session,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let new_key = flash::take_once::<String>(&session, NEW_KEY);
    keys_page(&req, &tx, &tenant, new_key, Blank {}, &FieldErrors::new()).await
}

/// `GET /settings/domains/`
pub async fn domains(
    req: HttpRequest,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    domains_page(&req, &tx, &tenant, Blank {}, &FieldErrors::new()).await
}

/// `GET /settings/danger/`: transferring and deleting the organization, each behind its own
/// typed confirmation.
pub async fn danger(req: HttpRequest, tenant: Tenant) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    render(
        &req,
        sections::page("settings/danger.html", &tenant, "danger"),
    )
    .await
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
pub(super) fn cursor_page<T: Serialize>(
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
