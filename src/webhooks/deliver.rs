//! The dispatcher: any number of instances drain `webhook_deliveries`. A claim takes, under a
//! lease, the first due deliveries of endpoints no instance is sending to (one claim at a time:
//! an advisory lock on PostgreSQL, the write lock on SQLite; `FOR UPDATE SKIP LOCKED` besides),
//! so one endpoint's messages go out one after another in the order of their events while
//! other endpoints' go out beside them (up to `webhooks.concurrency` at once): a receiver that
//! is down holds up no one else (its lane pauses until its message is due again). Each attempt
//! renews its lease fenced by the claim count the claim set, so two instances never send the
//! same attempt; an instance killed mid-send leaves
//! the lease to run out and another sends the message again, with the same `webhook-id`.

use std::sync::Arc;
use std::time::Duration;

use entity::{OrganizationId, organization, webhook_delivery, webhook_endpoint, webhook_message};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, LockBehavior, LockType, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait as _, DatabaseConnection, DbBackend, DbErr, QueryFilter,
    QueryOrder, QuerySelect,
};
use tokio::sync::Notify;

use super::{Outcome, Webhooks, schedule, signing};
use crate::auth::secrets::Sealer;
use crate::net::client::{Limits, Outbound, OutboundError, Resolve};
use crate::organizations::billing::has_feature;
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
    /// leases them (each claim counted: the count fences the lease).
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
        let held = Alias::new("held");
        let table = Alias::new("webhook_deliveries");
        let sending = Query::select()
            .expr(Expr::val(1))
            .from_as(webhook_delivery::Entity, held.clone())
            .and_where(
                Expr::col((held.clone(), webhook_delivery::Column::EndpointId))
                    .equals((table, webhook_delivery::Column::EndpointId)),
            )
            .and_where(Expr::col((held, webhook_delivery::Column::LeaseUntil)).gt(now))
            .to_owned();
        let rows = txn
            .select_all::<webhook_delivery::Entity>()
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .filter(Expr::exists(sending).not())
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
                    webhook_delivery::Column::Claims,
                    Expr::col(webhook_delivery::Column::Claims).add(1),
                )
                .exec(txn.conn())
                .await?;
        }
        txn.commit().await?;
        for lane in &mut claimed {
            for row in &mut lane.rows {
                row.claims += 1;
            }
        }
        Ok(claimed)
    }

    /// Sends a lane's deliveries in order. It stops between two once `stop` says so, and when
    /// the receiver gives no answer or asks to wait (429, 503): the rest is handed back, due when
    /// the receiver may be back, no attempt spent on it.
    async fn send_lane(&self, lane: Lane, stop: &(dyn Fn() -> bool + Sync)) {
        for (i, row) in lane.rows.iter().enumerate() {
            if stop() {
                self.hand_back(&lane.rows[i..], entity::chrono_now()).await;
                return;
            }
            match self.attempt(row, &lane.rows[i + 1..]).await {
                Ok(Some(until)) => {
                    self.hand_back(&lane.rows[i + 1..], until).await;
                    return;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(id = row.id, %error, "a webhook delivery could not be recorded; its lease will run out");
                    let soon =
                        entity::chrono_now() + chrono::TimeDelta::seconds(schedule::FIRST_WAIT);
                    self.hand_back(&lane.rows[i + 1..], soon).await;
                    return;
                }
            }
        }
    }

    /// [`Dispatcher::release`], a failure logged (the leases then run out).
    async fn hand_back(&self, rows: &[webhook_delivery::Model], at: chrono::DateTime<chrono::Utc>) {
        if let Err(error) = self.release(rows, at).await {
            tracing::warn!(%error, "webhook deliveries not handed back; their lease will run out");
        }
    }

    /// Hands claimed deliveries back, due at `at`, where the claim is still this instance's.
    async fn release(
        &self,
        rows: &[webhook_delivery::Model],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DbErr> {
        if rows.is_empty() {
            return Ok(());
        }
        #[expect(
            clippy::disallowed_methods,
            reason = "the dispatcher serves every organization"
        )]
        let txn = door::system(&self.db, "webhook dispatcher").await?;
        hold_endpoint(&txn, &rows[0]).await?;
        for row in rows {
            txn.update_all::<webhook_delivery::Entity>()
                .filter(webhook_delivery::Column::Id.eq(row.id))
                .filter(webhook_delivery::Column::Status.eq("pending"))
                .filter(webhook_delivery::Column::Claims.eq(row.claims))
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(at))
                .col_expr(
                    webhook_delivery::Column::LeaseUntil,
                    Expr::value(None::<chrono::DateTime<chrono::Utc>>),
                )
                .exec(txn.conn())
                .await?;
        }
        txn.commit().await
    }

    /// Counts an attempt of `row` and renews the lease of the lane's rest (`later`), if the
    /// claim is still this instance's; reads what the attempt needs.
    async fn prepare(
        &self,
        row: &webhook_delivery::Model,
        later: &[webhook_delivery::Model],
    ) -> Result<Option<Prepared>, DbErr> {
        #[expect(
            clippy::disallowed_methods,
            reason = "the dispatcher serves every organization"
        )]
        let txn = door::system(&self.db, "webhook dispatcher").await?;
        hold_endpoint(&txn, row).await?;
        let until = entity::chrono_now() + self.lease();
        let renewed = txn
            .update_all::<webhook_delivery::Entity>()
            .filter(webhook_delivery::Column::Id.eq(row.id))
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .filter(webhook_delivery::Column::Claims.eq(row.claims))
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
            .await?
            .rows_affected;
        if renewed != 1 {
            txn.commit().await?;
            return Ok(None);
        }
        // A lane can outlast one lease (ten receivers' 15 s each): the rest stays this lane's.
        for next in later {
            txn.update_all::<webhook_delivery::Entity>()
                .filter(webhook_delivery::Column::Id.eq(next.id))
                .filter(webhook_delivery::Column::Status.eq("pending"))
                .filter(webhook_delivery::Column::Claims.eq(next.claims))
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(until))
                .col_expr(
                    webhook_delivery::Column::LeaseUntil,
                    Expr::value(Some(until)),
                )
                .exec(txn.conn())
                .await?;
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
        let organization = txn
            .select_all::<organization::Entity>()
            .filter(organization::Column::Id.eq(row.organization_id))
            .one(txn.conn())
            .await?;
        txn.commit().await?;
        let mut row = row.clone();
        row.attempts += 1;
        Ok(Some(Prepared {
            row,
            message,
            endpoint,
            organization,
        }))
    }

    /// One attempt of `row` (`later`: the rest of its lane), sent, then recorded in its
    /// organization's transaction; when the lane should pause, until when.
    async fn attempt(
        &self,
        row: &webhook_delivery::Model,
        later: &[webhook_delivery::Model],
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, DbErr> {
        let Some(prepared) = self.prepare(row, later).await? else {
            tracing::debug!(
                id = row.id,
                "webhook delivery taken over by another instance; skipped"
            );
            return Ok(None);
        };
        let Prepared {
            row,
            message,
            endpoint,
            organization,
        } = prepared;
        let now = entity::chrono_now();
        // Where and with what, or why it will never be sent.
        let target: Result<(&str, Vec<String>), String> = match (&organization, &endpoint) {
            _ if message.is_none() => Err("the message is gone".into()),
            (Some(o), _) if !has_feature(o, "webhooks") => {
                Err("the organization's plan does not include webhooks".into())
            }
            (Some(_), None) => Err("the endpoint was deleted".into()),
            (Some(_), Some(e)) if !e.enabled => Err("the endpoint is turned off".into()),
            (Some(_), Some(e)) => self
                .secrets(&row, Some(e), now)
                .map(|s| (e.url.as_str(), s)),
            // The organization is gone (its last event, `organization.deleted`): the address
            // and secret the delivery copied.
            (None, _) => self.secrets(&row, None, now).map(|s| (row.url.as_str(), s)),
        };
        let sent = match (target, &message) {
            (Ok((url, secrets)), Some(message)) => self.send(url, message, &secrets, now).await,
            (Err(why), _) => Sent::never(why),
            (Ok(_), None) => Sent::never("the message is gone".into()),
        };
        let (outcome, next) = super::log::record(
            &self.db,
            &self.events,
            &self.notices,
            &self.hooks.settings,
            OrganizationId(row.organization_id),
            &row,
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
        // No answer, or one asking to wait: the receiver's other messages wait until this one
        // is tried again (its schedule backs the whole endpoint off), at least a few seconds.
        let silent = sent.status.is_none() && !sent.never;
        if !(silent || matches!(sent.status, Some(429 | 503))) {
            return Ok(None);
        }
        let soon = entity::chrono_now() + chrono::TimeDelta::seconds(schedule::FIRST_WAIT);
        Ok(Some(next.map_or(soon, |next| Ord::max(next, soon))))
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
            Err(_) => return Sent::never("the address cannot be requested".into()),
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
                never: false,
                at: now,
            },
            Err(error) => Sent {
                headers: logged,
                error: Some(describe(&error)),
                ..Sent::never(String::new())
            }
            .retried(),
        }
    }
}

