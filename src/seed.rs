//! `orgs seed`: bulk demo data (organizations, users, memberships, owners, projects) in one
//! transaction, so a failure leaves nothing behind. Multi-row inserts keep 10,000 organizations
//! x 100 members within minutes on SQLite.

use entity::OrganizationId;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use clap::Args;
use entity::{
    organization, organization_member_role, organization_owner, organization_user, project, user,
};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    PrimaryKeyTrait, QuerySelect,
};

use crate::auth::PasswordHasher;
use crate::tenancy::door::SystemTxn;

/// Options of `orgs seed`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Organizations to create.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub orgs: u32,
    /// Members per organization, the owner included.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub members: u32,
    /// Projects per organization.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub projects: u32,
}

/// The password of every seeded user.
pub const SEED_PASSWORD: &str = "orgs-demo-password";

/// Rows per INSERT statement: under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters
/// for the widest seeded table.
const ROWS_PER_STATEMENT: usize = 1_000;

/// Organizations handled per progress step.
const ORGS_PER_STEP: usize = 50;

const FIRST_NAMES: &[&str] = &[
    "Ada", "Alan", "Barbara", "Claude", "Dennis", "Donald", "Edsger", "Frances", "Grace", "Guido",
    "Hedy", "Ivan", "Joan", "John", "Ken", "Linus", "Margaret", "Niklaus", "Radia", "Tim",
];
const LAST_NAMES: &[&str] = &[
    "Allen",
    "Backus",
    "Cerf",
    "Dijkstra",
    "Engelbart",
    "Floyd",
    "Goldberg",
    "Hamilton",
    "Hopper",
    "Kay",
    "Knuth",
    "Lamport",
    "Liskov",
    "Lovelace",
    "McCarthy",
    "Perlman",
    "Ritchie",
    "Thompson",
    "Turing",
    "Wirth",
];

/// What a seed run made.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// Organizations created.
    pub organizations: u64,
    /// Users created.
    pub users: u64,
    /// Memberships created.
    pub memberships: u64,
    /// Projects created.
    pub projects: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The first seeded organization's slug and owner email, to try a login.
    pub example: Option<(String, String)>,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seeded {} organizations, {} users, {} memberships, {} projects in {:.1}s",
            self.organizations,
            self.users,
            self.memberships,
            self.projects,
            self.elapsed.as_secs_f64()
        )?;
        if let Some((slug, email)) = &self.example {
            write!(
                f,
                "\nevery seeded user's password is `{SEED_PASSWORD}`; e.g. {email} owns `{slug}`"
            )?;
        }
        Ok(())
    }
}

/// Creates `orgs` organizations with `members` members each (the first is admin and owner,
/// every tenth an admin) and `projects` projects each. Names and emails continue after the
/// rows already present, so seeding twice adds more.
pub async fn seed(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    args: &SeedArgs,
) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let password_hash = hasher.hash(SEED_PASSWORD).await?;
    #[expect(
        clippy::disallowed_methods,
        reason = "the seeder writes many organizations in one transaction"
    )]
    let system = crate::tenancy::door::system(db, "seed").await?;
    let txn = system.conn();
    let first_org = next_id::<organization::Entity, _>(txn, organization::Column::Id).await?;
    let first_user = next_id::<user::Entity, _>(txn, user::Column::Id).await?;
    let mut report = SeedReport::default();
    let mut progress = Progress::new(u64::from(args.orgs));
    let members = args.members as usize;
    let total_orgs = args.orgs as usize;
    let mut done = 0usize;
    while done < total_orgs {
        let step = Step {
            organizations: ORGS_PER_STEP.min(total_orgs - done),
            first_org: first_org + done as i64,
            first_user: first_user + (done * members) as i64,
            members,
            projects: args.projects,
            now: entity::chrono_now(),
        };
        seed_step(&system, &step, &password_hash, &mut report).await?;
        done += step.organizations;
        progress.update(done as u64, report.memberships);
    }
    system.commit().await?;
    refresh_statistics(db).await?;
    progress.finish();
    report.elapsed = started.elapsed();
    Ok(report)
}

