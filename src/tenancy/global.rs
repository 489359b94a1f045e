//! Queries on the tables that belong to no organization (accounts, sessions, tokens,
//! throttling); the application's role reads and writes them in any context (a person signs in
//! before any organization is known). Only
//! entities marked [`GlobalTable`] are accepted, so a tenant table cannot be read unscoped
//! through here: the compiler refuses it.

use entity::{
    api_token, auth_challenge, login_throttle, passkey, recovery_code, security_event, user,
    user_session, user_token, user_two_factor,
};
use sea_orm::{DeleteMany, EntityTrait, Select, UpdateMany};

/// A table whose rows belong to no organization.
pub trait GlobalTable: EntityTrait {}

impl GlobalTable for user::Entity {}
impl GlobalTable for user_session::Entity {}
impl GlobalTable for user_token::Entity {}
impl GlobalTable for api_token::Entity {}
impl GlobalTable for login_throttle::Entity {}
impl GlobalTable for user_two_factor::Entity {}
impl GlobalTable for recovery_code::Entity {}
impl GlobalTable for passkey::Entity {}
impl GlobalTable for security_event::Entity {}
impl GlobalTable for auth_challenge::Entity {}

/// `SELECT ... FROM E`
#[expect(
    clippy::disallowed_methods,
    reason = "the one gate for reads of global tables"
)]
pub fn select<E: GlobalTable>() -> Select<E> {
    E::find()
}

/// `UPDATE E SET ...`
#[expect(
    clippy::disallowed_methods,
    reason = "the one gate for bulk updates of global tables"
)]
pub fn update_many<E: GlobalTable>() -> UpdateMany<E> {
    E::update_many()
}

/// `DELETE FROM E`
#[expect(
    clippy::disallowed_methods,
    reason = "the one gate for deletes from global tables"
)]
pub fn delete_many<E: GlobalTable>() -> DeleteMany<E> {
    E::delete_many()
}
