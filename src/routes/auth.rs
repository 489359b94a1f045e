//! Sign-up, activation, login, logout and password reset pages.

use actix_identity::Identity;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use entity::UserId;
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::auth::login::{self, LoginError};
use crate::auth::password_reset::{self, ResetError};
use crate::auth::user_tokens::{self, TokenError};
use crate::auth::{sessions, throttle};
use crate::error::{AppError, FieldErrors};
use crate::registration::{self, ActivationError, SignUp};
use crate::state::AppState;
use crate::web::MaybeUser;
use crate::web::Query;
use crate::web::client::Client;
use crate::web::render::{local_target, redirect};
use crate::web::{Page, flash, forms, render};
use crate::web::{hosts, links};

use super::sign_in;

/// The login form.
#[derive(Debug, Default, Deserialize, Serialize, Validate)]
#[serde(default)]
pub struct LoginForm {
    #[validate(length(min = 1, message = "enter your email address"))]
    email: String,
    #[serde(skip_serializing)]
    #[validate(length(min = 1, message = "enter your password"))]
    password: String,
    next: String,
    /// The single sign-on button was pressed.
    #[serde(skip_serializing)]
    sso: String,
}

/// `?next=` on the login page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

/// Counts a mail to the typed `email` asked for by this request's client; 429 past either
/// hourly limit. Counted whether or not the address has an account, so the answer tells nothing.
async fn count_mail(req: &HttpRequest, state: &AppState, email: &str) -> Result<(), AppError> {
    let Ok(email) = crate::auth::users::normalize_email(email) else {
        return Ok(());
    };
    let client = Client::ip_of(req, state);
    match throttle::mail(&state.db, &email, &client, &state.settings.auth).await? {
        Ok(()) => Ok(()),
        Err(limit) => Err(AppError::TooManyRequests(limit)),
    }
}

fn login_page(form: &LoginForm, errors: &FieldErrors) -> Page {
    Page::new("auth/login.html")
        .with("form", form)
        .with("errors", errors)
}

/// `GET /login/`
/// `?next=&signed_out=` of the login page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
    /// After signing out: `here`, or `everywhere` when the browser's sign-ins on other hosts
    /// of this service ended too.
    signed_out: String,
}

/// `GET /login/`
pub async fn login_form(
    req: HttpRequest,
    query: Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let form = LoginForm {
        next: query.next,
        ..Default::default()
    };
    let signed_out = match query.signed_out.as_str() {
        "everywhere" => Some(
            "You are signed out, here and on every organization's address this browser was signed in at.",
        ),
        "here" => Some("You are signed out."),
        _ => None,
    };
    let page = login_page(&form, &FieldErrors::new()).with("signed_out", signed_out);
    render(&req, page).await
}

/// `POST /login/`
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: crate::web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    // An address alone (the single sign-on button): its domain's identity provider, when an
    // organization's sign-on answers for it; the same answer for every address at a domain.
    if form.password.is_empty() && !form.email.trim().is_empty() {
        let email = form.email.trim();
        if let Some(started) =
            super::sso::sign_on_for_address(&req, &state, &session, email, &form.next).await?
        {
            return Ok(started);
        }
        if !form.sso.is_empty() {
            let mut errors = FieldErrors::new();
            forms::add(
                &mut errors,
                "email",
                "no single sign-on answers for this address: enter your password",
            );
            return render(&req, login_page(&form, &errors)).await;
        }
    }
    if let Err(errors) = form.validate() {
        return render(&req, login_page(&form, &forms::field_errors(&errors))).await;
    }
    let auth = &state.settings.auth;
    let client = Client::ip_of(&req, &state);
    let pair = throttle::Counter::login_pair(&form.email, &client, auth);
    let from_client = throttle::Counter::login_client(&client, auth);
    let account = throttle::Counter::login_account(&form.email, auth);
    // Only this pair, or an address failing across accounts, is refused ...
    let refused = [pair.clone(), from_client.clone()];
    if let Some(limit) = throttle::refused_for(&state.db, &refused).await? {
        return Err(AppError::TooManyRequests(limit));
    }
    // ... while failures on the account from everywhere slow every attempt on it down.
    let failures = throttle::count(&state.db, &account).await?;
    tokio::time::sleep(throttle::slow_down(failures, auth.login_failure_delay_ms)).await;
    match login::authenticate(&state.db, &state.hasher, &form.email, &form.password).await {
        Ok(user) => {
            throttle::clear(&state.db, &[pair]).await?;
            match sign_in::after_password(&req, &state, &session, &user, &form.next).await? {
                Ok(response) => Ok(response),
                Err(refused) => {
                    let mut errors = FieldErrors::new();
                    forms::add(&mut errors, "__all__", refused);
                    render(&req, login_page(&form, &errors)).await
                }
            }
        }
        Err(LoginError::Db(error)) => Err(error.into()),
        Err(LoginError::Other(error)) => Err(error.into()),
        Err(refused) => {
            throttle::hit(&state.db, &[pair, from_client, account]).await?;
            let mut errors = FieldErrors::new();
            forms::add(&mut errors, "__all__", refused.to_string());
            render(&req, login_page(&form, &errors)).await
        }
    }
}

