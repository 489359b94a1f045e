//! The outermost middleware: every request gets an id (`X-Request-Id` from the request when it
//! is a sane one, else 128 random bits in hex), carried by a span so that every log line of the
//! request names it, echoed in the answer and put in the audit events; when the answer is ready,
//! one log line at info (method, route, status, latency, request id, tenant) and one count in
//! `/metrics`.

use std::time::Instant;

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument as _;

use crate::state::AppState;
use crate::web::ResolvedTenant;

/// The request's id, in its extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// An id a client or proxy sent, when it is 1 to 128 of `A-Z a-z 0-9 - _ . :` (anything else
/// would let a request write what it likes into the logs and the audit log).
fn from_header(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    sane.then(|| value.to_string())
}

/// Middleware: see the module.
pub async fn observe<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(from_header)
        .unwrap_or_else(|| format!("{:032x}", rand::random::<u128>()));
    req.extensions_mut().insert(RequestId(id.clone()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id);
    let result = next.call(req).instrument(span.clone()).await;
    let latency = started.elapsed();
    let (status, route, tenant) = match &result {
        Ok(res) => (
            res.status(),
            res.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into()),
            res.request()
                .extensions()
                .get::<ResolvedTenant>()
                .map(|t| t.organization.slug.clone()),
        ),
        Err(error) => (
            error.as_response_error().status_code(),
            "unmatched".into(),
            None,
        ),
    };
    if let Some(state) = &state {
        state
            .metrics
            .record(method.as_str(), &route, status.as_u16(), latency);
    }
    span.in_scope(|| {
        tracing::info!(
            target: "orgs::http",
            method = %method,
            route = %route,
            status = status.as_u16(),
            latency_ms = latency.as_secs_f64() * 1000.0,
            tenant = tenant.as_deref().unwrap_or("-"),
            "request"
        );
    });
    let mut res = result?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sane_request_id_is_taken_from_the_request() {
        let take = |v: &str| {
            from_header(&HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")))
        };
        assert_eq!(take("abc-123_x.y:z").as_deref(), Some("abc-123_x.y:z"));
        assert_eq!(take(""), None);
        assert_eq!(take("a b"), None);
        assert_eq!(take("a\"b"), None);
        assert_eq!(take(&"a".repeat(129)), None);
    }
}
