//! Row-level security on PostgreSQL: the contexts a transaction runs in (tenant, user, system),
//! the application's role (`orgs db create-app-role`), and the check that every table with
//! `organization_id` is covered by a policy that fails closed (`orgs check`).

use entity::{OrganizationId, UserId};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionSession};

/// Makes the rest of the transaction see only this organization's rows (the tenant context;
/// PostgreSQL, nothing on SQLite). Call inside a transaction: the setting ends with it. It also
/// leaves the system context, if the transaction was in it.
pub async fn set_tenant<C: ConnectionTrait>(
    txn: &C,
    organization_id: OrganizationId,
) -> Result<(), DbErr> {
    set(
        txn,
        "SELECT set_config('orgs.tenant_id', $1, true), set_config('orgs.context', '', true)",
        organization_id.to_string(),
    )
    .await
}

/// The system context: the rest of the transaction sees every organization's rows. Only the
/// named jobs of [`super::door`] use it.
pub(super) async fn set_system<C: ConnectionTrait>(txn: &C) -> Result<(), DbErr> {
    set(
        txn,
        "SELECT set_config('orgs.context', $1, true)",
        "system".to_string(),
    )
    .await
}

/// The user context: the rest of the transaction sees this person's own memberships in every
/// organization (read only).
pub(super) async fn set_user<C: ConnectionTrait>(txn: &C, user_id: UserId) -> Result<(), DbErr> {
    set(
        txn,
        "SELECT set_config('orgs.user_id', $1, true)",
        user_id.to_string(),
    )
    .await
}

async fn set<C: ConnectionTrait>(txn: &C, sql: &str, value: String) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [value.into()],
    ))
    .await?;
    Ok(())
}

/// What `check` found wrong; empty when all is well.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per problem.
    pub problems: Vec<String>,
    /// The tables checked.
    pub tables: Vec<String>,
    /// Why nothing was checked, on a backend without row-level security.
    pub not_applicable: Option<String>,
}

/// Lists every table of the current schema with an `organization_id` column that lacks row-level
/// security, `FORCE`, or a policy, flags a connecting role that bypasses policies, and then
/// [`prove`]s the wall with synthetic rows (rolled back). Run it as the application's role.
pub async fn check<C: ConnectionTrait + sea_orm::TransactionTrait>(
    db: &C,
) -> Result<Report, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Report {
            not_applicable: Some(
                "row-level security exists on PostgreSQL only; SQLite has nothing to check".into(),
            ),
            ..Report::default()
        });
    }
    let mut report = coverage(db).await?;
    if let Some(problem) = bypassing_role(db).await? {
        report.problems.push(problem);
        return Ok(report);
    }
    report.problems.extend(grant_problems(db).await?);
    let proven = prove(db, &report.tables).await?;
    report.problems.extend(proven);
    Ok(report)
}

/// The tables with `organization_id`, and each one's lack of row-level security, of `FORCE`
/// or of a policy.
async fn coverage<C: ConnectionTrait>(db: &C) -> Result<Report, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            // pg_catalog, not information_schema: the latter hides tables the role may not
            // read, which are exactly the ones to report.
            r#"
            SELECT cls.relname::text AS table_name,
                   cls.relrowsecurity AS enabled,
                   cls.relforcerowsecurity AS forced,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = cls.oid) AS has_policy
            FROM pg_class cls
            JOIN pg_namespace n ON n.oid = cls.relnamespace
            JOIN pg_attribute a ON a.attrelid = cls.oid
                               AND a.attname = 'organization_id'
                               AND NOT a.attisdropped
            WHERE n.nspname = current_schema()
              AND cls.relkind IN ('r', 'p')
            ORDER BY cls.relname
            "#,
        ))
        .await?;
    let mut report = Report::default();
    for row in rows {
        let table: String = row.try_get("", "table_name")?;
        let enabled: bool = row.try_get("", "enabled")?;
        let forced: bool = row.try_get("", "forced")?;
        let has_policy: bool = row.try_get("", "has_policy")?;
        if !enabled {
            report
                .problems
                .push(format!("{table}: row-level security is not enabled"));
        }
        if !forced {
            report.problems.push(format!(
                "{table}: row-level security is not forced (the owner escapes it)"
            ));
        }
        if !has_policy {
            report
                .problems
                .push(format!("{table}: has organization_id but no policy"));
        }
        report.tables.push(table);
    }
    Ok(report)
}

