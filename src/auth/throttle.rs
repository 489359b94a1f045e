//! Abuse limits, counted in the database (the `login_throttle` table) so that every instance
//! sees the same counts: failed logins and mail sent to typed addresses.
//!
//! Logins follow OWASP's guidance: failures are counted per (account, client address) and per
//! client address, and only those answer 429, with `Retry-After`; failures for one account from
//! everywhere slow every attempt on it down, never refuse it, so nobody can lock the right
//! person out by typing their address. Mail is counted per recipient and per client address;
//! the count does not depend on whether the address has an account.

use chrono::{DateTime, Duration, Utc};
use entity::login_throttle;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QuerySelect, TransactionSession, TransactionTrait,
};

use crate::config::AuthSettings;
use crate::db::begin_write;
use crate::tenancy::global;

/// One counted key: its limit, and how long it is refused once it reaches the limit (also the
/// window hits are counted in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counter {
    key: String,
    policy: &'static str,
    limit: u32,
    window: Duration,
}

/// Where a client stands against one limit, for the `RateLimit-Policy` and `RateLimit` headers
/// (draft-ietf-httpapi-ratelimit-headers): the quota per window, what is left, and the seconds
/// until more is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// The limit's name: `login`, `login-from`, `mail-to`, `mail-from`, `invitations`.
    pub policy: &'static str,
    /// Hits allowed per window.
    pub quota: u32,
    /// The window, in seconds.
    pub window_secs: u64,
    /// Hits left now.
    pub remaining: u32,
    /// Seconds until the window resets (a refused client's `Retry-After`).
    pub reset_secs: u64,
}

impl RateLimit {
    /// The two headers, by name.
    pub fn headers(&self) -> [(&'static str, String); 2] {
        [
            (
                "RateLimit-Policy",
                format!(
                    "\"{}\";q={};w={}",
                    self.policy, self.quota, self.window_secs
                ),
            ),
            (
                "RateLimit",
                format!(
                    "\"{}\";r={};t={}",
                    self.policy,
                    self.remaining,
                    self.reset_secs.max(1)
                ),
            ),
        ]
    }
}

impl Counter {
    fn refused(&self, reset_secs: u64) -> RateLimit {
        RateLimit {
            policy: self.policy,
            quota: self.limit,
            window_secs: u64::try_from(self.window.num_seconds()).unwrap_or(0),
            remaining: 0,
            reset_secs,
        }
    }
}

fn secs(value: u64) -> Duration {
    Duration::seconds(i64::try_from(value).unwrap_or(i64::MAX / 1_000).max(1))
}

/// What stands for a typed address in a key: its SHA-256, so that whatever was typed (a NUL,
/// 16 KB of text) makes a short, storable key, and the table holds no address in clear.
fn email_key(email: &str) -> String {
    crate::tokens::hash(&email.trim().to_lowercase())
}

impl Counter {
    /// Failed logins for `email` from `client`.
    pub fn login_pair(email: &str, client: &str, settings: &AuthSettings) -> Self {
        Self {
            key: format!("login:{}|{client}", email_key(email)),
            policy: "login",
            limit: settings.login_max_failures,
            window: secs(settings.login_lockout_secs),
        }
    }

    /// Failed logins from `client`, whatever the account.
    pub fn login_client(client: &str, settings: &AuthSettings) -> Self {
        Self {
            key: format!("login-from:{client}"),
            policy: "login-from",
            limit: settings.login_max_failures.saturating_mul(4),
            window: secs(settings.login_lockout_secs),
        }
    }

    /// Failed logins for `email` from anywhere: it only slows the account's logins down.
    pub fn login_account(email: &str, settings: &AuthSettings) -> Self {
        Self {
            key: format!("login-account:{}", email_key(email)),
            policy: "login-account",
            limit: u32::MAX,
            window: secs(settings.login_lockout_secs),
        }
    }

