//! The dispatcher: any number of instances drain `webhook_deliveries`. A claim takes, under a
//! lease, the first due deliveries of endpoints no instance is sending to (one claim at a time:
//! an advisory lock on PostgreSQL, the write lock on SQLite; `FOR UPDATE SKIP LOCKED` besides),
//! so one endpoint's messages go out one after another in the order of their events while
//! other endpoints' go out beside them (up to `webhooks.concurrency` at once): a receiver that
//! is down holds up no one else. Each attempt renews its lease fenced by the attempt count the
//! claim set, so two instances never send the same attempt; an instance killed mid-send leaves
//! the lease to run out and another sends the message again, with the same `webhook-id`.

use std::sync::Arc;
use std::time::Duration;

use entity::{OrganizationId, webhook_delivery, webhook_endpoint, webhook_message};
use sea_orm::sea_query::{Expr, ExprTrait as _, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait as _, DatabaseConnection, DbBackend, DbErr, QueryFilter,
    QueryOrder, QuerySelect,
};
use tokio::sync::Notify;

use super::{Outcome, Webhooks, schedule, signing};
use crate::auth::secrets::Sealer;
use crate::net::client::{Limits, Outbound, OutboundError, Resolve};
use crate::tenancy::door;

/// Deliveries of one endpoint taken in one claim.
const PER_LANE: usize = 10;
/// Longest wait between two looks at the queue.
const IDLE: Duration = Duration::from_secs(1);
/// The most of an answer's body kept.
pub const RESPONSE_KEPT: usize = 4_096;
/// The whole of one attempt, from resolving the name to the answer's last byte.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// The key of the advisory lock claims take on PostgreSQL.
const CLAIM_LOCK: i64 = 0x6f72_6773_686f_6f6b;

/// What the dispatcher works with.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    db: DatabaseConnection,
    client: Outbound,
    sealer: Sealer,
    hooks: Webhooks,
    events: crate::events::Events,
    notices: super::log::Notices,
    signal: Arc<Notify>,
}

/// One endpoint's claimed deliveries, in order.
#[derive(Debug)]
struct Lane {
    rows: Vec<webhook_delivery::Model>,
}

impl Dispatcher {
    /// A dispatcher over `db`, resolving names with `resolver` (none: the system's), woken by
    /// `signal`.
    #[expect(clippy::too_many_arguments, reason = "built once, at start")]
    pub fn new(
        db: DatabaseConnection,
        hooks: Webhooks,
        sealer: Sealer,
        events: crate::events::Events,
        notices: super::log::Notices,
        resolver: Option<Arc<dyn Resolve>>,
        signal: Arc<Notify>,
        insecure: bool,
    ) -> anyhow::Result<Self> {
        let limits = Limits {
            connect: Duration::from_secs(5),
            total: TIMEOUT,
            max_body: RESPONSE_KEPT,
        };
        let mut client = Outbound::new(hooks.reach.clone(), limits)?
            .https_only(!insecure)
            .truncating_bodies();
        if let Some(resolver) = resolver {
            client = client.resolving_with(resolver);
        }
        Ok(Self {
            db,
            client,
            sealer,
            hooks,
            events,
            notices,
            signal,
        })
    }

    fn lease(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(i64::try_from(self.hooks.settings.lease_secs).unwrap_or(60))
    }

