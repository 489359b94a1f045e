//! Short-lived in-process caches for the three lookups every signed-in tenant request repeats:
//! which user a session key belongs to, which organization a slug names, and what that user
//! may do there.
//!
//! Freshness rules, in this order:
//! - every unsafe request (POST, PUT, PATCH, DELETE) this process serves empties all of them
//!   when it finishes ([`invalidate_after_writes`]), so a sign-out, a removal or a role change
//!   made through this server is seen by the very next request;
//! - a change made elsewhere (another server process, the `orgs` CLI, SQL by hand) is seen
//!   after at most `cache.ttl_ms`;
//! - code of an embedding app that writes these tables outside a request calls
//!   [`Caches::invalidate`].
//!
//! `cache.ttl_ms = 0` turns them off.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use entity::{organization, user};

use crate::startup::AppState;
use crate::tenancy::Access;

/// A value stamped with the epoch it was read in and when.
struct Entry<V> {
    value: V,
    epoch: u64,
    at: Instant,
}

/// A bounded map whose entries expire after a time or when the epoch moves on.
pub struct TtlMap<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
    max_entries: usize,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    fn new(max_entries: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max_entries,
        }
    }

    fn get(&self, key: &K, epoch: u64, ttl: Duration) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|entry| entry.epoch == epoch && entry.at.elapsed() < ttl)
            .map(|entry| entry.value.clone())
    }

    fn insert(&self, key: K, value: V, epoch: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.max_entries {
            // Crude but bounded: memory stays flat whatever the number of sessions.
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                value,
                epoch,
                at: Instant::now(),
            },
        );
    }

    fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// A read in progress: the epoch it started in, so that a value read before a concurrent write
/// finished is stored as already stale.
#[derive(Clone, Copy, Debug)]
pub struct Ticket(u64);

/// The caches of one application.
pub struct Caches {
    epoch: AtomicU64,
    ttl: Duration,
    /// Session key hash -> the signed-in, active user.
    sessions: TtlMap<String, user::Model>,
    /// Slug -> organization.
    organizations: TtlMap<String, organization::Model>,
    /// (organization id, user id) -> access.
    access: TtlMap<(i64, i64), Access>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches")
            .field("epoch", &self.epoch.load(Ordering::Relaxed))
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Caches {
    /// Caches whose entries live `ttl` at most (zero: nothing is cached), each holding at most
    /// `max_entries`.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            epoch: AtomicU64::new(0),
            ttl,
            sessions: TtlMap::new(max_entries),
            organizations: TtlMap::new(max_entries),
            access: TtlMap::new(max_entries),
        }
    }

    /// Forgets everything cached so far (after a write made outside an HTTP request).
    pub fn invalidate(&self) {
        if self.ttl.is_zero() {
            return;
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
        // The epoch already hides the old entries; clearing frees their memory.
        self.sessions.clear();
        self.organizations.clear();
        self.access.clear();
    }

    /// Takes a ticket before reading the database for a value to cache.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.epoch.load(Ordering::Acquire))
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The user signed in with the session key whose hash this is.
    pub fn session(&self, key_hash: &String) -> Option<user::Model> {
        self.enabled()
            .then(|| self.sessions.get(key_hash, self.ticket().0, self.ttl))
            .flatten()
    }

    /// Remembers the user signed in with a session key hash.
    pub fn put_session(&self, ticket: Ticket, key_hash: String, user: user::Model) {
        if self.enabled() {
            self.sessions.insert(key_hash, user, ticket.0);
        }
    }

    /// The organization with this slug.
    pub fn organization(&self, slug: &String) -> Option<organization::Model> {
        self.enabled()
            .then(|| self.organizations.get(slug, self.ticket().0, self.ttl))
            .flatten()
    }

    /// Remembers the organization of a slug.
    pub fn put_organization(&self, ticket: Ticket, slug: String, org: organization::Model) {
        if self.enabled() {
            self.organizations.insert(slug, org, ticket.0);
        }
    }

    /// What the user may do in the organization.
    pub fn access(&self, organization_id: i64, user_id: i64) -> Option<Access> {
        self.enabled()
            .then(|| {
                self.access
                    .get(&(organization_id, user_id), self.ticket().0, self.ttl)
            })
            .flatten()
    }

    /// Remembers what the user may do in the organization.
    pub fn put_access(&self, ticket: Ticket, organization_id: i64, user_id: i64, access: Access) {
        if self.enabled() {
            self.access
                .insert((organization_id, user_id), access, ticket.0);
        }
    }
}

/// Middleware: after an unsafe request, forget every cached lookup (it may have signed someone
/// out, removed a member or renamed an organization).
pub async fn invalidate_after_writes<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let unsafe_method = !req.method().is_safe();
    let state = unsafe_method
        .then(|| req.app_data::<web::Data<AppState>>().cloned())
        .flatten();
    let result = next.call(req).await;
    if let Some(state) = state {
        state.caches.invalidate();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_gone_once_the_epoch_moves() {
        let map = TtlMap::new(10);
        map.insert("a", 1, 0);
        assert_eq!(map.get(&"a", 0, Duration::from_secs(60)), Some(1));
        assert_eq!(map.get(&"a", 1, Duration::from_secs(60)), None);
    }

    #[test]
    fn an_entry_expires_after_its_ttl() {
        let map = TtlMap::new(10);
        map.insert("a", 1, 0);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(map.get(&"a", 0, Duration::from_millis(10)), None);
    }

    #[test]
    fn a_value_read_before_an_invalidation_is_never_served() {
        let caches = Caches::new(Duration::from_secs(60), 10);
        let ticket = caches.ticket();
        caches.invalidate();
        caches.put_access(ticket, 1, 2, Access::default());
        assert_eq!(caches.access(1, 2), None);
    }

    #[test]
    fn a_full_map_starts_over_instead_of_growing() {
        let map = TtlMap::new(2);
        map.insert(1, 1, 0);
        map.insert(2, 2, 0);
        map.insert(3, 3, 0);
        assert_eq!(map.entries.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let caches = Caches::new(Duration::ZERO, 10);
        caches.put_access(caches.ticket(), 1, 2, Access::default());
        assert_eq!(caches.access(1, 2), None);
    }
}
