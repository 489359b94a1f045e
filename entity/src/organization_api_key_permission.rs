//! `organization_api_key_permissions`: one permission of an organization API key.

use sea_orm::entity::prelude::*;

/// A permission a key holds.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_api_key_permissions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub api_key_id: i64,
    pub permission: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

impl ActiveModelBehavior for ActiveModel {}
