//! The General settings section (`/settings/`, saved by `POST /edit/`): the organization's
//! name, its address and the colour behind its initials.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::organization;
use serde::Serialize;

use crate::config::Settings;
use crate::error::{AppError, FieldErrors};
use crate::organizations;
use crate::routes::organization::{OrganizationForm, form_errors};
use crate::state::AppState;
use crate::web::render::redirect;
use crate::web::{Page, Tenant, TenantCtx, flash, render};

/// A palette colour as the General settings offer it.
#[derive(Serialize)]
struct ColorChoice {
    value: &'static str,
    label: &'static str,
}

/// The General settings section: the organization's name, address and colour.
pub(super) fn general_page(
    settings: &Settings,
    tenant: &Tenant,
    form: &OrganizationForm,
    errors: &FieldErrors,
) -> Page {
    let colors: Vec<ColorChoice> = std::iter::once(("", "Picked for it"))
        .chain(organizations::appearance::COLORS.iter().copied())
        .map(|(value, label)| ColorChoice { value, label })
        .collect();
    let address = crate::web::links::address(settings, &tenant.organization().slug);
    super::sections::page("settings/general.html", tenant, "general")
        .form(form, errors)
        .with("colors", colors)
        .with(
            "address_hint",
            format!(
                "Lowercase letters, digits and dashes: the organization is at {address}. The old address stops working."
            ),
        )
        .with("address", address)
}

/// The form as the organization is now.
pub(super) fn current_form(tenant: &Tenant) -> OrganizationForm {
    let organization = tenant.organization();
    OrganizationForm {
        name: organization.name.clone(),
        slug: organization.slug.clone(),
        color: organization.color.clone(),
    }
}

/// `GET /settings/` and `GET /edit/`: the General settings.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    tenant: Tenant,
) -> Result<HttpResponse, AppError> {
    super::person_only(&tenant)?;
    let form = current_form(&tenant);
    let page = general_page(&state.settings, &tenant, &form, &FieldErrors::new());
    render(&req, page).await
}

/// The General settings of an organization after a save, addressed the way this request
/// addressed it: on its subdomain, the new subdomain (signed in there by a handoff: the old
/// host no longer answers); on its custom domain, the same host; on the path form, the new path.
async fn settings_after_rename(
    req: &HttpRequest,
    state: &AppState,
    tenant: &Tenant,
    before: &str,
    organization: &organization::Model,
) -> Result<String, AppError> {
    if !tenant.root().is_empty() {
        return Ok(format!("/o/{}/settings/", organization.slug));
    }
    let host =
        crate::web::client::Client::of_request(req, &state.settings.server.trusted_proxies).host;
    let (name, _) = crate::web::links::split_port(&host);
    let on_subdomain =
        name.eq_ignore_ascii_case(&format!("{before}.{}", state.settings.tenant.base_domain));
    match tenant.user() {
        Some(user) if on_subdomain && organization.slug != before => Ok(
            crate::web::links::handoff(req, state, user.id(), &organization.slug, "/settings/")
                .await?,
        ),
        _ => Ok("/settings/".to_string()),
    }
}

/// `POST /edit/`: name, slug and colour.
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: crate::web::Form<OrganizationForm>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let before = tenant.organization().slug.clone();
    match organizations::update_organization(
        &tx,
        &form.name,
        Some(&form.slug),
        form.color.as_deref(),
    )
    .await
    {
        Ok(updated) => {
            // The handoff to a new subdomain is written after the rename commits (on SQLite
            // the request's transaction holds the only write lock until then).
            tx.commit().await?;
            flash::success(&session, "Saved.");
            let next = settings_after_rename(&req, &state, &tenant, &before, &updated).await?;
            Ok(redirect(&next))
        }
        Err(error) => {
            let page = general_page(&state.settings, &tenant, &form, &form_errors(error)?);
            render(&req, page).await
        }
    }
}
