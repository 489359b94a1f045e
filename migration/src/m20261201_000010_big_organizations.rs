//! Big organizations: what lets a list of 100,000 members read a page, count itself and search
//! in a time that does not grow with the organization.
//!
//! - `organization_users.sort_name`: the member's display name lowercased (the name, or the
//!   email without one), the people list's order. It is on the membership row so that one index,
//!   `(organization_id, sort_name, user_id)`, serves the order and the keyset cursor; triggers
//!   fill it when a membership is made and follow the user's name and email when they change.
//! - `organization_counts`: members, pending invitations and projects per organization, kept by
//!   triggers in the transaction that changes them (every code path, an embedder's too), created
//!   with the organization. An invitation's pending time runs out without a write, so it is
//!   counted until the sweep (`orgs::invitations::sweep_lapsed`, hourly) marks it `lapsed_at`;
//!   readers subtract the few that ran out since, through the partial index
//!   `organization_invitations_unlapsed_idx`, and get the exact number.
//! - Search: SQLite keeps an FTS5 table with the `trigram` tokenizer over the users' names and
//!   emails (`users_search`); PostgreSQL has `pg_trgm` GIN indexes on `lower(name)` and `email`.
//!   Both serve a case-insensitive substring of three characters or more.
//! - Keyset indexes led by `organization_id` for the projects (name, id) and, on SQLite, the
//!   invitations (id); PostgreSQL's primary keys `(organization_id, id)` already serve those.
//!
//! Trigger bodies hold `;`, so the statements are listed one by one rather than split.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Adds the sort key, the counts and the search indexes.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000010_big_organizations"
    }
}

/// Whether an invitation is counted as pending by the triggers: open, and not yet marked lapsed
/// by the sweep (a resent one, whose `expires_at` moved past its `lapsed_at`, counts again).
/// Written the same way in the partial index and in the readers' query, which SQLite needs to
/// use that index.
pub const KEPT_PENDING: &str = "accepted_at IS NULL AND revoked_at IS NULL \
     AND (lapsed_at IS NULL OR lapsed_at < expires_at)";

fn kept_pending(row: &str) -> String {
    format!(
        "({row}.accepted_at IS NULL AND {row}.revoked_at IS NULL \
         AND ({row}.lapsed_at IS NULL OR {row}.lapsed_at < {row}.expires_at))"
    )
}

