//! One request's `Idempotency-Key`, claimed in the request's own transaction. The middleware
//! (`web::idempotency`) runs the request inside [`Claim::run`]; the first transaction the
//! request opens to write holds the claim: when the handler commits it, the claim row is
//! inserted in it and the commit waits ([`Claim::answer`]) until the middleware has the answer,
//! which is written in the same transaction before it commits. So the claim, the change and the
//! answer commit together: a process killed at any step leaves either nothing (the retry runs
//! once) or all three (the retry is answered the first answer). A retry that arrives while the
//! first request runs waits for the first one's claim row (PostgreSQL's unique index, SQLite's
//! write lock), finds it taken, gives its own work up and is answered what the first committed.
//!
//! The row goes in last, not first: its foreign key takes a share lock on the organization's
//! row, and taking that before the organization's lock (`TenantTxn::lock_organization`) would
//! let two requests each hold one and wait for the other's.
//!
//! Later transactions of the request continue the waiting one when they are in the same
//! context, so a handler that commits and reads again sees its own work.

use entity::OrganizationId;
use entity::UserId;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Duration;
use entity::idempotency_key;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    DbErr, EntityTrait, QueryFilter,
};

use super::txn::{Context, Work};

/// How long an answer is kept for retries.
pub const KEEP_HOURS: i64 = 24;

/// The answer of a first request, as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Its status.
    pub status: u16,
    /// The headers worth replaying (`Location`, `Content-Type`, `ETag`).
    pub headers: Vec<(String, String)>,
    /// Its body, without the secrets it showed once.
    pub body: String,
}

/// What a key's earlier request left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The hash of its method, path and body.
    pub request_hash: String,
    /// Its answer.
    pub answer: Stored,
}

/// Where the claim stands.
#[derive(Debug)]
enum State {
    /// No transaction has written yet.
    Open,
    /// A writing transaction holds the claim (its row goes in at that transaction's commit).
    Held,
    /// The transaction asked to commit: it waits for the answer.
    Parked(Box<Work>),
    /// Another request with the key committed first: its answer is the one.
    Raced,
    /// Answered, or given up.
    Closed,
}

/// One request's key: its row key (scope, principal and the client's key, hashed), the hash of
/// the request, and whose it is.
#[derive(Debug)]
pub struct Claim {
    key: String,
    request_hash: String,
    organization_id: Option<i64>,
    user_id: Option<i64>,
    state: Mutex<State>,
    /// Whether the claim row is in the holding transaction.
    written: std::sync::atomic::AtomicBool,
}

tokio::task_local! {
    static CLAIM: Arc<Claim>;
}

/// The claim of the request this task serves, if it sent a key.
pub(super) fn current() -> Option<Arc<Claim>> {
    CLAIM.try_with(Arc::clone).ok()
}

