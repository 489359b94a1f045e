//! `sso_connections`: an organization's OpenID Connect identity provider (one at most).

use sea_orm::entity::prelude::*;

/// The connection.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_connections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    /// The issuer URL, exactly as its discovery document states it.
    pub issuer: String,
    pub client_id: String,
    /// Sealed with `auth.encryption_key`; never in clear.
    pub client_secret: String,
    /// A JSON array of the verified email domains it answers for.
    pub domains: String,
    /// The role people it creates get.
    pub role: String,
    /// Who last saved the connection: at each sign-on that makes a member, they must still
    /// hold what the role gives.
    pub role_set_by: Option<i64>,
    /// Members whose address is in `domains` must sign in through it (owners keep a password).
    pub enforced: bool,
    /// The provider's `amr` may satisfy the organization's two-factor requirement.
    pub trust_idp_mfa: bool,
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
