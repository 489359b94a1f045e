//! The account page (name, password) and personal API tokens, as HTML and as `/api/v1/account/`.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::auth::{api_tokens, users};
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;
use crate::web::render::redirect;
use crate::web::{CurrentUser, SignedIn};
use crate::web::{Json, etag};
use crate::web::{Page, flash, forms, render};

const NEW_TOKEN_KEY: &str = "new_api_token";

/// The account form.
#[derive(Debug, Default, Deserialize, Serialize, Validate)]
#[serde(default)]
pub struct AccountForm {
    #[validate(
        length(max = 200, message = "must be at most 200 characters long"),
        custom(function = "crate::text::name")
    )]
    name: String,
    #[serde(skip_serializing)]
    current_password: String,
    #[serde(skip_serializing)]
    new_password: String,
}

/// The new-token form.
#[derive(Debug, Default, Deserialize, Serialize, Validate)]
#[serde(default)]
pub struct TokenForm {
    #[validate(
        length(
            min = 1,
            max = 100,
            message = "give the token a name of 1 to 100 characters"
        ),
        custom(function = "crate::text::name")
    )]
    name: String,
}

async fn account_page(
    state: &AppState,
    user: &user::Model,
    form: Option<&AccountForm>,
    errors: &FieldErrors,
    token_form: Option<&TokenForm>,
    token_errors: &FieldErrors,
    new_token: Option<String>,
) -> Result<Page, AppError> {
    let tokens = api_tokens::list_active(&state.db, user.id()).await?;
    Ok(Page::new("account/account.html")
        .with("form", form)
        .with("errors", errors)
        .with("token_form", token_form)
        .with("token_errors", token_errors)
        .with("tokens", tokens)
        .with("new_token", new_token))
}

/// `GET /account/`
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
) -> Result<HttpResponse, AppError> {
    let new_token = flash::take_once::<String>(&session, NEW_TOKEN_KEY);
    let empty = FieldErrors::new();
    let page = account_page(&state, &user, None, &empty, None, &empty, new_token).await?;
    render(&req, page).await
}

/// `POST /account/`: changes the name and, with the current password, the password; a new
/// password signs the account out of every other browser and revokes its personal API tokens.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    signed_in: SignedIn,
    form: crate::web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    // A browser's own form: a token (beside someone's cookie) changes nobody's password here.
    let keep = crate::web::user::session_only(&signed_in)?.to_string();
    let user = signed_in.user;
    let form = form.into_inner();
    let mut errors = match form.validate() {
        Ok(()) => FieldErrors::new(),
        Err(e) => forms::field_errors(&e),
    };
    let mut new_hash = None;
    if errors.is_empty() && !form.new_password.is_empty() {
        let phc = user.password_hash.as_deref();
        if !state
            .hasher
            .verify_or_dummy(&form.current_password, phc)
            .await?
        {
            forms::add(
                &mut errors,
                "current_password",
                "this is not your current password",
            );
        } else if let Err(reason) = state.hasher.check_rules(&form.new_password, &user.email) {
            forms::add(&mut errors, "new_password", reason.to_string());
        } else {
            new_hash = Some(state.hasher.hash(&form.new_password).await?);
        }
    }
    if !errors.is_empty() {
        let empty = FieldErrors::new();
        let page = account_page(&state, &user, Some(&form), &errors, None, &empty, None).await?;
        return render(&req, page).await;
    }
    let changed_password = new_hash.is_some();
    let name = form.name.trim().to_string();
    let user_id = user.id();
    users::update_account(&state.db, user, name, new_hash, Some(&keep)).await?;
    // The current password typed on this form is a confirmation: the recent sign-in that
    // dangerous actions (a password change among them) need.
    if changed_password {
        crate::auth::sessions::confirm(&state.db, &keep, user_id, false).await?;
        state.caches.invalidate();
    }
    if changed_password {
        flash::success(
            &session,
            "Your password was changed; other browsers have been signed out and your API tokens revoked.",
        );
    } else {
        flash::success(&session, "Saved.");
    }
    Ok(redirect("/account/"))
}

/// `POST /account/tokens/`: creates a token and shows it once.
pub async fn create_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    SignedIn { user, credential }: SignedIn,
    form: crate::web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    // Made only from a browser's full sign-in, recently confirmed; the token remembers whether
    // that sign-in used a second factor (an organization requiring one refuses it otherwise).
    let ttl = state.settings.auth.sudo_ttl_secs;
    let signed_in = SignedIn { user, credential };
    crate::web::user::recent_session(&req, &signed_in, ttl, "/account/")?;
    let SignedIn { user, credential } = signed_in;
    let form = form.into_inner();
    if let Err(errors) = form.validate() {
        let empty = FieldErrors::new();
        let errors = forms::field_errors(&errors);
        let page = account_page(&state, &user, None, &empty, Some(&form), &errors, None).await?;
        return render(&req, page).await;
    }
    let second_factor = credential.has_second_factor();
    let name = form.name.trim();
    let sso = credential.sign_on();
    let (_, secret) =
        api_tokens::create_with(&state.db, user.id(), name, second_factor, sso).await?;
    session
        .insert(NEW_TOKEN_KEY, secret)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    flash::success(&session, "Token created.");
    Ok(redirect("/account/"))
}

/// `POST /account/tokens/{id}/revoke/`
pub async fn revoke_token(
    state: web::Data<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    token_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if !api_tokens::revoke(&state.db, user.id(), token_id.into_inner()).await? {
        return Err(AppError::NotFound);
    }
    flash::success(&session, "Token revoked.");
    Ok(redirect("/account/"))
}

/// The account as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Account)]
pub struct AccountJson {
    id: i64,
    email: String,
    name: String,
    is_superuser: bool,
    created_at: DateTime<Utc>,
}

impl From<user::Model> for AccountJson {
    fn from(user: user::Model) -> Self {
        Self {
            id: user.id,
            email: user.email,
            name: user.name,
            is_superuser: user.is_superuser,
            created_at: user.created_at,
        }
    }
}

/// Read my account
#[utoipa::path(
    get,
    path = "/api/v1/account/",
    tag = "account",
    operation_id = "get_account",
    responses((status = 200, description = "The signed-in person.", body = AccountJson, headers(("ETag" = String, description = "Its version, for `If-Match`.")))),
)]
pub async fn api_show(CurrentUser(user): CurrentUser) -> HttpResponse {
    etag::json(&AccountJson::from(user))
}

/// `PATCH /api/v1/account/` body.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    /// 1 to 200 characters, one line.
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters long"),
        custom(function = "crate::text::name")
    )]
    #[serde(default, deserialize_with = "crate::web::json::not_null")]
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
}

/// Change my account
#[utoipa::path(
    patch,
    path = "/api/v1/account/",
    tag = "account",
    operation_id = "update_account",
    params(crate::web::etag::IfMatch),
    request_body = AccountPatch,
    responses(
        (status = 200, description = "The account as it is now.", body = AccountJson, headers(("ETag" = String, description = "Its version."))),
    ),
)]
pub async fn api_update(
    req: HttpRequest,
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    body: Json<AccountPatch>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    body.validate()
        .map_err(|e| forms::invalid(forms::field_errors(&e)))?;
    etag::check_if_match(&req, &AccountJson::from(user.clone()))?;
    let mut active = user.into_active_model();
    if let Some(name) = body.name {
        active.name = Set(name.trim().to_string());
    }
    Ok(etag::json(&AccountJson::from(
        active.update(&state.db).await?,
    )))
}
