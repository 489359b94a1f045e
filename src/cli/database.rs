//! `orgs migrate`, `orgs db create-app-role` and `orgs check`: the schema, the app's role and
//! the checks of tenant isolation, run with the tables' owner's URL (the checks with the app's).

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use super::connect;
use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub(super) enum DbAction {
    /// Create the ordinary role the server connects as (no superuser, no BYPASSRLS, owns
    /// nothing) if it is missing, and grant it what the app needs on this database.
    CreateAppRole {
        /// The role's name (lower-case letters, digits, _).
        name: String,
        /// Its password (leave out for trust or peer authentication).
        #[arg(long)]
        password: Option<String>,
    },
}

/// What `migrate` does: `up` (the default), `down [-n N]`, `status`.
#[derive(Clone, Copy, Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Revert the last N applied migrations.
    Down {
        /// How many to revert.
        #[arg(short = 'n', long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

/// `orgs migrate`: orgs' migrations; `up` also stores `audit.retention_days` in the database.
pub(super) async fn migrate(settings: &Settings, action: MigrateAction) -> anyhow::Result<()> {
    let db = connect(settings).await?;
    migrate_with::<Migrator>(&db, action).await?;
    if matches!(action, MigrateAction::Up) {
        // Run by the tables' owner: the bound the database holds every audit prune to.
        let days = settings.audit.retention_days;
        crate::audit::retention::keep_configured(&db, days)
            .await
            .map_err(|e| anyhow::anyhow!("audit.retention_days: cannot be stored: {e}"))?;
    }
    Ok(())
}

/// `orgs migrate` for any migrator: an embedding app's, whose migrations keep their own table
/// (`MigratorTrait::migration_table_name`), runs the same `up`, `down [-n N]` and `status`
/// with the same messages and refusals.
pub async fn migrate_with<M: MigratorTrait>(
    db: &DatabaseConnection,
    action: MigrateAction,
) -> anyhow::Result<()> {
    match action {
        MigrateAction::Up => {
            let pending = M::get_pending_migrations(db).await?.len();
            M::up(db, None).await?;
            println!("applied {pending} migration(s)");
        }
        MigrateAction::Down { steps } => {
            let applied = M::get_applied_migrations(db).await?.len();
            if steps as usize > applied {
                anyhow::bail!("--steps {steps}: only {applied} migration(s) are applied");
            }
            M::down(db, Some(steps)).await?;
            println!("reverted {steps} migration(s)");
        }
        MigrateAction::Status => {
            for migration in M::get_migration_with_status(db).await? {
                println!("{:?}\t{}", migration.status(), migration.name());
            }
        }
    }
    Ok(())
}

/// The arguments of a `migrate` command, for an embedding binary:
/// `MigrateArgs::parse_from(["embed migrate", "down", "-n", "1"])`.
#[derive(Debug, Parser)]
pub struct MigrateArgs {
    /// Up (the default), down or status.
    #[command(subcommand)]
    pub action: Option<MigrateAction>,
}

impl MigrateArgs {
    /// Parses `args` (the first is the command's name); on bad arguments prints the usage and
    /// exits 2, as `orgs` does.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Self {
        <Self as Parser>::parse_from(args)
    }
}

/// `orgs db create-app-role`: the ordinary role the server connects as, and its grants.
pub(super) async fn create_app_role(
    settings: &Settings,
    name: &str,
    password: Option<&str>,
) -> anyhow::Result<()> {
    let db = connect(settings).await?;
    crate::tenancy::rls::create_app_role(&db, name, password).await?;
    println!(
        "role {name} can now serve this database; start the server with its URL and \
         ORGS_DATABASE__MIGRATE_ON_START=false"
    );
    Ok(())
}

/// `orgs check`: row-level security covers every tenant table and holds; an error otherwise.
pub(super) async fn check_isolation(settings: &Settings) -> anyhow::Result<()> {
    let db = connect(settings).await?;
    let report = crate::tenancy::rls::check(&db).await?;
    if let Some(reason) = report.not_applicable {
        println!("{reason}");
        return Ok(());
    }
    if !report.problems.is_empty() {
        anyhow::bail!(
            "tenant isolation check failed:\n  {}",
            report.problems.join("\n  ")
        );
    }
    println!(
        "row-level security covers every table with organization_id: {}",
        report.tables.join(", ")
    );
    Ok(())
}

/// `orgs check --citus`: the keys fit distributing the tenant tables; an error otherwise.
pub(super) async fn check_citus(settings: &Settings) -> anyhow::Result<()> {
    let db = connect(settings).await?;
    let report = crate::tenancy::citus::check(&db).await?;
    if let Some(reason) = report.not_applicable {
        println!("{reason}");
        return Ok(());
    }
    if !report.problems.is_empty() {
        anyhow::bail!(
            "the schema does not fit the Citus plan of docs/scaling.md:\n  {}",
            report.problems.join("\n  ")
        );
    }
    println!(
        "distributed on organization_id: {}\nreference tables: {}\nglobal keys, each with its plan:\n  {}",
        report.distributed.join(", "),
        crate::tenancy::citus::REFERENCE.join(", "),
        report.global_keys.join("\n  ")
    );
    Ok(())
}
