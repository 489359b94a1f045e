//! `api_tokens`: personal tokens for the JSON API, sent as `Authorization: Bearer ...`.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A personal API token (the secret itself is never stored).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The first characters of the token, to recognise it in a list.
    pub token_prefix: String,
    #[serde(skip_serializing)]
    #[sea_orm(unique)]
    pub token_hash: String,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// Made from a sign-in completed with a second factor.
    pub second_factor: bool,
    /// The organization whose single sign-on made the sign-in this token was made from.
    pub sso_organization_id: Option<i64>,
    /// That sign-on's provider's trusted second factor, for that organization alone.
    pub sso_second_factor: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

crate::timestamped!();
