//! Login throttling: failures are counted per email and per client address in the database
//! (so every instance sees them); past the limit the key is refused for a while (429).

use chrono::Duration;
use entity::login_throttle;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, QueryFilter,
    TransactionSession, TransactionTrait,
};

use crate::config::AuthSettings;
use crate::db::begin_write;
use crate::tenancy::global;

/// A counted key with its limit.
#[derive(Clone, Debug)]
pub struct ThrottleKey {
    key: String,
    limit: u32,
}

/// The keys one login attempt counts against: its email and its client address.
pub fn keys_for(email: &str, ip: Option<&str>, settings: &AuthSettings) -> Vec<ThrottleKey> {
    let mut keys = vec![ThrottleKey {
        key: format!("email:{}", email.trim().to_lowercase()),
        limit: settings.login_max_failures,
    }];
    if let Some(ip) = ip {
        keys.push(ThrottleKey {
            key: format!("ip:{ip}"),
            limit: settings.login_max_failures.saturating_mul(4),
        });
    }
    keys
}

/// Whether any key is locked now.
pub async fn is_locked<C: ConnectionTrait>(db: &C, keys: &[ThrottleKey]) -> Result<bool, DbErr> {
    let now = entity::chrono_now();
    for key in keys {
        if let Some(row) = global::select::<login_throttle::Entity>()
            .filter(login_throttle::Column::Key.eq(key.key.clone()))
            .one(db)
            .await?
            && row.locked_until.is_some_and(|until| until > now)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Counts a failure against every key, locking those that reach their limit. Returns the
/// highest failure count, for the slow-down.
pub async fn record_failure<C>(
    db: &C,
    keys: &[ThrottleKey],
    settings: &AuthSettings,
) -> Result<u32, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = entity::chrono_now();
    let window = Duration::seconds(i64::try_from(settings.login_lockout_secs).unwrap_or(900));
    let txn = begin_write(db).await?;
    let mut highest = 0;
    for key in keys {
        let existing = global::select::<login_throttle::Entity>()
            .filter(login_throttle::Column::Key.eq(key.key.clone()))
            .one(&txn)
            .await?;
        let (failures, started) = match &existing {
            Some(row) if row.window_started_at + window > now => {
                (row.failures.max(0) as u32 + 1, row.window_started_at)
            }
            _ => (1, now),
        };
        let locked_until = (failures >= key.limit).then(|| now + window);
        let row = login_throttle::ActiveModel {
            key: Set(key.key.clone()),
            failures: Set(i32::try_from(failures).unwrap_or(i32::MAX)),
            window_started_at: Set(started),
            locked_until: Set(locked_until),
        };
        if existing.is_some() {
            row.update(&txn).await?;
        } else {
            row.insert(&txn).await?;
        }
        highest = highest.max(failures);
    }
    txn.commit().await?;
    Ok(highest)
}

/// Forgets the failures of the email key after a successful login or a password reset.
pub async fn clear_email<C: ConnectionTrait>(db: &C, email: &str) -> Result<(), DbErr> {
    global::delete_many::<login_throttle::Entity>()
        .filter(login_throttle::Column::Key.eq(format!("email:{}", email.trim().to_lowercase())))
        .exec(db)
        .await?;
    Ok(())
}

/// How long to hold the answer to a failed login: nothing for the first two failures, then
/// `delay_ms` more per failure, at most two seconds.
pub fn slow_down(failures: u32, delay_ms: u64) -> std::time::Duration {
    let extra = u64::from(failures.saturating_sub(2));
    std::time::Duration::from_millis((extra * delay_ms).min(2_000))
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
    }
}
