//! `organization_invitation_roles`: a role an invitation gives the person on accepting it.

use sea_orm::entity::prelude::*;

/// One role of one invitation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_invitation_roles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub invitation_id: i64,
    pub role_key: String,
    pub role_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

impl ActiveModelBehavior for ActiveModel {}
