//! `scim_group_roles`: a role a provisioned group gives its members, and who mapped it (the
//! grant rule is checked against them again whenever it is given).

use sea_orm::entity::prelude::*;

/// One role of one group.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_group_roles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub group_id: i64,
    pub role_key: String,
    pub role_id: Option<i64>,
    pub set_by_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

impl ActiveModelBehavior for ActiveModel {}
