//! Making a sign-in: after a correct password, at once for a person without a second factor,
//! otherwise through the second-factor step (`/login/two-factor/`). Between the two the
//! browser is half signed in: its session holds the key of a pending step that grants nothing,
//! lasts five minutes and ends after too many wrong codes (`auth::two_factor`).

use actix_identity::Identity;
use actix_session::Session;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use entity::{UserId, user};
use serde::{Deserialize, Serialize};

use crate::auth::challenges::{self, Purpose};
use crate::auth::sessions::{self, Proof};
use crate::auth::two_factor::{self, Accepted, AfterPassword, Refused};
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;
use crate::web::client::Client;
use crate::web::render::{local_target, redirect};
use crate::web::{Page, csrf, flash, forms, render};

/// The session key of the half-signed-in state: the pending step's key and where to go after.
const PENDING_KEY: &str = "two_factor_pending";

/// The half-signed-in state kept in the browser's session.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Pending {
    /// The key of the `auth_challenges` row.
    pub key: String,
    /// Where the sign-in goes once complete.
    pub next: String,
    /// The organization whose single sign-on made the first step, if one did, and whether its
    /// trusted provider asserted a second factor.
    #[serde(default)]
    pub sso: Option<(i64, bool)>,
}

/// Signs `user_id` in on this browser with what the sign-in proved: a new sign-in row, a
/// renewed session, a new CSRF token.
pub(crate) async fn sign_in(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user_id: UserId,
    proof: Proof,
) -> Result<(), AppError> {
    sign_in_family(req, state, session, user_id, None, proof).await
}

/// [`sign_in`] as a member of a session family (a handoff's).
pub(crate) async fn sign_in_family(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user_id: UserId,
    family: Option<String>,
    proof: Proof,
) -> Result<(), AppError> {
    // An organization whose email domain is set to join automatically takes its people in
    // at every sign-in (their address verified, a seat free).
    if let Some(user) = crate::auth::users::find_by_id(&state.db, user_id).await?
        && crate::organizations::join_by_domain::join_automatically(
            state.db.connection(),
            &state.events,
            &state.permissions,
            &user,
        )
        .await?
        .is_some()
    {
        // A handoff is a GET: the write middleware would not forget the cached access.
        state.caches.invalidate();
    }
    let ttl = state.settings.session.ttl_hours;
    let key = sessions::create(&state.db, user_id, ttl, family, proof).await?;
    session.remove(PENDING_KEY);
    Identity::login(&req.extensions(), key)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    csrf::rotate(session);
    Ok(())
}

/// Where a sign-in without a (safe) `next=` lands: on the person's organization when they have
/// one, on the list when several, on making one when none.
pub(crate) async fn landing(state: &AppState, user_id: UserId) -> Result<String, AppError> {
    let mine = crate::tenancy::org_rows::of_user(&state.db, user_id, false).await?;
    Ok(match mine.as_slice() {
        [] => "/organizations/add/".to_string(),
        // /go/ signs them in on the organization's own host when links are subdomains.
        [only] => format!("/go/{}/", only.slug),
        _ => "/organizations/".to_string(),
    })
}

/// Where a completed sign-in goes: `next` when it is a local address, else the landing.
pub(crate) async fn target(
    state: &AppState,
    user_id: UserId,
    next: &str,
) -> Result<String, AppError> {
    Ok(match local_target(next) {
        "/" if next != "/" => landing(state, user_id).await?,
        next => next.to_string(),
    })
}

/// After a correct password: signs a person without a second factor in and sends them on; for
/// one with a factor, starts the second-factor step. `Err` with a message for the login form
/// when the account's second-factor step is locked after too many wrong codes.
pub(crate) async fn after_password(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user: &user::Model,
    next: &str,
) -> Result<Result<HttpResponse, String>, AppError> {
    after_first_factor(req, state, session, user, next, None).await
}

/// [`after_password`] for any first step: a password, or an organization's single sign-on
/// (`sso`: the organization, and whether its trusted provider asserted a second factor), which
/// the sign-in then carries. A sign-on never stands in for the account's own factor, and
/// confirms nothing for an account with a password (its dangerous actions still ask for it).
pub(crate) async fn after_first_factor(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user: &user::Model,
    next: &str,
    sso: Option<(i64, bool)>,
) -> Result<Result<HttpResponse, String>, AppError> {
    match two_factor::after_password(&state.db, user.id()).await? {
        AfterPassword::SignIn => {
            let mut proof = Proof::password();
            if let Some((organization_id, second_factor)) = sso {
                proof.sso_organization_id = Some(organization_id);
                proof.sso_second_factor = second_factor;
                if user.password_hash.is_some() {
                    proof.confirmed_at = None;
                }
            }
            sign_in(req, state, session, user.id(), proof).await?;
            return Ok(Ok(redirect(&target(state, user.id(), next).await?)));
        }
        AfterPassword::Locked { retry_after_secs } => {
            return Ok(Err(locked_message(retry_after_secs)));
        }
        AfterPassword::SecondFactor => {}
    }
    let key = challenges::start(&state.db, Some(user.id()), Purpose::SecondFactor, None).await?;
    let pending = Pending {
        key,
        next: next.to_string(),
        sso,
    };
    session
        .insert(PENDING_KEY, pending)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(Ok(redirect("/login/two-factor/")))
}

