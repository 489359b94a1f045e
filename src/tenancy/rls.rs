//! Row-level security on PostgreSQL: setting the tenant of a transaction, and the check that
//! every table with `organization_id` is covered by a policy (`orgs check`).

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// Makes the rest of the transaction see only this organization's rows (the tenant context;
/// PostgreSQL, nothing on SQLite). Call inside a transaction: the setting ends with it. It also
/// leaves the system context, if the transaction was in it.
pub async fn set_tenant<C: ConnectionTrait>(txn: &C, organization_id: i64) -> Result<(), DbErr> {
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
pub(super) async fn set_user<C: ConnectionTrait>(txn: &C, user_id: i64) -> Result<(), DbErr> {
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
/// security, `FORCE`, or a policy, and flags a connecting role that bypasses policies.
pub async fn check<C: ConnectionTrait>(db: &C) -> Result<Report, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Report {
            not_applicable: Some(
                "row-level security exists on PostgreSQL only; SQLite has nothing to check".into(),
            ),
            ..Report::default()
        });
    }
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
    let bypass = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT (rolsuper OR rolbypassrls) AS bypass, current_user::text AS name \
             FROM pg_roles WHERE rolname = current_user",
        ))
        .await?;
    if let Some(row) = bypass {
        let bypasses: bool = row.try_get("", "bypass")?;
        let name: String = row.try_get("", "name")?;
        if bypasses {
            report.problems.push(format!(
                "the role {name} is a superuser or has BYPASSRLS, so policies do not apply to it; \
                 connect the app as an ordinary role"
            ));
        }
    }
    Ok(report)
}
