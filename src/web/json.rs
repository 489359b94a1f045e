//! `Json<T>`: the request body of the JSON API, read so that every bad body answers in the error
//! envelope: a body that is not JSON is 400, one that is not `application/json` 415, one too
//! large 413, and a well-formed body with a wrong type, a missing or an unknown field a 422 field
//! error naming the field (`{"error": {"fields": {"name": ["invalid type: ..."]}}}`), where
//! actix's own `web::Json` answered 400 with serde's text.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// The largest JSON body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON request body (use `web::Json` to answer with JSON).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|v| {
            v.eq_ignore_ascii_case("application/json")
                || (v.starts_with("application/") && v.ends_with("+json"))
        })
}

/// Why a body could not be read: too large (413), or broken off (400).
pub(crate) fn unreadable(error: &actix_web::Error) -> AppError {
    if error.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::BadRequest("the body could not be read".into())
    }
}

/// The 422 for a body that is JSON but not the expected shape: the field is the path serde was
/// at (`roles[0]`, `name`), or the unknown or missing field's own name, or `body` for the whole.
fn shape_error(path: &str, error: &serde_json::Error) -> AppError {
    let text = error.to_string();
    // "... at line 1 column 12" tells a client nothing it can act on.
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(head, _)| head);
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if message.contains("expected struct") || message.contains("expected a map") {
        // A nested object of the wrong type is named by its path (`credential`).
        let field = match path {
            "." | "" => "body",
            path => path,
        };
        return AppError::field(field, message);
    }
    let field = named("unknown field `")
        .or_else(|| named("missing field `"))
        .map(|name| match path {
            "." | "" => name,
            // An unknown field's path already ends with it.
            path if path == name || path.ends_with(&format!(".{name}")) => path.to_string(),
            parent => format!("{parent}.{name}"),
        })
        .unwrap_or_else(|| match path {
            "." | "" => "body".to_string(),
            path => path.to_string(),
        });
    AppError::field(&field, message)
}

/// The 422 for a body whose strings hold what no text may ([`crate::web::input`]): a NUL
/// character (`\u0000`) or bytes that are not UTF-8, naming the field by its path. A body that
/// does not parse either way is left to the parser's own answer.
fn bad_text(bytes: &[u8]) -> Option<AppError> {
    use crate::web::input::{NOT_UTF8, NUL, nul_in_json};
    if std::str::from_utf8(bytes).is_err() {
        // Read with the broken bytes replaced by U+FFFD, which then marks where they were.
        let value = serde_json::from_str(&String::from_utf8_lossy(bytes)).ok()?;
        let field = nul_in_json(&replaced_by_nul(value)).unwrap_or_else(|| "body".into());
        return Some(AppError::field(&field, NOT_UTF8));
    }
    // Only an escape can put a NUL in a JSON string; most bodies have none to look for.
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    let value = serde_json::from_slice(bytes).ok()?;
    nul_in_json(&value).map(|field| AppError::field(&field, NUL))
}

/// `value` with every U+FFFD of its strings and keys turned into a NUL.
fn replaced_by_nul(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let nul = |text: String| text.replace('\u{FFFD}', "\0");
    match value {
        Value::String(text) => Value::String(nul(text)),
        Value::Array(items) => items.into_iter().map(replaced_by_nul).collect(),
        Value::Object(fields) => fields
            .into_iter()
            .map(|(key, item)| (nul(key), replaced_by_nul(item)))
            .collect(),
        other => other,
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_json(req) {
            return Box::pin(async { Err(AppError::UnsupportedMediaType) });
        }
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| unreadable(&e))?;
            if bytes.len() > MAX_BODY_BYTES {
                return Err(AppError::PayloadTooLarge);
            }
            // serde reads a struct from an array too (`["x"]` as `{"name": "x"}`): every body
            // orgs reads is an object, and anything else is refused before it can pass.
            let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
            if first.is_some_and(|b| *b != b'{')
                && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok()
            {
                return Err(AppError::field("body", "must be a JSON object"));
            }
            if let Some(error) = bad_text(&bytes) {
                return Err(error);
            }
            let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
            match serde_path_to_error::deserialize(&mut deserializer) {
                Ok(value) => {
                    deserializer
                        .end()
                        .map_err(|e| AppError::BadRequest(format!("body: malformed JSON: {e}")))?;
                    Ok(Json(value))
                }
                Err(error) => {
                    let path = error.path().to_string();
                    let inner = error.into_inner();
                    if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                        Err(AppError::BadRequest(format!(
                            "body: malformed JSON: {inner}"
                        )))
                    } else {
                        Err(shape_error(&path, &inner))
                    }
                }
            }
        })
    }
}

