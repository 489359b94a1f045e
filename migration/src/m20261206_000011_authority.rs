//! Authority that cannot be borrowed. An invitation records who granted its roles, so that they
//! are checked again against that granter when it is accepted: `invited_by_kind` (`user`,
//! `api_key` or `system`) with `invited_by_id` (a person, kept) or `invited_by_key_id` (an
//! organization API key). A person's deleted account leaves `invited_by_id` empty but the kind
//! `user`: such an invitation no longer has anyone whose authority it carries.
//!
//! `idempotency_keys` names what it belongs to: the organization (`organization_id`) of a
//! tenant route's key, or the person (`user_id`, with no organization) of a global route's. On
//! PostgreSQL it is a tenant table under forced row-level security: a tenant context reads and
//! writes its organization's keys, a user context that person's global keys, the system context
//! every key (to prune them), no context none. The keys kept until now name neither and are
//! dropped: they only answered retries for a day.

use sea_orm_migration::prelude::*;

use sea_orm_migration::sea_orm::DbBackend;

use crate::{run_sql, run_sql_as_system};

/// Adds the invitation's granter.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000011_authority"
    }
}

const UP: &str = r"
ALTER TABLE organization_invitations ADD COLUMN invited_by_key_id BIGINT;
ALTER TABLE organization_invitations ADD COLUMN invited_by_kind TEXT NOT NULL DEFAULT 'system';
UPDATE organization_invitations SET invited_by_kind = 'user' WHERE invited_by_id IS NOT NULL
";

const IDEMPOTENCY_UP: &str = r"
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys ADD COLUMN organization_id BIGINT REFERENCES organizations (id) ON DELETE CASCADE;
ALTER TABLE idempotency_keys ADD COLUMN user_id BIGINT REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX idempotency_keys_organization_idx ON idempotency_keys (organization_id)
";

const POSTGRES_POLICIES: &str = r"
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (orgs_tenant_visible(organization_id))
    WITH CHECK (orgs_tenant_visible(organization_id));
CREATE POLICY own_global_keys ON idempotency_keys
    USING (organization_id IS NULL AND user_id = orgs_current_user_id())
    WITH CHECK (organization_id IS NULL AND user_id = orgs_current_user_id())
";

const IDEMPOTENCY_DOWN: &str = r"
DROP POLICY IF EXISTS own_global_keys ON idempotency_keys;
DROP POLICY IF EXISTS tenant_isolation ON idempotency_keys;
ALTER TABLE idempotency_keys NO FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys DISABLE ROW LEVEL SECURITY;
DROP INDEX idempotency_keys_organization_idx;
ALTER TABLE idempotency_keys DROP COLUMN user_id;
ALTER TABLE idempotency_keys DROP COLUMN organization_id
";

const SQLITE_IDEMPOTENCY_DOWN: &str = r"
DROP INDEX idempotency_keys_organization_idx;
ALTER TABLE idempotency_keys DROP COLUMN user_id;
ALTER TABLE idempotency_keys DROP COLUMN organization_id
";

const DOWN: &str = r"
ALTER TABLE organization_invitations DROP COLUMN invited_by_kind;
ALTER TABLE organization_invitations DROP COLUMN invited_by_key_id
";

#[async_trait::async_trait]
#[expect(
    elided_lifetimes_in_paths,
    reason = "the signature must match MigrationTrait as async_trait declares it"
)]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql_as_system(manager, UP).await?;
        run_sql_as_system(manager, IDEMPOTENCY_UP).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            run_sql(manager, POSTGRES_POLICIES).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            run_sql_as_system(manager, IDEMPOTENCY_DOWN).await?;
        } else {
            run_sql(manager, SQLITE_IDEMPOTENCY_DOWN).await?;
        }
        run_sql_as_system(manager, DOWN).await
    }
}
