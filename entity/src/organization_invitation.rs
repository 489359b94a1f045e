//! `organization_invitations`: an invitation of an email address to an organization. Only the
//! SHA-256 of the token is stored; at most one pending invitation per (organization, email).

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// An invitation row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, utoipa::ToSchema)]
#[schema(as = InvitationRecord)]
#[sea_orm(table_name = "organization_invitations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub email: String,
    pub invited_by_id: Option<i64>,
    /// The organization API key that sent it, when a key did.
    pub invited_by_key_id: Option<i64>,
    /// Who granted its roles: `user`, `api_key` or `system` (a job).
    pub invited_by_kind: String,
    #[serde(skip_serializing)]
    #[sea_orm(unique)]
    pub token_hash: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTimeUtc,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub accepted_at: Option<DateTimeUtc>,
    pub accepted_by_id: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<DateTimeUtc>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTimeUtc,
    #[schema(value_type = String, format = DateTime)]
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
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

crate::timestamped!();
