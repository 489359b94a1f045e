//! `organization_roles`: the custom roles of one organization (the built-in `owner`, `admin` and
//! `member` are defined in code). Each role's permissions are rows of
//! `organization_role_permissions`.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A custom role.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "organization_roles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    /// `[a-z0-9-]{1,40}`, unique in the organization, never a built-in key; fixed once made.
    pub key: String,
    pub name: String,
    pub description: String,
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
