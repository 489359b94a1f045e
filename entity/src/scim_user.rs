//! `scim_users`: a User of the organization's directory. Its SCIM id is its own (stable from a
//! pending invitation to a membership); it is linked to an account (`user_id`, and through it to
//! the membership) or, for an address outside the organization's verified domains, to the
//! invitation sent there until it is accepted.

use sea_orm::entity::prelude::*;

/// A provisioned user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    /// The id SCIM answers with.
    pub scim_id: String,
    /// As the directory sent it.
    pub user_name: String,
    /// Lowercased: `userName` is unique in the organization regardless of case.
    pub user_name_key: String,
    pub external_id: Option<String>,
    /// The primary address, normalized (what links and invites).
    pub email: Option<String>,
    /// The `emails` as sent (a JSON array of `{value, type, primary}`).
    pub emails: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted_name: Option<String>,
    pub display_name: Option<String>,
    /// What the directory set (none when it set nothing: active).
    pub active: Option<bool>,
    /// The directory gave the User orgs' extension (its readOnly attributes are orgs'): it is
    /// then answered with the User, as any attribute it wrote.
    pub extended: bool,
    pub user_id: Option<i64>,
    pub invitation_id: Option<i64>,
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
