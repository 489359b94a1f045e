//! `orgs check --citus`: whether the schema has the shapes `docs/scaling.md` plans for Citus.
//! Every table with `organization_id` is distributed on it, so its primary key, its unique keys
//! and its foreign keys to other distributed tables must contain `organization_id`, which must
//! be NOT NULL; the unique keys that cannot (a global lookup by token or by domain) are the
//! documented exceptions, each with its plan. `organizations`, `users`, `user_two_factor` and
//! `passkeys` are reference tables; the rest stay on the coordinator. A key the plan does not know is a problem.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// Tables whose rows belong to one organization but that stay on the coordinator: mail about
/// no organization shares the queue, a global route's idempotency keys share the table
/// (their `organization_id` may be NULL), and the webhook queue is claimed across
/// organizations (`FOR UPDATE SKIP LOCKED`, which Citus runs on one shard only).
const LOCAL_WITH_ORGANIZATION: &[&str] = &[
    "email_outbox",
    "idempotency_keys",
    "webhook_messages",
    "webhook_deliveries",
];

/// Replicated to every node: what the distributed tables' foreign keys point at, and a
/// person's second factors, which the Security settings join to an organization's members.
pub const REFERENCE: &[&str] = &["organizations", "users", "user_two_factor", "passkeys"];

/// Unique keys of distributed tables without `organization_id`, and what becomes of each
/// (docs/scaling.md says why).
pub const GLOBAL_KEYS: &[(&str, &str)] = &[
    (
        "organization_invitations_token_hash_key",
        "an invitation link is looked up by its token alone: the link carries the organization id, the key becomes (organization_id, token_hash)",
    ),
    (
        "organization_api_keys_token_hash_key",
        "an API key is looked up by its secret alone: the key's prefix carries the organization id, the key becomes (organization_id, token_hash)",
    ),
    (
        "organization_domains_verified_key",
        "a verified domain answers for one organization across all: moves to a reference table verified_domains(domain PRIMARY KEY, organization_id)",
    ),
    (
        "email_domains_verified_key",
        "a verified email domain belongs to one organization across all: moves to a reference table verified_email_domains(domain PRIMARY KEY, organization_id)",
    ),
    (
        "organization_users_id_key",
        "ids come from one sequence on the coordinator: the index stays, not unique",
    ),
    (
        "organization_roles_id_key",
        "ids come from one sequence on the coordinator: the index stays, not unique",
    ),
    (
        "projects_id_key",
        "ids come from one sequence on the coordinator: the index stays, not unique",
    ),
];

/// What the check found.
#[derive(Debug, Default)]
pub struct CitusReport {
    /// Tables distributed on `organization_id`.
    pub distributed: Vec<String>,
    /// The documented global keys found, with their plan.
    pub global_keys: Vec<String>,
    /// Shapes the plan does not cover.
    pub problems: Vec<String>,
    /// Why the check does not apply (SQLite).
    pub not_applicable: Option<String>,
}

async fn strings(db: &DatabaseConnection, sql: &str) -> Result<Vec<Vec<String>>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    rows.iter()
        .map(|row| {
            (0..3)
                .map(|i| {
                    row.try_get_by_index::<Option<String>>(i)
                        .map(Option::unwrap_or_default)
                })
                .collect()
        })
        .collect()
}

/// Reads the catalog of the database `db` is connected to.
pub async fn check(db: &DatabaseConnection) -> Result<CitusReport, DbErr> {
    let mut report = CitusReport::default();
    if db.get_database_backend() != DbBackend::Postgres {
        report.not_applicable =
            Some("the Citus check reads PostgreSQL's catalog; this database is SQLite".into());
        return Ok(report);
    }
    let distributed = tenant_tables(db, &mut report).await?;
    unique_keys(db, &distributed, &mut report).await?;
    foreign_keys(db, &distributed, &mut report).await?;
    report.distributed = distributed;
    Ok(report)
}

/// The tables to distribute (those with `organization_id`, but the local ones); a problem for
/// each whose `organization_id` may be NULL.
async fn tenant_tables(
    db: &DatabaseConnection,
    report: &mut CitusReport,
) -> Result<Vec<String>, DbErr> {
    // Tables with organization_id, and whether it may be NULL.
    let tenant = strings(
        db,
        "SELECT c.relname::text, CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END, '' \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id' \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .await?;
    let distributed: Vec<String> = tenant
        .iter()
        .filter(|t| !LOCAL_WITH_ORGANIZATION.contains(&t[0].as_str()))
        .map(|t| t[0].clone())
        .collect();
    for t in &tenant {
        if distributed.contains(&t[0]) && t[1] != "not null" {
            report.problems.push(format!(
                "{}: organization_id may be NULL; a distributed table needs it on every row",
                t[0]
            ));
        }
    }
    Ok(distributed)
}

/// A problem for each unique key of a distributed table without `organization_id` that
/// docs/scaling.md has no plan for; the planned ones are listed.
async fn unique_keys(
    db: &DatabaseConnection,
    distributed: &[String],
    report: &mut CitusReport,
) -> Result<(), DbErr> {
    // Primary and unique keys: each with its columns.
    let keys = strings(
        db,
        "SELECT t.relname::text, i.relname::text, \
                string_agg(a.attname::text, ',' ORDER BY a.attnum) \
         FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey) \
         WHERE n.nspname = current_schema() AND x.indisunique GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .await?;
    for key in &keys {
        let (table, index, columns) = (&key[0], &key[1], &key[2]);
        if !distributed.contains(table) || columns.split(',').any(|c| c == "organization_id") {
            continue;
        }
        match GLOBAL_KEYS.iter().find(|(name, _)| name == index) {
            Some((_, plan)) => report.global_keys.push(format!("{table}.{index} ({columns}): {plan}")),
            None => report.problems.push(format!(
                "{table}.{index} ({columns}): a unique key of a distributed table without organization_id, and docs/scaling.md has no plan for it"
            )),
        }
    }
    Ok(())
}

/// A problem for each foreign key that would cross the distribution: between distributed tables
/// without `organization_id`, from a distributed table to a local one, or into the distribution.
async fn foreign_keys(
    db: &DatabaseConnection,
    distributed: &[String],
    report: &mut CitusReport,
) -> Result<(), DbErr> {
    // Foreign keys between distributed tables must carry organization_id on both sides.
    let foreign = strings(
        db,
        "SELECT conrelid::regclass::text, confrelid::regclass::text, \
                conname::text || ':' || ( \
                  SELECT string_agg(a.attname::text, ',') FROM unnest(c.conkey) k \
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k) \
         FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace \
         ORDER BY 1, 3",
    )
    .await?;
    for fk in &foreign {
        let (from, to, what) = (&fk[0], &fk[1], &fk[2]);
        let (name, columns) = what.split_once(':').unwrap_or((what, ""));
        let to_distributed = distributed.contains(to);
        if distributed.contains(from) && to_distributed {
            if !columns.split(',').any(|c| c == "organization_id") {
                report.problems.push(format!(
                    "{from}.{name} ({columns}) -> {to}: a foreign key between distributed tables without organization_id"
                ));
            }
        } else if distributed.contains(from) && !REFERENCE.contains(&to.as_str()) {
            report.problems.push(format!(
                "{from}.{name} -> {to}: a distributed table may point only at distributed (co-located) or reference tables"
            ));
        } else if !distributed.contains(from) && to_distributed {
            report.problems.push(format!(
                "{from}.{name} -> {to}: a table outside the distribution points into it"
            ));
        }
    }
    Ok(())
}