/// The problem of a connecting role that policies do not bind (a superuser, or BYPASSRLS).
async fn bypassing_role<C: ConnectionTrait>(db: &C) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT (rolsuper OR rolbypassrls) AS bypass, current_user::text AS name \
             FROM pg_roles WHERE rolname = current_user",
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let bypasses: bool = row.try_get("", "bypass")?;
    let name: String = row.try_get("", "name")?;
    Ok(bypasses.then(|| {
        format!(
            "the role {name} is a superuser or has BYPASSRLS, so policies do not apply to it; \
             connect the app as an ordinary role"
        )
    }))
}

/// What the connecting role may do to the append-only and read-only tables beyond inserting
/// and reading them.
async fn grant_problems<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, DbErr> {
    let mut problems = Vec::new();
    let grants = migration::APPEND_ONLY_TABLES
        .iter()
        .map(|t| (*t, true, "insert and read them only"))
        .chain(
            migration::READ_ONLY_TABLES
                .iter()
                .map(|t| (*t, false, "read them only")),
        );
    for (table, insert, rule) in grants {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT has_table_privilege(current_user, $1, 'INSERT') AS can_insert, \
                        has_table_privilege(current_user, $1, 'SELECT') AS can_select, \
                        has_table_privilege(current_user, $1, 'UPDATE') AS can_update, \
                        has_table_privilege(current_user, $1, 'DELETE') AS can_delete, \
                        has_table_privilege(current_user, $1, 'TRUNCATE') AS can_truncate",
                [table.into()],
            ))
            .await?;
        let Some(row) = row else { continue };
        for (privilege, wanted) in [
            ("insert", insert),
            ("select", true),
            ("update", false),
            ("delete", false),
            ("truncate", false),
        ] {
            let held: bool = row.try_get("", &format!("can_{privilege}"))?;
            if held != wanted {
                problems.push(format!(
                    "{table}: the connecting role {} {privilege} its rows; it must {rule}",
                    if held { "may" } else { "may not" }
                ));
            }
        }
    }
    Ok(problems)
}

/// Whether `name` can be a role name here: a lower-case SQL identifier.
fn valid_role_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// Why the application role could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AppRoleError {
    /// Not a lower-case identifier.
    #[error("role name: use lower-case letters, digits and _ (at most 63), starting with a letter")]
    BadName,
    /// A password with a NUL character.
    #[error("password: must not contain a NUL character")]
    BadPassword,
    /// On SQLite there are no roles.
    #[error("roles exist on PostgreSQL only; SQLite has none to create")]
    NotPostgres,
    /// The database refused.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Creates the role the server connects as, if missing, and grants it exactly what the app
/// needs on the connected database: reading and writing the tables of the current schema (and
/// those created later by the connecting owner), the sequences, and reading (not writing) the
/// migration tables. The role logs in, is not a superuser, has no BYPASSRLS, creates nothing
/// and owns nothing, so every policy binds it. Run it connected as the tables' owner.
pub async fn create_app_role<C: ConnectionTrait>(
    db: &C,
    name: &str,
    password: Option<&str>,
) -> Result<(), AppRoleError> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Err(AppRoleError::NotPostgres);
    }
    if !valid_role_name(name) {
        return Err(AppRoleError::BadName);
    }
    if password.is_some_and(|p| p.contains('\0')) {
        return Err(AppRoleError::BadPassword);
    }
    let attributes = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION";
    // Roles belong to the whole server, and several of these may run at once.
    db.execute_unprepared(&format!(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN \
             CREATE ROLE {name} {attributes}; \
           END IF; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    ))
    .await?;
    let password = match password {
        Some(p) => format!(" PASSWORD '{}'", p.replace('\'', "''")),
        None => String::new(),
    };
    db.execute_unprepared(&format!("ALTER ROLE {name} {attributes}{password}"))
        .await?;
    db.execute_unprepared(&format!(
        "DO $$ DECLARE t record; BEGIN \
           EXECUTE format('GRANT CONNECT ON DATABASE %I TO {name}', current_database()); \
           EXECUTE format('GRANT USAGE ON SCHEMA %I TO {name}', current_schema()); \
           EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {name}', current_schema()); \
           EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {name}', current_schema()); \
           EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}', current_schema()); \
           EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO {name}', current_schema()); \
           FOR t IN SELECT tablename FROM pg_tables \
                    WHERE schemaname = current_schema() AND tablename LIKE '%migrations' LOOP \
             EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON %I FROM {name}', t.tablename); \
           END LOOP; \
         END $$"
    ))
    .await?;
    // The audit log is insert-only for the app (`migration::APPEND_ONLY_TABLES`), the owner's
    // settings read-only (`migration::READ_ONLY_TABLES`).
    db.execute_unprepared(&migration::append_only_sql()).await?;
    db.execute_unprepared(&migration::read_only_sql()).await?;
    Ok(())
}

