//! The `Idempotency-Key` middleware of the creating `POST`s (the routes marked `creates` in the
//! route tables): reads the key and the body, claims the key for the request's principal and
//! scope (`crate::idempotency`), then runs the request, or answers what the key's first request
//! answered (`Idempotent-Replayed: true`), or 422 when the key was used with another request, or
//! 409 while its first request still runs. Only a successful answer is kept: a refused or failed
//! request frees its key for the retry. Without the header nothing changes.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpResponse, web};

use crate::error::AppError;
use crate::idempotency::{self, Claim, Stored};
use crate::state::AppState;
use crate::web::{MaybeUser, ResolvedTenant};

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// The header on an answer given again.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// Who is asking: the API key, or the signed-in person; `None` lets the handler refuse.
async fn principal(req: &ServiceRequest) -> Option<String> {
    let key = req
        .extensions()
        .get::<ResolvedTenant>()
        .and_then(|t| t.api_key.as_ref().map(|k| k.id));
    if let Some(id) = key {
        return Some(format!("api_key:{id}"));
    }
    match MaybeUser::from_request(req.request(), &mut Payload::None).await {
        Ok(MaybeUser(Some(user))) => Some(format!("user:{}", user.id)),
        _ => None,
    }
}

fn refuse(req: ServiceRequest, error: AppError) -> ServiceResponse<BoxBody> {
    req.error_response(error)
}

fn replay(req: ServiceRequest, stored: Stored) -> ServiceResponse<BoxBody> {
    let mut response =
        HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    for (name, value) in &stored.headers {
        response.insert_header((name.as_str(), value.as_str()));
    }
    response.insert_header((REPLAYED, "true"));
    req.into_response(response.body(stored.body))
}

/// The middleware (`Route::wrap(from_fn(idempotent))`).
pub async fn idempotent(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(key) = value
        .to_str()
        .ok()
        .filter(|k| idempotency::valid_key(k))
        .map(str::to_owned)
    else {
        let error = AppError::field(HEADER, "must be 1 to 255 visible ASCII characters");
        return Ok(refuse(req, error));
    };
    let Some(principal) = principal(&req).await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let scope = req.extensions().get::<ResolvedTenant>().map_or_else(
        || "global".to_string(),
        |t| format!("organization:{}", t.organization.id),
    );
    let body = match req.extract::<web::Bytes>().await {
        Ok(body) if body.len() <= crate::web::json::MAX_BODY_BYTES => body,
        Ok(_) => return Ok(refuse(req, AppError::PayloadTooLarge)),
        Err(error) => {
            let error = crate::web::json::unreadable(&error);
            return Ok(refuse(req, error));
        }
    };
    req.set_payload(Payload::from(body.clone()));
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        let error = AppError::Internal(anyhow::anyhow!("AppState is not registered"));
        return Ok(refuse(req, error));
    };
    let row = idempotency::row_key(&scope, &principal, &key);
    let hash = idempotency::request_hash(req.method().as_str(), req.path(), &body);
    match idempotency::claim(&state.db, &row, &hash).await {
        Err(error) => Ok(refuse(req, error.into())),
        Ok(Claim::Mismatch) => Ok(refuse(
            req,
            AppError::field(
                HEADER,
                "was used with another request; send a new key for a new request",
            ),
        )),
        Ok(Claim::InFlight) => Ok(refuse(
            req,
            AppError::Conflict(
                "the first request with this Idempotency-Key is still running; retry shortly"
                    .into(),
            ),
        )),
        Ok(Claim::Replay(stored)) => Ok(replay(req, stored)),
        Ok(Claim::Fresh) => {
            let response = match next.call(req).await {
                Ok(response) => response,
                Err(error) => {
                    let _ = idempotency::release(&state.db, &row).await;
                    return Err(error);
                }
            };
            let status = response.status();
            if !status.is_success() {
                if let Err(error) = idempotency::release(&state.db, &row).await {
                    tracing::warn!(%error, "an idempotency key was not freed");
                }
                return Ok(response.map_into_boxed_body());
            }
            let (request, response) = response.into_parts();
            let (head, body) = response.into_parts();
            let bytes = actix_web::body::to_bytes(body)
                .await
                .map_err(|_| AppError::Internal(anyhow::anyhow!("the answer could not be read")))?;
            let kept = [header::LOCATION, header::CONTENT_TYPE, header::ETAG];
            let stored = Stored {
                status: status.as_u16(),
                headers: kept
                    .iter()
                    .filter_map(|name: &HeaderName| {
                        let value: &HeaderValue = head.headers().get(name)?;
                        Some((name.to_string(), value.to_str().ok()?.to_string()))
                    })
                    .collect(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            };
            if let Err(error) = idempotency::complete(&state.db, &row, &stored).await {
                // The request did its work; only a retry's replay is lost.
                tracing::warn!(%error, "an idempotent answer was not kept");
            }
            let response = head.set_body(BoxBody::new(bytes));
            Ok(ServiceResponse::new(request, response))
        }
    }
}
