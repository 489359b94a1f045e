//! The outbox sender: claims due rows (with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so any
//! number of instances can drain one outbox), leases them, sends, and records the result. A
//! failure is retried with exponential backoff; a crash mid-send retries after the lease. It
//! serves every organization, so it reads and writes through `tenancy::door::system`. It only
//! sends: the housekeeping (the bodies of sent mail among it) is `crate::jobs`.

use std::time::Duration;

use chrono::TimeDelta;
use entity::email_outbox;
use sea_orm::sea_query::{Expr, ExprTrait as _, LockBehavior, LockType};
use sea_orm::{ColumnTrait, DbErr, QueryFilter, QueryOrder, QuerySelect};

use crate::mail::Outbox;
use crate::tenancy::door;

/// Rows claimed per pass.
const BATCH: u64 = 20;
/// Longest wait between two passes.
const IDLE: Duration = Duration::from_secs(1);

/// The delay after failed attempt number `attempts`: `base_secs` doubling, at most an hour.
pub fn backoff(attempts: i32, base_secs: u64) -> TimeDelta {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let base = Ord::max(i64::try_from(base_secs).unwrap_or(5), 1);
    let secs = base.saturating_mul(1i64 << Ord::min(exponent, 10));
    TimeDelta::seconds(Ord::min(secs, 3_600))
}

/// One pass: sends every due row. Returns how many were sent.
pub async fn deliver_due(outbox: &Outbox) -> Result<usize, DbErr> {
    deliver_until(outbox, &|| false).await
}

/// Like [`deliver_due`], stopping between two messages once `stop` says so; the rest of the
/// claim is handed back (due at once) for another instance.
async fn deliver_until(outbox: &Outbox, stop: &(dyn Fn() -> bool + Sync)) -> Result<usize, DbErr> {
    let mut sent = 0;
    loop {
        if stop() {
            return Ok(sent);
        }
        let claimed = claim(outbox).await?;
        if claimed.is_empty() {
            return Ok(sent);
        }
        for (i, row) in claimed.iter().enumerate() {
            if stop() {
                release(outbox, &claimed[i..]).await?;
                return Ok(sent);
            }
            // The batch was leased when it was claimed; a slow server may have let the lease of
            // a later row run out meanwhile and another instance claim it. Renewing the lease
            // just before the send, fenced by the attempt count the claim set, keeps a row sent
            // by one instance only: when the renewal finds the count moved, the row is theirs.
            if !renew(outbox, row).await? {
                tracing::debug!(
                    id = row.id,
                    "outbox row taken over by another sender; skipped"
                );
                continue;
            }
            // The send happens outside any transaction: on SQLite an open write transaction is
            // the database's one write lock, and every other writer would wait on the SMTP
            // server.
            let outcome = outbox.transport().send(outbox.from(), row).await;
            let now = entity::chrono_now();
            #[expect(
                clippy::disallowed_methods,
                reason = "the outbox sender serves every organization"
            )]
            let txn = door::system(outbox.db(), "outbox sender").await?;
            let update = txn
                .update_all::<email_outbox::Entity>()
                .filter(email_outbox::Column::Id.eq(row.id))
                .col_expr(email_outbox::Column::UpdatedAt, Expr::value(now));
            let update = match outcome {
                Ok(()) => {
                    sent += 1;
                    outbox.count(true);
                    // None leaves the field out: unless `email.log_links` is on, no log line
                    // carries a link.
                    let link = outbox.link_to_log(row).map(tracing::field::display);
                    tracing::info!(id = row.id, to = %row.to_address, organization_id = ?row.organization_id, link, "mail sent");
                    update
                        .col_expr(email_outbox::Column::SentAt, Expr::value(now))
                        .col_expr(email_outbox::Column::LastError, Expr::value(None::<String>))
                }
                Err(error) => {
                    outbox.count(false);
                    let retry = now + backoff(row.attempts + 1, outbox.retry_base_secs());
                    tracing::warn!(id = row.id, to = %row.to_address, attempts = row.attempts + 1, %error, "mail not sent; will retry");
                    update
                        .col_expr(
                            email_outbox::Column::LastError,
                            Expr::value(format!("{error:#}")),
                        )
                        .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(retry))
                }
            };
            update.exec(txn.conn()).await?;
            txn.commit().await?;
        }
    }
}

