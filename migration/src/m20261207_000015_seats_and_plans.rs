//! An organization's seat limit, plan and entitlements: what the embedding app's billing sets
//! (`orgs::organizations::billing`), never the organization's own admins. A null `seat_limit`
//! is no limit; 0 is zero seats. `entitlements` is a JSON object of feature flags.

use sea_orm_migration::prelude::*;

use crate::run_sql;

/// Adds the columns.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000015_seats_and_plans"
    }
}

const UP: &str = r"
ALTER TABLE organizations ADD COLUMN seat_limit BIGINT;
ALTER TABLE organizations ADD COLUMN plan TEXT;
ALTER TABLE organizations ADD COLUMN entitlements TEXT
";

const DOWN: &str = r"
ALTER TABLE organizations DROP COLUMN entitlements;
ALTER TABLE organizations DROP COLUMN plan;
ALTER TABLE organizations DROP COLUMN seat_limit
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
