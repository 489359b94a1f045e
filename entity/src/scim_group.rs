//! `scim_groups`: a Group of the organization's directory, which holders of `sso.manage` map to
//! roles (`scim_group_roles`).

use sea_orm::entity::prelude::*;

/// A provisioned group.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    /// The id SCIM answers with.
    pub scim_id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    /// `meta.version`, one up at every change.
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

crate::timestamped!();