    /// Mail to `address` from a flow where the requester typed it.
    pub fn mail_to(address: &str, settings: &AuthSettings) -> Self {
        Self {
            key: format!("mail-to:{}", email_key(address)),
            policy: "mail-to",
            limit: settings.mail_per_address_per_hour,
            window: Duration::hours(1),
        }
    }

    /// Such mail asked for from `client`.
    pub fn mail_from(client: &str, settings: &AuthSettings) -> Self {
        Self {
            key: format!("mail-from:{client}"),
            policy: "mail-from",
            limit: settings.mail_per_client_per_hour,
            window: Duration::hours(1),
        }
    }
}

/// Seconds (at least 1) until `until`.
fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1)
}

/// Whether any counter is refused now: the one refused longest, and for how long.
pub async fn refused_for<C: ConnectionTrait>(
    db: &C,
    counters: &[Counter],
) -> Result<Option<RateLimit>, DbErr> {
    let now = entity::chrono_now();
    let keys = counters.iter().map(|c| c.key.clone());
    let rows = global::select::<login_throttle::Entity>()
        .filter(login_throttle::Column::Key.is_in(keys))
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| Some((row.locked_until.filter(|until| *until > now)?, &row.key)))
        .max()
        .and_then(|(until, key)| {
            let counter = counters.iter().find(|c| &c.key == key)?;
            Some(counter.refused(seconds_until(until, now)))
        }))
}

/// The hits counted for `counter` in its current window.
pub async fn count<C: ConnectionTrait>(db: &C, counter: &Counter) -> Result<u32, DbErr> {
    let now = entity::chrono_now();
    let row = global::select::<login_throttle::Entity>()
        .filter(login_throttle::Column::Key.eq(counter.key.clone()))
        .one(db)
        .await?;
    Ok(row
        .filter(|row| {
            row.window_started_at + counter.window > now
                || row.locked_until.is_some_and(|u| u > now)
        })
        .map_or(0, |row| u32::try_from(row.failures.max(0)).unwrap_or(0)))
}

/// What one hit did to a counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Hits in the window, this one included.
    pub count: u32,
    /// Seconds the key stays refused, when this hit went past its limit.
    pub refused_for: Option<u64>,
}

/// Counts one hit against every counter, each atomically (concurrent hits on one key from
/// several instances all count); a counter reaching its limit is refused for its window from
/// now on. A hit past the limit is refused (`Hit::refused_for`).
pub async fn hit<C>(db: &C, counters: &[Counter]) -> Result<Vec<Hit>, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = entity::chrono_now();
    let txn = begin_write(db).await?;
    let mut hits = Vec::with_capacity(counters.len());
    for counter in counters {
        // The row exists before it is locked, so two first hits cannot both insert it.
        login_throttle::Entity::insert(login_throttle::ActiveModel {
            key: Set(counter.key.clone()),
            failures: Set(0),
            window_started_at: Set(now),
            locked_until: Set(None),
        })
        .on_conflict(
            OnConflict::column(login_throttle::Column::Key)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        let row = global::select::<login_throttle::Entity>()
            .filter(login_throttle::Column::Key.eq(counter.key.clone()))
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(counter.key.clone()))?;
        let locked = row.locked_until.filter(|until| *until > now);
        let current = row.window_started_at + counter.window > now || locked.is_some();
        let (count, started) = if current {
            (
                u32::try_from(row.failures.max(0))
                    .unwrap_or(0)
                    .saturating_add(1),
                row.window_started_at,
            )
        } else {
            (1, now)
        };
        let locked_until = match locked {
            Some(until) => Some(until),
            None if count >= counter.limit => Some(now + counter.window),
            None => None,
        };
        let refused_for = (count > counter.limit)
            .then(|| locked_until.map(|until| seconds_until(until, now)))
            .flatten();
        login_throttle::ActiveModel {
            key: Set(counter.key.clone()),
            failures: Set(i32::try_from(count).unwrap_or(i32::MAX)),
            window_started_at: Set(started),
            locked_until: Set(locked_until),
        }
        .update(&txn)
        .await?;
        hits.push(Hit { count, refused_for });
    }
    txn.commit().await?;
    Ok(hits)
}

