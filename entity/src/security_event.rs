//! `security_events`: a person's own security log (factors added and removed, recovery codes
//! used and renewed, sign-ins locked), shown on their account page. Organizations' audit
//! events are elsewhere: these belong to the person.

use sea_orm::entity::prelude::*;

/// One entry of a person's security log.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "security_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// What happened: `totp.enabled`, `passkey.added`, `recovery_code.used` ...
    pub action: String,
    /// A detail (a passkey's name, how many codes remain).
    pub detail: Option<String>,
    /// The client's address.
    pub client_ip: Option<String>,
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
