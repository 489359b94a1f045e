//! Confirming it is you before a dangerous action (sudo mode): a password or a second-factor
//! code marks this browser's sign-in confirmed now, for `auth.sudo_ttl_secs`. A code also
//! counts as a second factor used in the sign-in (a session that predates the person's
//! enrolment becomes one an organization requiring two-factor accepts). Wrong passwords count
//! against the login limits; wrong codes against the account's hard limit.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::two_factor::{self, Refused};
use crate::auth::{sessions, throttle};
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;
use crate::web::client::Client;
use crate::web::render::{local_target, redirect};
use crate::web::user::session_only;
use crate::web::{Json, Page, Query, SignedIn, flash, render};

/// `?next=` of the page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

/// The page's form: a password or a code, and where to go back to. Not the API's body: a form
/// also carries its `csrf_token`, which a body refusing unknown fields would refuse.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ReauthForm {
    /// The account's password.
    #[serde(skip_serializing)]
    password: String,
    /// A code from the authenticator app, or a recovery code.
    #[serde(skip_serializing)]
    code: String,
    /// Where to go back to.
    next: String,
}

/// `POST /api/v1/account/reauthenticate/`'s body: a password or a code.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(as = Reauthentication)]
pub struct ReauthJson {
    /// The account's password.
    password: String,
    /// A code from the authenticator app, or a recovery code.
    code: String,
}

/// How long the confirmation lasts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Confirmed {
    /// Dangerous actions are open until then.
    pub confirmed_until: DateTime<Utc>,
}

/// Checks `password` or `code` for the signed-in person; on success marks the sign-in with the
/// key `key` confirmed (with a code: completed with a second factor too).
async fn confirm(
    req: &HttpRequest,
    state: &AppState,
    signed_in: &SignedIn,
    key: &str,
    (password, code): (&str, &str),
) -> Result<(), AppError> {
    let user = &signed_in.user;
    let client = Client::ip_of(req, state);
    let second_factor = if !code.trim().is_empty() {
        match state
            .security()
            .verify(user.id(), code, Some(&client))
            .await?
        {
            Ok(_) => true,
            Err(Refused::Wrong { .. }) => {
                return Err(AppError::field("code", "this code is not right"));
            }
            Err(Refused::Locked { retry_after_secs }) => {
                return Err(AppError::field(
                    "code",
                    format!(
                        "too many wrong codes; try again in {}",
                        crate::text::describe_ttl(u64::try_from(retry_after_secs).unwrap_or(60))
                    ),
                ));
            }
        }
    } else if !password.is_empty() {
        let auth = &state.settings.auth;
        let pair = throttle::Counter::login_pair(&user.email, &client, auth);
        if let Some(limit) = throttle::refused_for(&state.db, std::slice::from_ref(&pair)).await? {
            return Err(AppError::TooManyRequests(limit));
        }
        let phc = user.password_hash.as_deref();
        if !state.hasher.verify_or_dummy(password, phc).await? {
            throttle::hit(&state.db, &[pair]).await?;
            return Err(AppError::field("password", "this is not your password"));
        }
        false
    } else {
        return Err(AppError::field(
            "password",
            "enter your password, or a code in `code`",
        ));
    };
    sessions::confirm(&state.db, key, user.id(), second_factor).await?;
    // The cached sign-in carries what it proved.
    state.caches.invalidate();
    crate::web::user::forget(req);
    Ok(())
}

async fn reauth_page(
    state: &AppState,
    signed_in: &SignedIn,
    next: &str,
    errors: &FieldErrors,
) -> Result<Page, AppError> {
    let factors = two_factor::factors(&state.db, signed_in.user.id()).await?;
    let form = ReauthForm {
        next: next.to_string(),
        ..Default::default()
    };
    Ok(Page::new("auth/reauthenticate.html")
        .form(&form, errors)
        .with("next", local_target(next))
        .with("factors", factors))
}

/// `GET /reauthenticate/?next=`
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let page = reauth_page(&state, &signed_in, &query.next, &FieldErrors::new()).await?;
    render(&req, page).await
}

/// `POST /reauthenticate/`: back to `next` once confirmed.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: actix_session::Session,
    signed_in: SignedIn,
    form: crate::web::Form<ReauthForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    // A token is refused, also beside a session cookie (it skips the CSRF check, and the
    // cookie's sign-in may be someone else's).
    let key = session_only(&signed_in)?;
    match confirm(&req, &state, &signed_in, key, (&form.password, &form.code)).await {
        Ok(()) => {
            flash::success(
                &session,
                "Thank you: you can go on for the next few minutes.",
            );
            Ok(redirect(local_target(&form.next)))
        }
        Err(AppError::Invalid { fields, .. }) => {
            let page = reauth_page(&state, &signed_in, &form.next, &fields).await?;
            render(&req, page).await
        }
        Err(other) => Err(other),
    }
}

/// Confirm it is me
///
/// Confirms the browser session with the account's password or a second-factor code, for the
/// dangerous actions of the next `auth.sudo_ttl_secs` (10 minutes by default). A browser
/// session only: an API token is refused.
#[utoipa::path(
    post,
    path = "/api/v1/account/reauthenticate/",
    tag = "account",
    operation_id = "reauthenticate",
    request_body = ReauthJson,
    responses(
        (status = 200, description = "Confirmed.", body = Confirmed),
        (status = 429, description = "Too many wrong passwords from this address.", body = crate::error::ErrorBody),
    ),
)]
pub async fn api(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
    body: Json<ReauthJson>,
) -> Result<HttpResponse, AppError> {
    let key = session_only(&signed_in)?;
    confirm(&req, &state, &signed_in, key, (&body.password, &body.code)).await?;
    let ttl = i64::try_from(state.settings.auth.sudo_ttl_secs).unwrap_or(600);
    Ok(HttpResponse::Ok().json(Confirmed {
        confirmed_until: entity::chrono_now() + chrono::Duration::seconds(ttl),
    }))
}
