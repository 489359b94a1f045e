//! `login_throttle`: the abuse counters (`orgs::auth::throttle`): failed logins per (account,
//! client address), per client address and per account; mail per recipient and per client.

use sea_orm::entity::prelude::*;

/// Hits counted for one key (`login:{email}|{client}`, `login-from:{client}`,
/// `login-account:{email}`, `mail-to:{email}`, `mail-from:{client}`; `{email}` is the SHA-256
/// of the address as typed, trimmed and lower-cased).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttle")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub failures: i32,
    pub window_started_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
