//! Single sign-on in the browser: `/sso/{slug}/start` (a page whose button posts) sends the
//! browser to the organization's identity provider, `/sso/callback` takes it back, both on
//! `server.public_url`'s host (the one redirect URI every provider registers); the sign-in
//! made there is handed to the organization's own host by a host-bound handoff
//! (`web::links`), so any instance serves either step. Joining by email domain
//! (`/organizations/join/{id}/`) is here too.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::OrganizationId;
use serde::{Deserialize, Serialize};

use super::sign_in;
use crate::error::AppError;
use crate::organizations::join_by_domain;
use crate::sso::{self, SsoError, connection, flow, linking};
use crate::state::AppState;
use crate::web::render::{local_target, redirect};
use crate::web::user::{CurrentUser, MaybeUser};
use crate::web::{Page, Query, flash, render};

/// The session key of the sign-on under way.
const PENDING_KEY: &str = "sso_pending";

/// `?next=&login_hint=` of `/sso/{slug}/start`, and its form.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct StartQuery {
    /// The organization's page to land on (a path).
    next: String,
    /// The address the person typed, passed on to the provider.
    login_hint: String,
}

/// `GET /sso/{slug}/start`: a page with one button that starts the sign-on. A link (or a
/// redirect) alone never starts one: another site could otherwise sign this browser in as
/// whoever its own provider says.
pub async fn start_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeUser(current): MaybeUser,
    slug: web::Path<String>,
    query: Query<StartQuery>,
) -> Result<HttpResponse, AppError> {
    if let Some(elsewhere) = off_public_host(&req, &state) {
        let public = state.settings.server.public_url.trim_end_matches('/');
        return Ok(redirect(&format!("{public}{elsewhere}")));
    }
    let organization = crate::tenancy::org_rows::by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    connection::for_sign_on(state.db.connection(), &organization).await?;
    let page = Page::new("auth/sso_start.html")
        .with("organization", &organization)
        .with("form", query.into_inner())
        .with("signed_in_as", current.map(|u| u.email));
    render(&req, page).await
}

/// `POST /sso/{slug}/start` (the page's button): sends the browser to the organization's
/// identity provider.
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    slug: web::Path<String>,
    form: crate::web::Form<StartQuery>,
) -> Result<HttpResponse, AppError> {
    if off_public_host(&req, &state).is_some() {
        return Err(AppError::NotFound);
    }
    let organization = crate::tenancy::org_rows::by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    begin(
        &state,
        &session,
        &organization,
        &form.login_hint,
        &form.next,
    )
    .await
}

/// Starts a sign-on through `organization`'s connection in this browser (on the public host):
/// what the session keeps, and the redirect to the provider.
async fn begin(
    state: &AppState,
    session: &Session,
    organization: &entity::organization::Model,
    hint: &str,
    next: &str,
) -> Result<HttpResponse, AppError> {
    let public = state.settings.server.public_url.trim_end_matches('/');
    let row = connection::for_sign_on(state.db.connection(), organization).await?;
    let (url, pending) = flow::start(
        &state.sso,
        &row,
        public,
        Some(hint.trim()),
        local_target(next),
    )
    .await?;
    session
        .insert(PENDING_KEY, pending)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, url))
        .insert_header((actix_web::http::header::REFERRER_POLICY, "no-referrer"))
        .finish())
}

/// This request's path and query when it came to another host than `server.public_url`'s.
fn off_public_host(req: &HttpRequest, state: &AppState) -> Option<String> {
    let client =
        crate::web::client::Client::of_request(req, &state.settings.server.trusted_proxies);
    let public = &state.settings.server.public_url;
    let authority = public.split_once("://").map_or(public.as_str(), |(_, r)| r);
    let authority = authority.split('/').next().unwrap_or_default();
    if client.host.eq_ignore_ascii_case(authority) {
        return None;
    }
    Some(
        req.uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string(),
    )
}