/// One step of the seeder: its organizations and the numbers their rows start at.
struct Step {
    /// Organizations in this step.
    organizations: usize,
    /// The number of the step's first organization (its name and slug).
    first_org: i64,
    /// The number of the step's first user (their name and email).
    first_user: i64,
    /// Members per organization, the owner included.
    members: usize,
    /// Projects per organization.
    projects: u32,
    /// The creation time of every row of the step.
    now: DateTimeUtc,
}

/// Inserts one step's organizations with their users, memberships, roles, owners and
/// projects, and counts them in `report`.
async fn seed_step(
    system: &SystemTxn,
    step: &Step,
    password_hash: &str,
    report: &mut SeedReport,
) -> Result<(), sea_orm::DbErr> {
    let txn = system.conn();
    let now = step.now;
    let org_numbers: Vec<i64> = (0..step.organizations)
        .map(|i| step.first_org + i as i64)
        .collect();
    let org_ids = insert_all(
        txn,
        org_numbers
            .iter()
            .map(|n| organization::ActiveModel {
                name: Set(format!("Demo Org {n}")),
                slug: Set(format!("demo-org-{n}")),
                is_active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect(),
    )
    .await?;
    let user_ids = insert_all(
        txn,
        (0..step.organizations * step.members)
            .map(|i| {
                let n = step.first_user + i as i64;
                user::ActiveModel {
                    email: Set(format!("member{n}@seed.example.com")),
                    name: Set(person_name(n)),
                    password_hash: Set(Some(password_hash.to_string())),
                    is_active: Set(true),
                    is_superuser: Set(false),
                    email_verified_at: Set(Some(now)),
                    last_login_at: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
            })
            .collect(),
    )
    .await?;
    let membership_ids = insert_members(system, step, &org_ids, &user_ids).await?;
    report.projects += insert_projects(system, step, &org_ids).await?;
    if report.example.is_none() {
        report.example = Some((
            format!("demo-org-{}", org_numbers[0]),
            format!("member{}@seed.example.com", step.first_user),
        ));
    }
    report.organizations += org_ids.len() as u64;
    report.users += user_ids.len() as u64;
    report.memberships += membership_ids.len() as u64;
    Ok(())
}

/// Makes `user_ids`, in order, the members of `org_ids` (`step.members` each): every tenth an
/// admin, the others members, the first of each organization (an admin) its owner. The
/// memberships' ids, in the same order.
async fn insert_members(
    system: &SystemTxn,
    step: &Step,
    org_ids: &[i64],
    user_ids: &[i64],
) -> Result<Vec<i64>, sea_orm::DbErr> {
    let (members, now) = (step.members, step.now);
    let memberships: Vec<organization_user::ActiveModel> = org_ids
        .iter()
        .enumerate()
        .flat_map(|(o, &org_id)| {
            let scope = system.scope(OrganizationId(org_id));
            (0..members).map(move |m| {
                let mut row: organization_user::ActiveModel = scope.new_active_model();
                row.user_id = Set(user_ids[o * members + m]);
                row.created_at = Set(now);
                row.updated_at = Set(now);
                row
            })
        })
        .collect();
    let membership_ids = insert_all(system.conn(), memberships).await?;
    let member_roles: Vec<organization_member_role::ActiveModel> = org_ids
        .iter()
        .enumerate()
        .flat_map(|(o, &org_id)| {
            let scope = system.scope(OrganizationId(org_id));
            let membership_ids = &membership_ids;
            (0..members).map(move |m| {
                let mut row: organization_member_role::ActiveModel = scope.new_active_model();
                row.organization_user_id = Set(membership_ids[o * members + m]);
                row.role_key = Set(if m % 10 == 0 { "admin" } else { "member" }.to_string());
                row.role_id = Set(None);
                row
            })
        })
        .collect();
    insert_all(system.conn(), member_roles).await?;
    let owners: Vec<organization_owner::ActiveModel> = org_ids
        .iter()
        .enumerate()
        .map(|(o, &org_id)| {
            let mut row: organization_owner::ActiveModel =
                system.scope(OrganizationId(org_id)).new_active_model();
            row.organization_user_id = Set(membership_ids[o * members]);
            row.created_at = Set(now);
            row.updated_at = Set(now);
            row
        })
        .collect();
    insert_all(system.conn(), owners).await?;
    Ok(membership_ids)
}

/// Gives each of `org_ids` its `step.projects` projects; how many were made.
async fn insert_projects(
    system: &SystemTxn,
    step: &Step,
    org_ids: &[i64],
) -> Result<u64, sea_orm::DbErr> {
    let (count, now) = (step.projects, step.now);
    let projects: Vec<project::ActiveModel> = org_ids
        .iter()
        .flat_map(|&org_id| {
            let scope = system.scope(OrganizationId(org_id));
            (0..count).map(move |p| {
                let mut row: project::ActiveModel = scope.new_active_model();
                row.name = Set(format!("Project {}", p + 1));
                row.description = Set(format!("Demo project {} of organization {org_id}", p + 1));
                row.created_at = Set(now);
                row.updated_at = Set(now);
                row
            })
        })
        .collect();
    Ok(insert_all(system.conn(), projects).await?.len() as u64)
}

/// Has the database re-read its tables' statistics after the bulk insert. Without them
/// PostgreSQL misjudged the size of an organization and planned the people page as a slow
/// parallel query until autovacuum got round to the tables. On PostgreSQL it vacuums too: that
/// moves the rows the trigram indexes queued in their pending lists into the indexes proper
/// (until then every search reads the whole queue).
async fn refresh_statistics(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    let sql = match db.get_database_backend() {
        // A sample of each index is enough for SQLite's planner, and keeps this to seconds.
        sea_orm::DbBackend::Sqlite => "PRAGMA analysis_limit = 1000; ANALYZE;",
        _ => "VACUUM ANALYZE",
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}

fn person_name(n: i64) -> String {
    let n = n.unsigned_abs() as usize;
    let first = FIRST_NAMES[n % FIRST_NAMES.len()];
    let last = LAST_NAMES[(n / FIRST_NAMES.len()) % LAST_NAMES.len()];
    format!("{first} {last} {n}")
}

/// One more than the largest id of the table (1 when empty).
#[expect(
    clippy::disallowed_methods,
    reason = "MAX(id) over the whole table, read by the seeder only"
)]
async fn next_id<E, C>(db: &C, primary: E::Column) -> Result<i64, sea_orm::DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let max: Option<Option<i64>> = E::find()
        .select_only()
        .column_as(
            sea_orm::sea_query::Expr::from(sea_orm::sea_query::Func::max(
                sea_orm::sea_query::Expr::col(primary),
            )),
            "max",
        )
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0) + 1)
}

