//! `organization_owners`: exactly one owner per organization, pointing at a membership of that
//! same organization (a composite foreign key makes a mismatch impossible in the database).

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// The owner row of an organization.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "organization_owners")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub organization_id: i64,
    #[sea_orm(unique)]
    pub organization_user_id: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
    // Both columns, as the foreign key has them: joining on the id alone cannot use the
    // (organization_id, organization_user_id) index and scanned every owner per membership.
    #[sea_orm(
        belongs_to = "super::organization_user::Entity",
        from = "(Column::OrganizationId, Column::OrganizationUserId)",
        to = "(super::organization_user::Column::OrganizationId, super::organization_user::Column::Id)"
    )]
    OrganizationUser,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::organization_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrganizationUser.def()
    }
}

impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

crate::timestamped!();
