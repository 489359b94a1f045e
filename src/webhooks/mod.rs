//! Outgoing webhooks: an organization's holders of `webhooks.manage` register endpoints
//! ([`endpoints`]); every audit event the organization records becomes a message for the
//! endpoints that want its type, in the same transaction (`crate::audit::outgoing`); any
//! instance delivers them ([`deliver`]), signed by the Standard Webhooks spec ([`signing`]),
//! through the SSRF-safe client, retried on Svix's schedule ([`schedule`]); the delivery log
//! shows and resends them ([`log`]).

pub mod deliver;
pub mod endpoints;
pub mod log;
pub mod schedule;
pub mod signing;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::auth::secrets::Sealer;
use crate::config::WebhookSettings;
use crate::net::addresses::Reach;

pub use crate::audit::outgoing::TEST_EVENT;

/// What an endpoint's sealed secret is bound to.
pub(crate) fn purpose(endpoint_id: i64) -> String {
    format!("webhook:{endpoint_id}")
}

/// What the endpoint services work with: the settings, the sealing key, the addresses
/// deliveries may reach and the event types an endpoint may ask for.
#[derive(Clone, Copy, Debug)]
pub struct Hooks<'a> {
    /// `[webhooks]`.
    pub settings: &'a WebhookSettings,
    /// Seals signing secrets with `auth.encryption_key`.
    pub sealer: &'a Sealer,
    /// `webhooks.allow_private_networks` over the public addresses.
    pub reach: &'a Reach,
    /// The known event types (orgs' and the embedding app's).
    pub event_types: &'a [&'static str],
}

/// Deliveries this process made, by result, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counts {
    succeeded: AtomicU64,
    retrying: AtomicU64,
    failed: AtomicU64,
}

/// How one attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx.
    Succeeded,
    /// Another answer or none; tried again later.
    Retrying,
    /// The last attempt failed, or the receiver answered 410.
    Failed,
}

impl Counts {
    /// Counts one attempt.
    pub fn count(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Succeeded => &self.succeeded,
            Outcome::Retrying => &self.retrying,
            Outcome::Failed => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Attempts that succeeded, failed to be retried, and failed for good.
    pub fn get(&self) -> (u64, u64, u64) {
        (
            self.succeeded.load(Ordering::Relaxed),
            self.retrying.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

/// The webhook side of the app state: what deliveries reach and the counts.
#[derive(Clone, Debug)]
pub struct Webhooks {
    /// `[webhooks]`.
    pub settings: Arc<WebhookSettings>,
    /// What deliveries may reach.
    pub reach: Reach,
    /// Deliveries by result.
    pub counts: Arc<Counts>,
}

impl Webhooks {
    /// From the settings.
    pub fn new(settings: &WebhookSettings) -> Self {
        Self {
            settings: Arc::new(settings.clone()),
            reach: Reach::allowing(settings.allow_private_networks.clone()),
            counts: Arc::default(),
        }
    }
}
