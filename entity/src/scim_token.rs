//! `scim_tokens`: the bearer tokens an organization's directory provisions with (`orgs_scim_`).
//! Shown once, stored hashed, revocable; each works only while its maker holds `sso.manage`.

use sea_orm::entity::prelude::*;

/// A SCIM token (the secret itself is never stored).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub token_prefix: String,
    pub token_hash: String,
    pub created_by_id: Option<i64>,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
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
