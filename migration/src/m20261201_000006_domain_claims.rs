//! Custom domains can be claimed by several organizations at once: a pending claim no longer
//! blocks the domain for everyone else (that let anyone squat a domain they do not control).
//! One organization per domain among the *verified* claims, and one claim of a domain per
//! organization.

use sea_orm_migration::prelude::*;

use crate::run_sql;

/// Replaces the unique index on `organization_domains.domain`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000006_domain_claims"
    }
}

// The same statements on SQLite and PostgreSQL: both have partial indexes.
const UP: &str = r"
DROP INDEX organization_domains_domain_key;
CREATE UNIQUE INDEX organization_domains_claim_key ON organization_domains (organization_id, domain);
CREATE UNIQUE INDEX organization_domains_verified_key ON organization_domains (domain) WHERE verified_at IS NOT NULL
";

// Going back keeps the verified claim of each domain and drops the pending ones that the old
// index would refuse.
const DOWN: &str = r"
DELETE FROM organization_domains WHERE verified_at IS NULL AND domain IN (SELECT domain FROM organization_domains GROUP BY domain HAVING COUNT(*) > 1);
DROP INDEX organization_domains_verified_key;
DROP INDEX organization_domains_claim_key;
CREATE UNIQUE INDEX organization_domains_domain_key ON organization_domains (domain)
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
        // The DELETE must see every organization's rows.
        crate::run_sql_as_system(manager, DOWN).await
    }
}
