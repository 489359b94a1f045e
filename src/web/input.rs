//! The text guard where input enters: no NUL character and no invalid UTF-8 reaches a handler
//! through a path, a query string or a body (PostgreSQL refuses a NUL in text with an error
//! that would be a 500; SQLite stored it). The middleware [`guard`] answers before any other
//! reads the path or the query: a bad path segment is a 404 (an id or key with a NUL names
//! nothing), a bad query parameter a 422 naming it. Bodies are checked where they are read, so
//! that on a tenant route nothing of a body is looked at before the requester's membership is
//! settled: forms by [`Form`], JSON by [`crate::web::Json`] (with [`nul_in_json`]), each a 422
//! naming the field.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::error::AppError;

/// The message of a field holding a NUL character.
pub const NUL: &str = "must not contain a NUL character";
/// The message of a field holding bytes that are not UTF-8.
pub const NOT_UTF8: &str = "must be valid UTF-8";

/// Why a text is refused, as a field error's message; `None` when it is fine.
pub fn refusal(bytes: &[u8]) -> Option<&'static str> {
    if bytes.contains(&0) {
        Some(NUL)
    } else if std::str::from_utf8(bytes).is_err() {
        Some(NOT_UTF8)
    } else {
        None
    }
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// The bytes `raw` percent-decodes to (a `%` not followed by two hex digits stays as it is).
fn percent_decoded(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let decoded = match raw.get(i..i + 3) {
            Some([b'%', high, low]) => hex(*high).zip(hex(*low)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    out
}

/// The first `name=value` pair of an `application/x-www-form-urlencoded` text (a query string
/// or a form body) whose name or value is refused: the 422 naming it (`whole` when the name
/// itself is the bad part).
fn bad_pair(encoded: &[u8], whole: &str) -> Option<AppError> {
    encoded
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .find_map(|pair| {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let name = percent_decoded(parts.next().unwrap_or_default());
            let value = percent_decoded(parts.next().unwrap_or_default());
            if let Some(message) = refusal(&name) {
                return Some(AppError::field(whole, message));
            }
            refusal(&value).map(|message| AppError::field(&String::from_utf8_lossy(&name), message))
        })
}

/// The middleware (`actix_web::middleware::from_fn(input::guard)`), outside everything that
/// reads the path or the query (tenant resolution, CSRF, handlers) and inside the error pages,
/// which render its answers.
pub async fn guard<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let refused = if refusal(&percent_decoded(req.path().as_bytes())).is_some() {
        Some(AppError::NotFound)
    } else {
        bad_pair(req.query_string().as_bytes(), "query")
    };
    if let Some(error) = refused {
        return Ok(req.error_response(error).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// An `application/x-www-form-urlencoded` body, as actix's `web::Form` reads it (its
/// configuration and answers), once no field's name or value holds a NUL character or bytes
/// that are not UTF-8 (else a 422 naming the field). Every form handler takes this one.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T> Form<T> {
    /// The form's value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Form<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Form<T> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &actix_web::HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await?;
            if let Some(error) = bad_pair(&body, "form") {
                return Err(error.into());
            }
            let mut payload = Payload::from(body);
            let form = web::Form::<T>::from_request(&req, &mut payload).await?;
            Ok(Self(form.into_inner()))
        })
    }
}

/// Where a parsed JSON body holds a NUL character, in a string or a key: the path of the first
/// (`roles[0]`, `changes.name`, `body` for the body itself), as serde names a field.
pub fn nul_in_json(value: &serde_json::Value) -> Option<String> {
    fn walk(value: &serde_json::Value, path: &str) -> Option<String> {
        let at = |step: String| match path {
            "" => step,
            _ if step.starts_with('[') => format!("{path}{step}"),
            _ => format!("{path}.{step}"),
        };
        match value {
            serde_json::Value::String(text) if text.contains('\0') => Some(match path {
                "" => "body".to_string(),
                path => path.to_string(),
            }),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &at(format!("[{i}]")))),
            serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
                if key.contains('\0') {
                    Some(at(key.replace('\0', "\u{FFFD}")))
                } else {
                    walk(item, &at(key.clone()))
                }
            }),
            _ => None,
        }
    }
    walk(value, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(encoded: &str) -> Option<String> {
        bad_pair(encoded.as_bytes(), "query")
            .and_then(|e| e.into_fields().ok())
            .and_then(|fields| fields.keys().next().cloned())
    }

    #[test]
    fn a_nul_or_broken_utf8_in_a_pair_names_its_field() {
        assert_eq!(field("a=1&roles=%00"), Some("roles".into()));
        assert_eq!(field("name=caf%C3%A9&q=%FF"), Some("q".into()));
        assert_eq!(field("ro%00les=x"), Some("query".into()));
        assert_eq!(field("a=%25&b=100%&c=%zz&d=caf%C3%A9&e"), None);
        assert_eq!(field(""), None);
    }

    #[test]
    fn a_path_decodes_before_it_is_judged() {
        assert!(refusal(&percent_decoded(b"/o/acme/roles/%00/")).is_some());
        assert!(refusal(&percent_decoded(b"/o/acme/roles/%c3%28/")).is_some());
        assert!(refusal(&percent_decoded(b"/o/acme/roles/caf%C3%A9/")).is_none());
        assert!(refusal(&percent_decoded(b"/100%/")).is_none());
    }

    #[test]
    fn a_nul_in_json_is_found_by_its_path() {
        let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        assert_eq!(
            nul_in_json(&json(r#"{"name": "x", "roles": ["a", "\u0000"]}"#)),
            Some("roles[1]".into())
        );
        assert_eq!(
            nul_in_json(&json(r#"{"a": {"b": "c\u0000"}}"#)),
            Some("a.b".into())
        );
        assert_eq!(nul_in_json(&json(r#""\u0000""#)), Some("body".into()));
        assert_eq!(nul_in_json(&json(r#"{"a": "\\u0000"}"#)), None);
    }
}
