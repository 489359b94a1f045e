//! `/api/v1/account/two-factor/...`: the same factors as the account's security page, in JSON.
//! A browser session only (with its CSRF token): a token is refused, and so is a session whose
//! last confirmation is older than `auth.sudo_ttl_secs` for what adds or removes a factor.
//! Passkeys are added in two steps (options, then the browser's answer); the account page's
//! script uses the same handlers.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use crate::auth::passkeys::{Added, Ceremony, PasskeyJson};
use crate::auth::security_log::{self, SecurityEventJson};
use crate::auth::two_factor;
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
    let ip = Client::ip_of(&req, &state);
    let codes = state
        .security()
        .confirm_totp(&signed_in.user, &body.code, Some(key), Some(&ip))
        .await
        .map_err(service_error)?;
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
    let ip = Client::ip_of(&req, &state);
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
    let ip = Client::ip_of(&req, &state);
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

/// A new passkey's name.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyName {
    /// 1 to 100 characters on one line, what the account page calls it ("Work laptop").
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// The browser's answer to a registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyAnswer {
    /// The `challenge` that `POST .../passkeys/registration/` answered.
    pub challenge: String,
    /// What `navigator.credentials.create()` made, in WebAuthn's JSON form (`id`, `rawId`,
    /// `type`, `response.attestationObject`, `response.clientDataJSON`; binary in base64url).
    #[schema(value_type = Object)]
    pub credential: RegisterPublicKeyCredential,
}

/// A passkey added.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewPasskey {
    /// The passkey.
    #[serde(flatten)]
    pub passkey: PasskeyJson,
    /// Ten recovery codes, shown this once: only when it is the account's first second factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// My passkeys
#[utoipa::path(
    get,
    path = "/api/v1/account/two-factor/passkeys/",
    tag = "two-factor",
    operation_id = "list_passkeys",
    responses((status = 200, description = "Oldest first.", body = Vec<PasskeyJson>)),
)]
pub async fn passkeys(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    session_only(&signed_in)?;
    let list = crate::auth::passkeys::list(&state.db, signed_in.user.id()).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Start adding a passkey
///
/// Options for `navigator.credentials.create()` (a discoverable credential, with user
/// verification), and the challenge to send back with its answer within five minutes. Needs a
/// recent sign-in.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/passkeys/registration/",
    tag = "two-factor",
    operation_id = "start_passkey_registration",
    request_body = PasskeyName,
    responses((status = 200, description = "The ceremony's options.", body = Ceremony)),
)]
pub async fn start_passkey(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
    body: Json<PasskeyName>,
) -> Result<HttpResponse, AppError> {
    sudo(&req, &state, &signed_in)?;
    let ceremony = state
        .passkeys()
        .start_registration(&signed_in.user, &body.name)
        .await?;
    Ok(HttpResponse::Ok().json(ceremony))
}

/// Finishes a registration for the browser session of `req`, which then counts as completed
/// with a second factor: the page's and the API's.
pub(crate) async fn add_passkey(
    req: &HttpRequest,
    state: &AppState,
    signed_in: &SignedIn,
    body: &PasskeyAnswer,
) -> Result<Added, AppError> {
    let key = sudo(req, state, signed_in)?;
    let ip = Client::ip_of(req, state);
    let added = state
        .passkeys()
        .finish_registration(
            &signed_in.user,
            &body.challenge,
            &body.credential,
            Some(key),
            Some(&ip),
        )
        .await?;
    state.caches.invalidate();
    Ok(added)
}

/// Add a passkey
///
/// With the browser's answer to the options of `POST .../passkeys/registration/`: stores the
/// passkey, ends the person's other sessions, mails them, and, when it is their first second
/// factor, answers ten recovery codes, shown this once. A challenge works once.
#[utoipa::path(
    post,
    path = "/api/v1/account/two-factor/passkeys/",
    tag = "two-factor",
    operation_id = "add_passkey",
    request_body = PasskeyAnswer,
    responses(
        (status = 201, description = "Added.", body = NewPasskey),
        (status = 409, description = "The challenge expired or was used, or the passkey is registered already.", body = crate::error::ErrorBody),
    ),
)]
pub async fn register_passkey(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
    body: Json<PasskeyAnswer>,
) -> Result<HttpResponse, AppError> {
    let added = add_passkey(&req, &state, &signed_in, &body).await?;
    Ok(HttpResponse::Created().json(NewPasskey {
        passkey: added.passkey,
        recovery_codes: added.recovery_codes,
    }))
}

/// Remove a passkey
#[utoipa::path(
    delete,
    path = "/api/v1/account/two-factor/passkeys/{id}/",
    tag = "two-factor",
    operation_id = "delete_passkey",
    params(("id" = i64, Path, minimum = 1, description = "The passkey's id.")),
    responses((status = 204, description = "Removed; the other sessions ended.")),
)]
pub async fn delete_passkey(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let key = sudo(&req, &state, &signed_in)?;
    let ip = Client::ip_of(&req, &state);
    let removed = state
        .passkeys()
        .remove(&signed_in.user, *id, Some(key), Some(&ip))
        .await?;
    if !removed {
        return Err(AppError::NotFound);
    }
    state.caches.invalidate();
    Ok(HttpResponse::NoContent().finish())
}
