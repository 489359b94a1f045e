//! `auth_challenges`: a sign-in waiting for its second factor, and WebAuthn ceremonies in
//! progress. The browser holds a random key (in its session), the row its hash, so any
//! instance can finish the step and a used or expired one cannot be replayed.

use sea_orm::entity::prelude::*;

/// A pending step.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_challenges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Whose step it is; none for a passkey sign-in that has not said whose passkey it is.
    pub user_id: Option<i64>,
    /// `second_factor`, `passkey_register` or `passkey_login`.
    pub purpose: String,
    /// A WebAuthn ceremony's state, as JSON.
    pub state: Option<String>,
    pub expires_at: DateTimeUtc,
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