    /// Takes the first due deliveries of up to `lanes` endpoints no one is sending to, and
    /// leases them.
    async fn claim(&self, lanes: usize) -> Result<Vec<Lane>, DbErr> {
        let now = entity::chrono_now();
        // A plain read first: when nothing is due (most seconds), take no lock at all.
        #[expect(
            clippy::disallowed_methods,
            reason = "the dispatcher serves every organization"
        )]
        let read = door::system_read(&self.db, "webhook dispatcher").await?;
        let due = read
            .select_all::<webhook_delivery::Entity>()
            .select_only()
            .column(webhook_delivery::Column::Id)
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .into_tuple::<i64>()
            .one(read.conn())
            .await?;
        read.commit().await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        #[expect(
            clippy::disallowed_methods,
            reason = "the dispatcher serves every organization"
        )]
        let txn = door::system(&self.db, "webhook dispatcher").await?;
        if txn.conn().get_database_backend() == DbBackend::Postgres {
            // One claim at a time: the "no one is sending to it" below must hold until commit.
            txn.conn()
                .execute_unprepared(&format!("SELECT pg_advisory_xact_lock({CLAIM_LOCK})"))
                .await?;
        }
        let rows = txn
            .select_all::<webhook_delivery::Entity>()
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .filter(Expr::cust_with_values(
                "NOT EXISTS (SELECT 1 FROM webhook_deliveries held \
                 WHERE held.endpoint_id = webhook_deliveries.endpoint_id AND held.lease_until > ?)",
                [now],
            ))
            .order_by_asc(webhook_delivery::Column::Id)
            .limit(u64::try_from(lanes * PER_LANE * 2).unwrap_or(1_000))
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(txn.conn())
            .await?;
        let mut claimed: Vec<Lane> = Vec::new();
        for row in rows {
            let count = claimed.len();
            match claimed
                .iter_mut()
                .find(|l| l.rows[0].endpoint_id == row.endpoint_id)
            {
                Some(lane) if lane.rows.len() < PER_LANE => lane.rows.push(row),
                Some(_) => {}
                None if count < lanes => claimed.push(Lane { rows: vec![row] }),
                None => {}
            }
        }
        let ids: Vec<i64> = claimed
            .iter()
            .flat_map(|l| l.rows.iter().map(|r| r.id))
            .collect();
        if !ids.is_empty() {
            let until = now + self.lease();
            txn.update_all::<webhook_delivery::Entity>()
                .filter(webhook_delivery::Column::Id.is_in(ids))
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(until))
                .col_expr(
                    webhook_delivery::Column::LeaseUntil,
                    Expr::value(Some(until)),
                )
                .col_expr(
                    webhook_delivery::Column::Attempts,
                    Expr::col(webhook_delivery::Column::Attempts).add(1),
                )
                .exec(txn.conn())
                .await?;
        }
        txn.commit().await?;
        for lane in &mut claimed {
            for row in &mut lane.rows {
                row.attempts += 1;
            }
        }
        Ok(claimed)
    }

    /// Sends a lane's deliveries in order, stopping between two once `stop` says so (the rest
    /// is handed back, due at once).
    async fn send_lane(&self, lane: Lane, stop: &(dyn Fn() -> bool + Sync)) {
        for (i, row) in lane.rows.iter().enumerate() {
            if stop() {
                if let Err(error) = self.release(&lane.rows[i..]).await {
                    tracing::warn!(%error, "webhook deliveries not handed back; their lease will run out");
                }
                return;
            }
            if let Err(error) = self.attempt(row).await {
                tracing::warn!(id = row.id, %error, "a webhook delivery could not be recorded; its lease will run out");
            }
        }
    }

    /// Makes claimed deliveries due again at once, where the claim is still this instance's.
    async fn release(&self, rows: &[webhook_delivery::Model]) -> Result<(), DbErr> {
        #[expect(
            clippy::disallowed_methods,
            reason = "the dispatcher serves every organization"
        )]
        let txn = door::system(&self.db, "webhook dispatcher").await?;
        for row in rows {
            txn.update_all::<webhook_delivery::Entity>()
                .filter(webhook_delivery::Column::Id.eq(row.id))
                .filter(webhook_delivery::Column::Status.eq("pending"))
                .filter(webhook_delivery::Column::Attempts.eq(row.attempts))
                .col_expr(
                    webhook_delivery::Column::NextAttemptAt,
                    Expr::value(entity::chrono_now()),
                )
                .col_expr(
                    webhook_delivery::Column::LeaseUntil,
                    Expr::value(None::<chrono::DateTime<chrono::Utc>>),
                )
                .col_expr(
                    webhook_delivery::Column::Attempts,
                    Expr::col(webhook_delivery::Column::Attempts).sub(1),
                )
                .exec(txn.conn())
                .await?;
        }
        txn.commit().await
    }

    /// Renews the lease of `row` for one attempt if the claim is still this instance's, and
    /// reads what the attempt sends: the message and the endpoint (gone with its organization).
    async fn prepare(
        &self,
        row: &webhook_delivery::Model,
    ) -> Result<Option<(webhook_message::Model, Option<webhook_endpoint::Model>)>, DbErr> {
        #[expect(
            clippy::disallowed_methods,
            reason = "the dispatcher serves every organization"
        )]
        let txn = door::system(&self.db, "webhook dispatcher").await?;
        let until = entity::chrono_now() + self.lease();
        let renewed = txn
            .update_all::<webhook_delivery::Entity>()
            .filter(webhook_delivery::Column::Id.eq(row.id))
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .filter(webhook_delivery::Column::Attempts.eq(row.attempts))
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(until))
            .col_expr(
                webhook_delivery::Column::LeaseUntil,
                Expr::value(Some(until)),
            )
            .exec(txn.conn())
            .await?
            .rows_affected;
        if renewed != 1 {
            txn.commit().await?;
            return Ok(None);
        }
        let message = txn
            .select_all::<webhook_message::Entity>()
            .filter(webhook_message::Column::Id.eq(row.message_id))
            .one(txn.conn())
            .await?;
        let endpoint = txn
            .select_all::<webhook_endpoint::Entity>()
            .filter(webhook_endpoint::Column::OrganizationId.eq(row.organization_id))
            .filter(webhook_endpoint::Column::Id.eq(row.endpoint_id))
            .one(txn.conn())
            .await?;
        txn.commit().await?;
        Ok(message.map(|m| (m, endpoint)))
    }

    /// One attempt of `row`: sent, then recorded in its organization's transaction.
    async fn attempt(&self, row: &webhook_delivery::Model) -> Result<(), DbErr> {
        let Some((message, endpoint)) = self.prepare(row).await? else {
            tracing::debug!(
                id = row.id,
                "webhook delivery taken over by another instance; skipped"
            );
            return Ok(());
        };
        let now = entity::chrono_now();
        let result = match &endpoint {
            Some(endpoint) if !endpoint.enabled => Err("the endpoint is turned off".to_string()),
            _ => self.secrets(row, endpoint.as_ref(), now),
        };
        let url = endpoint
            .as_ref()
            .map_or(row.url.as_str(), |e| e.url.as_str());
        let sent = match result {
            Ok(secrets) => self.send(url, &message, &secrets, now).await,
            Err(why) => Sent::not_sent(why),
        };
        let outcome = super::log::record(
            &self.db,
            &self.events,
            &self.notices,
            &self.hooks.settings,
            OrganizationId(row.organization_id),
            row,
            endpoint.as_ref(),
            &sent,
        )
        .await?;
        self.hooks.counts.count(outcome);
        match outcome {
            Outcome::Succeeded => {
                tracing::debug!(id = row.id, webhook_id = %row.webhook_id, "webhook delivered")
            }
            _ => {
                tracing::info!(id = row.id, webhook_id = %row.webhook_id, attempts = row.attempts, status = ?sent.status, error = ?sent.error, "webhook not delivered")
            }
        }
        Ok(())
    }

    /// The secrets that sign an attempt: the endpoint's, and its previous one within a day of a
    /// rotation; the copy in the delivery when the endpoint is gone.
    fn secrets(
        &self,
        row: &webhook_delivery::Model,
        endpoint: Option<&webhook_endpoint::Model>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<String>, String> {
        let purpose = super::purpose(row.endpoint_id);
        let mut sealed =
            vec![endpoint.map_or(row.secret_sealed.as_str(), |e| e.secret_sealed.as_str())];
        if let Some(e) = endpoint
            && let (Some(previous), Some(until)) =
                (&e.previous_secret_sealed, e.previous_secret_until)
            && until > now
        {
            sealed.push(previous);
        }
        sealed
            .into_iter()
            .map(|s| {
                let bytes = self.sealer.open(&purpose, s).map_err(|e| e.to_string())?;
                String::from_utf8(bytes).map_err(|_| "the secret is not text".to_string())
            })
            .collect()
    }

    async fn send(
        &self,
        url: &str,
        message: &webhook_message::Model,
        secrets: &[String],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Sent {
        let timestamp = now.timestamp();
        let body = message.payload.as_bytes();
        let signature = signing::header(secrets, &message.webhook_id, timestamp, body);
        let headers = [
            ("content-type", "application/json".to_string()),
            ("user-agent", "orgs-webhooks".to_string()),
            ("webhook-id", message.webhook_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        let mut request = http::Request::post(url);
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let logged = serde_json::to_string(
            &headers
                .iter()
                .cloned()
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .ok();
        let request = match request.body(body.to_vec()) {
            Ok(request) => request,
            Err(e) => {
                return Sent {
                    headers: logged,
                    ..Sent::not_sent(format!("{url} cannot be requested: {e}"))
                };
            }
        };
        match self.client.send(request).await {
            Ok(answer) => Sent {
                status: Some(answer.status().as_u16()),
                retry_after: answer
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| schedule::retry_after(v, now)),
                body: Some(String::from_utf8_lossy(answer.body()).into_owned()),
                headers: logged,
                error: None,
                at: now,
            },
            Err(error) => Sent {
                headers: logged,
                ..Sent::not_sent(describe(&error))
            },
        }
    }
}

/// What an error of the client says in the delivery log.
fn describe(error: &OutboundError) -> String {
    error.to_string()
}

/// What one attempt did.
#[derive(Debug)]
pub(crate) struct Sent {
    /// The answer's status, if there was one.
    pub status: Option<u16>,
    /// The seconds a 429 or 503 asked to wait.
    pub retry_after: Option<i64>,
    /// The first bytes of the answer.
    pub body: Option<String>,
    /// The request's headers, as JSON.
    pub headers: Option<String>,
    /// Why there was no answer.
    pub error: Option<String>,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Sent {
    fn not_sent(why: String) -> Self {
        Self {
            status: None,
            retry_after: None,
            body: None,
            headers: None,
            error: Some(why),
            at: entity::chrono_now(),
        }
    }
}

/// Runs the dispatcher until `stop` turns true: claims when there is room, at once when woken
/// (after a commit that wrote messages) or a lane ends, else every second. Stopping, it lets
/// each lane finish the attempt it is making and hands the rest back.
pub fn spawn(
    dispatcher: Dispatcher,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let dispatcher = Arc::new(dispatcher);
        let mut running = tokio::task::JoinSet::new();
        let limit = dispatcher.hooks.settings.concurrency.max(1);
        loop {
            if *stop.borrow() {
                break;
            }
            let free = limit.saturating_sub(running.len());
            if free > 0 {
                match dispatcher.claim(free).await {
                    Ok(lanes) => {
                        for lane in lanes {
                            let dispatcher = dispatcher.clone();
                            let stop = stop.clone();
                            running.spawn(async move {
                                dispatcher.send_lane(lane, &|| *stop.borrow()).await;
                            });
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "the webhook queue could not be read; retrying")
                    }
                }
            }
            tokio::select! {
                Some(_) = running.join_next(), if !running.is_empty() => {}
                () = dispatcher.signal.notified() => {}
                () = tokio::time::sleep(IDLE) => {}
            }
        }
        while running.join_next().await.is_some() {}
    })
}
