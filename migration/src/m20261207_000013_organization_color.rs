//! `organizations.color`: the colour behind an organization's initials, chosen on its General
//! settings (one of the palette's names; empty means the colour its id picks).

use sea_orm_migration::prelude::*;

/// Adds the column.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000013_organization_color"
    }
}

#[async_trait::async_trait]
#[expect(
    elided_lifetimes_in_paths,
    reason = "the signature must match MigrationTrait as async_trait declares it"
)]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("organizations")
                    .add_column(ColumnDef::new("color").string_len(16).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("organizations")
                    .drop_column("color")
                    .to_owned(),
            )
            .await
    }
}
