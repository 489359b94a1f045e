//! `user_two_factor`: a person's TOTP (the secret sealed with `auth.encryption_key`, never in
//! clear), the WebAuthn id their passkeys carry, and the hard limit on wrong codes.

use sea_orm::entity::prelude::*;

/// One person's second-factor state.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_two_factor")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// The enabled TOTP secret, sealed.
    pub totp_secret: Option<String>,
    /// A TOTP secret shown at enrolment and not yet confirmed by a code, sealed.
    pub totp_pending: Option<String>,
    /// When that enrolment began: it lapses after ten minutes.
    pub totp_pending_at: Option<DateTimeUtc>,
    pub totp_enabled_at: Option<DateTimeUtc>,
    /// The time step of the last code accepted: a code is accepted once.
    pub totp_last_step: Option<i64>,
    /// The user handle passkeys carry (a random UUID, not the account id).
    #[sea_orm(unique)]
    pub webauthn_id: String,
    /// Wrong codes since the last success or lockout.
    pub failures: i32,
    /// Lockouts since the last success: each makes the next one longer.
    pub lockouts: i32,
    /// Until when no second-factor step may start.
    pub locked_until: Option<DateTimeUtc>,
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
