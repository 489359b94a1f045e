//! Database migrations for orgs, run by `orgs migrate` and on `orgs serve` start.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_tables;
mod m20261129_000002_accounts;
mod m20261129_000003_row_level_security;
mod m20261129_000004_api_keys_and_domains;

/// Every table with `organization_id`, each under row-level security on PostgreSQL.
pub const TENANT_TABLES: &[&str] = &[
    "email_outbox",
    "organization_users",
    "organization_owners",
    "organization_invitations",
    "projects",
    "organization_api_keys",
    "organization_domains",
];

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_tables::Migration),
            Box::new(m20261129_000002_accounts::Migration),
            Box::new(m20261129_000003_row_level_security::Migration),
            Box::new(m20261129_000004_api_keys_and_domains::Migration),
        ]
    }
}

/// Runs each `;`-terminated statement of `sql` in order (the migrations hold no `;` in literals).
pub(crate) async fn run_sql(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        conn.execute_unprepared(statement).await?;
    }
    Ok(())
}

/// Forces row-level security on a tenant table with the `tenant_isolation` policy (PostgreSQL).
pub(crate) async fn enable_row_level_security(
    manager: &SchemaManager<'_>,
    table: &str,
) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    conn.execute_unprepared(&format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
        .await?;
    conn.execute_unprepared(&format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
        .await?;
    conn.execute_unprepared(&format!(
        "CREATE POLICY tenant_isolation ON {table} \
         USING (orgs_tenant_visible(organization_id)) \
         WITH CHECK (orgs_tenant_visible(organization_id))"
    ))
    .await?;
    Ok(())
}
