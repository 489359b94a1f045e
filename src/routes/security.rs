//! The account's security page (`/account/security/`): the authenticator app (set up with a QR
//! code made here, confirmed by a code), recovery codes (shown once), passkeys, the person's
//! own security log, and, when an organization sent them here, which one requires two-factor.
//! Adding or removing a factor needs a recent sign-in; the service ends the other sessions.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::two_factor::TwoFactorError;
use crate::auth::{security_log, two_factor};
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;
use crate::web::client::Client;
use crate::web::render::redirect;
use crate::web::user::{recent_session, session_only};
use crate::web::{Page, Query, SignedIn, flash, forms, render};

/// The session key of new recovery codes, shown once on the next page.
pub(crate) const NEW_CODES_KEY: &str = "new_recovery_codes";
/// Where the page is.
const PAGE: &str = "/account/security/";

/// `?for=` of the page: the organization (a slug) whose requirement sent the person here.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ForQuery {
    #[serde(rename = "for")]
    pub(crate) organization: String,
}

/// The confirmation form of a new authenticator app.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

/// The organization `slug` names, when the person is one of its members and it requires
/// two-factor: what the page says sent them here.
async fn requiring(
    state: &AppState,
    user: &entity::user::Model,
    slug: &str,
) -> Result<Option<entity::organization::Model>, AppError> {
    if slug.is_empty() {
        return Ok(None);
    }
    let Some(org) = crate::tenancy::org_rows::by_slug(&state.db, slug).await? else {
        return Ok(None);
    };
    let member = crate::tenancy::org_rows::is_member(&state.db, org.id(), user.id()).await?;
    Ok((member && org.two_factor_required).then_some(org))
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    slug: &str,
    errors: &FieldErrors,
    new_codes: Option<Vec<String>>,
) -> Result<Page, AppError> {
    let user = &signed_in.user;
    let factors = two_factor::factors(&state.db, user.id()).await?;
    // The secret being set up is shown to a recently confirmed sign-in only (a sign-in left
    // open is not enough to copy it).
    let recent = signed_in
        .credential
        .confirmed_within(state.settings.auth.sudo_ttl_secs);
    let pending = match factors.totp || !recent {
        true => None,
        false => state
            .security()
            .pending_totp(user)
            .await
            .map_err(service_error)?,
    };
    let organization = requiring(state, user, slug).await?;
    // `/go/` carries this sign-in (and its second factor) to the organization's host.
    let back = organization
        .as_ref()
        .map(|org| format!("/go/{}/", org.slug));
    let log = security_log::newest(&state.db, user.id(), 20).await?;
    let passkeys = crate::auth::passkeys::list(&state.db, user.id()).await?;
    Ok(Page::new("account/security.html")
        .form(CodeForm::default(), errors)
        .with("user", user)
        .with("factors", factors)
        .with(
            "this_sign_in_used_one",
            signed_in.credential.has_second_factor(),
        )
        .with("enrolment", pending)
        .with("new_codes", new_codes)
        .with("organization", organization)
        .with("back", back)
        .with("passkeys", passkeys)
        .with("log", log))
}

/// `GET /account/security/`
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    signed_in: SignedIn,
    query: Query<ForQuery>,
) -> Result<HttpResponse, AppError> {
    // A browser's page: a token (beside a cookie or not) does not read a pending secret.
    session_only(&signed_in)?;
    let new_codes = flash::take_once::<Vec<String>>(&session, NEW_CODES_KEY);
    let empty = FieldErrors::new();
    let page = page(&state, &signed_in, &query.organization, &empty, new_codes).await?;
    render(&req, page).await
}

/// The service's refusals as the pages and the API say them.
pub(crate) fn service_error(error: TwoFactorError) -> AppError {
    match error {
        TwoFactorError::WrongCode => AppError::field("code", error.to_string()),
        TwoFactorError::AlreadyEnabled | TwoFactorError::NotStarted | TwoFactorError::NoFactor => {
            AppError::Conflict(error.to_string())
        }
        TwoFactorError::Db(e) => e.into(),
        TwoFactorError::Other(e) => e.into(),
    }
}

/// `POST /account/security/totp/`: starts setting up an authenticator app.
pub async fn start_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    recent_session(&req, &signed_in, state.settings.auth.sudo_ttl_secs, PAGE)?;
    state
        .security()
        .start_totp(&signed_in.user)
        .await
        .map_err(service_error)?;
    Ok(redirect("/account/security/#totp"))
}

/// `POST /account/security/totp/confirm/`: a code from the app enables it; the recovery codes
/// are shown once.
pub async fn confirm_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    signed_in: SignedIn,
    form: crate::web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let key = recent_session(&req, &signed_in, state.settings.auth.sudo_ttl_secs, PAGE)?;
    let ip = Client::ip_of(&req, &state);
    let confirmed = state
        .security()
        .confirm_totp(&signed_in.user, &form.code, Some(key), Some(&ip))
        .await;
    let codes = match confirmed {
        Ok(codes) => codes,
        Err(TwoFactorError::WrongCode) => {
            let mut errors = FieldErrors::new();
            forms::add(&mut errors, "code", TwoFactorError::WrongCode.to_string());
            let page = page(&state, &signed_in, "", &errors, None).await?;
            return render(&req, page).await;
        }
        Err(error) => return Err(service_error(error)),
    };
    state.caches.invalidate();
    session
        .insert(NEW_CODES_KEY, codes)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    flash::success(
        &session,
        "Your authenticator app is set up. Your other sign-ins have ended.",
    );
    Ok(redirect("/account/security/#recovery"))
}

/// `POST /account/security/totp/delete/`
pub async fn disable_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    let key = recent_session(&req, &signed_in, state.settings.auth.sudo_ttl_secs, PAGE)?;
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
    flash::success(
        &session,
        "Your authenticator app was removed. Your other sign-ins have ended.",
    );
    Ok(redirect(PAGE))
}

/// `POST /account/security/recovery-codes/`: a new set; the old codes stop working.
pub async fn renew_codes(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    signed_in: SignedIn,
) -> Result<HttpResponse, AppError> {
    recent_session(&req, &signed_in, state.settings.auth.sudo_ttl_secs, PAGE)?;
    let ip = Client::ip_of(&req, &state);
    let codes = state
        .security()
        .renew_recovery_codes(&signed_in.user, Some(&ip))
        .await
        .map_err(service_error)?;
    session
        .insert(NEW_CODES_KEY, codes)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    flash::success(
        &session,
        "New recovery codes are ready; the old ones no longer work.",
    );
    Ok(redirect("/account/security/#recovery"))
}
