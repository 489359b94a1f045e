//! The `Idempotency-Key` middleware of the creating `POST`s (the routes marked `creates` in the
//! route tables). On a tenant route it runs after the membership check (`web::tenant`), so
//! nothing of the body is read for a stranger. It reads the key and the body, then answers what
//! the key's first request answered (`Idempotent-Replayed: true`), or 422 when the key was used
//! with another request, or runs the request with the key's claim ([`Claim`]): the request's
//! transaction writes the claim when the handler commits it, and commits only once the answer is
//! written in it, so the claim, the work and the answer commit together. Only a successful answer is kept (a
//! refused or failed request commits nothing and frees its key), and never a secret it showed
//! once ([`ShownOnce`]). Without the header nothing changes.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpResponse, web};

use crate::error::AppError;
use crate::idempotency;
use crate::state::AppState;
use crate::tenancy::once::{self, Claim, Stored};
use crate::web::{MaybeUser, ResolvedTenant};

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// The header on an answer given again.
pub const REPLAYED: &str = "Idempotent-Replayed";
/// The header on an answer given again without the secrets the first one showed.
pub const REDACTED: &str = "Idempotent-Redacted";

/// Put in a response's extensions by a handler whose answer shows a secret once (a new API
/// key's): the top-level JSON fields named are kept as `null`, and a replay names them in
/// `Idempotent-Redacted`.
#[derive(Clone, Copy, Debug)]
pub struct ShownOnce(pub &'static [&'static str]);