/// For `#[serde(default, deserialize_with = "crate::web::json::not_null")]` on an optional
/// field of a PATCH body: left out is `None` (unchanged), `null` is a 422 like any other wrong
/// type (the document says the field is a string, and `null` clears nothing).
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// For `#[serde(default, deserialize_with = "crate::web::json::nullable")]` on a field of a
/// PATCH body that `null` clears: left out is `None` (unchanged), `null` is `Some(None)`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// For `#[serde(default, deserialize_with = "crate::web::json::unique_keys")]` on an optional
/// object of a body: a key given twice is refused (serde's maps keep the last silently, which
/// would let `{"sso": true, "sso": false}` mean whichever a reader happens to see); `null` is
/// refused like any other wrong type.
pub fn unique_keys<'de, D, V>(
    deserializer: D,
) -> Result<Option<std::collections::BTreeMap<String, V>>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: serde::Deserialize<'de>,
{
    struct Visitor<V>(std::marker::PhantomData<V>);

    impl<'de, V: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visitor<V> {
        type Value = std::collections::BTreeMap<String, V>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = std::collections::BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, V>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format_args!(
                        "duplicate key `{key}`"
                    )));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }

    deserializer
        .deserialize_map(Visitor(std::marker::PhantomData))
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::shape_error;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized")]
    struct Body {
        name: String,
        count: Option<i64>,
        roles: Option<Vec<String>>,
    }

    fn field_of(json: &str) -> String {
        let mut de = serde_json::Deserializer::from_str(json);
        let error = serde_path_to_error::deserialize::<_, Body>(&mut de).unwrap_err();
        let path = error.path().to_string();
        let fields = shape_error(&path, error.inner())
            .into_fields()
            .unwrap_or_default();
        fields.keys().next().cloned().unwrap_or_default()
    }

    #[test]
    fn a_nul_or_broken_utf8_in_a_json_string_is_a_422_naming_its_field() {
        let field = |bytes: &[u8]| {
            super::bad_text(bytes)
                .and_then(|e| e.into_fields().ok())
                .and_then(|fields| fields.keys().next().cloned())
        };
        assert_eq!(field(br#"{"roles": ["\u0000"]}"#), Some("roles[0]".into()));
        assert_eq!(
            field(b"{\"name\": \"ok\", \"description\": \"caf\xff\"}"),
            Some("description".into())
        );
        assert_eq!(field(br#"{"name": "\\u0000 is fine"}"#), None);
        assert_eq!(field(br#"{"name": "caf\u00e9"}"#), None);
    }

    #[test]
    fn shape_errors_name_the_field() {
        assert_eq!(field_of(r#"{"nam": "x"}"#), "nam");
        assert_eq!(field_of(r#"{"count": 1}"#), "name");
        assert_eq!(field_of(r#"{"name": 5}"#), "name");
        assert_eq!(field_of(r#"{"name": "x", "count": "many"}"#), "count");
        assert_eq!(field_of(r#"{"name": "x", "roles": [1]}"#), "roles[0]");
        assert_eq!(field_of(r#""just a string""#), "body");
        // A struct may be read from an array, element by element.
        assert_eq!(field_of(r#"[1, 2]"#), "[0]");
    }
}