impl Claim {
    /// A claim of `key` (see `crate::idempotency::row_key`) for a request hashing to
    /// `request_hash`, in `organization_id`'s scope or, with none, `user_id`'s.
    pub fn new(
        key: String,
        request_hash: String,
        organization_id: Option<i64>,
        user_id: Option<i64>,
    ) -> Arc<Self> {
        Arc::new(Self {
            key,
            request_hash,
            organization_id,
            user_id,
            state: Mutex::new(State::Open),
            written: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `request` with this claim: its transactions find it.
    pub async fn run<F: Future>(self: &Arc<Self>, request: F) -> F::Output {
        CLAIM.scope(Arc::clone(self), request).await
    }

    /// Whether another request with the key committed first.
    pub fn raced(&self) -> bool {
        matches!(*self.state(), State::Raced)
    }

    /// Writes `answer` in the waiting transaction and commits the claim, the work and the
    /// answer together. `Ok(false)` when no transaction of the request wrote.
    #[expect(
        clippy::disallowed_methods,
        reason = "the request's own claim row, by its key, in the request's transaction"
    )]
    pub async fn answer(&self, answer: &Stored) -> Result<bool, DbErr> {
        let parked = std::mem::replace(&mut *self.state(), State::Closed);
        let State::Parked(work) = parked else {
            return Ok(false);
        };
        let headers = serde_json::to_string(&answer.headers).unwrap_or_else(|_| "[]".into());
        idempotency_key::Entity::update_many()
            .col_expr(
                idempotency_key::Column::Status,
                Expr::value(i32::from(answer.status)),
            )
            .col_expr(
                idempotency_key::Column::ResponseHeaders,
                Expr::value(headers),
            )
            .col_expr(
                idempotency_key::Column::ResponseBody,
                Expr::value(answer.body.clone()),
            )
            .filter(idempotency_key::Column::Key.eq(self.key.as_str()))
            .exec(work.conn())
            .await?;
        crate::faults::point("idempotency.answered");
        work.finish().await?;
        crate::faults::point("idempotency.committed");
        Ok(true)
    }

    /// Commits the request's work without keeping an answer for the key (an answer that is not
    /// a success is not replayed): the claim row stays without one, which frees the key.
    pub async fn commit_unanswered(&self) -> Result<(), DbErr> {
        let parked = std::mem::replace(&mut *self.state(), State::Closed);
        match parked {
            State::Parked(work) => work.finish().await,
            _ => Ok(()),
        }
    }

    /// Gives the request's work up: a refused or failed request commits nothing, and its key is
    /// free for the retry.
    pub fn abandon(&self) {
        let parked = std::mem::replace(&mut *self.state(), State::Closed);
        drop(parked);
    }

    /// The waiting transaction, for a later transaction of the request in the same `context`.
    pub(super) fn resume(&self, context: Context) -> Option<Work> {
        let mut state = self.state();
        match &*state {
            State::Parked(work) if work.context() == context => {}
            _ => return None,
        }
        match std::mem::replace(&mut *state, State::Held) {
            State::Parked(work) => Some(*work),
            _ => None,
        }
    }

    /// Takes the claim for the request's first writing transaction; `false` when another
    /// transaction of the request holds it already.
    pub(super) fn reserve(&self) -> bool {
        let mut state = self.state();
        if !matches!(*state, State::Open) {
            return false;
        }
        *state = State::Held;
        true
    }

    /// Inserts the claim row in the holding transaction `work`, unless it is there already,
    /// then keeps `work` until the answer is known ([`Claim::answer`]) instead of committing it.
    /// A row another request committed meanwhile makes this one `raced`: `work` is given up.
    pub(super) async fn park(&self, work: Work) -> Result<(), DbErr> {
        use std::sync::atomic::Ordering;
        if !self.written.load(Ordering::Relaxed) {
            if let Err(error) = self.insert(work.conn()).await {
                if crate::db::is_unique_violation(&error) {
                    *self.state() = State::Raced;
                }
                return Err(error);
            }
            self.written.store(true, Ordering::Relaxed);
            crate::faults::point("idempotency.claimed");
        }
        *self.state() = State::Parked(Box::new(work));
        Ok(())
    }

    #[expect(
        clippy::disallowed_methods,
        reason = "the request's own claim row, by its key, in the request's transaction"
    )]
    async fn insert(&self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        let now = entity::chrono_now();
        // A key past its day, or one no answer was kept for, is free again.
        idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::Key.eq(self.key.as_str()))
            .filter(
                Condition::any()
                    .add(idempotency_key::Column::CreatedAt.lt(now - Duration::hours(KEEP_HOURS)))
                    .add(idempotency_key::Column::Status.is_null()),
            )
            .exec(txn)
            .await?;
        idempotency_key::ActiveModel {
            key: Set(self.key.clone()),
            request_hash: Set(self.request_hash.clone()),
            status: Set(None),
            response_headers: Set(None),
            response_body: Set(None),
            created_at: Set(now),
            organization_id: Set(self.organization_id),
            user_id: Set(self.user_id),
        }
        .insert(txn)
        .await?;
        Ok(())
    }
}

/// What the key's earlier request left in `organization_id`'s scope (a tenant context) or, with
/// none, `user_id`'s (their user context); `None` when nothing was kept or it is past its day.
#[expect(
    clippy::disallowed_methods,
    reason = "filtered by the organization (or person), in its own context"
)]
pub async fn lookup(
    db: &DatabaseConnection,
    key: &str,
    organization_id: Option<i64>,
    user_id: Option<i64>,
) -> Result<Option<Found>, DbErr> {
    let context = match (organization_id, user_id) {
        (Some(organization_id), _) => Context::Tenant(OrganizationId(organization_id)),
        (None, Some(user_id)) => Context::User(UserId(user_id)),
        (None, None) => return Ok(None),
    };
    let work = Work::begin(db, context, false).await?;
    let mut query = idempotency_key::Entity::find().filter(idempotency_key::Column::Key.eq(key));
    // Row-level security does the same on PostgreSQL; SQLite has only this.
    query = match organization_id {
        Some(organization_id) => {
            query.filter(idempotency_key::Column::OrganizationId.eq(organization_id))
        }
        None => query
            .filter(idempotency_key::Column::OrganizationId.is_null())
            .filter(idempotency_key::Column::UserId.eq(user_id)),
    };
    let row = query.one(work.conn()).await?;
    work.finish().await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let fresh = row.created_at >= entity::chrono_now() - Duration::hours(KEEP_HOURS);
    Ok(match (row.status, row.response_body) {
        (Some(status), Some(body)) if fresh => Some(Found {
            request_hash: row.request_hash,
            answer: Stored {
                status: u16::try_from(status).unwrap_or(500),
                headers: row
                    .response_headers
                    .and_then(|h| serde_json::from_str(&h).ok())
                    .unwrap_or_default(),
                body,
            },
        }),
        _ => None,
    })
}

/// Deletes the keys past their day, in every organization (the system context); how many.
#[expect(
    clippy::disallowed_methods,
    reason = "keys of every organization expire: the system context"
)]
pub async fn prune(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let work = Work::begin(db, Context::System, true).await?;
    let cutoff = entity::chrono_now() - Duration::hours(KEEP_HOURS);
    let result = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(cutoff))
        .exec(work.conn())
        .await?;
    work.finish().await?;
    Ok(result.rows_affected)
}