/// `POST /logout/`: ends this sign-in for good and clears the session.
pub async fn logout(
    state: web::Data<AppState>,
    identity: Option<Identity>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    let mut ended = 0;
    if let Some(identity) = identity {
        if let Ok(key) = identity.id() {
            ended = sessions::delete_family(&state.db, &key).await?;
        }
        identity.logout();
    }
    session.purge();
    // The session (and any flash in it) is gone: the login page says it.
    Ok(redirect(if ended > 1 {
        "/login/?signed_out=everywhere"
    } else {
        "/login/?signed_out=here"
    }))
}

/// The sign-up form.
#[derive(Debug, Default, Deserialize, Serialize, Validate)]
#[serde(default)]
pub struct SignUpForm {
    #[validate(
        length(
            min = 1,
            max = 200,
            message = "enter your name (at most 200 characters)"
        ),
        custom(function = "crate::text::name")
    )]
    name: String,
    #[validate(email(message = "enter a valid email address"))]
    email: String,
    #[serde(skip_serializing)]
    #[validate(length(min = 1, message = "choose a password"))]
    password: String,
    #[validate(custom(function = "crate::text::name"))]
    organization_name: String,
    slug: String,
}

impl SignUpForm {
    /// What the registration backend is given.
    fn sign_up(&self) -> SignUp {
        SignUp {
            name: self.name.clone(),
            email: self.email.clone(),
            password: self.password.clone(),
            organization_name: self.organization_name.clone(),
            slug: self.slug.clone(),
        }
    }
}

/// The sign-up page: the form with `errors`, and the rules said before typing.
fn signup_page(form: &SignUpForm, errors: &FieldErrors) -> Page {
    Page::new("auth/signup.html").form(form, errors)
}

/// `GET /signup/`
pub async fn signup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeUser(user): MaybeUser,
) -> Result<HttpResponse, AppError> {
    if !state.registration_backend.is_open() {
        return Err(AppError::NotFound);
    }
    if user.is_some() {
        return Ok(redirect("/"));
    }
    render(
        &req,
        signup_page(&SignUpForm::default(), &FieldErrors::new()),
    )
    .await
}

/// `POST /signup/`
pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: crate::web::Form<SignUpForm>,
) -> Result<HttpResponse, AppError> {
    if !state.registration_backend.is_open() {
        return Err(AppError::NotFound);
    }
    let form = form.into_inner();
    let mut errors = forms::check(&form).err().unwrap_or_default();
    for (field, messages) in registration::problems(&form.sign_up(), &state.hasher) {
        errors.entry(field).or_insert(messages);
    }
    if !errors.is_empty() {
        return render(&req, signup_page(&form, &errors)).await;
    }
    count_mail(&req, &state, &form.email).await?;
    let outcome = state
        .registration_backend
        .sign_up(state.flows(), form.sign_up())
        .await;
    match outcome {
        Ok(email) => {
            render(
                &req,
                Page::new("auth/signup_done.html").with("email", email),
            )
            .await
        }
        Err(error) => {
            let errors = AppError::from(error).into_fields()?;
            render(&req, signup_page(&form, &errors)).await
        }
    }
}

fn token_invalid(reason: &TokenError, retry_url: Option<&str>) -> Page {
    let status = match reason {
        TokenError::Unknown => StatusCode::NOT_FOUND,
        TokenError::Expired | TokenError::Used => StatusCode::GONE,
    };
    let reason = crate::text::capitalized(&reason.to_string());
    Page::new("auth/token_invalid.html")
        .with("reason", reason)
        .with("retry_url", retry_url)
        .status(status)
}

/// `GET /activate/{token}/`: confirms the email, signs in, and goes to the start page.
pub async fn activate(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    match state
        .registration_backend
        .activate(state.flows(), &token)
        .await
    {
        Ok(user) => {
            // The mailed link proved the address, as a password reset's does; a new account has
            // no second factor yet.
            let proof = sessions::Proof::password();
            sign_in::sign_in(&req, &state, &session, user.id(), proof).await?;
            flash::success(&session, "Your email address is confirmed. Welcome!");
            let first = crate::tenancy::org_rows::of_user(&state.db, user.id(), true).await?;
            let landing = match first.first() {
                Some(org) => links::enter(&req, &state, user.id(), &org.slug, "/").await?,
                None => "/".to_string(),
            };
            Ok(redirect(&landing))
        }
        Err(ActivationError::Token(reason)) => {
            render(&req, token_invalid(&reason, Some("/signup/"))).await
        }
        Err(ActivationError::Db(e)) => Err(e.into()),
    }
}

