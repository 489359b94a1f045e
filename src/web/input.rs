//! The text guard where input enters: no NUL character and no invalid UTF-8 reaches a handler
//! through a path, a query string or a form body (PostgreSQL refuses a NUL in text with an
//! error that would be a 500; SQLite stored it). The middleware [`guard`] answers before any
//! other reads the request: a bad path segment is a 404 (an id or key with a NUL names nothing),
//! a bad query parameter or form field a 422 naming it. JSON bodies are checked where they are
//! read, by [`crate::web::Json`], with [`nul_in_json`].

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
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

fn is_form(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The middleware (`actix_web::middleware::from_fn(input::guard)`), outside everything that
/// reads the path, the query or the body (tenant resolution, CSRF, handlers) and inside the
/// error pages, which render its answers.
pub async fn guard<B: MessageBody>(
    mut req: ServiceRequest,
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
    if is_form(&req) {
        let body = match req.extract::<web::Bytes>().await {
            Ok(body) => body,
            Err(error) => {
                let error = crate::web::json::unreadable(&error);
                return Ok(req.error_response(error).map_into_right_body());
            }
        };
        let refused = bad_pair(&body, "form");
        req.set_payload(Payload::from(body));
        if let Some(error) = refused {
            return Ok(req.error_response(error).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
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