/// Takes the row of `row`'s endpoint for share, first. Every path that writes an endpoint's
/// deliveries locks the endpoint before them (a person's change, an attempt's record, this), so
/// two of them never wait on each other's rows in opposite orders. SQLite takes no row locks.
async fn hold_endpoint(txn: &door::SystemTxn, row: &webhook_delivery::Model) -> Result<(), DbErr> {
    txn.select_all::<webhook_endpoint::Entity>()
        .select_only()
        .column(webhook_endpoint::Column::Id)
        .filter(webhook_endpoint::Column::OrganizationId.eq(row.organization_id))
        .filter(webhook_endpoint::Column::Id.eq(row.endpoint_id))
        .lock(LockType::Share)
        .into_tuple::<i64>()
        .one(txn.conn())
        .await?;
    Ok(())
}

/// What an attempt needs, read as its lease was renewed.
struct Prepared {
    row: webhook_delivery::Model,
    message: Option<webhook_message::Model>,
    endpoint: Option<webhook_endpoint::Model>,
    organization: Option<organization::Model>,
}

/// What an error of the client says in the delivery log, which holders of `webhooks.manage`
/// read: a refused address is named by its kind, never by the address a name resolved to (an
/// internal name's address is not theirs to learn).
fn describe(error: &OutboundError) -> String {
    match error {
        OutboundError::Refused(refused) => format!(
            "refused: the address resolves to {}, which deliveries may not reach",
            refused.why
        ),
        other => other.to_string(),
    }
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
    /// Not sent, and never will be (the endpoint is off or gone, the plan lacks webhooks).
    pub never: bool,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Sent {
    fn never(why: String) -> Self {
        Self {
            status: None,
            retry_after: None,
            body: None,
            headers: None,
            error: Some(why),
            never: true,
            at: entity::chrono_now(),
        }
    }

    fn retried(mut self) -> Self {
        self.never = false;
        self
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
