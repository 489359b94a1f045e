//! PostgreSQL row-level security on every table with `organization_id`, a second wall behind
//! the scoped queries: inside a transaction that has set `orgs.tenant_id`, only that
//! organization's rows can be read or written, whatever the query says (outbox rows without an
//! organization included: they are invisible there). Work that is not for one tenant (creating
//! organizations, the mail sender, the seeder) leaves the setting unset and sees every row.
//! `FORCE` makes the policies bind the tables' owner too; only superusers and roles with
//! BYPASSRLS escape them, which `orgs check` reports. SQLite has no row-level security; this
//! migration does nothing there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Enables row-level security.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000003_row_level_security"
    }
}

/// The tables this migration covers (later migrations cover their own new tables).
const TABLES: &[&str] = &[
    "email_outbox",
    "organization_users",
    "organization_owners",
    "organization_invitations",
    "projects",
];

const FUNCTION: &str = r#"
CREATE FUNCTION orgs_tenant_visible(row_organization_id BIGINT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(NULLIF(current_setting('orgs.tenant_id', true), ''), '*') = '*'
        OR row_organization_id = NULLIF(current_setting('orgs.tenant_id', true), '')::BIGINT
$$
"#;

#[async_trait::async_trait]
#[expect(
    elided_lifetimes_in_paths,
    reason = "the signature must match MigrationTrait as async_trait declares it"
)]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let conn = manager.get_connection();
        conn.execute_unprepared(FUNCTION).await?;
        for table in TABLES {
            crate::tenant_table(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for table in TABLES {
            crate::drop_tenant_table(manager, table).await?;
        }
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP FUNCTION orgs_tenant_visible(BIGINT)")
            .await?;
        Ok(())
    }
}
