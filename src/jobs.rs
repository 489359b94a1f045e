//! Housekeeping apart from mail, on one schedule: every hour from a minute after start, one
//! task prunes the audit log, empties the bodies of sent mail, marks lapsed invitations and
//! prunes old idempotency keys ([`hourly`]). Each reaches across organizations through
//! `tenancy::door::system`.

use std::time::Duration;

use chrono::TimeDelta;
use entity::email_outbox;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, DbErr, QueryFilter};

use crate::tenancy::door;

/// When the first hourly pass runs after start.
const FIRST: Duration = Duration::from_secs(60);
/// How often the hourly pass runs.
const EVERY: Duration = Duration::from_secs(3_600);

/// What the hourly pass keeps, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Keep {
    /// `audit.retention_days`: audit events older than this are pruned (0 keeps them all).
    pub audit_days: u32,
    /// `email.keep_sent_days`: the bodies of mail sent longer ago than this are emptied.
    pub sent_mail_days: u32,
    /// `webhooks.keep_days`: finished webhook deliveries older than this are deleted.
    pub webhook_days: u32,
}

impl Keep {
    /// What `settings` say.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self {
            audit_days: settings.audit.retention_days,
            sent_mail_days: settings.email.keep_sent_days,
            webhook_days: settings.webhooks.keep_days,
        }
    }
}

/// Runs [`hourly`] every hour from a minute after start until `stop` turns true (then it ends
/// after the job it is running).
pub fn spawn(
    db: DatabaseConnection,
    keep: Keep,
    dns: std::sync::Arc<dyn crate::tenancy::dns::TxtLookup>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut next = tokio::time::Instant::now() + FIRST;
        loop {
            if *stop.borrow() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                // A dropped sender stops the task as `true` would.
                changed = stop.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    continue;
                }
            }
            next += EVERY;
            let stopping = || *stop.borrow();
            hourly_until(&db, keep, &stopping).await;
            if stopping() {
                return;
            }
            match crate::organizations::domain_checks::recheck_due(&db, dns.as_ref()).await {
                Ok(done) if done.checked > 0 => tracing::info!(?done, "email domains looked up"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "email domains could not be looked up"),
            }
        }
    })
}

/// The hourly housekeeping, each job on its own (one failing is logged and the others run):
/// prunes the audit log (when `keep.audit_days` is set), empties the bodies of mail sent more
/// than `keep.sent_mail_days` ago ([`empty_sent_bodies`]), marks invitations past their time
/// lapsed (`invitations::sweep_lapsed`), deletes finished webhook deliveries older than
/// `keep.webhook_days` (`webhooks::log::prune`), prunes the idempotency keys past their 24 hours and the
/// sign-in steps past their five minutes.
pub async fn hourly(db: &DatabaseConnection, keep: Keep) {
    hourly_until(db, keep, &|| false).await;
}

/// Like [`hourly`], skipping the jobs left once `stop` says so.
async fn hourly_until(db: &DatabaseConnection, keep: Keep, stop: &(dyn Fn() -> bool + Sync)) {
    if keep.audit_days > 0 {
        match crate::audit::prune(db, keep.audit_days).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "old audit events pruned"),
            Err(error) => tracing::warn!(%error, "the audit log could not be pruned"),
        }
    }
    if stop() {
        return;
    }
    match empty_sent_bodies(db, keep.sent_mail_days).await {
        Ok(0) => {}
        Ok(emptied) => tracing::info!(emptied, "bodies of sent mail emptied"),
        Err(error) => tracing::warn!(%error, "the bodies of sent mail could not be emptied"),
    }
    if stop() {
        return;
    }
    match crate::invitations::sweep_lapsed(db).await {
        Ok(0) => {}
        Ok(lapsed) => {
            tracing::info!(lapsed, "invitations past their time marked lapsed")
        }
        Err(error) => tracing::warn!(%error, "lapsed invitations could not be swept"),
    }
    if stop() {
        return;
    }
    match crate::webhooks::log::prune(db, keep.webhook_days).await {
        Ok(0) => {}
        Ok(pruned) => tracing::info!(pruned, "old webhook deliveries pruned"),
        Err(error) => tracing::warn!(%error, "old webhook deliveries could not be pruned"),
    }
    // Past 24 hours a key answers nothing; its row only takes room.
    if let Err(error) = crate::tenancy::once::prune(db).await {
        tracing::warn!(%error, "old idempotency keys could not be pruned");
    }
    // Half-signed-in states and passkey ceremonies last five minutes; their rows only take room.
    if let Err(error) = crate::auth::challenges::prune(db).await {
        tracing::warn!(%error, "expired sign-in steps could not be pruned");
    }
}

/// Empties the bodies (text and HTML) of the mail sent more than `keep_days` days ago, of every
/// organization and of none: they hold links that still work (password reset, invitations) and
/// nothing reads them once sent. Who, the subject and when stay. How many were emptied.
pub async fn empty_sent_bodies(db: &DatabaseConnection, keep_days: u32) -> Result<u64, DbErr> {
    let Some(cutoff) =
        entity::chrono_now().checked_sub_signed(TimeDelta::days(i64::from(keep_days)))
    else {
        return Ok(0);
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "the retention of sent mail crosses organizations, and mail of none"
    )]
    let txn = door::system(db, "empty the bodies of sent mail").await?;
    let emptied = txn
        .update_all::<email_outbox::Entity>()
        .filter(email_outbox::Column::SentAt.lt(cutoff))
        .filter(
            Condition::any()
                .add(email_outbox::Column::TextBody.ne(""))
                .add(email_outbox::Column::HtmlBody.is_not_null()),
        )
        .col_expr(email_outbox::Column::TextBody, Expr::value(""))
        .col_expr(email_outbox::Column::HtmlBody, Expr::value(None::<String>))
        .col_expr(
            email_outbox::Column::UpdatedAt,
            Expr::value(entity::chrono_now()),
        )
        .exec(txn.conn())
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(emptied)
}
