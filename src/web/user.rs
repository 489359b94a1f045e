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

use crate::auth::sessions::Proof;
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
struct Resolved(Option<(user::Model, Credential)>);

/// The key of a browser's sign-in, as its session cookie carries it (never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey(String);

impl SessionKey {
    /// The key, to name the sign-in to `auth::sessions`.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

/// What authenticated a signed-in request, and what it proved. A request with a bearer token is
/// the token's, whatever cookie it also carries: only a `Session` names a sign-in to confirm,
/// hand off or keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// The browser's sign-in (the session cookie): what it proved, and its key.
    Session(Proof, SessionKey),
    /// A personal API token; `second_factor` when the sign-in that made it had one.
    Token {
        /// Made from a sign-in completed with a second factor.
        second_factor: bool,
        /// The organization whose single sign-on made the sign-in it was made from, and
        /// whether that organization's trusted provider asserted a second factor.
        sso: Option<(i64, bool)>,
    },
}

impl Credential {
    /// Whether the requester signed in with a second factor (a token: whether the sign-in it
    /// was made from had one).
    pub fn has_second_factor(&self) -> bool {
        match self {
            Self::Session(proof, _) => proof.has_second_factor(),
            Self::Token { second_factor, .. } => *second_factor,
        }
    }

    /// Whether the requester signed in with a second factor as `organization_id` counts it:
    /// their own, or that organization's trusted provider's.
    pub fn has_second_factor_for(&self, organization_id: i64) -> bool {
        match self {
            Self::Session(proof, _) => proof.has_second_factor_for(organization_id),
            Self::Token { second_factor, sso } => {
                *second_factor || *sso == Some((organization_id, true))
            }
        }
    }

    /// The organization whose single sign-on made the sign-in (a token: the sign-in it was
    /// made from), and whether its trusted provider asserted a second factor.
    pub fn sign_on(&self) -> Option<(i64, bool)> {
        match self {
            Self::Session(proof, _) => proof
                .sso_organization_id
                .map(|id| (id, proof.sso_second_factor)),
            Self::Token { sso, .. } => *sso,
        }
    }

    /// Whether the person confirmed it was them within `ttl_secs`: only a browser's sign-in
    /// can (`POST /api/v1/account/reauthenticate/`); a token never counts as recent.
    pub fn confirmed_within(&self, ttl_secs: u64) -> bool {
        match self {
            Self::Session(proof, _) => proof.confirmed_within(ttl_secs),
            Self::Token { .. } => false,
        }
    }

    /// Whether it is the browser's sign-in.
    pub fn is_session(&self) -> bool {
        matches!(self, Self::Session(..))
    }

    /// The sign-in's key, when it is the browser's sign-in.
    pub fn session_key(&self) -> Option<&str> {
        match self {
            Self::Session(_, key) => Some(key.expose()),
            Self::Token { .. } => None,
        }
    }
}

/// The signed-in user and what authenticated the request (session or token, and what the
/// sign-in proved). Anonymous requests get a redirect to the login page (HTML) or 401 (API).
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The person.
    pub user: user::Model,
    /// How they are signed in.
    pub credential: Credential,
}

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

async fn resolve(req: &HttpRequest) -> Result<Option<(user::Model, Credential)>, AppError> {
    if let Some(Resolved(user)) = req.extensions().get::<Resolved>() {
        return Ok(user.clone());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?;
    let user = match bearer(req).map(str::to_owned) {
        // A bad token is refused outright, never replaced by the cookie.
        Some(secret) => {
            let (user, token) = api_tokens::resolve_token(&state.db, &secret)
                .await?
                .ok_or(AppError::Unauthorized)?;
            let second_factor = token.second_factor;
            let sso = token
                .sso_organization_id
                .map(|id| (id, token.sso_second_factor));
            Some((user, Credential::Token { second_factor, sso }))
        }
        None => match req.get_identity().ok().and_then(|id| id.id().ok()) {
            Some(key) => resolve_cached(state, &key)
                .await?
                .map(|(user, proof)| (user, Credential::Session(proof, SessionKey(key)))),
            None => None,
        },
    };
    req.extensions_mut().insert(Resolved(user.clone()));
    Ok(user)
}

/// How the request's signed-in user is signed in, once an extractor resolved them.
pub fn credential_of(req: &HttpRequest) -> Option<Credential> {
    match req.extensions().get::<Resolved>() {
        Some(Resolved(Some((_, credential)))) => Some(credential.clone()),
        _ => None,
    }
}

/// Forgets this request's resolved sign-in (after it changed: a confirmation, a new factor).
pub fn forget(req: &HttpRequest) {
    req.extensions_mut().remove::<Resolved>();
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
                Some((user, _)) => Ok(CurrentUser(user)),
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
        Box::pin(async move { Ok(MaybeUser(resolve(&req).await?.map(|(user, _)| user))) })
    }
}

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match resolve(&req).await? {
                Some((user, credential)) => Ok(SignedIn { user, credential }),
                None => Err(login_required(&req)),
            }
        })
    }
}
/// Like `sessions::resolve`, reusing a recent answer from the application's caches.
async fn resolve_cached(
    state: &AppState,
    key: &str,
) -> Result<Option<(user::Model, Proof)>, DbErr> {
    let caches = &state.caches;
    caches
        .through(
            &caches.sessions,
            tokens::hash(key),
            sessions::resolve(&state.db, key),
        )
        .await
}

/// A dangerous action's check (sudo mode): the person confirmed it was them (a password or a
/// second factor) within `auth.sudo_ttl_secs`. A page is sent to confirm and come back to
/// `back`; the API answers 403 `reauthentication_required`. A token never counts as recent
/// (only a browser's sign-in can confirm); an organization API key (`None`) is not a person and
/// holds only what it was given when it was made, itself under this check.
pub fn require_recent(
    req: &HttpRequest,
    credential: Option<&Credential>,
    ttl_secs: u64,
    back: &str,
) -> Result<(), AppError> {
    match credential {
        None => Ok(()),
        Some(credential) if credential.confirmed_within(ttl_secs) => Ok(()),
        Some(_) => Err(AppError::ReauthenticationRequired {
            next: (!is_api_path(req.path())).then(|| back.to_string()),
        }),
    }
}

/// A dangerous action of a person on their own account: a browser session ([`session_only`])
/// recently confirmed ([`require_recent`]); the session's key.
pub fn recent_session<'a>(
    req: &HttpRequest,
    signed_in: &'a SignedIn,
    ttl_secs: u64,
    back: &str,
) -> Result<&'a str, AppError> {
    let key = session_only(signed_in)?;
    require_recent(req, Some(&signed_in.credential), ttl_secs, back)?;
    Ok(key)
}

/// The browser session a two-factor endpoint needs: its key. A token is refused (403), also
/// beside a session cookie: factors are added, removed and confirmed only by a person in a
/// browser, on their own sign-in.
pub fn session_only(signed_in: &SignedIn) -> Result<&str, AppError> {
    match &signed_in.credential {
        Credential::Session(_, key) => Ok(key.expose()),
        Credential::Token { .. } => Err(AppError::Forbidden(
            "this takes a signed-in browser session (with its CSRF token), not an API token".into(),
        )),
    }
}
