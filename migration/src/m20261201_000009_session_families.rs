//! Session families: every sign-in a browser got from one sign-in through handoffs to
//! organizations' hosts (`acme.example.com`, `globex.example.com`) shares its `family`, so that
//! signing out on any of those hosts ends them all. The handoff token carries the family of the
//! session that made it. Existing sessions become families of one.

use sea_orm_migration::prelude::*;

use crate::run_sql;

/// Adds `family` to `user_sessions` and `user_tokens`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000009_session_families"
    }
}

// The same statements on SQLite and PostgreSQL.
const UP: &str = r"
ALTER TABLE user_sessions ADD COLUMN family TEXT;
UPDATE user_sessions SET family = token_hash;
CREATE INDEX user_sessions_family_idx ON user_sessions (family);
ALTER TABLE user_tokens ADD COLUMN family TEXT
";

const DOWN: &str = r"
ALTER TABLE user_tokens DROP COLUMN family;
DROP INDEX user_sessions_family_idx;
ALTER TABLE user_sessions DROP COLUMN family
";

#[async_trait::async_trait]
#[expect(
    elided_lifetimes_in_paths,
    reason = "the signature must match MigrationTrait as async_trait declares it"
)]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, DOWN).await
    }
}
