//! `users`: people who log in. The email (stored lower-cased) is the login.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    /// argon2id PHC string; `None` until the account has a password (an invited person).
    #[serde(skip_serializing)]
    pub password_hash: Option<String>,
    pub is_active: bool,
    pub is_superuser: bool,
    pub email_verified_at: Option<DateTimeUtc>,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::organization_user::Entity")]
    OrganizationUser,
    #[sea_orm(has_many = "super::user_session::Entity")]
    UserSession,
    #[sea_orm(has_many = "super::api_token::Entity")]
    ApiToken,
}

impl Related<super::organization_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrganizationUser.def()
    }
}

crate::timestamped!();

/// How a person is named to others: their name, or their email when they have not set one.
pub fn display_name<'a>(name: &'a str, email: &'a str) -> &'a str {
    if name.is_empty() { email } else { name }
}

impl Model {
    /// [`display_name`] of this user.
    pub fn display_name(&self) -> &str {
        display_name(&self.name, &self.email)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_person_is_named_by_their_name_or_else_their_email() {
        assert_eq!(super::display_name("Ada", "ada@example.com"), "Ada");
        assert_eq!(
            super::display_name("", "ada@example.com"),
            "ada@example.com"
        );
    }
}
