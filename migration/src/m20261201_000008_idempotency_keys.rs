//! `idempotency_keys`: the first answer to each `Idempotency-Key` of a creating `POST`, kept 24
//! hours so that a retry (on any instance) gets it again instead of creating twice. A global
//! table: the key's scope (an organization, or none for a global route) and its principal are
//! hashed into the row's key with the client's key, so no row names an organization.

use sea_orm_migration::prelude::*;

use crate::run_sql;

/// Creates `idempotency_keys`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000008_idempotency_keys"
    }
}

const POSTGRES_UP: &str = r"
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)
";

const SQLITE_UP: &str = r"
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)
";

const DOWN: &str = "DROP TABLE idempotency_keys";

#[async_trait::async_trait]
#[expect(
    elided_lifetimes_in_paths,
    reason = "the signature must match MigrationTrait as async_trait declares it"
)]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DbBackend::Postgres => run_sql(manager, POSTGRES_UP).await,
            _ => run_sql(manager, SQLITE_UP).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, DOWN).await
    }
}
