//! Flash messages: set before a redirect, shown once on the next page.

use actix_session::Session;
use serde::{Deserialize, Serialize};

const KEY: &str = "flash";

/// The session key of a new API key's secret, shown once on the next settings page.
pub const NEW_API_KEY: &str = "new_api_key";

/// The session key of a new SCIM token's secret, shown once on the next settings page.
pub const NEW_SCIM_TOKEN: &str = "new_scim_token";

/// The session key of a new webhook signing secret, shown once on the endpoint's page.
pub const NEW_WEBHOOK_SECRET: &str = "new_webhook_secret";

/// One message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flash {
    /// `success`, `info` or `error`.
    pub level: String,
    /// The text (escaped when shown).
    pub text: String,
}

/// Queues a message for the next page.
pub fn push(session: &Session, level: &str, text: impl Into<String>) {
    let mut messages = session
        .get::<Vec<Flash>>(KEY)
        .ok()
        .flatten()
        .unwrap_or_default();
    messages.push(Flash {
        level: level.to_string(),
        text: text.into(),
    });
    if let Err(error) = session.insert(KEY, messages) {
        tracing::warn!(%error, "could not store a flash message");
    }
}

/// Queues an error message.
pub fn error(session: &Session, text: impl Into<String>) {
    push(session, "error", text);
}

/// Queues a success message.
pub fn success(session: &Session, text: impl Into<String>) {
    push(session, "success", text);
}

/// Takes the queued messages.
pub fn take(session: &Session) -> Vec<Flash> {
    take_once(session, KEY).unwrap_or_default()
}

/// Removes and returns a value stored for one page (a message, a secret shown once). A session
/// without it is left untouched: actix-session's `remove` marks the session changed even when
/// the key is absent, which re-encrypted and re-sent the cookie (or rewrote Redis) on every
/// page view.
pub fn take_once<T: serde::de::DeserializeOwned>(session: &Session, key: &str) -> Option<T> {
    if !session.contains_key(key) {
        return None;
    }
    session.remove_as::<T>(key).and_then(Result::ok)
}

/// Drops the messages (and a new key's secret) queued during a request whose work did not
/// commit after all: they would announce something that did not happen.
pub fn discard(req: &actix_web::HttpRequest) {
    use actix_session::SessionExt as _;
    let session = req.get_session();
    let _ = take_once::<serde_json::Value>(&session, KEY);
    let _ = take_once::<serde_json::Value>(&session, NEW_API_KEY);
    let _ = take_once::<serde_json::Value>(&session, NEW_SCIM_TOKEN);
    let _ = take_once::<serde_json::Value>(&session, NEW_WEBHOOK_SECRET);
}
