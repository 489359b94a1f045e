//! Database migrations for orgs, run by `orgs migrate` and on `orgs serve` start.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_tables;
mod m20261129_000002_accounts;
mod m20261129_000003_row_level_security;
mod m20261129_000004_api_keys_and_domains;
mod m20261201_000005_fail_closed;
mod m20261201_000006_domain_claims;
mod m20261201_000007_roles_and_audit;
mod m20261201_000008_idempotency_keys;
mod m20261201_000009_session_families;
mod m20261201_000010_big_organizations;
mod m20261206_000011_authority;
mod m20261206_000012_audit_retention;
mod m20261207_000013_organization_color;
mod m20261207_000014_two_factor;
mod m20261207_000015_seats_and_plans;
mod m20261207_000016_email_domains_and_sso;
mod m20261207_000017_scim;
mod m20261208_000018_webhooks;

pub use m20261201_000007_roles_and_audit::{APPEND_ONLY_TABLES, append_only_sql};
pub use m20261201_000010_big_organizations::KEPT_PENDING;
pub use m20261206_000012_audit_retention::{READ_ONLY_TABLES, read_only_sql};

/// Every table with `organization_id`, each under row-level security on PostgreSQL.
pub const TENANT_TABLES: &[&str] = &[
    "email_outbox",
    "organization_users",
    "organization_owners",
    "organization_invitations",
    "projects",
    "organization_api_keys",
    "organization_domains",
    "organization_roles",
    "organization_role_permissions",
    "organization_member_roles",
    "organization_invitation_roles",
    "organization_api_key_permissions",
    "audit_events",
    "organization_counts",
    "idempotency_keys",
    "email_domains",
    "sso_connections",
    "sso_identities",
    "scim_tokens",
    "scim_users",
    "scim_groups",
    "scim_group_members",
    "scim_group_roles",
    "webhook_endpoints",
    "webhook_messages",
    "webhook_deliveries",
];

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_tables::Migration),
            Box::new(m20261129_000002_accounts::Migration),
            Box::new(m20261129_000003_row_level_security::Migration),
            Box::new(m20261129_000004_api_keys_and_domains::Migration),
            Box::new(m20261201_000005_fail_closed::Migration),
            Box::new(m20261201_000006_domain_claims::Migration),
            Box::new(m20261201_000007_roles_and_audit::Migration),
            Box::new(m20261201_000008_idempotency_keys::Migration),
            Box::new(m20261201_000009_session_families::Migration),
            Box::new(m20261201_000010_big_organizations::Migration),
            Box::new(m20261206_000011_authority::Migration),
            Box::new(m20261206_000012_audit_retention::Migration),
            Box::new(m20261207_000013_organization_color::Migration),
            Box::new(m20261207_000014_two_factor::Migration),
            Box::new(m20261207_000015_seats_and_plans::Migration),
            Box::new(m20261207_000016_email_domains_and_sso::Migration),
            Box::new(m20261207_000017_scim::Migration),
            Box::new(m20261208_000018_webhooks::Migration),
        ]
    }
}

/// Runs `sql` ([`run_sql`]) in the system context on PostgreSQL: row-level security fails
/// closed, and a data step of a migration must see every organization's rows.
pub(crate) async fn run_sql_as_system(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    let postgres =
        manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres;
    if postgres {
        run_sql(
            manager,
            "SELECT set_config('orgs.context', 'system', false)",
        )
        .await?;
    }
    let result = run_sql(manager, sql).await;
    if postgres {
        run_sql(manager, "SELECT set_config('orgs.context', '', false)").await?;
    }
    result
}

/// Runs each `;`-terminated statement of `sql` in order (the migrations hold no `;` in literals).
pub(crate) async fn run_sql(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        conn.execute_unprepared(statement).await?;
    }
    Ok(())
}

/// The statements that make `table` a tenant table on PostgreSQL: forced row-level security
/// (the table's owner is bound too) and the `tenant_isolation` policy, which fails closed: with
/// no context set, no row can be read or written; in a tenant context only that organization's
/// rows; in the system context every row. `table` must have an `organization_id BIGINT` column.
pub fn tenant_table_sql(table: &str) -> Vec<String> {
    vec![
        format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"),
        format!(
            "CREATE POLICY tenant_isolation ON {table} \
             USING (orgs_tenant_visible(organization_id)) \
             WITH CHECK (orgs_tenant_visible(organization_id))"
        ),
    ]
}

/// Makes `table` a tenant table on PostgreSQL ([`tenant_table_sql`]); nothing on SQLite, which
/// has no row-level security. orgs' own migrations use it, and an embedding app calls it from
/// its own migration for each table it adds with an `organization_id`, after orgs' migrations
/// have run (the policy calls their `orgs_tenant_visible`).
pub async fn tenant_table(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    let conn = manager.get_connection();
    for statement in tenant_table_sql(table) {
        conn.execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// The whole recipe for an embedding app's tenant table, in its own migration (after orgs'):
/// creates `table` from `columns` (its other columns and keys) with an `organization_id BIGINT
/// NOT NULL` column, the foreign key to `organizations` with `on_delete` (`Cascade`: deleting an
/// organization deletes its rows; `Restrict`: an organization with rows cannot be deleted), the
/// index `{table}_organization_idx` led by `organization_id` (then `id`, the order a tenant's
/// pages read in), and on PostgreSQL forced row-level security with the fail-closed policy
/// ([`tenant_table`]). `orgs check` then finds it like orgs' own tables.
///
/// ```no_run
/// use migration::{ColumnDef, ForeignKeyAction, SchemaManager, Table};
/// # async fn up(manager: &SchemaManager<'_>) -> Result<(), migration::DbErr> {
/// migration::create_tenant_table(
///     manager,
///     "notes",
///     Table::create()
///         .col(ColumnDef::new("id").big_integer().not_null().auto_increment().primary_key())
///         .col(ColumnDef::new("body").text().not_null()),
///     ForeignKeyAction::Cascade,
/// )
/// .await
/// # }
/// ```
pub async fn create_tenant_table(
    manager: &SchemaManager<'_>,
    table: &str,
    columns: &mut TableCreateStatement,
    on_delete: ForeignKeyAction,
) -> Result<(), DbErr> {
    let statement = columns
        .table(Alias::new(table))
        .col(ColumnDef::new("organization_id").big_integer().not_null())
        .foreign_key(
            ForeignKey::create()
                .name(format!("{table}_organization_fk"))
                .from(Alias::new(table), "organization_id")
                .to("organizations", "id")
                .on_delete(on_delete),
        )
        .to_owned();
    manager.create_table(statement).await?;
    manager
        .create_index(
            Index::create()
                .name(format!("{table}_organization_idx"))
                .table(Alias::new(table))
                .col("organization_id")
                .col("id")
                .to_owned(),
        )
        .await?;
    tenant_table(manager, table).await
}

/// Undoes [`tenant_table`] (for a migration's `down`); nothing on SQLite.
pub async fn drop_tenant_table(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    let conn = manager.get_connection();
    for statement in [
        format!("DROP POLICY tenant_isolation ON {table}"),
        format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"),
    ] {
        conn.execute_unprepared(&statement).await?;
    }
    Ok(())
}
