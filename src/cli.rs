//! The `orgs` command line: `serve`, `migrate`, `user create`, `org create`, `seed`, `check`,
//! `db create-app-role`, `audit prune`, `routes`.
//! Errors print one clear line on stderr and exit non-zero. Only `serve` (unless
//! `database.migrate_on_start` is off) and `migrate` change the schema.

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use crate::auth::{NewUser, PasswordHasher, users};
use crate::config::{Settings, redact_url};
use crate::error::FieldError as _;
use crate::events::Events;
use crate::organizations::{NewOrganization, create_organization_with};
use crate::seed::{self, SeedArgs};
use crate::startup::Application;
use crate::{db, telemetry};

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

#[derive(Debug, Subcommand)]
enum AuditAction {
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

#[derive(Debug, Subcommand)]
enum DbAction {
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

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Create an active user.
    Create {
        /// Login email.
        #[arg(long)]
        email: String,
        /// Password (at least `auth.min_password_length` characters).
        #[arg(long)]
        password: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Make the user a superuser, who passes every permission check.
        #[arg(long)]
        superuser: bool,
    },
    /// Make a personal API token for a user and print it (it is shown this once; the account
    /// page lists and revokes it).
    Token {
        /// The user's login email.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum OrgAction {
    /// Create an organization owned by an existing user.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Email of the owner, who must already have an account.
        #[arg(long)]
        owner: String,
        /// Address (`acme` for acme.example.com); derived from the name when left out.
        #[arg(long)]
        slug: Option<String>,
    },
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

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(settings).await,
        Command::Migrate { action } => migrate(settings, action.unwrap_or(MigrateAction::Up)).await,
        Command::User {
            action:
                UserAction::Create {
                    email,
                    password,
                    name,
                    superuser,
                },
        } => {
            let db = connect_migrated(&settings).await?;
            let hasher = PasswordHasher::new(&settings.auth)?;
            let user = users::create_user(
                &db,
                &hasher,
                NewUser {
                    email,
                    name,
                    password: Some(password),
                    is_superuser: superuser,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.described()))?;
            println!(
                "created user {} <{}>{}",
                user.id,
                user.email,
                if user.is_superuser {
                    " (superuser)"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::Org {
            action: OrgAction::Create { name, owner, slug },
        } => {
            let db = connect_migrated(&settings).await?;
            let owner_email =
                users::normalize_email(&owner).map_err(|e| anyhow::anyhow!("owner: {e}"))?;
            let user = users::find_by_email(&db, &owner_email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("owner: no user with email {owner_email}"))?;
            let created = create_organization_with(
                &db,
                &Events::new(),
                user.id,
                NewOrganization {
                    slug,
                    ..NewOrganization::named(name)
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.described()))?;
            let org = created.organization;
            println!(
                "created organization {} \"{}\" at {}.{} (owner {})",
                org.id, org.name, org.slug, settings.tenant.base_domain, user.email
            );
            Ok(())
        }
        Command::User {
            action: UserAction::Token { email, name },
        } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                anyhow::bail!("name: must be 1 to 100 characters long");
            }
            crate::text::check_name(name).map_err(|e| anyhow::anyhow!("name: {e}"))?;
            let db = connect_migrated(&settings).await?;
            let email =
                users::normalize_email(&email).map_err(|e| anyhow::anyhow!("email: {e}"))?;
            let user = users::find_by_email(&db, &email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("email: no user with email {email}"))?;
            let (_, secret) = crate::auth::api_tokens::create(&db, user.id, name).await?;
            println!("{secret}");
            Ok(())
        }
        Command::Openapi => {
            let (openapi, _) = crate::routes::openapi::build();
            println!("{}", openapi.to_pretty_json()?);
            Ok(())
        }
        Command::Routes => {
            print!("{}", crate::routes::access_table());
            Ok(())
        }
        Command::Audit {
            action: AuditAction::Prune,
        } => {
            let db = connect_migrated(&settings).await?;
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
        Command::Audit {
            action: AuditAction::Export { organization },
        } => {
            let db = connect_migrated(&settings).await?;
            let events = crate::audit::export_all(&db, organization).await?;
            if events.is_empty() {
                anyhow::bail!("organization: no audit events for organization {organization}");
            }
            for event in events {
                println!("{}", serde_json::to_string(&event)?);
            }
            Ok(())
        }
        Command::Check { citus: true } => {
            let db = connect(&settings).await?;
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
        Command::Check { citus: false } => {
            let db = connect(&settings).await?;
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
        Command::Db {
            action: DbAction::CreateAppRole { name, password },
        } => {
            let db = connect(&settings).await?;
            crate::tenancy::rls::create_app_role(&db, &name, password.as_deref()).await?;
            println!(
                "role {name} can now serve this database; start the server with its URL and \
                 ORGS_DATABASE__MIGRATE_ON_START=false"
            );
            Ok(())
        }
        Command::Seed(args) => {
            let db = connect_migrated(&settings).await?;
            let hasher = PasswordHasher::new(&settings.auth)?;
            let report = seed::seed(&db, &hasher, &args).await?;
            println!("{report}");
            Ok(())
        }
    }
}

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

async fn migrate(settings: Settings, action: MigrateAction) -> anyhow::Result<()> {
    let db = connect(&settings).await?;
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