fn sqlite_up() -> Vec<String> {
    let mut statements: Vec<String> = [
        // The people list's order and its index.
        "ALTER TABLE organization_users ADD COLUMN sort_name TEXT NOT NULL DEFAULT ''",
        "UPDATE organization_users SET sort_name = (SELECT lower(COALESCE(NULLIF(u.name, ''), u.email)) \
         FROM users AS u WHERE u.id = organization_users.user_id)",
        "CREATE INDEX organization_users_org_sort_idx ON organization_users (organization_id, sort_name, user_id)",
        "CREATE TRIGGER organization_users_sort_name AFTER INSERT ON organization_users BEGIN \
         UPDATE organization_users SET sort_name = (SELECT lower(COALESCE(NULLIF(u.name, ''), u.email)) \
         FROM users AS u WHERE u.id = NEW.user_id) WHERE id = NEW.id; END",
        "CREATE TRIGGER users_sort_name AFTER UPDATE OF name, email ON users BEGIN \
         UPDATE organization_users SET sort_name = lower(COALESCE(NULLIF(NEW.name, ''), NEW.email)) \
         WHERE user_id = NEW.id; END",
        // Counts.
        "CREATE TABLE organization_counts (\
         organization_id INTEGER PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE, \
         members INTEGER NOT NULL DEFAULT 0, \
         pending_invitations INTEGER NOT NULL DEFAULT 0, \
         projects INTEGER NOT NULL DEFAULT 0)",
        "ALTER TABLE organization_invitations ADD COLUMN lapsed_at TEXT",
        "CREATE TRIGGER organizations_counts AFTER INSERT ON organizations BEGIN \
         INSERT INTO organization_counts (organization_id) VALUES (NEW.id); END",
        "CREATE TRIGGER organization_users_count_insert AFTER INSERT ON organization_users BEGIN \
         UPDATE organization_counts SET members = members + 1 WHERE organization_id = NEW.organization_id; END",
        "CREATE TRIGGER organization_users_count_delete AFTER DELETE ON organization_users BEGIN \
         UPDATE organization_counts SET members = members - 1 WHERE organization_id = OLD.organization_id; END",
        "CREATE TRIGGER projects_count_insert AFTER INSERT ON projects BEGIN \
         UPDATE organization_counts SET projects = projects + 1 WHERE organization_id = NEW.organization_id; END",
        "CREATE TRIGGER projects_count_delete AFTER DELETE ON projects BEGIN \
         UPDATE organization_counts SET projects = projects - 1 WHERE organization_id = OLD.organization_id; END",
        // Keyset indexes.
        "CREATE INDEX organization_invitations_org_id_idx ON organization_invitations (organization_id, id)",
        "DROP INDEX projects_org_name_idx",
        "CREATE INDEX projects_org_name_id_idx ON projects (organization_id, name, id)",
        // Search: an external-content FTS5 table over users, kept by triggers.
        "CREATE VIRTUAL TABLE users_search USING fts5(name, email, content='users', \
         content_rowid='id', tokenize='trigram')",
        "INSERT INTO users_search (users_search) VALUES ('rebuild')",
        "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN \
         INSERT INTO users_search (rowid, name, email) VALUES (NEW.id, NEW.name, NEW.email); END",
        "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN \
         INSERT INTO users_search (users_search, rowid, name, email) VALUES ('delete', OLD.id, OLD.name, OLD.email); END",
        "CREATE TRIGGER users_search_update AFTER UPDATE OF name, email ON users BEGIN \
         INSERT INTO users_search (users_search, rowid, name, email) VALUES ('delete', OLD.id, OLD.name, OLD.email); \
         INSERT INTO users_search (rowid, name, email) VALUES (NEW.id, NEW.name, NEW.email); END",
    ]
    .map(String::from)
    .to_vec();
    statements.push(format!(
        "CREATE INDEX organization_invitations_unlapsed_idx ON organization_invitations \
         (organization_id, expires_at) WHERE {KEPT_PENDING}"
    ));
    for (event, sql) in [
        ("INSERT", format!("+ {}", kept_pending("NEW"))),
        ("DELETE", format!("- {}", kept_pending("OLD"))),
        (
            "UPDATE",
            format!("+ {} - {}", kept_pending("NEW"), kept_pending("OLD")),
        ),
    ] {
        let row = if event == "DELETE" { "OLD" } else { "NEW" };
        statements.push(format!(
            "CREATE TRIGGER organization_invitations_count_{} AFTER {event} ON organization_invitations BEGIN \
             UPDATE organization_counts SET pending_invitations = pending_invitations {sql} \
             WHERE organization_id = {row}.organization_id; END",
            event.to_lowercase()
        ));
    }
    statements.push(backfill());
    statements
}

/// Today's counts, for the organizations that exist when the migration runs.
fn backfill() -> String {
    format!(
        "INSERT INTO organization_counts (organization_id, members, pending_invitations, projects) \
         SELECT o.id, \
         (SELECT count(*) FROM organization_users AS m WHERE m.organization_id = o.id), \
         (SELECT count(*) FROM organization_invitations AS i WHERE i.organization_id = o.id AND {}), \
         (SELECT count(*) FROM projects AS p WHERE p.organization_id = o.id) \
         FROM organizations AS o",
        kept_pending("i")
    )
}

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER users_search_update",
    "DROP TRIGGER users_search_delete",
    "DROP TRIGGER users_search_insert",
    "DROP TABLE users_search",
    "DROP INDEX projects_org_name_id_idx",
    "CREATE INDEX projects_org_name_idx ON projects (organization_id, name)",
    "DROP INDEX organization_invitations_org_id_idx",
    "DROP TRIGGER organization_invitations_count_update",
    "DROP TRIGGER organization_invitations_count_delete",
    "DROP TRIGGER organization_invitations_count_insert",
    "DROP TRIGGER projects_count_delete",
    "DROP TRIGGER projects_count_insert",
    "DROP TRIGGER organization_users_count_delete",
    "DROP TRIGGER organization_users_count_insert",
    "DROP TRIGGER organizations_counts",
    "DROP INDEX organization_invitations_unlapsed_idx",
    "ALTER TABLE organization_invitations DROP COLUMN lapsed_at",
    "DROP TABLE organization_counts",
    "DROP TRIGGER users_sort_name",
    "DROP TRIGGER organization_users_sort_name",
    "DROP INDEX organization_users_org_sort_idx",
    "ALTER TABLE organization_users DROP COLUMN sort_name",
];

