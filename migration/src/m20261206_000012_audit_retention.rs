//! The database bounds the pruning of the audit log (PostgreSQL; nothing on SQLite, where the
//! application owns its file anyway). Before this migration `orgs_prune_audit_events(cutoff)`
//! asked only for the system context, which the application's role may set for itself: one call
//! with `now()` deleted every event. Now:
//!
//! - `orgs_audit_retention`: one row, `retention_days`, the retention the owner configured
//!   (`orgs migrate` writes `audit.retention_days` there; 365 until it does; 0 keeps every
//!   event). The application's role may read it and never write it ([`READ_ONLY_TABLES`]).
//! - `orgs_prune_audit_events(cutoff)` still runs as the owner, in the system context only, and
//!   now refuses a cutoff newer than `now()` minus that retention (and any cutoff while the
//!   retention is 0): the application can prune what the owner let go, never more.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Adds the retention table and bounds the prune function.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000012_audit_retention"
    }
}

/// Tables the application's role may read and never write, in any context: settings only the
/// owner changes (PostgreSQL grants; `orgs check` verifies them).
pub const READ_ONLY_TABLES: &[&str] = &["orgs_audit_retention"];

/// The retention the table holds until `orgs migrate` writes the configured one: the default of
/// `audit.retention_days`.
const DEFAULT_RETENTION_DAYS: u32 = 365;

fn table_sql() -> String {
    format!(
        "CREATE TABLE orgs_audit_retention (\
           singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton), \
           retention_days INTEGER NOT NULL CHECK (retention_days >= 0)); \
         INSERT INTO orgs_audit_retention (retention_days) VALUES ({DEFAULT_RETENTION_DAYS})"
    )
}

const BOUNDED_PRUNE: &str = r"
CREATE OR REPLACE FUNCTION orgs_prune_audit_events(cutoff TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE pruned BIGINT; kept_days INTEGER;
BEGIN
  IF current_setting('orgs.context', true) IS DISTINCT FROM 'system' THEN
    RAISE EXCEPTION 'audit events are pruned in the system context only'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT retention_days INTO kept_days FROM orgs_audit_retention;
  IF kept_days IS NULL OR kept_days = 0 THEN
    RAISE EXCEPTION 'the audit retention (orgs_audit_retention) keeps every event'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF cutoff IS NULL OR cutoff > now() - make_interval(days => kept_days) THEN
    RAISE EXCEPTION 'audit events are kept % days (orgs_audit_retention): the cutoff % is newer', kept_days, cutoff
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  DELETE FROM audit_events WHERE occurred_at < cutoff;
  GET DIAGNOSTICS pruned = ROW_COUNT;
  RETURN pruned;
END $$
";

/// The function as `m20261201_000007_roles_and_audit` made it, for `down`.
const UNBOUNDED_PRUNE: &str = r"
CREATE OR REPLACE FUNCTION orgs_prune_audit_events(cutoff TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE pruned BIGINT;
BEGIN
  IF current_setting('orgs.context', true) IS DISTINCT FROM 'system' THEN
    RAISE EXCEPTION 'audit events are pruned in the system context only';
  END IF;
  DELETE FROM audit_events WHERE occurred_at < cutoff;
  GET DIAGNOSTICS pruned = ROW_COUNT;
  RETURN pruned;
END $$
";

/// Takes every write on the read-only tables away from every role but their owner (the default
/// privileges of `orgs db create-app-role` grant them to the app's role on creation, and
/// `create-app-role` grants them on every existing table).
pub fn read_only_sql() -> String {
    let tables = READ_ONLY_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "DO $$ DECLARE g record; BEGIN \
           FOR g IN SELECT DISTINCT grantee, table_name FROM information_schema.table_privileges \
                    WHERE table_schema = current_schema() AND table_name IN ({tables}) \
                      AND privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE') \
                      AND grantee <> current_user LOOP \
             EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %I FROM %I', g.table_name, g.grantee); \
           END LOOP; \
         END $$"
    )
}

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
        crate::run_sql(manager, &table_sql()).await?;
        let conn = manager.get_connection();
        conn.execute_unprepared(&read_only_sql()).await?;
        conn.execute_unprepared(BOUNDED_PRUNE).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let conn = manager.get_connection();
        conn.execute_unprepared(UNBOUNDED_PRUNE).await?;
        conn.execute_unprepared("DROP TABLE orgs_audit_retention")
            .await?;
        Ok(())
    }
}
