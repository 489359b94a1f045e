//! How long audit events are kept, and pruning the older ones.
//!
//! Two settings meet here. `audit.retention_days` is the configuration of whoever runs the
//! binary; on PostgreSQL the table `orgs_audit_retention` holds the retention the owner set, and
//! only the owner can change it (`orgs migrate`, run with the owner's URL, writes
//! `audit.retention_days` there: [`keep_configured`]). The owner's function
//! `orgs_prune_audit_events` refuses a cutoff newer than the table's retention, whatever context
//! the application's role sets, so the server prunes with the longer of the two ([`retention`]):
//! a server configured shorter than the owner keeps events for the owner's time. 0 on either
//! side keeps every event. SQLite has no roles: there the configuration alone counts.

use chrono::{TimeDelta, Utc};
use entity::audit_event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryFilter, Statement,
    TransactionTrait,
};

/// Writes `retention_days` (`audit.retention_days`) into `orgs_audit_retention`, the bound the
/// database holds every prune to. Run with the owner's connection (`orgs migrate`, and a server
/// that migrates on start); the application's role may not write it. Nothing on SQLite.
pub async fn keep_configured(db: &DatabaseConnection, retention_days: u32) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    // In a transaction: behind a transaction-mode pooler a statement prepared outside one may
    // be run on another server connection than the one that prepared it.
    let txn = db.begin().await?;
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE orgs_audit_retention SET retention_days = $1",
        [days_value(retention_days).into()],
    ))
    .await?;
    txn.commit().await
}

/// The days events are kept when the configuration says `configured`: the longer of it and the
/// owner's `orgs_audit_retention` on PostgreSQL, `configured` on SQLite; `None` when every event
/// is kept (0 on either side).
pub async fn retention<C: ConnectionTrait>(db: &C, configured: u32) -> Result<Option<u32>, DbErr> {
    if configured == 0 {
        return Ok(None);
    }
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Some(configured));
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT retention_days FROM orgs_audit_retention",
        ))
        .await?;
    let owners = row
        .map(|r| r.try_get_by_index::<i32>(0))
        .transpose()?
        .map_or(0, |days| u32::try_from(days).unwrap_or(0));
    Ok((owners > 0).then_some(configured.max(owners)))
}

/// Deletes the events older than the retention ([`retention`] of `retention_days`), of every
/// organization (deleted ones too), in the system context; how many went. Zero days keeps
/// everything.
pub async fn prune(db: &DatabaseConnection, retention_days: u32) -> Result<u64, DbErr> {
    if retention_days == 0 {
        return Ok(0);
    }
    #[expect(
        clippy::disallowed_methods,
        reason = "retention crosses organizations, deleted ones included"
    )]
    let txn = crate::tenancy::door::system(db, "prune the audit log").await?;
    let Some(days) = retention(txn.conn(), retention_days).await? else {
        txn.commit().await?;
        return Ok(0);
    };
    let pruned = match txn.conn().get_database_backend() {
        DbBackend::Postgres => {
            // The application's role may not delete audit rows; the owner's function prunes by
            // age only, in the system context only, and no closer than the owner's retention.
            // The cutoff is the database's clock, the one the function measures by.
            let row = txn
                .conn()
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT orgs_prune_audit_events(now() - make_interval(days => $1))",
                    [days_value(days).into()],
                ))
                .await?;
            row.map(|r| r.try_get_by_index::<i64>(0))
                .transpose()?
                .unwrap_or(0)
                .unsigned_abs()
        }
        _ => match Utc::now().checked_sub_signed(TimeDelta::days(i64::from(days))) {
            Some(cutoff) => {
                txn.delete_all::<audit_event::Entity>()
                    .filter(audit_event::Column::OccurredAt.lt(cutoff))
                    .exec(txn.conn())
                    .await?
                    .rows_affected
            }
            // Before the start of time: nothing is that old.
            None => 0,
        },
    };
    txn.commit().await?;
    Ok(pruned)
}

/// Days as PostgreSQL's `INTEGER`.
fn days_value(days: u32) -> i32 {
    i32::try_from(days).unwrap_or(i32::MAX)
}
