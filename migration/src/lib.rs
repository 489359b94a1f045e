//! Database migrations for orgs, run by `orgs migrate` and on `orgs serve` start.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_tables;
mod m20261129_000002_accounts;
mod m20261129_000003_row_level_security;

pub use m20261129_000003_row_level_security::TENANT_TABLES;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_tables::Migration),
            Box::new(m20261129_000002_accounts::Migration),
            Box::new(m20261129_000003_row_level_security::Migration),
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
