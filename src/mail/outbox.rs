//! The outbox: where a change's mail waits (`email_outbox`, written in the change's
//! transaction), the transport it leaves by, and the signal that wakes the sender after a
//! commit. The sender itself, which drains it across organizations, is `crate::sender`.

use std::sync::Arc;

use lettre::message::Mailbox;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use super::Transport;

/// The outbox of one app: its database, transport and sender address, and the wake-up signal
/// (clones share it).
#[derive(Clone, Debug)]
pub struct Outbox {
    db: DatabaseConnection,
    transport: Transport,
    from: Mailbox,
    retry_base_secs: u64,
    notify: Arc<Notify>,
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
            notify: Arc::new(Notify::new()),
        })
    }

    /// The backend.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Asks the sender to look at the outbox now (after a commit that queued mail).
    pub fn wake(&self) {
        self.notify.notify_one();
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
