//! `user_tokens`: single-use, expiring tokens mailed to a user (password reset, activation).

use sea_orm::entity::prelude::*;

/// A mailed token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// `password_reset` or `activation`.
    pub purpose: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    /// On a handoff: the session family of the sign-in that made it.
    pub family: Option<String>,
    /// On a handoff: the second factor of the sign-in that made it, carried over.
    pub second_factor_at: Option<DateTimeUtc>,
    /// On a handoff: the last confirmation of the sign-in that made it, carried over.
    pub confirmed_at: Option<DateTimeUtc>,
    /// On a handoff: the organization whose single sign-on made the sign-in, carried over.
    pub sso_organization_id: Option<i64>,
    /// That sign-on's provider asserted a second factor the organization trusts: it counts
    /// for that organization alone.
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
