//! Short-lived in-process caches for the three lookups every signed-in tenant request repeats:
//! which user a session key belongs to, which organization a slug names, and what that user
//! may do there.
//!
//! Freshness rules, in this order:
//! - every unsafe request (POST, PUT, PATCH, DELETE) this process serves empties all of them
//!   when it finishes (`web::caching::invalidate_after_writes`), so a sign-out, a removal or a role change
//!   made through this server is seen by the very next request;
//! - with `cache.notify` set (`postgres` or `redis`), every invalidation is published to the
//!   other instances, which empty theirs when it arrives (`bus`); while that channel is down
//!   the caches are off;
//! - a change made elsewhere (another server process without a channel, the `orgs` CLI, SQL by
//!   hand) is seen after at most `cache.ttl_ms`;
//! - code of an embedding app that writes these tables outside a request calls
//!   [`Caches::invalidate`].
//!
//! `cache.ttl_ms = 0` turns them off.
//!
//! [`Caches::invalidate`]: crate::cache::Caches::invalidate

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use entity::{organization, user};

use crate::tenancy::Access;

pub mod bus;

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

/// One of a person's organizations as the header's switcher shows it: its name, slug, the
/// person's role there and the colour of its initials.
pub type SwitcherRow = (String, String, String, Option<String>);

/// The caches of one application.
pub struct Caches {
    epoch: AtomicU64,
    ttl: Duration,
    /// Off while the channel to the other instances is down (and until it first connects).
    enabled: AtomicBool,
    /// Where invalidations go to be published to the other instances, when there are any.
    publish: OnceLock<tokio::sync::mpsc::UnboundedSender<()>>,
    /// Lookups answered from memory.
    pub hits: AtomicU64,
    /// Lookups that went to the database.
    pub misses: AtomicU64,
    /// Session key hash -> the signed-in, active user and what the sign-in proved.
    pub sessions: TtlMap<String, (user::Model, crate::auth::sessions::Proof)>,
    /// Slug -> organization.
    pub organizations: TtlMap<String, organization::Model>,
    /// (organization id, user id) -> access.
    pub access: TtlMap<(i64, i64), Access>,
    /// User id -> their organizations (`SwitcherRow`), for the switcher in the page header.
    pub mine: TtlMap<i64, Vec<SwitcherRow>>,
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
            enabled: AtomicBool::new(true),
            publish: OnceLock::new(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            sessions: TtlMap::new(max_entries),
            organizations: TtlMap::new(max_entries),
            access: TtlMap::new(max_entries),
            mine: TtlMap::new(max_entries),
        }
    }

    /// Forgets everything cached so far (after a write made outside an HTTP request), here and,
    /// with `cache.notify`, on every other instance.
    pub fn invalidate(&self) {
        if self.ttl.is_zero() {
            return;
        }
        if let Some(publish) = self.publish.get() {
            let _ = publish.send(());
        }
        self.invalidate_here();
    }

    /// Whether lookups may be answered from memory now.
    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.enabled.load(Ordering::Acquire)
    }

    /// Turns the caches on or off (off while the channel to the other instances is down);
    /// either way what they held is forgotten.
    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Release);
        self.invalidate_here();
    }

    /// Forgets everything cached so far on this instance only (another instance's
    /// invalidation, arriving).
    pub(crate) fn invalidate_here(&self) {
        if self.ttl.is_zero() {
            return;
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
        // The epoch already hides the old entries; clearing frees their memory.
        self.sessions.clear();
        self.organizations.clear();
        self.access.clear();
        self.mine.clear();
    }

    /// `key`'s value in `map` while it is fresh; otherwise what `load` finds, remembered when it
    /// finds something. The epoch is read before loading, so a value read while a write was
    /// finishing is stored as already stale.
    pub async fn through<K, V, E>(
        &self,
        map: &TtlMap<K, V>,
        key: K,
        load: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<V>, E>
    where
        K: Eq + Hash,
        V: Clone,
    {
        if !self.enabled() {
            return load.await;
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        if let Some(value) = map.get(&key, epoch, self.ttl) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(value));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let value = load.await?;
        // Read again after the load: switched off meanwhile, the value may predate an
        // invalidation the channel lost.
        if let Some(value) = value.as_ref().filter(|_| self.enabled()) {
            map.insert(key, value.clone(), epoch);
        }
        Ok(value)
    }
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

    /// Runs `through` for access (1, 2), answering `Access::default()`; whether `load` ran.
    async fn look_up(caches: &Caches, during_load: impl FnOnce()) -> bool {
        let mut loaded = false;
        let answer = caches
            .through(&caches.access, (1, 2), async {
                loaded = true;
                during_load();
                Ok::<_, ()>(Some(Access::default()))
            })
            .await;
        assert_eq!(answer, Ok(Some(Access::default())));
        loaded
    }

    #[tokio::test]
    async fn a_value_read_before_an_invalidation_is_never_served() {
        let caches = Caches::new(Duration::from_secs(60), 10);
        assert!(look_up(&caches, || caches.invalidate()).await);
        assert!(look_up(&caches, || ()).await, "read again, not served");
        assert!(!look_up(&caches, || ()).await, "now it is cached");
    }

    #[tokio::test]
    async fn switched_off_caches_serve_nothing_and_start_empty_when_back() {
        let caches = Caches::new(Duration::from_secs(60), 10);
        assert!(look_up(&caches, || ()).await);
        assert!(!look_up(&caches, || ()).await, "cached");
        caches.set_enabled(false);
        assert!(look_up(&caches, || ()).await, "off: read from the database");
        assert!(look_up(&caches, || ()).await, "still off: not kept either");
        caches.set_enabled(true);
        assert!(look_up(&caches, || ()).await, "on again, but empty");
        assert!(!look_up(&caches, || ()).await);
    }

    #[tokio::test]
    async fn an_invalidation_is_handed_to_the_channel_and_one_arriving_stays_here() {
        let caches = Caches::new(Duration::from_secs(60), 10);
        let (sender, mut published) = tokio::sync::mpsc::unbounded_channel();
        assert!(caches.publish.set(sender).is_ok());
        caches.invalidate();
        assert_eq!(published.try_recv(), Ok(()));
        caches.invalidate_here();
        assert!(
            published.try_recv().is_err(),
            "an arriving one is not sent back"
        );
    }

    #[test]
    fn a_full_map_starts_over_instead_of_growing() {
        let map = TtlMap::new(2);
        map.insert(1, 1, 0);
        map.insert(2, 2, 0);
        map.insert(3, 3, 0);
        assert_eq!(map.entries.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_zero_ttl_caches_nothing() {
        let caches = Caches::new(Duration::ZERO, 10);
        assert!(look_up(&caches, || ()).await);
        assert!(look_up(&caches, || ()).await);
    }
}