/// Counts a mail to `address` asked for from `client`; `Err` with the limit when either is over
/// its hourly limit (the mail must not be sent).
pub async fn mail<C>(
    db: &C,
    address: &str,
    client: &str,
    settings: &AuthSettings,
) -> Result<Result<(), RateLimit>, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let counters = [
        Counter::mail_to(address, settings),
        Counter::mail_from(client, settings),
    ];
    let hits = hit(db, &counters).await?;
    let refused = hits
        .iter()
        .zip(&counters)
        .filter_map(|(hit, counter)| Some((hit.refused_for?, counter)))
        .max_by_key(|(wait, _)| *wait);
    Ok(match refused {
        Some((wait, counter)) => Err(counter.refused(wait)),
        None => Ok(()),
    })
}

/// Forgets counters (after a successful login, or a password reset).
pub async fn clear<C: ConnectionTrait>(db: &C, counters: &[Counter]) -> Result<(), DbErr> {
    let keys = counters.iter().map(|c| c.key.clone());
    global::delete_many::<login_throttle::Entity>()
        .filter(login_throttle::Column::Key.is_in(keys))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets every login failure counted for `email` (its account key and its pairs), after its
/// password was reset: the person who just proved they own the address may sign in.
pub async fn clear_login_failures<C: ConnectionTrait>(db: &C, email: &str) -> Result<(), DbErr> {
    use sea_orm::sea_query::ExprTrait as _;
    let email = email_key(email);
    // A hex digest: nothing in it for LIKE to read as a wildcard.
    let pairs = format!("login:{email}|%");
    global::delete_many::<login_throttle::Entity>()
        .filter(
            login_throttle::Column::Key
                .like(sea_orm::sea_query::LikeExpr::new(pairs).escape('\\'))
                .or(login_throttle::Column::Key.eq(format!("login-account:{email}"))),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// How long to hold a login attempt on an account with `failures` recent failures: nothing for
/// the first two, then `delay_ms` more per failure, at most two seconds.
pub fn slow_down(failures: u32, delay_ms: u64) -> std::time::Duration {
    let extra = u64::from(failures.saturating_sub(2));
    std::time::Duration::from_millis(extra.saturating_mul(delay_ms).min(2_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_down_grows_then_caps() {
        assert_eq!(slow_down(1, 250), std::time::Duration::ZERO);
        assert_eq!(slow_down(2, 250), std::time::Duration::ZERO);
        assert_eq!(slow_down(3, 250).as_millis(), 250);
        assert_eq!(slow_down(4, 250).as_millis(), 500);
        assert_eq!(slow_down(100, 250).as_millis(), 2_000);
        assert_eq!(slow_down(u32::MAX, u64::MAX).as_millis(), 2_000);
    }

    #[test]
    fn keys_are_per_pair_per_client_and_per_account() {
        let settings = crate::Settings::for_environment(crate::config::Environment::Test)
            .unwrap()
            .auth;
        let pair = Counter::login_pair(" Kurt@Nirvana.com", "203.0.113.5", &settings);
        assert_eq!(
            pair.key,
            format!(
                "login:{}|203.0.113.5",
                crate::tokens::hash("kurt@nirvana.com")
            )
        );
        assert_eq!(pair.limit, settings.login_max_failures);
        let client = Counter::login_client("203.0.113.5", &settings);
        assert_eq!(client.limit, settings.login_max_failures * 4);
        assert_eq!(
            Counter::login_account("kurt@nirvana.com", &settings).limit,
            u32::MAX,
            "an account is never refused, only slowed down"
        );
    }
}
