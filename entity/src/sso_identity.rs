//! `sso_identities`: an identity-provider identity, the pair (issuer, subject), linked to an
//! account within one organization. Once linked, the pair alone finds the account: a changed
//! email claim never moves it.

use sea_orm::entity::prelude::*;

/// A linked identity.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_identities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub issuer: String,
    /// The provider's `sub`.
    pub subject: String,
    pub user_id: i64,
    pub last_sign_in_at: Option<DateTimeUtc>,
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