/// Who is asking, as the key's scope and principal: the organization (if any), the person (if
/// any) and the principal's name; `None` lets the handler refuse.
async fn principal(req: &ServiceRequest) -> Option<(Option<i64>, Option<i64>, String)> {
    let tenant = req.extensions().get::<ResolvedTenant>().map(|t| {
        let key = t.api_key.as_ref().map(|k| k.id);
        (t.organization.id, key)
    });
    if let Some((organization_id, Some(key))) = tenant {
        return Some((Some(organization_id), None, format!("api_key:{key}")));
    }
    match MaybeUser::from_request(req.request(), &mut Payload::None).await {
        Ok(MaybeUser(Some(user))) => Some((
            tenant.map(|(organization_id, _)| organization_id),
            Some(user.id),
            format!("user:{}", user.id),
        )),
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

/// `body` with the fields `shown_once` set to `null`, and whether any was there.
fn redacted(body: &[u8], shown_once: Option<ShownOnce>) -> (String, bool) {
    let text = String::from_utf8_lossy(body).into_owned();
    let Some(ShownOnce(fields)) = shown_once else {
        return (text, false);
    };
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_str(&text) else {
        return (text, false);
    };
    let mut any = false;
    for field in fields {
        if let Some(value) = object.get_mut(*field) {
            *value = serde_json::Value::Null;
            any = true;
        }
    }
    (serde_json::Value::Object(object).to_string(), any)
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
    let Some((organization_id, user_id, principal)) = principal(&req).await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let scope =
        organization_id.map_or_else(|| "global".to_string(), |id| format!("organization:{id}"));
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
    // A global route's key is its person's, read in their user context.
    let owner = if organization_id.is_some() {
        None
    } else {
        user_id
    };
    match answered(&state, &row, &hash, organization_id, owner).await {
        Ok(Some(Ok(stored))) => return Ok(replay(req, stored)),
        Ok(Some(Err(error))) | Err(error) => return Ok(refuse(req, error)),
        Ok(None) => {}
    }
    let claim = Claim::new(row.clone(), hash.clone(), organization_id, owner);
    let response = claim.run(next.call(req)).await;
    if claim.raced() {
        claim.abandon();
        return raced(&state, &row, &hash, organization_id, owner, response).await;
    }
    keep(&claim, response).await
}

/// The answer to a request that lost its key's claim to another request with the same key, run
/// at the same time: that one's answer when it committed one, else 409 (retry).
async fn raced<B: MessageBody + 'static>(
    state: &AppState,
    row: &str,
    hash: &str,
    organization_id: Option<i64>,
    owner: Option<i64>,
    response: Result<ServiceResponse<B>, actix_web::Error>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request = match &response {
        Ok(response) => response.request().clone(),
        Err(_) => return response.map(ServiceResponse::map_into_boxed_body),
    };
    let answer = match answered(state, row, hash, organization_id, owner).await {
        Ok(Some(Ok(stored))) => {
            return Ok(replay(ServiceRequest::from_request(request), stored));
        }
        Ok(Some(Err(error))) | Err(error) => error,
        Ok(None) => AppError::Conflict(
            "another request with this Idempotency-Key is running; retry shortly".into(),
        ),
    };
    Ok(ServiceResponse::from_err(answer, request).map_into_boxed_body())
}

/// Keeps a successful answer under the key's claim (without the secrets it showed once), in the
/// request's transaction; any other answer frees the key (a handler's own answer that is not a
/// success still commits its work; an error commits nothing).
async fn keep<B: MessageBody + 'static>(
    claim: &Claim,
    response: Result<ServiceResponse<B>, actix_web::Error>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = match response {
        Ok(response) if response.status().is_success() => response,
        // A handler's own answer that is not a success (a redirect, a form shown again): its
        // work stands, and the key stays free for another try.
        Ok(response) if response.response().error().is_none() => {
            if let Err(error) = claim.commit_unanswered().await {
                let request = response.request().clone();
                return Ok(
                    ServiceResponse::from_err(AppError::from(error), request).map_into_boxed_body()
                );
            }
            return Ok(response.map_into_boxed_body());
        }
        other => {
            claim.abandon();
            return other.map(ServiceResponse::map_into_boxed_body);
        }
    };
    let shown_once = response.response().extensions().get::<ShownOnce>().copied();
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        claim.abandon();
        let error = AppError::Internal(anyhow::anyhow!("the answer could not be read"));
        return Ok(ServiceResponse::from_err(error, request).map_into_boxed_body());
    };
    let kept = [header::LOCATION, header::CONTENT_TYPE, header::ETAG];
    let (body, secrets) = redacted(&bytes, shown_once);
    let mut headers: Vec<(String, String)> = kept
        .iter()
        .filter_map(|name: &HeaderName| {
            let value: &HeaderValue = head.headers().get(name)?;
            Some((name.to_string(), value.to_str().ok()?.to_string()))
        })
        .collect();
    if let (true, Some(ShownOnce(fields))) = (secrets, shown_once) {
        headers.push((REDACTED.to_string(), fields.join(", ")));
    }
    let stored = Stored {
        status: head.status().as_u16(),
        headers,
        body,
    };
    if let Err(error) = claim.answer(&stored).await {
        // Nothing of the request was committed: the retry runs it anew.
        return Ok(ServiceResponse::from_err(AppError::from(error), request).map_into_boxed_body());
    }
    let response = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(request, response))
}

/// The answer kept for the key, when a request with it committed one: `Ok(stored)` for the same
/// request (without the secrets it showed), `Err(422)` for another.
async fn answered(
    state: &AppState,
    row: &str,
    hash: &str,
    organization_id: Option<i64>,
    owner: Option<i64>,
) -> Result<Option<Result<Stored, AppError>>, AppError> {
    let Some(found) = once::lookup(&state.db, row, organization_id, owner).await? else {
        return Ok(None);
    };
    if found.request_hash != hash {
        return Ok(Some(Err(AppError::field(
            HEADER,
            "was used with another request; send a new key for a new request",
        ))));
    }
    Ok(Some(Ok(found.answer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_shown_once_is_kept_as_null_and_other_answers_as_they_were() {
        let body = br#"{"id":7,"secret":"orgs_key_abc","name":"ci"}"#;
        let (kept, any) = redacted(body, Some(ShownOnce(&["secret"])));
        assert!(any);
        let kept: serde_json::Value = serde_json::from_str(&kept).unwrap_or_default();
        assert_eq!(kept["secret"], serde_json::Value::Null);
        assert_eq!(kept["name"], "ci");
        let (plain, any) = redacted(body, None);
        assert!(!any);
        assert_eq!(plain.as_bytes(), body);
    }
}