fn postgres_up() -> Vec<String> {
    let mut statements: Vec<String> = [
        // The people list's order and its index. "C": the same byte order as SQLite's, and the
        // cheapest comparison.
        "CREATE FUNCTION orgs_sort_name(name TEXT, email TEXT) RETURNS TEXT \
         LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT lower(COALESCE(NULLIF(name, ''), email)) $$",
        "ALTER TABLE organization_users ADD COLUMN sort_name TEXT COLLATE \"C\" NOT NULL DEFAULT ''",
        "UPDATE organization_users AS m SET sort_name = orgs_sort_name(u.name, u.email) \
         FROM users AS u WHERE u.id = m.user_id",
        "CREATE INDEX organization_users_org_sort_idx ON organization_users (organization_id, sort_name, user_id)",
        "CREATE FUNCTION orgs_membership_sort_name() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           SELECT orgs_sort_name(u.name, u.email) INTO NEW.sort_name FROM users AS u WHERE u.id = NEW.user_id; \
           RETURN NEW; \
         END $$",
        "CREATE TRIGGER organization_users_sort_name BEFORE INSERT OR UPDATE OF user_id ON organization_users \
         FOR EACH ROW EXECUTE FUNCTION orgs_membership_sort_name()",
        // A person's memberships are in every organization they belong to: the update crosses
        // tenants, so it runs in the system context for that one statement and puts the
        // transaction's context back.
        "CREATE FUNCTION orgs_user_sort_name() RETURNS trigger LANGUAGE plpgsql AS $$ \
         DECLARE previous TEXT := COALESCE(current_setting('orgs.context', true), ''); \
         BEGIN \
           IF orgs_sort_name(NEW.name, NEW.email) IS DISTINCT FROM orgs_sort_name(OLD.name, OLD.email) THEN \
             PERFORM set_config('orgs.context', 'system', true); \
             UPDATE organization_users SET sort_name = orgs_sort_name(NEW.name, NEW.email) WHERE user_id = NEW.id; \
             PERFORM set_config('orgs.context', previous, true); \
           END IF; \
           RETURN NULL; \
         END $$",
        "CREATE TRIGGER users_sort_name AFTER UPDATE OF name, email ON users \
         FOR EACH ROW EXECUTE FUNCTION orgs_user_sort_name()",
        // Counts.
        "CREATE TABLE organization_counts (\
         organization_id BIGINT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE, \
         members BIGINT NOT NULL DEFAULT 0, \
         pending_invitations BIGINT NOT NULL DEFAULT 0, \
         projects BIGINT NOT NULL DEFAULT 0)",
        "ALTER TABLE organization_invitations ADD COLUMN lapsed_at TIMESTAMPTZ",
        "CREATE FUNCTION orgs_counts_row() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           INSERT INTO organization_counts (organization_id) VALUES (NEW.id); \
           RETURN NULL; \
         END $$",
        "CREATE TRIGGER organizations_counts AFTER INSERT ON organizations \
         FOR EACH ROW EXECUTE FUNCTION orgs_counts_row()",
        // Statement-level with transition tables: a bulk insert (the seeder's thousands of rows)
        // updates each organization's row once, not once per row.
        "CREATE FUNCTION orgs_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF TG_OP = 'INSERT' THEN \
             EXECUTE format('UPDATE organization_counts AS c SET %1$I = c.%1$I + d.n \
               FROM (SELECT organization_id, count(*) AS n FROM new_rows GROUP BY organization_id) AS d \
               WHERE c.organization_id = d.organization_id', TG_ARGV[0]); \
           ELSE \
             EXECUTE format('UPDATE organization_counts AS c SET %1$I = c.%1$I - d.n \
               FROM (SELECT organization_id, count(*) AS n FROM old_rows GROUP BY organization_id) AS d \
               WHERE c.organization_id = d.organization_id', TG_ARGV[0]); \
           END IF; \
           RETURN NULL; \
         END $$",
        "CREATE TRIGGER organization_users_count_insert AFTER INSERT ON organization_users \
         REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orgs_count_rows('members')",
        "CREATE TRIGGER organization_users_count_delete AFTER DELETE ON organization_users \
         REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION orgs_count_rows('members')",
        "CREATE TRIGGER projects_count_insert AFTER INSERT ON projects \
         REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orgs_count_rows('projects')",
        "CREATE TRIGGER projects_count_delete AFTER DELETE ON projects \
         REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION orgs_count_rows('projects')",
        // Keyset index of the projects (the primary key serves the invitations).
        "DROP INDEX projects_org_name_idx",
        "CREATE INDEX projects_org_name_id_idx ON projects (organization_id, name, id)",
        // Search. pg_trgm is a trusted extension: the database's owner may create it.
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE INDEX users_name_trgm_idx ON users USING gin (lower(name) gin_trgm_ops)",
        "CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops)",
    ]
    .map(String::from)
    .to_vec();
    statements.push(format!(
        "CREATE INDEX organization_invitations_unlapsed_idx ON organization_invitations \
         (organization_id, expires_at) WHERE {KEPT_PENDING}"
    ));
    let counted = |rows: &str| {
        format!(
            "(SELECT organization_id, count(*) FILTER (WHERE {}) AS n FROM {rows} AS r \
             GROUP BY organization_id)",
            kept_pending("r")
        )
    };
    statements.push(format!(
        "CREATE FUNCTION orgs_count_invitations() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF TG_OP IN ('INSERT', 'UPDATE') THEN \
             UPDATE organization_counts AS c SET pending_invitations = c.pending_invitations + d.n \
             FROM {} AS d WHERE c.organization_id = d.organization_id AND d.n <> 0; \
           END IF; \
           IF TG_OP IN ('DELETE', 'UPDATE') THEN \
             UPDATE organization_counts AS c SET pending_invitations = c.pending_invitations - d.n \
             FROM {} AS d WHERE c.organization_id = d.organization_id AND d.n <> 0; \
           END IF; \
           RETURN NULL; \
         END $$",
        counted("new_rows"),
        counted("old_rows")
    ));
    for (event, referencing) in [
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ] {
        statements.push(format!(
            "CREATE TRIGGER organization_invitations_count_{} AFTER {event} ON organization_invitations \
             REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION orgs_count_invitations()",
            event.to_lowercase()
        ));
    }
    statements.extend(crate::tenant_table_sql("organization_counts"));
    statements
}

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX users_email_trgm_idx",
    "DROP INDEX users_name_trgm_idx",
    "DROP INDEX projects_org_name_id_idx",
    "CREATE INDEX projects_org_name_idx ON projects (organization_id, name)",
    "DROP TRIGGER organization_invitations_count_insert ON organization_invitations",
    "DROP TRIGGER organization_invitations_count_update ON organization_invitations",
    "DROP TRIGGER organization_invitations_count_delete ON organization_invitations",
    "DROP FUNCTION orgs_count_invitations()",
    "DROP TRIGGER projects_count_delete ON projects",
    "DROP TRIGGER projects_count_insert ON projects",
    "DROP TRIGGER organization_users_count_delete ON organization_users",
    "DROP TRIGGER organization_users_count_insert ON organization_users",
    "DROP FUNCTION orgs_count_rows()",
    "DROP TRIGGER organizations_counts ON organizations",
    "DROP FUNCTION orgs_counts_row()",
    "DROP INDEX organization_invitations_unlapsed_idx",
    "ALTER TABLE organization_invitations DROP COLUMN lapsed_at",
    "DROP TABLE organization_counts",
    "DROP TRIGGER users_sort_name ON users",
    "DROP FUNCTION orgs_user_sort_name()",
    "DROP TRIGGER organization_users_sort_name ON organization_users",
    "DROP FUNCTION orgs_membership_sort_name()",
    "DROP INDEX organization_users_org_sort_idx",
    "ALTER TABLE organization_users DROP COLUMN sort_name",
    "DROP FUNCTION orgs_sort_name(TEXT, TEXT)",
];

async fn run_each<S: AsRef<str>>(
    manager: &SchemaManager<'_>,
    statements: &[S],
) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for statement in statements {
        conn.execute_unprepared(statement.as_ref()).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
#[expect(
    elided_lifetimes_in_paths,
    reason = "the signature must match MigrationTrait as async_trait declares it"
)]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                // The data steps (sort names, counts) must see every organization's rows.
                run_each(
                    manager,
                    &["SELECT set_config('orgs.context', 'system', false)"],
                )
                .await?;
                let result = async {
                    run_each(manager, &postgres_up()).await?;
                    run_each(manager, &[backfill()]).await
                }
                .await;
                run_each(manager, &["SELECT set_config('orgs.context', '', false)"]).await?;
                result
            }
            DbBackend::Sqlite => run_each(manager, &sqlite_up()).await,
            other => Err(DbErr::Migration(format!(
                "unsupported database backend {other:?}"
            ))),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => run_each(manager, POSTGRES_DOWN).await,
            _ => run_each(manager, SQLITE_DOWN).await,
        }
    }
}
