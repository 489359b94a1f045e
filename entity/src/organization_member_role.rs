//! `organization_member_roles`: a role a membership holds, one row per role: a built-in key
//! (`admin`, `member`) with no `role_id`, or a custom role.

use sea_orm::entity::prelude::*;

/// One role of one membership.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_member_roles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub organization_user_id: i64,
    pub role_key: String,
    pub role_id: Option<i64>,
    /// Held only because a SCIM group of the member maps to it: leaving the group takes it away.
    pub from_group: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

impl ActiveModelBehavior for ActiveModel {}