/// `GET /handoff/{token}/?next=`: the one-time link that carries a sign-in to an organization's
/// own host (see `web::links`). Single use, valid for a minute and on that host only, stored
/// hashed.
pub async fn handoff(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
    query: Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    // Bound to the host it was made for: anywhere else it is unknown, and stays unused.
    let host = Client::of_request(&req, &state.settings.server.trusted_proxies).host;
    let found = user_tokens::check_handoff(&state.db, &token, &hosts::host_name(&host)).await?;
    let token = match found {
        Ok(token) => token,
        Err(reason) => return render(&req, token_invalid(&reason, Some("/login/"))).await,
    };
    if !user_tokens::consume(&state.db, token.id).await? {
        return render(&req, token_invalid(&TokenError::Used, Some("/login/"))).await;
    }
    // What the sign-in that made the handoff proved, and when: never a new confirmation.
    let proof = sessions::Proof {
        second_factor_at: token.second_factor_at,
        confirmed_at: token.confirmed_at,
        sso_organization_id: token.sso_organization_id,
        sso_second_factor: token.sso_second_factor,
    };
    sign_in::sign_in_family(
        &req,
        &state,
        &session,
        UserId(token.user_id),
        token.family.clone(),
        proof,
    )
    .await?;
    if let Some(tenant) = req.extensions().get::<crate::web::ResolvedTenant>() {
        flash::success(
            &session,
            format!("Welcome to {}.", tenant.organization.name),
        );
    }
    let mut response = redirect(local_target(&query.next));
    // The token is spent, but keep it out of the next site's Referer all the same.
    response.headers_mut().insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// The password-reset request form.
#[derive(Debug, Default, Deserialize, Serialize, Validate)]
#[serde(default)]
pub struct ResetRequestForm {
    #[validate(email(message = "enter a valid email address"))]
    email: String,
}

/// `GET /password-reset/`
pub async fn password_reset_form(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let page = Page::new("auth/password_reset.html")
        .with("form", ResetRequestForm::default())
        .with("errors", FieldErrors::new());
    render(&req, page).await
}

/// `POST /password-reset/`
pub async fn password_reset_request(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: crate::web::Form<ResetRequestForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if let Err(errors) = form.validate() {
        let page = Page::new("auth/password_reset.html")
            .with("form", &form)
            .with("errors", forms::field_errors(&errors));
        return render(&req, page).await;
    }
    count_mail(&req, &state, &form.email).await?;
    // The lookup, the token and the mail happen after the answer, the same for an address with
    // an account as for one without: the answer's timing tells nothing.
    password_reset::request_later(
        state.db.connection().clone(),
        state.outbox.clone(),
        state.mailer.clone(),
        state.settings.auth.password_reset_ttl_secs,
        form.email.clone(),
    );
    render(
        &req,
        Page::new("auth/password_reset_sent.html").with("email", form.email.trim()),
    )
    .await
}

/// The new-password form.
#[derive(Debug, Default, Deserialize, Validate)]
#[serde(default)]
pub struct NewPasswordForm {
    password: String,
    password_confirm: String,
}

fn new_password_page(token: &str, errors: &FieldErrors) -> Page {
    Page::new("auth/password_reset_confirm.html")
        .with("token", token)
        .with("errors", errors)
}

/// `GET /password-reset/{token}/`
pub async fn password_reset_confirm_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    match password_reset::check(&state.db, &token).await {
        Ok(()) => render(&req, new_password_page(&token, &FieldErrors::new())).await,
        Err(ResetError::Token(reason)) => {
            render(&req, token_invalid(&reason, Some("/password-reset/"))).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /password-reset/{token}/`
pub async fn password_reset_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    token: web::Path<String>,
    form: crate::web::Form<NewPasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut errors = FieldErrors::new();
    if form.password != form.password_confirm {
        forms::add(
            &mut errors,
            "password_confirm",
            "the two passwords do not match",
        );
        return render(&req, new_password_page(&token, &errors)).await;
    }
    match password_reset::complete(&state.db, &state.hasher, &token, &form.password).await {
        Ok(_) => {
            flash::success(
                &session,
                "Your password has been set. You can log in with it now.",
            );
            Ok(redirect("/login/"))
        }
        Err(ResetError::Password(reason)) => {
            forms::add(&mut errors, "password", reason.to_string());
            render(&req, new_password_page(&token, &errors)).await
        }
        Err(ResetError::Token(reason)) => {
            render(&req, token_invalid(&reason, Some("/password-reset/"))).await
        }
        Err(error @ (ResetError::Db(_) | ResetError::Other(_))) => Err(error.into()),
    }
}