/// Proves the wall with synthetic rows inside a transaction that is rolled back, whatever the
/// database holds: with no context set the connecting role sees no row of any tenant table and
/// can insert none; in one organization's tenant context it can read, change, delete or insert
/// no row of another; in the system context it cannot prune audit events newer than the
/// owner's retention. Every table with `organization_id` is tried, found from the catalog. An
/// empty list means all held.
pub async fn prove<C: ConnectionTrait + sea_orm::TransactionTrait>(
    db: &C,
    tables: &[String],
) -> Result<Vec<String>, DbErr> {
    let txn = db.begin().await?;
    let problems = prove_in(&txn, tables).await;
    txn.rollback().await?;
    problems
}

async fn prove_in<C: ConnectionTrait + sea_orm::TransactionTrait>(
    txn: &C,
    tables: &[String],
) -> Result<Vec<String>, DbErr> {
    let mut problems = Vec::new();
    let (a, b) = two_organizations(txn).await?;
    // The role may set the system context itself, so that context bounds nothing: the owner's
    // prune function must still refuse a cutoff newer than the owner's retention.
    if attempt(txn, "SELECT orgs_prune_audit_events(now())")
        .await?
        .is_ok()
    {
        problems.push(
            "audit_events: in the system context the connecting role pruned events newer than \
             the retention of orgs_audit_retention"
                .into(),
        );
    }
    problems.extend(without_context(txn, tables, b).await?);
    problems.extend(across_tenants(txn, tables, a, b).await?);
    Ok(problems)
}

/// The first column of the one row `sql` gives (0 for none).
async fn scalar<C: ConnectionTrait>(txn: &C, sql: String) -> Result<i64, DbErr> {
    let row = txn
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    row.map_or(Ok(0), |r| r.try_get_by_index::<i64>(0))
}

/// Two synthetic organizations, each with a member and a project, made in the system context
/// (which the transaction stays in): their ids.
async fn two_organizations<C: ConnectionTrait>(txn: &C) -> Result<(i64, i64), DbErr> {
    set_system(txn).await?;
    let tag = crate::tokens::generate()[..12].to_ascii_lowercase();
    let mut ids = Vec::new();
    for side in ["a", "b"] {
        let id = scalar(
            txn,
            format!(
                "INSERT INTO organizations (name, slug, is_active, created_at, updated_at) \
                 VALUES ('orgs check {side}', 'orgs-check-{side}-{tag}', true, now(), now()) RETURNING id"
            ),
        )
        .await?;
        let user = scalar(
            txn,
            format!(
                "INSERT INTO users (email, name, is_active, is_superuser, created_at, updated_at) \
                 VALUES ('check-{side}-{tag}@orgs.invalid', 'orgs check', true, false, now(), now()) \
                 RETURNING id"
            ),
        )
        .await?;
        txn.execute_unprepared(&format!(
            "INSERT INTO organization_users (organization_id, user_id, created_at, updated_at) \
             VALUES ({id}, {user}, now(), now()); \
             INSERT INTO projects (organization_id, name, description, created_at, updated_at) \
             VALUES ({id}, 'orgs check', '', now(), now())"
        ))
        .await?;
        ids.push(id);
    }
    Ok((ids[0], ids[1]))
}