/// Extends the lease of a claimed row for one send, if the claim is still this sender's.
async fn renew(outbox: &Outbox, row: &email_outbox::Model) -> Result<bool, DbErr> {
    let until = entity::chrono_now() + outbox.lease();
    Ok(set_due(outbox, std::slice::from_ref(row), until).await? == 1)
}

/// Makes claimed rows this sender will not send due again at once.
async fn release(outbox: &Outbox, rows: &[email_outbox::Model]) -> Result<(), DbErr> {
    set_due(outbox, rows, entity::chrono_now())
        .await
        .map(|_| ())
}

/// Sets when claimed rows are next due, for those whose claim is still this sender's (the row
/// unsent, its attempt count the one this claim set); how many were.
async fn set_due(
    outbox: &Outbox,
    rows: &[email_outbox::Model],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    #[expect(
        clippy::disallowed_methods,
        reason = "the outbox sender serves every organization"
    )]
    let txn = door::system(outbox.db(), "outbox sender").await?;
    let mut changed = 0;
    for row in rows {
        changed += txn
            .update_all::<email_outbox::Entity>()
            .filter(email_outbox::Column::Id.eq(row.id))
            .filter(email_outbox::Column::SentAt.is_null())
            .filter(email_outbox::Column::Attempts.eq(row.attempts + 1))
            .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(at))
            .exec(txn.conn())
            .await?
            .rows_affected;
    }
    txn.commit().await?;
    Ok(changed)
}

/// Takes up to a batch of due rows and leases them.
async fn claim(outbox: &Outbox) -> Result<Vec<email_outbox::Model>, DbErr> {
    let now = entity::chrono_now();
    // A plain read first: when nothing is due (most seconds), take no write lock at all.
    #[expect(
        clippy::disallowed_methods,
        reason = "the outbox sender serves every organization"
    )]
    let read = door::system_read(outbox.db(), "outbox sender").await?;
    let due = read
        .select_all::<email_outbox::Entity>()
        .select_only()
        .column(email_outbox::Column::Id)
        .filter(email_outbox::Column::SentAt.is_null())
        .filter(email_outbox::Column::NextAttemptAt.lte(now))
        .into_tuple::<i64>()
        .one(read.conn())
        .await?;
    read.commit().await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    #[expect(
        clippy::disallowed_methods,
        reason = "the outbox sender serves every organization"
    )]
    let txn = door::system(outbox.db(), "outbox sender").await?;
    let rows = txn
        .select_all::<email_outbox::Entity>()
        .filter(email_outbox::Column::SentAt.is_null())
        .filter(email_outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(email_outbox::Column::NextAttemptAt)
        .order_by_asc(email_outbox::Column::Id)
        .limit(BATCH)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(txn.conn())
        .await?;
    if !rows.is_empty() {
        txn.update_all::<email_outbox::Entity>()
            .filter(email_outbox::Column::Id.is_in(rows.iter().map(|r| r.id)))
            .col_expr(
                email_outbox::Column::NextAttemptAt,
                Expr::value(now + outbox.lease()),
            )
            .col_expr(
                email_outbox::Column::Attempts,
                Expr::col(email_outbox::Column::Attempts).add(1),
            )
            .exec(txn.conn())
            .await?;
    }
    txn.commit().await?;
    Ok(rows)
}

/// Runs passes until `stop` turns true (then it ends after the message it is sending): at once
/// when woken, else every second.
pub fn spawn(
    outbox: Outbox,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let stopping = || *stop.borrow();
        loop {
            if stopping() {
                return;
            }
            if let Err(error) = deliver_until(&outbox, &stopping).await {
                tracing::warn!(%error, "the outbox could not be read; retrying");
            }
            let _ = tokio::time::timeout(IDLE, outbox.notified()).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_at_an_hour() {
        assert_eq!(backoff(1, 5), TimeDelta::seconds(5));
        assert_eq!(backoff(2, 5), TimeDelta::seconds(10));
        assert_eq!(backoff(3, 5), TimeDelta::seconds(20));
        assert_eq!(backoff(30, 5), TimeDelta::seconds(3_600));
        assert_eq!(backoff(1, 0), TimeDelta::seconds(1));
    }
}