/// `?code=&state=` (or `?error=&error_description=`) of `/sso/callback`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallbackQuery {
    code: String,
    state: String,
    error: String,
    error_description: String,
}

/// `GET /sso/callback`
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    MaybeUser(current): MaybeUser,
    query: Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    // One use: whatever happens next, this browser's sign-on is spent.
    let pending = session
        .remove_as::<flow::Pending>(PENDING_KEY)
        .and_then(Result::ok);
    let Some(pending) = pending else {
        return Err(SsoError::Refused(
            "this sign-on was not started in this browser, or was finished already: start again"
                .into(),
        )
        .into());
    };
    if !query.error.is_empty() {
        let why = if query.error_description.is_empty() {
            &query.error
        } else {
            &query.error_description
        };
        return Err(SsoError::Refused(format!("the identity provider refused: {why}")).into());
    }
    let organization =
        crate::tenancy::org_rows::by_id(&state.db, OrganizationId(pending.organization_id))
            .await?
            .ok_or(AppError::NotFound)?;
    let row = connection::for_sign_on(state.db.connection(), &organization).await?;
    let public = state.settings.server.public_url.trim_end_matches('/');
    let asserted = flow::finish(
        &state.sso,
        &state.sealer,
        &row,
        public,
        &pending,
        &query.code,
        &query.state,
    )
    .await?;
    let signed_on = linking::sign_on(
        state.db.connection(),
        &state.events,
        &state.permissions,
        &state.hasher,
        &row,
        &asserted,
        current.as_ref().map(entity::user::Model::id),
    )
    .await?;
    if signed_on.joined {
        // A GET that made a member: the write middleware would not forget the cached access.
        state.caches.invalidate();
    }
    let slug = &signed_on.organization.slug;
    let next = match state.settings.tenant.links {
        crate::config::TenantLinks::Path => format!("/o/{slug}{}", pending.next),
        crate::config::TenantLinks::Subdomain => format!("/go/{slug}/"),
    };
    // Like after a password: the person's own factor is asked for when they have one; the
    // provider's, when the connection trusts it, counts for this organization alone.
    let sso = Some((row.organization_id, signed_on.provider_second_factor));
    match sign_in::after_first_factor(&req, &state, &session, &signed_on.user, &next, sso).await? {
        Ok(response) => Ok(response),
        Err(locked) => Err(AppError::Forbidden(locked)),
    }
}

/// `POST /organizations/join/{id}/`: joins an organization offered by the person's verified
/// address's domain.
pub async fn join(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let organization = crate::tenancy::org_rows::by_id(&state.db, OrganizationId(*id))
        .await?
        .ok_or(AppError::NotFound)?;
    join_by_domain::join(
        state.db.connection(),
        &state.events,
        &state.permissions,
        &user,
        OrganizationId(organization.id),
        false,
    )
    .await?;
    flash::success(&session, format!("You joined {}.", organization.name));
    Ok(redirect(&format!("/go/{}/", organization.slug)))
}

/// `POST /login/` with an address alone: when an organization's single sign-on answers for
/// its domain, the sign-on (started at once on the public host, the form being a checked
/// post; elsewhere its start page there). `None` for any other address.
pub(crate) async fn sign_on_for_address(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    email: &str,
    next: &str,
) -> Result<Option<HttpResponse>, AppError> {
    let Some(organization) = sso::connection::for_address(state.db.connection(), email).await?
    else {
        return Ok(None);
    };
    if off_public_host(req, state).is_none() {
        return Ok(Some(
            begin(state, session, &organization, email, next).await?,
        ));
    }
    let query = serde_urlencoded::to_string([("login_hint", email), ("next", local_target(next))])
        .unwrap_or_default();
    let public = state.settings.server.public_url.trim_end_matches('/');
    Ok(Some(redirect(&format!(
        "{public}/sso/{}/start?{query}",
        organization.slug
    ))))
}
