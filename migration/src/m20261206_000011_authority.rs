//! Authority that cannot be borrowed. An invitation records who granted its roles, so that they
//! are checked again against that granter when it is accepted: `invited_by_kind` (`user`,
//! `api_key` or `system`) with `invited_by_id` (a person, kept) or `invited_by_key_id` (an
//! organization API key). A person's deleted account leaves `invited_by_id` empty but the kind
//! `user`: such an invitation no longer has anyone whose authority it carries.

use sea_orm_migration::prelude::*;

use crate::run_sql_as_system;

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
        run_sql_as_system(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql_as_system(manager, DOWN).await
    }
}
