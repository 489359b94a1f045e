//! Checking a typed code (a TOTP code once per time step, a recovery code once) and the hard
//! limit on wrong ones, per account.

use chrono::Duration;
use entity::{UserId, user_two_factor};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, QueryFilter, sea_query::Expr};

use super::{Security, ensure_row, purpose, row, unix_now};
use crate::auth::security_log::{self, SecurityAction};
use crate::auth::{challenges, recovery, totp};
use crate::tenancy::global;

/// Wrong codes an account may get before its half-signed-in states end.
pub const MAX_WRONG_CODES: i32 = 5;
/// A code accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// A TOTP code.
    Totp,
    /// A recovery code; how many remain.
    RecoveryCode {
        /// Unused codes after this one.
        left: u64,
    },
}

/// A code refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Wrong; `tries_left` before the lockout.
    Wrong {
        /// Wrong codes the account may still get.
        tries_left: i32,
    },
    /// Too many wrong codes: the password is needed again, after `retry_after_secs`.
    Locked {
        /// Seconds until a new sign-in may ask for a code.
        retry_after_secs: i64,
    },
}

/// The lockout that follows the `lockouts`-th: a minute, doubling, at most an hour.
pub fn lockout_delay(lockouts: i32) -> Duration {
    let doublings = u32::try_from(lockouts.clamp(1, 7) - 1).unwrap_or(0);
    Duration::seconds((60_i64 << doublings).min(3600))
}

/// When the account's second-factor step is locked, how many seconds are left.
pub async fn locked_for<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<Option<i64>, DbErr> {
    let now = entity::chrono_now();
    Ok(row(db, user_id)
        .await?
        .and_then(|r| r.locked_until)
        .filter(|until| *until > now)
        .map(|until| (until - now).num_seconds().max(1)))
}

impl Security<'_> {
    /// Checks a code typed at the second-factor step or to confirm a dangerous action: a TOTP
    /// code (once per time step; one step of drift either way) or a recovery code (once).
    /// Counts wrong ones against the account's limit.
    pub async fn verify(
        &self,
        user_id: UserId,
        code: &str,
        client_ip: Option<&str>,
    ) -> Result<Result<Accepted, Refused>, DbErr> {
        let row = ensure_row(self.db, user_id).await?;
        let now = entity::chrono_now();
        if let Some(until) = row.locked_until.filter(|until| *until > now) {
            let retry_after_secs = (until - now).num_seconds().max(1);
            return Ok(Err(Refused::Locked { retry_after_secs }));
        }
        let accepted = if recovery::looks_like_one(code) {
            if recovery::use_up(self.db, user_id, code).await? {
                let left = recovery::left(self.db, user_id).await?;
                let detail = Some(format!("{left} left"));
                security_log::record(
                    self.db,
                    user_id,
                    SecurityAction::RecoveryCodeUsed,
                    detail,
                    client_ip,
                )
                .await?;
                Some(Accepted::RecoveryCode { left })
            } else {
                None
            }
        } else {
            self.use_totp_code(&row, code)
                .await?
                .then_some(Accepted::Totp)
        };
        match accepted {
            Some(accepted) => {
                global::update_many::<user_two_factor::Entity>()
                    .col_expr(user_two_factor::Column::Failures, Expr::value(0))
                    .col_expr(user_two_factor::Column::Lockouts, Expr::value(0))
                    .filter(user_two_factor::Column::UserId.eq(user_id.get()))
                    .exec(self.db)
                    .await?;
                Ok(Ok(accepted))
            }
            None => self.count_wrong(user_id, client_ip).await.map(Err),
        }
    }

    /// Accepts a TOTP code once: the step it belongs to must be later than the last one used,
    /// written by a conditional update so two requests with one code cannot both pass.
    async fn use_totp_code(&self, row: &user_two_factor::Model, code: &str) -> Result<bool, DbErr> {
        let user_id = UserId(row.user_id);
        let Some(sealed) = &row.totp_secret else {
            return Ok(false);
        };
        let Ok(secret) = self.sealer.open(&purpose(user_id), sealed) else {
            tracing::error!(
                user_id = row.user_id,
                "a TOTP secret does not open with auth.encryption_key"
            );
            return Ok(false);
        };
        let Some(step) = totp::matching_step(&secret, code, unix_now()) else {
            return Ok(false);
        };
        let updated = global::update_many::<user_two_factor::Entity>()
            .col_expr(user_two_factor::Column::TotpLastStep, Expr::value(step))
            .filter(user_two_factor::Column::UserId.eq(row.user_id))
            .filter(
                sea_orm::Condition::any()
                    .add(user_two_factor::Column::TotpLastStep.is_null())
                    .add(user_two_factor::Column::TotpLastStep.lt(step)),
            )
            .exec(self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Counts a wrong code; past the limit, locks the second-factor step and ends the
    /// account's half-signed-in states.
    async fn count_wrong(
        &self,
        user_id: UserId,
        client_ip: Option<&str>,
    ) -> Result<Refused, DbErr> {
        global::update_many::<user_two_factor::Entity>()
            .col_expr(
                user_two_factor::Column::Failures,
                sea_orm::sea_query::ExprTrait::add(
                    Expr::col(user_two_factor::Column::Failures),
                    Expr::value(1),
                ),
            )
            .filter(user_two_factor::Column::UserId.eq(user_id.get()))
            .exec(self.db)
            .await?;
        let row = ensure_row(self.db, user_id).await?;
        if row.failures < MAX_WRONG_CODES {
            return Ok(Refused::Wrong {
                tries_left: MAX_WRONG_CODES - row.failures,
            });
        }
        let lockouts = row.lockouts + 1;
        let delay = lockout_delay(lockouts);
        let locked = global::update_many::<user_two_factor::Entity>()
            .col_expr(user_two_factor::Column::Failures, Expr::value(0))
            .col_expr(user_two_factor::Column::Lockouts, Expr::value(lockouts))
            .col_expr(
                user_two_factor::Column::LockedUntil,
                Expr::value(entity::chrono_now() + delay),
            )
            .filter(user_two_factor::Column::UserId.eq(user_id.get()))
            .filter(user_two_factor::Column::Failures.gte(MAX_WRONG_CODES))
            .exec(self.db)
            .await?;
        challenges::end_all(self.db, user_id).await?;
        if locked.rows_affected == 1 {
            let detail = Some(format!("{} wrong codes", MAX_WRONG_CODES));
            security_log::record(
                self.db,
                user_id,
                SecurityAction::SignInLocked,
                detail,
                client_ip,
            )
            .await?;
        }
        Ok(Refused::Locked {
            retry_after_secs: delay.num_seconds(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lockout_doubles_the_wait_up_to_an_hour() {
        assert_eq!(lockout_delay(1).num_seconds(), 60);
        assert_eq!(lockout_delay(2).num_seconds(), 120);
        assert_eq!(lockout_delay(3).num_seconds(), 240);
        assert_eq!(lockout_delay(7).num_seconds(), 3600);
        assert_eq!(lockout_delay(50).num_seconds(), 3600);
    }
}