/// With no context set (which the transaction is left in): what of `tables` the role sees, and
/// whether it can insert a row of organization `b`.
async fn without_context<C: ConnectionTrait + sea_orm::TransactionTrait>(
    txn: &C,
    tables: &[String],
    b: i64,
) -> Result<Vec<String>, DbErr> {
    let mut problems = Vec::new();
    txn.execute_unprepared(
        "SELECT set_config('orgs.context', '', true), set_config('orgs.tenant_id', '', true)",
    )
    .await?;
    for table in tables {
        let seen = scalar(txn, format!("SELECT count(*) FROM {table}")).await?;
        if seen > 0 {
            problems.push(format!(
                "{table}: with no context set, {seen} row(s) are visible (policies must fail closed)"
            ));
        }
        if inserts(
            txn,
            &format!("INSERT INTO {table} (organization_id) VALUES ({b})"),
        )
        .await?
        {
            problems.push(format!(
                "{table}: with no context set, a row could be inserted"
            ));
        }
    }
    Ok(problems)
}

/// In organization `a`'s tenant context (which the transaction is left in), facing `b`'s rows:
/// whether the role sees, changes, deletes or inserts any of another organization's rows.
async fn across_tenants<C: ConnectionTrait + sea_orm::TransactionTrait>(
    txn: &C,
    tables: &[String],
    a: i64,
    b: i64,
) -> Result<Vec<String>, DbErr> {
    let mut problems = Vec::new();
    set_tenant(txn, OrganizationId(a)).await?;
    let other = format!("organization_id IS DISTINCT FROM {a}");
    for table in tables {
        let seen = scalar(txn, format!("SELECT count(*) FROM {table} WHERE {other}")).await?;
        if seen > 0 {
            problems.push(format!(
                "{table}: a tenant context sees {seen} row(s) of other organizations"
            ));
        }
        for (what, sql) in [
            (
                "changes",
                format!("UPDATE {table} SET organization_id = organization_id WHERE {other}"),
            ),
            ("deletes", format!("DELETE FROM {table} WHERE {other}")),
        ] {
            if changes(txn, &sql).await? {
                problems.push(format!(
                    "{table}: a tenant context {what} rows of other organizations"
                ));
            }
        }
        if inserts(
            txn,
            &format!("INSERT INTO {table} (organization_id) VALUES ({b})"),
        )
        .await?
        {
            problems.push(format!(
                "{table}: a tenant context inserted a row of another organization"
            ));
        }
    }
    let rename = format!("UPDATE organizations SET name = name WHERE id = {b}");
    if changes(txn, &rename).await? {
        problems.push("organizations: a tenant context changed another organization".into());
    }
    Ok(problems)
}

/// Runs `sql` in a savepoint and rolls it back, whatever it did: a refusal leaves the
/// transaction usable and a success changes nothing. The outer result is the savepoint's own.
async fn attempt<C: ConnectionTrait + sea_orm::TransactionTrait>(
    txn: &C,
    sql: &str,
) -> Result<Result<sea_orm::ExecResult, DbErr>, DbErr> {
    let savepoint = txn.begin().await?;
    let result = savepoint.execute_unprepared(sql).await;
    savepoint.rollback().await?;
    Ok(result)
}

/// Whether `sql` (an UPDATE or DELETE) touched any row.
async fn changes<C: ConnectionTrait + sea_orm::TransactionTrait>(
    txn: &C,
    sql: &str,
) -> Result<bool, DbErr> {
    Ok(attempt(txn, sql)
        .await?
        .is_ok_and(|r| r.rows_affected() > 0))
}

/// Whether `sql` (an INSERT) went in. Only row-level security's refusal ("new row violates
/// row-level security policy") counts as refused: a row that broke a NOT NULL or foreign key
/// would prove nothing, and PostgreSQL checks the policy before those.
async fn inserts<C: ConnectionTrait + sea_orm::TransactionTrait>(
    txn: &C,
    sql: &str,
) -> Result<bool, DbErr> {
    match attempt(txn, sql).await? {
        Ok(_) => Ok(true),
        Err(error) => Ok(!error.to_string().contains("row-level security")),
    }
}
