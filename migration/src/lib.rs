//! Database migrations for orgs, run by `orgs migrate` and on `orgs serve` start.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_tables;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261129_000001_create_tables::Migration)]
    }
}
