//! `Idempotency-Key` on the creating `POST`s: the first request with a key claims it in the
//! database (so a retry reaching any instance finds it), and its successful answer is kept 24
//! hours for the retries to get again instead of creating twice. A key is the client's within
//! its scope (the organization, or none on a global route) and its principal (a person or an
//! API key), so nobody else can read or block an answer by guessing it.

use chrono::{Duration, Utc};
use entity::idempotency_key;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, QueryFilter,
};

use crate::tenancy::global;
use crate::tokens;

/// How long an answer is kept for retries.
pub const KEEP_HOURS: i64 = 24;
/// A first request still running after this long died with its instance: a retry may run anew.
pub const ABANDONED_AFTER_SECS: i64 = 60;
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// The answer of a first request, as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Its status.
    pub status: u16,
    /// The headers worth replaying (`Location`, `Content-Type`, `ETag`).
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: String,
}

/// What a request with a key is to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or its last use failed): run the request, then [`complete`] or
    /// [`release`].
    Fresh,
    /// The key's first request succeeded: answer what it answered.
    Replay(Stored),
    /// The key's first request is still running.
    InFlight,
    /// The key was used with another request.
    Mismatch,
}

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

/// Claims `key` for a request hashing to `hash`, or says why not.
pub async fn claim<C: ConnectionTrait>(db: &C, key: &str, hash: &str) -> Result<Claim, DbErr> {
    // Twice at most: a second round only after removing a row that no longer counts.
    for _ in 0..2 {
        let now = entity::chrono_now();
        let inserted = idempotency_key::ActiveModel {
            key: Set(key.to_string()),
            request_hash: Set(hash.to_string()),
            status: Set(None),
            response_headers: Set(None),
            response_body: Set(None),
            created_at: Set(now),
        }
        .insert(db)
        .await;
        match inserted {
            Ok(_) => return Ok(Claim::Fresh),
            Err(error) if crate::db::is_unique_violation(&error) => {}
            Err(error) => return Err(error),
        }
        let Some(row) = global::select::<idempotency_key::Entity>()
            .filter(idempotency_key::Column::Key.eq(key))
            .one(db)
            .await?
        else {
            continue;
        };
        let expired = row.created_at < now - Duration::hours(KEEP_HOURS);
        let abandoned =
            row.status.is_none() && row.created_at < now - Duration::seconds(ABANDONED_AFTER_SECS);
        if expired || abandoned {
            // Only that row: a retry that took the key over meanwhile keeps it.
            global::delete_many::<idempotency_key::Entity>()
                .filter(idempotency_key::Column::Key.eq(key))
                .filter(idempotency_key::Column::CreatedAt.eq(row.created_at))
                .exec(db)
                .await?;
            continue;
        }
        if row.request_hash != hash {
            return Ok(Claim::Mismatch);
        }
        return Ok(match (row.status, row.response_body) {
            (Some(status), Some(body)) => Claim::Replay(Stored {
                status: u16::try_from(status).unwrap_or(500),
                headers: row
                    .response_headers
                    .and_then(|h| serde_json::from_str(&h).ok())
                    .unwrap_or_default(),
                body,
            }),
            _ => Claim::InFlight,
        });
    }
    // Removed twice under our feet: another request is at it.
    Ok(Claim::InFlight)
}

/// Keeps `answer` for the key's retries.
pub async fn complete<C: ConnectionTrait>(db: &C, key: &str, answer: &Stored) -> Result<(), DbErr> {
    let headers = serde_json::to_string(&answer.headers).unwrap_or_else(|_| "[]".into());
    global::update_many::<idempotency_key::Entity>()
        .col_expr(
            idempotency_key::Column::Status,
            sea_orm::sea_query::Expr::value(i32::from(answer.status)),
        )
        .col_expr(
            idempotency_key::Column::ResponseHeaders,
            sea_orm::sea_query::Expr::value(headers),
        )
        .col_expr(
            idempotency_key::Column::ResponseBody,
            sea_orm::sea_query::Expr::value(answer.body.clone()),
        )
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Frees the key after a request that created nothing (refused, or failed), so that a retry
/// runs anew.
pub async fn release<C: ConnectionTrait>(db: &C, key: &str) -> Result<(), DbErr> {
    global::delete_many::<idempotency_key::Entity>()
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Status.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the keys past their 24 hours; how many.
pub async fn prune<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let cutoff = Utc::now() - Duration::hours(KEEP_HOURS);
    let result = global::delete_many::<idempotency_key::Entity>()
        .filter(idempotency_key::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
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
