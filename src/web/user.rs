//! Who is asking: `CurrentUser` (signed in, else a login redirect or 401) and `MaybeUser`.
//! A request is authenticated by `Authorization: Bearer <api token>` or by the session cookie
//! whose sign-in row still exists.

use std::future::Future;
use std::pin::Pin;

use actix_identity::IdentityExt;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use entity::user;
use sea_orm::DbErr;

use crate::auth::{api_tokens, sessions};
use crate::error::AppError;
use crate::state::AppState;
use crate::tokens;

/// The signed-in user. Anonymous requests get a redirect to the login page (HTML) or 401 (API).
#[derive(Clone, Debug)]
pub struct CurrentUser(pub user::Model);

/// The signed-in user, if any.
#[derive(Clone, Debug)]
pub struct MaybeUser(pub Option<user::Model>);

/// How the request was authenticated, cached in the request extensions.
#[derive(Clone, Debug)]
struct Resolved(Option<user::Model>);

/// Whether the path belongs to the JSON API or the health checks (errors as JSON, 401 instead
/// of a login redirect).
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path.contains("/api/v1/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/metrics"
}

/// The secret of an `Authorization: Bearer ...` header (the scheme in any case), when the
/// request carries one.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
        .map(|v| v[7..].trim())
}

async fn resolve(req: &HttpRequest) -> Result<Option<user::Model>, AppError> {
    if let Some(Resolved(user)) = req.extensions().get::<Resolved>() {
        return Ok(user.clone());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?;
    let user = match bearer(req).map(str::to_owned) {
        // A bad token is refused outright, never replaced by the cookie.
        Some(secret) => Some(
            api_tokens::resolve(&state.db, &secret)
                .await?
                .ok_or(AppError::Unauthorized)?,
        ),
        None => match req.get_identity().ok().and_then(|id| id.id().ok()) {
            Some(key) => resolve_cached(state, &key).await?,
            None => None,
        },
    };
    req.extensions_mut().insert(Resolved(user.clone()));
    Ok(user)
}

/// Where an anonymous request for `req` is sent: the login page with `next=` back to it.
fn login_required(req: &HttpRequest) -> AppError {
    if is_api_path(req.path()) {
        return AppError::Unauthorized;
    }
    // Back to the address the browser used: the path form's prefix was stripped by routing.
    let root = req
        .extensions()
        .get::<crate::web::ResolvedTenant>()
        .map(|t| t.root.clone())
        .unwrap_or_default();
    let next = match req.query_string() {
        "" => format!("{root}{}", req.path()),
        query => format!("{root}{}?{query}", req.path()),
    };
    AppError::LoginRequired { next }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match resolve(&req).await? {
                Some(user) => Ok(CurrentUser(user)),
                None => Err(login_required(&req)),
            }
        })
    }
}

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeUser(resolve(&req).await?)) })
    }
}
/// Like `sessions::resolve`, reusing a recent answer from the application's caches.
async fn resolve_cached(state: &AppState, key: &str) -> Result<Option<user::Model>, DbErr> {
    let caches = &state.caches;
    caches
        .through(
            &caches.sessions,
            tokens::hash(key),
            sessions::resolve(&state.db, key),
        )
        .await
}
