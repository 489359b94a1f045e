//! The SCIM endpoints' side of HTTP: [`Scim`], who is asking (a request resolved to an
//! organization, with its bearer token: checked by `scim::auth::open` in the transaction it
//! opens); [`ScimBody`], a request's JSON (`application/scim+json`, or `application/json` as
//! some directories send it; anything else is 415), refusing what no text may hold (a NUL,
//! bytes that are not UTF-8); [`answer`], one written with the resource's `ETag` as
//! `application/scim+json`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde_json::Value;

use entity::organization;

use crate::scim::auth::ScimTxn;
use crate::scim::{ScimError, tokens};
use crate::state::AppState;
use crate::tenancy::{Actor, ActorKind};
use crate::web::ResolvedTenant;

/// A SCIM request of an organization, before its token is checked ([`Scim::begin`]).
#[derive(Clone, Debug)]
pub struct Scim {
    organization: organization::Model,
    secret: String,
    base: String,
    actor: Actor,
}

impl FromRequest for Scim {
    type Error = ScimError;
    type Future = std::future::Ready<Result<Self, ScimError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(scim_of(req))
    }
}

fn scim_of(req: &HttpRequest) -> Result<Scim, ScimError> {
    use actix_web::HttpMessage as _;
    let resolved = req
        .extensions()
        .get::<ResolvedTenant>()
        .cloned()
        .ok_or_else(|| ScimError::not_found("organization"))?;
    // An organization API key is no SCIM token.
    if resolved.api_key.is_some() {
        return Err(ScimError::unauthorized());
    }
    let secret = super::user::bearer(req)
        .filter(|s| s.starts_with(tokens::PREFIX))
        .ok_or_else(ScimError::unauthorized)?
        .to_string();
    if !crate::organizations::billing::has_feature(&resolved.organization, "scim") {
        return Err(ScimError::new(
            StatusCode::FORBIDDEN,
            None,
            "this organization's plan does not include SCIM provisioning",
        ));
    }
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| {
        ScimError::from(crate::error::AppError::Internal(anyhow::anyhow!(
            "AppState is not registered"
        )))
    })?;
    let client = super::client::Client::of_request(req, &state.settings.server.trusted_proxies);
    // The path form answers on any host: its links name the service's own address, never a
    // `Host` the client chose. An organization's own host is the one that reached it.
    let base = if resolved.root.is_empty() {
        format!("{}://{}/scim/v2", client.scheme, client.host)
    } else {
        format!(
            "{}{}/scim/v2",
            state.settings.server.public_url.trim_end_matches('/'),
            resolved.root
        )
    };
    let actor =
        super::tenant::request_actor(req, ActorKind::Scim, None, String::new(), client.ip_text());
    Ok(Scim {
        organization: resolved.organization,
        secret,
        base,
        actor,
    })
}

impl Scim {
    /// Opens the organization's transaction (one that writes for `write`) with the token
    /// checked in it (`scim::auth::open`).
    pub async fn begin(&self, state: &AppState, write: bool) -> Result<ScimTxn, ScimError> {
        crate::scim::auth::open(
            state,
            &self.organization,
            &self.secret,
            &self.actor,
            self.base.clone(),
            write,
        )
        .await
    }
}

/// The most a SCIM body may be (a group PATCH adding a thousand members fits).
pub const MAX_BODY: usize = 1 << 20;

/// A SCIM request's body, read but not looked at: [`ScimBody::value`] parses it once the token
/// was checked (nothing of a body is judged before its sender is).
#[derive(Debug)]
pub struct ScimBody {
    media_ok: bool,
    bytes: web::Bytes,
}

impl ScimBody {
    /// The body as a JSON object: 415 for another media type, 400 for what is not one.
    pub fn value(&self) -> Result<Value, ScimError> {
        if !self.media_ok {
            return Err(ScimError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                "send application/scim+json",
            ));
        }
        parse(&self.bytes)
    }
}

fn media_type_ok(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        // A directory that sends none still means JSON.
        return true;
    };
    let media = value.split(';').next().unwrap_or_default().trim();
    media.eq_ignore_ascii_case(crate::scim::CONTENT_TYPE)
        || media.eq_ignore_ascii_case("application/json")
}

impl FromRequest for ScimBody {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ScimError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let media_ok = media_type_ok(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|_| {
                ScimError::new(StatusCode::PAYLOAD_TOO_LARGE, None, "the body is too large")
            })?;
            Ok(ScimBody { media_ok, bytes })
        })
    }
}

/// `bytes` as a JSON object, or SCIM's 400 `invalidSyntax` (`invalidValue` for a NUL).
pub fn parse(bytes: &[u8]) -> Result<Value, ScimError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ScimError::bad("invalidValue", "the body must be valid UTF-8"))?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(head, _)| head)
            .to_string();
        ScimError::bad("invalidSyntax", format!("the body is not JSON: {message}"))
    })?;
    if !value.is_object() {
        return Err(ScimError::bad(
            "invalidSyntax",
            "the body must be a JSON object",
        ));
    }
    if let Some(field) = crate::web::input::nul_in_json(&value) {
        return Err(ScimError::bad(
            "invalidValue",
            format!("{field}: {}", crate::web::input::NUL),
        ));
    }
    Ok(value)
}

/// `value` as `application/scim+json` with `status`, and its `meta.version` as the `ETag`.
pub fn answer(status: StatusCode, value: &Value) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.content_type(crate::scim::CONTENT_TYPE);
    if let Some(version) = value.pointer("/meta/version").and_then(Value::as_str) {
        response.insert_header((header::ETAG, version.to_string()));
    }
    if status == StatusCode::CREATED
        && let Some(location) = value.pointer("/meta/location").and_then(Value::as_str)
    {
        response.insert_header((header::LOCATION, location.to_string()));
    }
    response.body(value.to_string())
}

/// The version `If-Match` asks for, if any (`*` matches any).
pub fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| *v != "*")
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_that_are_not_objects_or_hold_a_nul_are_refused() {
        assert!(parse(b"[1]").is_err());
        assert!(parse(b"{").is_err());
        let nul = parse(br#"{"userName": "a\u0000b"}"#).unwrap_err();
        assert_eq!(nul.scim_type(), Some("invalidValue"));
        assert!(parse(br#"{"userName": "a"}"#).is_ok());
    }
}
