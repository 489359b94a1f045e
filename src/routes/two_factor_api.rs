//! `/api/v1/account/two-factor/...`: the same factors as the account's security page, in JSON.
//! A browser session only (with its CSRF token): a token is refused, and so is a session whose
//! last confirmation is older than `auth.sudo_ttl_secs` for what adds or removes a factor.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::security_log::{self, SecurityEventJson};
use crate::auth::{sessions, two_factor};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::client::Client;
use crate::web::user::{recent_session, session_only};
use crate::web::{Json, SignedIn};

use super::security::service_error;

/// A TOTP enrolment begun.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotpEnrolment {
    /// The secret, base32: what an authenticator app takes typed.
    pub secret: String,
    /// The `otpauth://totp/...` address (what the account page's QR code holds).
    pub otpauth_url: String,
}

/// A code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// Six digits from the authenticator app.
    pub code: String,
}

/// New recovery codes, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes.
    pub recovery_codes: Vec<String>,
}

fn sudo<'a>(
    req: &HttpRequest,
    state: &AppState,
    signed_in: &'a SignedIn,
) -> Result<&'a str, AppError> {
    let ttl = state.settings.auth.sudo_ttl_secs;
    recent_session(req, signed_in, ttl, "/account/security/")
}

fn client(req: &HttpRequest, state: &AppState) -> String {
    Client::of_request(req, &state.settings.server.trusted_proxies).ip_text()
}

/// My second factors
#[utoipa::path(
    get,
    path = "/api/v1/account/two-factor/",
    tag = "two-factor",
    operation_id = "get_two_factor",
    responses((status = 200, description = "What the person has set up.", body = two_factor::Factors)),
)]
pub async fn status(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    session_only(&signed_in)?;
    let factors = two_factor::factors(&state.db, signed_in.user.id()).await?;
    Ok(HttpResponse::Ok().json(factors))
}

/// Start setting up an authenticator app
///
/// A new secret, enabled only once `POST .../totp/confirm/` sends a code made from it. Needs a
/// recent sign-in.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/totp/",
    tag = "two-factor",
    operation_id = "start_totp",
    responses(
        (status = 201, description = "The secret to put in the app.", body = TotpEnrolment),
        (status = 409, description = "An app is set up already.", body = crate::error::ErrorBody),
    ),
)]
pub async fn start_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    sudo(&req, &state, &signed_in)?;
    let enrolment = state
        .security()
        .start_totp(&signed_in.user)
        .await
        .map_err(service_error)?;
    Ok(HttpResponse::Created().json(TotpEnrolment {
        secret: enrolment.secret,
        otpauth_url: enrolment.otpauth_url,
    }))
}

/// Enable the authenticator app
///
/// With a code from it: enables the app, ends the person's other sessions, mails them, and
/// answers ten recovery codes, shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/totp/confirm/",
    tag = "two-factor",
    operation_id = "confirm_totp",
    request_body = TotpCode,
    responses(
        (status = 200, description = "Enabled.", body = RecoveryCodes),
        (status = 409, description = "Nothing to confirm, or an app is set up already.", body = crate::error::ErrorBody),
    ),
)]
pub async fn confirm_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
    body: Json<TotpCode>,
) -> Result<HttpResponse, AppError> {
    let key = sudo(&req, &state, &signed_in)?;
    let ip = client(&req, &state);
    let codes = state
        .security()
        .confirm_totp(&signed_in.user, &body.code, Some(key), Some(&ip))
        .await
        .map_err(service_error)?;
    sessions::confirm(&state.db, key, signed_in.user.id(), true).await?;
    state.caches.invalidate();
    Ok(HttpResponse::Ok().json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Remove the authenticator app
#[utoipa::path(
    delete,
    path = "/api/v1/account/two-factor/totp/",
    tag = "two-factor",
    operation_id = "delete_totp",
    responses(
        (status = 204, description = "Removed; the other sessions ended."),
        (status = 404, description = "No authenticator app is set up.", body = crate::error::ErrorBody),
    ),
)]
pub async fn delete_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    let key = sudo(&req, &state, &signed_in)?;
    let ip = client(&req, &state);
    let removed = state
        .security()
        .disable_totp(&signed_in.user, Some(key), Some(&ip))
        .await
        .map_err(service_error)?;
    if !removed {
        return Err(AppError::NotFound);
    }
    state.caches.invalidate();
    Ok(HttpResponse::NoContent().finish())
}

/// Make new recovery codes
///
/// Ten new codes, shown this once; the old ones stop working.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/recovery-codes/",
    tag = "two-factor",
    operation_id = "renew_recovery_codes",
    responses(
        (status = 200, description = "The new codes.", body = RecoveryCodes),
        (status = 409, description = "No second factor for them to stand in for.", body = crate::error::ErrorBody),
    ),
)]
pub async fn renew_codes(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    sudo(&req, &state, &signed_in)?;
    let ip = client(&req, &state);
    let codes = state
        .security()
        .renew_recovery_codes(&signed_in.user, Some(&ip))
        .await
        .map_err(service_error)?;
    Ok(HttpResponse::Ok().json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// My security log
///
/// The newest 50 entries: factors added and removed, recovery codes used and renewed,
/// sign-ins stopped after wrong codes.
#[utoipa::path(
    get,
    path = "/api/v1/account/security-events/",
    tag = "two-factor",
    operation_id = "list_security_events",
    responses((status = 200, description = "Newest first.", body = Vec<SecurityEventJson>)),
)]
pub async fn events(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    let events = security_log::newest(&state.db, signed_in.user.id(), 50).await?;
    Ok(HttpResponse::Ok().json(events))
}
