//! `orgs audit prune` and `orgs audit export`: the audit log from the command line.

use clap::Subcommand;
use entity::OrganizationId;

use super::connect_migrated;
use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub(super) enum AuditAction {
    /// Delete the events older than `audit.retention_days`, or the longer retention `orgs
    /// migrate` stored in the database (the server does it every hour).
    Prune,
    /// Print an organization's events as JSON lines, oldest first, also after it was deleted.
    Export {
        /// The organization's id (its events keep it after it is gone).
        #[arg(long)]
        organization: i64,
    },
}

/// `orgs audit prune`: deletes what is past the retention in force and says how much.
pub(super) async fn prune(settings: &Settings) -> anyhow::Result<()> {
    let db = connect_migrated(settings).await?;
    let configured = settings.audit.retention_days;
    match crate::audit::retention::retention(&db, configured).await? {
        None => println!(
            "every audit event is kept (audit.retention_days or the database's \
             orgs_audit_retention is 0)"
        ),
        Some(days) => {
            let pruned = crate::audit::prune(&db, configured).await?;
            println!("pruned {pruned} audit events older than {days} days");
            if days > configured {
                println!(
                    "(the database keeps them {days} days; `orgs migrate` with the \
                     owner's URL writes audit.retention_days there)"
                );
            }
        }
    }
    Ok(())
}

/// `orgs audit export`: the organization's events as JSON lines; an error when it has none.
pub(super) async fn export(settings: &Settings, organization: i64) -> anyhow::Result<()> {
    let db = connect_migrated(settings).await?;
    let events = crate::audit::export_all(&db, OrganizationId(organization)).await?;
    if events.is_empty() {
        anyhow::bail!("organization: no audit events for organization {organization}");
    }
    for event in events {
        println!("{}", serde_json::to_string(&event)?);
    }
    Ok(())
}
