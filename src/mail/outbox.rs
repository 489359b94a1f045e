//! The outbox: where a change's mail waits (`email_outbox`, written in the change's
//! transaction), the transport it leaves by, and the signal that wakes the sender after a
//! commit. The sender itself, which drains it across organizations, is `crate::sender`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::TimeDelta;
use entity::email_outbox;
use lettre::message::Mailbox;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use super::Transport;

/// `email.send_lease_secs` when nothing sets it.
const DEFAULT_LEASE_SECS: i64 = 120;

/// The outbox of one app: its database, transport and sender address, and the wake-up signal
/// (clones share it).
#[derive(Clone, Debug)]
pub struct Outbox {
    db: DatabaseConnection,
    transport: Transport,
    from: Mailbox,
    retry_base_secs: u64,
    lease: TimeDelta,
    notify: Arc<Notify>,
    /// Wakes the webhook dispatcher after a commit that wrote webhook messages.
    webhooks: Arc<Notify>,
    /// Messages sent and sends failed by this process.
    counts: Arc<(AtomicU64, AtomicU64)>,
    /// Whether the sender logs each sent mail's first link (development only).
    log_links: bool,
}

impl Outbox {
    /// An outbox over `db` sending through `transport` as `from`, retrying after
    /// `retry_base_secs`, doubling.
    pub fn new(
        db: DatabaseConnection,
        transport: Transport,
        from: &str,
        retry_base_secs: u64,
    ) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("email.from: `{from}` is not an address: {e}"))?;
        Ok(Self {
            db,
            transport,
            from,
            retry_base_secs,
            lease: TimeDelta::seconds(DEFAULT_LEASE_SECS),
            notify: Arc::new(Notify::new()),
            webhooks: Arc::new(Notify::new()),
            counts: Arc::default(),
            log_links: false,
        })
    }

    /// The outbox with claimed rows reserved for `secs` seconds per send (at least one) before
    /// another instance may take them over.
    #[must_use]
    pub fn with_lease(mut self, secs: u64) -> Self {
        self.lease = TimeDelta::seconds(i64::try_from(secs.max(1)).unwrap_or(DEFAULT_LEASE_SECS));
        self
    }

    /// The outbox with each sent mail's first link in the sender's log line when `log_links`:
    /// for development, where a developer without a mail catcher opens it from the log. Never
    /// elsewhere: the links sign people in, and logs are read by more people than mail is.
    #[must_use]
    pub fn with_links_logged(mut self, log_links: bool) -> Self {
        self.log_links = log_links;
        self
    }

    /// The link the sender logs for `row`, when links are logged.
    pub(crate) fn link_to_log<'a>(&self, row: &'a email_outbox::Model) -> Option<&'a str> {
        self.log_links
            .then(|| super::first_link(&row.text_body))
            .flatten()
    }

    /// Messages this process sent, and sends that failed, since it started.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.counts.0.load(Ordering::Relaxed),
            self.counts.1.load(Ordering::Relaxed),
        )
    }

    /// Counts one send.
    pub(crate) fn count(&self, sent: bool) {
        let counter = if sent { &self.counts.0 } else { &self.counts.1 };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// How long a claim reserves a row.
    pub(crate) fn lease(&self) -> TimeDelta {
        self.lease
    }

    /// The backend.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Asks the sender to look at the outbox now (after a commit that queued mail).
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Asks the webhook dispatcher to look at its queue now (after a commit that wrote
    /// messages).
    pub fn wake_webhooks(&self) {
        self.webhooks.notify_one();
    }

    /// The signal [`Outbox::wake_webhooks`] gives.
    pub(crate) fn webhook_signal(&self) -> Arc<Notify> {
        self.webhooks.clone()
    }

    /// The database the outbox table is in.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The sender address.
    pub(crate) fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The first retry delay, in seconds.
    pub(crate) fn retry_base_secs(&self) -> u64 {
        self.retry_base_secs
    }

    /// Waits until woken.
    pub(crate) async fn notified(&self) {
        self.notify.notified().await;
    }
}
