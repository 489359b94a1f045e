//! The pages' passkey ceremonies, driven by `/static/passkeys.js` (JSON in, JSON out, with the
//! session's CSRF token in `X-CSRF-Token`): adding one on the security page (its options come
//! from the API's handler, `two_factor_api::start_passkey`) and removing one there, signing in
//! with a passkey alone from the login page, and completing a password sign-in's second step
//! with one. What a sign-in answers is where the page goes next: `{"redirect": "..."}`.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::PublicKeyCredential;

use crate::auth::passkeys::PasskeyError;
use crate::auth::sessions::Proof;
use crate::auth::throttle;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::client::Client;
use crate::web::render::redirect;
use crate::web::user::recent_session;
use crate::web::{Json, Query, SignedIn, flash};

use super::security::{ForQuery, NEW_CODES_KEY};
use super::sign_in;
use super::two_factor_api::{PasskeyAnswer, add_passkey};

/// Where a page goes once a ceremony is done.
#[derive(Debug, Serialize)]
pub struct Next {
    /// A local address.
    pub redirect: String,
}

fn next(redirect: impl Into<String>) -> HttpResponse {
    HttpResponse::Ok().json(Next {
        redirect: redirect.into(),
    })
}

/// `POST /account/security/passkeys/?for=`: the browser's answer adds the passkey; new recovery
/// codes (a first factor) are shown once on the page it goes back to, which still names the
/// organization that sent the person there (`for`).
pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    signed_in: SignedIn,
    query: Query<ForQuery>,
    body: Json<PasskeyAnswer>,
) -> Result<HttpResponse, AppError> {
    let added = add_passkey(&req, &state, &signed_in, &body).await?;
    let page = match query.organization.as_str() {
        "" => "/account/security/".to_string(),
        slug => format!(
            "/account/security/?{}",
            serde_urlencoded::to_string([("for", slug)]).unwrap_or_default()
        ),
    };
    let back = match added.recovery_codes {
        Some(codes) => {
            session
                .insert(NEW_CODES_KEY, codes)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            format!("{page}#recovery")
        }
        None => format!("{page}#passkeys"),
    };
    let name = added.passkey.name;
    flash::success(
        &session,
        format!("Your passkey “{name}” is added. Your other sign-ins have ended."),
    );
    Ok(next(back))
}

/// `POST /account/security/passkeys/{id}/delete/`
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    signed_in: SignedIn,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let ttl = state.settings.auth.sudo_ttl_secs;
    let key = recent_session(&req, &signed_in, ttl, "/account/security/")?;
    let ip = Client::ip_of(&req, &state);
    let removed = state
        .passkeys()
        .remove(&signed_in.user, *id, Some(key), Some(&ip))
        .await?;
    if !removed {
        return Err(AppError::NotFound);
    }
    state.caches.invalidate();
    flash::success(
        &session,
        "The passkey was removed. Your other sign-ins have ended.",
    );
    Ok(redirect("/account/security/#passkeys"))
}

/// `POST /login/passkey/options/`: a sign-in with a passkey alone begins.
pub async fn sign_in_options(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    refuse_throttled(&req, &state).await?;
    Ok(HttpResponse::Ok().json(state.passkeys().start_sign_in().await?))
}

/// Refuses a client that failed too many sign-ins (passwords or passkeys) lately.
async fn refuse_throttled(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
    let counter = throttle::Counter::login_client(&Client::ip_of(req, state), &state.settings.auth);
    match throttle::refused_for(&state.db, &[counter]).await? {
        Some(limit) => Err(AppError::TooManyRequests(limit)),
        None => Ok(()),
    }
}

/// `POST /login/passkey/`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInAnswer {
    /// The ceremony's key, from the options.
    challenge: String,
    /// What `navigator.credentials.get()` gave, in WebAuthn's JSON form.
    credential: PublicKeyCredential,
    /// Where to go once signed in (the login page's `next=`).
    #[serde(default)]
    next: String,
}

/// `POST /login/passkey/`: the passkey's answer signs its owner in, with a second factor (a
/// passkey verifies its user). A refused answer counts against the client like a wrong
/// password.
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    body: Json<SignInAnswer>,
) -> Result<HttpResponse, AppError> {
    refuse_throttled(&req, &state).await?;
    let user = match state
        .passkeys()
        .finish_sign_in(&body.challenge, &body.credential)
        .await
    {
        Ok(user) => user,
        Err(error @ PasskeyError::Refused(_)) => {
            let counter =
                throttle::Counter::login_client(&Client::ip_of(&req, &state), &state.settings.auth);
            throttle::hit(&state.db, &[counter]).await?;
            return Err(error.into());
        }
        Err(error) => return Err(error.into()),
    };
    sign_in::sign_in(&req, &state, &session, user.id(), Proof::second_factor()).await?;
    Ok(next(sign_in::target(&state, user.id(), &body.next).await?))
}

/// What the second-factor step's options answer.
#[derive(Debug, Serialize)]
pub struct StepOptions {
    /// `{"publicKey": {...}}` for `navigator.credentials.get()`.
    options: serde_json::Value,
}

/// `POST /login/two-factor/passkey/options/`: options for the half-signed-in person's
/// passkeys.
pub async fn step_options(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    let Some((pending, user_id)) = sign_in::pending(&state, &session).await? else {
        return Err(AppError::Conflict(sign_in::expired_message()));
    };
    let options = state
        .passkeys()
        .start_second_factor(user_id, &pending.key)
        .await?;
    Ok(HttpResponse::Ok().json(StepOptions { options }))
}

/// `POST /login/two-factor/passkey/`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAnswer {
    /// What `navigator.credentials.get()` gave, in WebAuthn's JSON form.
    credential: PublicKeyCredential,
}

/// `POST /login/two-factor/passkey/`: one of the person's passkeys completes the sign-in.
pub async fn step(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    body: Json<StepAnswer>,
) -> Result<HttpResponse, AppError> {
    let Some((pending, user_id)) = sign_in::pending(&state, &session).await? else {
        return Err(AppError::Conflict(sign_in::expired_message()));
    };
    state
        .passkeys()
        .verify_second_factor(user_id, &pending.key, &body.credential)
        .await?;
    sign_in::complete(&req, &state, &session, &pending, user_id).await?;
    Ok(next(sign_in::target(&state, user_id, &pending.next).await?))
}
