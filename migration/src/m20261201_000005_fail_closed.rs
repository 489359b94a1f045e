//! Row-level security that fails closed (PostgreSQL). Before this migration a transaction that
//! set no `orgs.tenant_id` saw every organization's rows; now it sees none and can write none.
//! Work across organizations names its context, each set per transaction with
//! `set_config(..., true)` (so it stays right behind a transaction-mode pooler):
//!
//! - tenant: `orgs.tenant_id` = one organization; its rows only.
//! - user: `orgs.user_id` = one person; their own memberships (`organization_users`) in every
//!   organization, for "my organizations" and the switcher. Read only.
//! - system: `orgs.context` = `system`; every row. Only the named jobs of `orgs::tenancy::door`
//!   open it (outbox sender, organization creation, seeder, CLI, invitation and key lookups).
//!
//! `organizations` itself comes under row-level security too: every context may read it (a
//! tenant is resolved by slug before any context exists, and slugs are public in URLs), but only
//! its own tenant context or the system context may change or delete a row, and only the system
//! context may create one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Makes the policies fail closed.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000005_fail_closed"
    }
}

const OPEN_WHEN_UNSET: &str = r#"
CREATE OR REPLACE FUNCTION orgs_tenant_visible(row_organization_id BIGINT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(NULLIF(current_setting('orgs.tenant_id', true), ''), '*') = '*'
        OR row_organization_id = NULLIF(current_setting('orgs.tenant_id', true), '')::BIGINT
$$
"#;

const UP: &str = r#"
CREATE OR REPLACE FUNCTION orgs_tenant_visible(row_organization_id BIGINT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT row_organization_id = NULLIF(current_setting('orgs.tenant_id', true), '')::BIGINT
        OR current_setting('orgs.context', true) = 'system'
$$;
CREATE OR REPLACE FUNCTION orgs_system_context() RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('orgs.context', true) = 'system', false)
$$;
CREATE OR REPLACE FUNCTION orgs_current_user_id() RETURNS BIGINT
LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('orgs.user_id', true), '')::BIGINT
$$;
CREATE POLICY user_memberships ON organization_users FOR SELECT
    USING (user_id = orgs_current_user_id());
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY organizations_read ON organizations FOR SELECT USING (true);
CREATE POLICY organizations_create ON organizations FOR INSERT WITH CHECK (orgs_system_context());
CREATE POLICY organizations_change ON organizations FOR UPDATE
    USING (orgs_tenant_visible(id)) WITH CHECK (orgs_tenant_visible(id));
CREATE POLICY organizations_delete ON organizations FOR DELETE USING (orgs_tenant_visible(id))
"#;

const DOWN: &str = r#"
DROP POLICY organizations_delete ON organizations;
DROP POLICY organizations_change ON organizations;
DROP POLICY organizations_create ON organizations;
DROP POLICY organizations_read ON organizations;
ALTER TABLE organizations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE organizations DISABLE ROW LEVEL SECURITY;
DROP POLICY user_memberships ON organization_users;
DROP FUNCTION orgs_current_user_id();
DROP FUNCTION orgs_system_context()
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
        crate::run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        crate::run_sql(manager, DOWN).await?;
        manager
            .get_connection()
            .execute_unprepared(OPEN_WHEN_UNSET)
            .await?;
        Ok(())
    }
}
