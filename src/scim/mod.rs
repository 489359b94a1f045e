//! SCIM 2.0 provisioning (RFC 7643, RFC 7644) per organization: the organization's directory
//! (Entra ID, Okta, any RFC 7644 client) creates, updates, suspends and removes its people and
//! groups at `/scim/v2/` under the organization's root, with a SCIM token made by a holder of
//! `sso.manage` (`tokens`, checked by `auth`).
//!
//! - A User is a membership: an address at a domain the organization verified as an email domain
//!   finds or makes the account and the membership at once; any other address gets an
//!   invitation, which the person accepts by proving it (`users`). `active: false` suspends the
//!   membership, DELETE removes it; the account is never deleted.
//! - A Group is a named set of Users that holders of `sso.manage` map to roles; its members hold
//!   those roles while they are in it (`groups`, `organizations::group_roles`).
//! - Requests and answers are `application/scim+json`; errors are SCIM's (`error`); PATCH takes
//!   the dialects directories speak (`patch`), lists take `filter` (`filter`).

pub mod auth;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod groups;
pub mod mapping;
pub mod patch;
pub mod provision;
pub mod tokens;
pub mod users;
pub mod version;

pub use auth::ScimTxn;
pub use error::ScimError;

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// orgs' extension of a User: where its membership stands (`state`).
pub const ORGS_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:orgs:2.0:User";
/// A list's answer.
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// A PATCH request's.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// An error's.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The media type of SCIM bodies.
pub const CONTENT_TYPE: &str = "application/scim+json";
/// The most resources one list answers with.
pub const MAX_COUNT: u64 = 200;

/// Whether `path` is (or is under) a SCIM root: `/scim/v2...`, or `/o/{slug}/scim/v2...` before
/// the resolver strips the path form's prefix. Its errors are SCIM's.
pub fn is_scim_path(path: &str) -> bool {
    path.starts_with("/scim/v2") || (path.starts_with("/o/") && path.contains("/scim/v2"))
}

/// A fresh SCIM id: 16 random bytes as a version-4 UUID (what directories expect to see).
pub fn new_id() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn scim_paths_are_known_in_both_forms() {
        assert!(super::is_scim_path("/scim/v2/Users"));
        assert!(super::is_scim_path("/o/acme/scim/v2/Users/x"));
        assert!(!super::is_scim_path("/people/scim/v2"));
        assert!(!super::is_scim_path("/api/v1/scim-tokens/"));
    }

    #[test]
    fn ids_look_like_uuids_and_differ() {
        let (a, b) = (super::new_id(), super::new_id());
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, b);
    }
}
