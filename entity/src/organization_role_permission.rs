//! `organization_role_permissions`: one permission of a custom role.

use sea_orm::entity::prelude::*;

/// A permission a custom role holds.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_role_permissions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub role_id: i64,
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
