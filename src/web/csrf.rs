//! CSRF protection: every POST, PUT, PATCH or DELETE from a browser must carry the session's token,
//! in the `csrf_token` form field or the `X-CSRF-Token` header, or it is refused with 403 before
//! any handler runs. Requests authenticated by `Authorization: Bearer` carry no ambient
//! credentials and are exempt.

use actix_identity::IdentityExt as _;
use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web;

use crate::error::AppError;
use crate::tokens::{self, constant_time_eq};

/// Session key and form field name of the token.
pub const FIELD: &str = "csrf_token";
/// Header a script sends the token in.
pub const HEADER: &str = "x-csrf-token";

/// The session's token, created on first use.
pub fn token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(FIELD) {
        return token;
    }
    rotate(session)
}

/// Replaces the session's token (on sign-in and sign-out).
pub fn rotate(session: &Session) -> String {
    let token = tokens::generate();
    if let Err(error) = session.insert(FIELD, &token) {
        tracing::warn!(%error, "could not store the CSRF token in the session");
    }
    token
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Whether the request authenticates with a bearer token instead of the session cookie.
pub fn has_bearer(req: &actix_web::HttpRequest) -> bool {
    crate::web::user::bearer(req).is_some()
}

/// The middleware (`actix_web::middleware::from_fn(csrf::protect)`). A refusal is answered
/// here as a response carrying the `AppError`, so the error-page middleware can render it.
pub async fn protect<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if is_safe(req.method()) || has_bearer(req.request()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let expected = req.get_session().get::<String>(FIELD).ok().flatten();
    let mut provided = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if provided.is_none() && is_form {
        let body = req.extract::<web::Bytes>().await?;
        provided = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
        req.set_payload(Payload::from(body));
    }
    match (expected, provided) {
        (Some(expected), Some(provided)) if constant_time_eq(&expected, &provided) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        _ => {
            // An API client that sent no credentials at all is told so (401), not that its
            // form expired.
            let anonymous = req.get_identity().is_err();
            let error = if anonymous && crate::web::user::is_api_path(req.path()) {
                AppError::Unauthorized
            } else {
                AppError::Forbidden(
                    "The form has expired or did not come from this site (CSRF check failed). \
                     Reload the page and try again."
                        .into(),
                )
            };
            Ok(req.error_response(error).map_into_right_body())
        }
    }
}