/// Inserts the rows in statements of [`ROWS_PER_STATEMENT`] and returns their ids in order.
async fn insert_all<A, C>(db: &C, rows: Vec<A>) -> Result<Vec<i64>, sea_orm::DbErr>
where
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
    <<A::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType: Into<i64>,
    C: ConnectionTrait,
{
    let mut ids = Vec::with_capacity(rows.len());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        let keys = A::Entity::insert_many(chunk)
            .exec_with_returning_keys(db)
            .await?;
        ids.extend(keys.into_iter().map(Into::into));
    }
    Ok(ids)
}

/// A progress bar on stderr: redrawn in place on a terminal, a line per tenth otherwise.
struct Progress {
    total: u64,
    started: Instant,
    terminal: bool,
    last_tenth: u64,
}

impl Progress {
    fn new(total: u64) -> Self {
        Self {
            total: total.max(1),
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            last_tenth: 0,
        }
    }

    fn update(&mut self, done: u64, memberships: u64) {
        let width = 30u64;
        let filled = (done * width / self.total) as usize;
        let line = format!(
            "seeding [{}{}] {:>3}% {done}/{} organizations, {memberships} memberships, {:.1}s",
            "#".repeat(filled),
            " ".repeat(width as usize - filled),
            done * 100 / self.total,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        let mut stderr = std::io::stderr();
        if self.terminal {
            let _ = write!(stderr, "\r{line}");
            let _ = stderr.flush();
        } else {
            let tenth = done * 10 / self.total;
            if tenth > self.last_tenth {
                self.last_tenth = tenth;
                let _ = writeln!(stderr, "{line}");
            }
        }
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_names_vary() {
        assert_ne!(person_name(1), person_name(2));
        assert!(person_name(21).starts_with("Alan Backus"));
    }
}
