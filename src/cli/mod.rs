//! The `orgs` command line: `serve`, `migrate`, `user create`, `org create`, `seed`, `check`,
//! `db create-app-role`, `audit prune`, `routes`.
//! Errors print one clear line on stderr and exit non-zero. Only `serve` (unless
//! `database.migrate_on_start` is off) and `migrate` change the schema.

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use crate::auth::NewUser;
use crate::config::{Settings, redact_url};
use crate::seed::SeedArgs;
use crate::startup::Application;
use crate::{db, telemetry};

mod accounts;
mod audit;
mod billing;
mod database;

use accounts::{OrgAction, UserAction};
use audit::AuditAction;
use database::DbAction;
pub use database::{MigrateAction, MigrateArgs, migrate_with};

/// Organization accounts and multi-tenancy for actix-web SaaS backends.
#[derive(Debug, Parser)]
#[command(name = "orgs", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply migrations, then serve HTTP.
    Serve,
    /// Apply, revert or list migrations; `up` also stores `audit.retention_days` in the
    /// database, the bound of every audit prune (run it with the tables' owner's URL).
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage organizations.
    Org {
        #[command(subcommand)]
        action: OrgAction,
    },
    /// Fill the database with demo organizations, users and memberships.
    Seed(SeedArgs),
    /// Check tenant isolation in the database: on PostgreSQL, every table with
    /// organization_id must have row-level security forced and a policy, and (run as the app's
    /// role) synthetic rows, rolled back, must show that no context sees no row and a tenant
    /// context no other organization's. Exits 1 otherwise.
    Check {
        /// Check instead that the keys have the shapes docs/scaling.md plans for distributing
        /// the tenant tables on organization_id with Citus.
        #[arg(long)]
        citus: bool,
    },
    /// Database administration (run with the tables' owner's URL).
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Print the tenant routes and the permission each needs (the access table in docs/serving.md).
    Routes,
    /// Print the OpenAPI 3.1 document of /api/v1 (what /api/v1/openapi.json serves), to
    /// generate a client from.
    Openapi,
}

/// Parses the arguments, runs the command and returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("orgs: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("orgs: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("orgs: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The configured database; the error names it, its password hidden.
async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    db::connect(&settings.database).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open the database {}: {e}",
            redact_url(&settings.database.url)
        )
    })
}

/// A connection to a database whose schema is up to date. The data commands never migrate
/// (only `serve`, as `database.migrate_on_start` says, and `migrate` do): they run as the app's
/// ordinary role too, which may create nothing. Without the schema they say what to run.
async fn connect_migrated(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = connect(settings).await?;
    // Read-only: asking the migrator would create its table first, which the app role may not.
    let pending = Migrator::get_pending_migrations_read_only(&db)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the migrations of the database: {e}"))?
        .len();
    if pending > 0 {
        let all = Migrator::migrations().len();
        anyhow::bail!(
            "the database {} is not migrated ({pending} of {all} migrations pending): run \
             `orgs migrate` with the tables' owner's URL first",
            redact_url(&settings.database.url)
        );
    }
    Ok(db)
}

/// Runs one command: each has a function of its own.
async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(settings).await,
        Command::Migrate { action } => {
            database::migrate(&settings, action.unwrap_or(MigrateAction::Up)).await
        }
        Command::User {
            action:
                UserAction::Create {
                    email,
                    password,
                    name,
                    superuser,
                },
        } => {
            let new = NewUser {
                email,
                name,
                password: Some(password),
                is_superuser: superuser,
            };
            accounts::create_user(&settings, new).await
        }
        Command::User {
            action: UserAction::Token { email, name },
        } => accounts::create_token(&settings, &email, &name).await,
        Command::User {
            action: UserAction::ResetTwoFactor { email },
        } => accounts::reset_two_factor(&settings, &email).await,
        Command::Org {
            action: OrgAction::Create { name, owner, slug },
        } => accounts::create_org(&settings, name, &owner, slug).await,
        Command::Org {
            action:
                OrgAction::SetSeats {
                    organization,
                    limit,
                },
        } => billing::set_seats(&settings, organization, &limit).await,
        Command::Seed(args) => accounts::seed(&settings, &args).await,
        Command::Openapi => openapi(&settings),
        Command::Routes => {
            let served = crate::routes::tenant_routes(&settings);
            print!("{}", crate::routes::access_table_of(&served));
            Ok(())
        }
        Command::Audit {
            action: AuditAction::Prune,
        } => audit::prune(&settings).await,
        Command::Audit {
            action: AuditAction::Export { organization },
        } => audit::export(&settings, organization).await,
        Command::Check { citus: true } => database::check_citus(&settings).await,
        Command::Check { citus: false } => database::check_isolation(&settings).await,
        Command::Db {
            action: DbAction::CreateAppRole { name, password },
        } => database::create_app_role(&settings, &name, password.as_deref()).await,
    }
}

/// `orgs serve`: the server, until it is stopped.
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings.clone()).await?;
    let url = format!("http://{}:{}", settings.server.host, app.port());
    tracing::info!(%url, environment = %settings.environment, "orgs is listening");
    println!(
        "orgs listening on {url} ({} environment, database {})",
        settings.environment,
        redact_url(&settings.database.url)
    );
    app.run_until_stopped().await?;
    Ok(())
}

/// `orgs openapi`: the OpenAPI document of /api/v1, of the routes `settings` serve.
fn openapi(settings: &Settings) -> anyhow::Result<()> {
    let served = crate::routes::tenant_routes(settings);
    let (openapi, _) = crate::routes::openapi::build_for(&served, &Default::default());
    println!("{}", openapi.to_pretty_json()?);
    Ok(())
}
