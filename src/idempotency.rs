//! `Idempotency-Key` on the creating `POST`s: what a key is and what makes two requests the
//! same. The first request with a key claims it in its own transaction, and its successful
//! answer is kept 24 hours (without the secrets it showed once) for the retries to get again
//! instead of creating twice (`tenancy::once`, `web::idempotency`). A key is the client's within
//! its scope (the organization, or none on a global route) and its principal (a person or an
//! API key), so nobody else can read or block an answer by guessing it.

use crate::tokens;

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// Whether `key` is a key a client may send: 1 to 255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The row's key: the scope, the principal and the client's key, hashed.
pub fn row_key(scope: &str, principal: &str, key: &str) -> String {
    tokens::hash(&format!("{scope}\n{principal}\n{key}"))
}

/// What makes two requests the same: method, path and body.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(method.len() + path.len() + body.len() + 2);
    bytes.extend_from_slice(method.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(path.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(body);
    tokens::hash_bytes(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_1_to_255() {
        assert!(valid_key("order-17"));
        assert!(valid_key(&"k".repeat(255)));
        assert!(!valid_key(""));
        assert!(!valid_key(&"k".repeat(256)));
        assert!(!valid_key("with space"));
        assert!(!valid_key("ключ"));
    }

    #[test]
    fn a_key_is_its_principals_within_its_scope() {
        let a = row_key("organization:1", "user:1", "k");
        assert_ne!(a, row_key("organization:2", "user:1", "k"));
        assert_ne!(a, row_key("organization:1", "user:2", "k"));
        assert_ne!(a, row_key("organization:1", "api_key:1", "k"));
        // Scope and principal are orgs' own; the client's part cannot hold the separator.
        assert!(!valid_key("k\nuser:2"));
    }

    #[test]
    fn the_same_request_is_method_path_and_body() {
        let a = request_hash("POST", "/api/v1/projects/", b"{}");
        assert_eq!(a, request_hash("POST", "/api/v1/projects/", b"{}"));
        assert_ne!(a, request_hash("POST", "/api/v1/projects/", b"{ }"));
        assert_ne!(a, request_hash("POST", "/api/v1/roles/", b"{}"));
    }
}