/// What the login form says while the account's second-factor step is locked.
fn locked_message(secs: i64) -> String {
    format!(
        "Too many wrong codes were typed for this account. Sign in again in {}.",
        crate::text::describe_ttl(u64::try_from(secs).unwrap_or(60))
    )
}

/// The half-signed-in state of this browser, while its step lasts: the state and the user.
pub(crate) async fn pending(
    state: &AppState,
    session: &Session,
) -> Result<Option<(Pending, UserId)>, AppError> {
    let Ok(Some(pending)) = session.get::<Pending>(PENDING_KEY) else {
        return Ok(None);
    };
    let found = challenges::find(&state.db, &pending.key, Purpose::SecondFactor).await?;
    Ok(found
        .and_then(|c| c.user_id)
        .map(|user_id| (pending, UserId(user_id))))
}

/// Ends the half-signed-in state with a message on the login page.
fn back_to_login(session: &Session, message: String) -> HttpResponse {
    session.remove(PENDING_KEY);
    flash::push(session, "error", message);
    redirect("/login/")
}

/// The second-factor form.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CodeForm {
    /// A TOTP code or a recovery code.
    code: String,
}

async fn step_page(
    state: &AppState,
    user_id: UserId,
    errors: &FieldErrors,
) -> Result<Page, AppError> {
    let factors = two_factor::factors(&state.db, user_id).await?;
    Ok(Page::new("auth/two_factor.html")
        .form(CodeForm::default(), errors)
        .with("factors", factors))
}

/// `GET /login/two-factor/`
pub async fn step_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    let Some((_, user_id)) = pending(&state, &session).await? else {
        return Ok(back_to_login(&session, expired_message()));
    };
    render(&req, step_page(&state, user_id, &FieldErrors::new()).await?).await
}

/// What a page says when the half-signed-in state is gone.
pub(crate) fn expired_message() -> String {
    "Your sign-in took too long or was ended; enter your password again.".into()
}

/// `POST /login/two-factor/`: a TOTP code or a recovery code completes the sign-in.
pub async fn step(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: crate::web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let Some((pending, user_id)) = pending(&state, &session).await? else {
        return Ok(back_to_login(&session, expired_message()));
    };
    if form.code.trim().is_empty() {
        let mut errors = FieldErrors::new();
        forms::add(
            &mut errors,
            "code",
            "enter the code from your app, or a recovery code",
        );
        return render(&req, step_page(&state, user_id, &errors).await?).await;
    }
    let client = Client::ip_of(&req, &state);
    let security = state.security();
    match security.verify(user_id, &form.code, Some(&client)).await? {
        Ok(accepted) => {
            complete(&req, &state, &session, &pending, user_id).await?;
            if let Accepted::RecoveryCode { left } = accepted {
                flash::push(&session, "info", recovery_code_used(left));
            }
            Ok(redirect(&target(&state, user_id, &pending.next).await?))
        }
        Err(Refused::Wrong { tries_left }) => {
            let mut errors = FieldErrors::new();
            let message = format!(
                "this code is not right (codes change every 30 seconds and work once); {tries_left} {} left before you need your password again",
                if tries_left == 1 { "try" } else { "tries" }
            );
            forms::add(&mut errors, "code", message);
            render(&req, step_page(&state, user_id, &errors).await?).await
        }
        Err(Refused::Locked { retry_after_secs }) => {
            Ok(back_to_login(&session, locked_message(retry_after_secs)))
        }
    }
}

/// What a sign-in with a recovery code says.
pub(crate) fn recovery_code_used(left: u64) -> String {
    format!(
        "You signed in with a recovery code; {left} {} left. Make new ones on your account's security page.",
        if left == 1 { "is" } else { "are" }
    )
}

/// Ends the pending step (once: a second request with it finds it gone) and signs in with a
/// second factor.
pub(crate) async fn complete(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    pending: &Pending,
    user_id: UserId,
) -> Result<(), AppError> {
    if !challenges::finish(&state.db, &pending.key).await? {
        return Err(AppError::Conflict(expired_message()));
    }
    let proof = Proof {
        sso_organization_id: pending.sso.map(|(id, _)| id),
        sso_second_factor: pending.sso.is_some_and(|(_, factor)| factor),
        ..Proof::second_factor()
    };
    sign_in(req, state, session, user_id, proof).await
}
