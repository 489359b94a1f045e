//! `user_sessions`: one row per signed-in browser. The session cookie carries a random key whose
//! SHA-256 is stored here, so deleting the row signs that browser out for good.

use sea_orm::entity::prelude::*;

/// A login session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub expires_at: DateTimeUtc,
    /// Shared by the sign-ins one browser got from one sign-in through handoffs to
    /// organizations' hosts: signing out ends the family.
    pub family: Option<String>,
    /// When this sign-in was completed with a second factor (TOTP, a recovery code, a passkey
    /// with user verification); none when a password alone made it.
    pub second_factor_at: Option<DateTimeUtc>,
    /// When the person last proved it was them in this sign-in (a password or a second
    /// factor): what a dangerous action's recent sign-in is measured from.
    pub confirmed_at: Option<DateTimeUtc>,
    /// The organization whose single sign-on made this sign-in, if one did.
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
