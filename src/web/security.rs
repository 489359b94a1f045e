//! Security headers on every response: a Content-Security-Policy that allows only this origin's
//! own styles, scripts and images (no inline ones: there are none) and no framing,
//! `Referrer-Policy`, `X-Content-Type-Options`, and HSTS when cookies are secure (the service is
//! behind HTTPS). A handler that set one of them itself (the handoff's `no-referrer`) keeps its own.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

/// The policy. `form-action` is left out on purpose: signing in on one host redirects to an
/// organization's host, and browsers apply `form-action` to the redirects after a form.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

/// A year, with subdomains: every organization's host is one.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The middleware.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let secure = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.settings.session.cookie_secure);
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    let mut keep_or_set = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    keep_or_set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    keep_or_set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    keep_or_set(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    keep_or_set(header::X_FRAME_OPTIONS, "DENY");
    if secure {
        keep_or_set(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    Ok(response)
}
