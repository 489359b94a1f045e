//! `email_domains`: an email domain an organization proves it owns with a TXT record under
//! `_orgs-email.{domain}`, and how people with a verified address there join it.

use sea_orm::entity::prelude::*;

/// An email domain claim.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_domains")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub domain: String,
    /// The value expected in the TXT record.
    pub verification_token: String,
    /// `pending`, `verified` or `failed`.
    pub state: String,
    /// `off`, `suggest` or `automatic`.
    pub join_mode: String,
    /// The role people who join by this domain get; `None` is `member`.
    pub join_role: Option<String>,
    /// Who last set how people join and with which role: at each join, they must still hold
    /// what the role gives (the grant rule, as for an invitation's inviter).
    pub join_set_by: Option<i64>,
    /// When the current wait for the record began (a claim fails 30 days after).
    pub pending_since: DateTimeUtc,
    pub verified_at: Option<DateTimeUtc>,
    /// When the record was last looked up.
    pub checked_at: Option<DateTimeUtc>,
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
