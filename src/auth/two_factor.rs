//! Second factors: an authenticator app (TOTP, its secret sealed with `auth.encryption_key`),
//! recovery codes, and the hard limit on wrong codes. Passkeys are `auth::passkeys`. What a
//! factor change does besides (the person's security log, their other sessions ended, a mail)
//! happens in the change's own transaction, so none of it happens without the rest.
//!
//! Wrong codes have a limit per account, not per client: whoever holds the password could try
//! codes from many addresses. Past [`MAX_WRONG_CODES`] the half-signed-in states end and no new
//! one starts for a delay that doubles with each lockout, from a minute up to an hour.

use chrono::Duration;
use entity::{UserId, user, user_two_factor};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, PaginatorTrait as _, QueryFilter, sea_query::Expr,
};
use serde::Serialize;

use super::secrets::Sealer;
use super::security_log::{self, SecurityAction};
use super::{challenges, recovery, sessions, totp};
use crate::mail::{Mailer, Outbox};
use crate::tenancy::global;

/// Wrong codes an account may get before its half-signed-in states end.
pub const MAX_WRONG_CODES: i32 = 5;

/// What the services of this module work with: the database, the sealing key, and the mail,
/// handed out by the app state (`AppState::security`).
#[derive(Clone, Copy, Debug)]
pub struct Security<'a> {
    /// The database.
    pub db: &'a DatabaseConnection,
    /// Seals and opens TOTP secrets.
    pub sealer: &'a Sealer,
    /// The mail sender to wake when a change commits (none from the CLI: the server's sender
    /// finds the mail in the outbox on its own).
    pub outbox: Option<&'a Outbox>,
    /// Composes mail.
    pub mailer: &'a Mailer,
    /// The name authenticator apps show for the account (`ui.product_name`).
    pub issuer: &'a str,
}

/// Why a two-factor step was refused.
#[derive(Debug, thiserror::Error)]
pub enum TwoFactorError {
    /// The code is not right (or was used already).
    #[error("this code is not right; codes change every 30 seconds and work once")]
    WrongCode,
    /// An authenticator app is set up already.
    #[error("an authenticator app is already set up; remove it first to set up another")]
    AlreadyEnabled,
    /// No enrolment was started, or no authenticator app is set up.
    #[error("no authenticator app is being set up; start again")]
    NotStarted,
    /// The account has no second factor for recovery codes to stand in for.
    #[error("set up an authenticator app or a passkey first")]
    NoFactor,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
    /// Anything else (a mail that would not render).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A person's factors, as `GET /api/v1/account/two-factor/` shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Factors {
    /// An authenticator app is set up.
    pub totp: bool,
    /// How many passkeys.
    pub passkeys: u64,
    /// Unused recovery codes.
    pub recovery_codes_left: u64,
}

impl Factors {
    /// Whether the person has a second factor at all.
    pub fn any(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

/// An enrolment begun: what the account page shows and `POST .../totp/` answers.
#[derive(Clone, Debug, Serialize)]
pub struct Enrolment {
    /// The secret in base32, to type into an app.
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub otpauth_url: String,
    /// The QR code, an SVG document.
    pub qr_svg: String,
}

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

fn purpose(user_id: UserId) -> String {
    format!("totp:{}", user_id.get())
}

/// The lockout that follows the `lockouts`-th: a minute, doubling, at most an hour.
pub fn lockout_delay(lockouts: i32) -> Duration {
    let doublings = u32::try_from(lockouts.clamp(1, 7) - 1).unwrap_or(0);
    Duration::seconds((60_i64 << doublings).min(3600))
}

async fn row<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
) -> Result<Option<user_two_factor::Model>, DbErr> {
    global::select::<user_two_factor::Entity>()
        .filter(user_two_factor::Column::UserId.eq(user_id.get()))
        .one(db)
        .await
}

/// The user's row, made (with a fresh WebAuthn user handle) when they have none.
pub async fn ensure_row<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
) -> Result<user_two_factor::Model, DbErr> {
    if let Some(row) = row(db, user_id).await? {
        return Ok(row);
    }
    let insert = user_two_factor::Entity::insert(user_two_factor::ActiveModel {
        user_id: Set(user_id.get()),
        webauthn_id: Set(random_uuid()),
        failures: Set(0),
        lockouts: Set(0),
        created_at: Set(entity::chrono_now()),
        updated_at: Set(entity::chrono_now()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([user_two_factor::Column::UserId])
    .exec_without_returning(db)
    .await;
    insert?;
    row(db, user_id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("user_two_factor".into()))
}

/// A random (version 4) UUID, as text.
fn random_uuid() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// How many passkeys the user has.
pub async fn passkey_count<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<u64, DbErr> {
    global::select::<entity::passkey::Entity>()
        .filter(entity::passkey::Column::UserId.eq(user_id.get()))
        .count(db)
        .await
}

/// The user's factors.
pub async fn factors<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<Factors, DbErr> {
    let totp = row(db, user_id)
        .await?
        .is_some_and(|r| r.totp_secret.is_some());
    Ok(Factors {
        totp,
        passkeys: passkey_count(db, user_id).await?,
        recovery_codes_left: recovery::left(db, user_id).await?,
    })
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
    fn enrolment(&self, user: &user::Model, secret: &[u8]) -> Result<Enrolment, TwoFactorError> {
        let otpauth_url =
            totp::otpauth_url(secret, self.issuer, &user.email).map_err(anyhow::Error::msg)?;
        Ok(Enrolment {
            secret: totp::base32(secret),
            qr_svg: totp::qr_svg(&otpauth_url),
            otpauth_url,
        })
    }

    /// Starts setting up an authenticator app: a new secret, kept sealed until a code from it
    /// confirms it (a second start replaces it).
    pub async fn start_totp(&self, user: &user::Model) -> Result<Enrolment, TwoFactorError> {
        let row = ensure_row(self.db, user.id()).await?;
        if row.totp_secret.is_some() {
            return Err(TwoFactorError::AlreadyEnabled);
        }
        let secret = totp::new_secret();
        let mut active: user_two_factor::ActiveModel = row.into();
        active.totp_pending = Set(Some(self.sealer.seal(&purpose(user.id()), &secret)));
        active.update(self.db).await?;
        self.enrolment(user, &secret)
    }

    /// The enrolment under way, to show again (after a wrong code).
    pub async fn pending_totp(
        &self,
        user: &user::Model,
    ) -> Result<Option<Enrolment>, TwoFactorError> {
        let Some(sealed) = row(self.db, user.id()).await?.and_then(|r| r.totp_pending) else {
            return Ok(None);
        };
        let Ok(secret) = self.sealer.open(&purpose(user.id()), &sealed) else {
            return Ok(None);
        };
        self.enrolment(user, &secret).map(Some)
    }

    /// Enables the app whose enrolment is under way when `code` comes from it: new recovery
    /// codes (returned, to show once), the other sessions ended, the change logged and mailed.
    pub async fn confirm_totp(
        &self,
        user: &user::Model,
        code: &str,
        keep_session: Option<&str>,
        client_ip: Option<&str>,
    ) -> Result<Vec<String>, TwoFactorError> {
        let row = ensure_row(self.db, user.id()).await?;
        if row.totp_secret.is_some() {
            return Err(TwoFactorError::AlreadyEnabled);
        }
        let sealed = row.totp_pending.clone().ok_or(TwoFactorError::NotStarted)?;
        let secret = self
            .sealer
            .open(&purpose(user.id()), &sealed)
            .map_err(|_| TwoFactorError::NotStarted)?;
        let step =
            totp::matching_step(&secret, code, unix_now()).ok_or(TwoFactorError::WrongCode)?;
        let txn = self.begin("two-factor change").await?;
        let conn = txn.conn();
        let now = entity::chrono_now();
        let enabled = global::update_many::<user_two_factor::Entity>()
            .col_expr(user_two_factor::Column::TotpSecret, Expr::value(sealed))
            .col_expr(
                user_two_factor::Column::TotpPending,
                Expr::value(Option::<String>::None),
            )
            .col_expr(user_two_factor::Column::TotpEnabledAt, Expr::value(now))
            .col_expr(user_two_factor::Column::TotpLastStep, Expr::value(step))
            .col_expr(user_two_factor::Column::UpdatedAt, Expr::value(now))
            .filter(user_two_factor::Column::UserId.eq(user.id))
            .filter(user_two_factor::Column::TotpSecret.is_null())
            .exec(conn)
            .await?;
        if enabled.rows_affected != 1 {
            return Err(TwoFactorError::AlreadyEnabled);
        }
        let codes = recovery::renew(conn, user.id()).await?;
        self.changed(
            &txn,
            user,
            SecurityAction::TotpEnabled,
            None,
            keep_session,
            client_ip,
        )
        .await?;
        txn.commit().await?;
        Ok(codes)
    }

    /// Removes the authenticator app (and the recovery codes, when no passkey is left for them
    /// to stand in for); `false` when none was set up.
    pub async fn disable_totp(
        &self,
        user: &user::Model,
        keep_session: Option<&str>,
        client_ip: Option<&str>,
    ) -> Result<bool, TwoFactorError> {
        let txn = self.begin("two-factor change").await?;
        let conn = txn.conn();
        let now = entity::chrono_now();
        let removed = global::update_many::<user_two_factor::Entity>()
            .col_expr(
                user_two_factor::Column::TotpSecret,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                user_two_factor::Column::TotpPending,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                user_two_factor::Column::TotpEnabledAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .col_expr(user_two_factor::Column::UpdatedAt, Expr::value(now))
            .filter(user_two_factor::Column::UserId.eq(user.id))
            .filter(user_two_factor::Column::TotpSecret.is_not_null())
            .exec(conn)
            .await?;
        if removed.rows_affected != 1 {
            return Ok(false);
        }
        if passkey_count(conn, user.id()).await? == 0 {
            recovery::remove_all(conn, user.id()).await?;
        }
        self.changed(
            &txn,
            user,
            SecurityAction::TotpDisabled,
            None,
            keep_session,
            client_ip,
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Removes every second factor of the person (an operator's answer to a lost device and
    /// lost codes: `orgs user reset-two-factor`): the app, the passkeys, the recovery codes;
    /// every sign-in and half-signed-in step ends; logged and mailed. How many factors went.
    pub async fn reset(&self, user: &user::Model) -> Result<u64, TwoFactorError> {
        let txn = self.begin("two-factor reset").await?;
        let conn = txn.conn();
        let had = factors(conn, user.id()).await?;
        global::update_many::<user_two_factor::Entity>()
            .col_expr(
                user_two_factor::Column::TotpSecret,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                user_two_factor::Column::TotpPending,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                user_two_factor::Column::TotpEnabledAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .col_expr(user_two_factor::Column::Failures, Expr::value(0))
            .col_expr(
                user_two_factor::Column::LockedUntil,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .filter(user_two_factor::Column::UserId.eq(user.id))
            .exec(conn)
            .await?;
        global::delete_many::<entity::passkey::Entity>()
            .filter(entity::passkey::Column::UserId.eq(user.id))
            .exec(conn)
            .await?;
        recovery::remove_all(conn, user.id()).await?;
        challenges::end_all(conn, user.id()).await?;
        let removed = u64::from(had.totp) + had.passkeys;
        let detail = Some(format!("by an operator; {removed} removed"));
        self.changed(&txn, user, SecurityAction::FactorsReset, detail, None, None)
            .await?;
        txn.commit().await?;
        Ok(removed)
    }

    /// A new set of recovery codes (the old ones stop working); to show once.
    pub async fn renew_recovery_codes(
        &self,
        user: &user::Model,
        client_ip: Option<&str>,
    ) -> Result<Vec<String>, TwoFactorError> {
        if !factors(self.db, user.id()).await?.any() {
            return Err(TwoFactorError::NoFactor);
        }
        let txn = self.begin("recovery codes").await?;
        let codes = recovery::renew(txn.conn(), user.id()).await?;
        security_log::record(
            txn.conn(),
            user.id(),
            SecurityAction::RecoveryCodesRenewed,
            None,
            client_ip,
        )
        .await?;
        txn.commit().await?;
        Ok(codes)
    }

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

    /// A system transaction that wakes the mail sender on commit.
    pub(crate) async fn begin(
        &self,
        job: &'static str,
    ) -> Result<crate::tenancy::door::SystemTxn, DbErr> {
        #[expect(
            clippy::disallowed_methods,
            reason = "a person's security notice belongs to no organization"
        )]
        let txn = crate::tenancy::door::system(self.db, job).await?;
        Ok(match self.outbox {
            Some(outbox) => txn.waking(outbox),
            None => txn,
        })
    }

    /// What a factor change does besides, in its transaction: the security log, the person's
    /// other sessions ended, a mail to them.
    pub(crate) async fn changed(
        &self,
        txn: &crate::tenancy::door::SystemTxn,
        user: &user::Model,
        action: SecurityAction,
        detail: Option<String>,
        keep_session: Option<&str>,
        client_ip: Option<&str>,
    ) -> Result<(), TwoFactorError> {
        let conn = txn.conn();
        security_log::record(conn, user.id(), action, detail.clone(), client_ip).await?;
        if action.changes_a_factor() {
            sessions::delete_all_for_user(conn, user.id(), keep_session).await?;
        }
        let mut context = tera::Context::new();
        context.insert("name", user::display_name(&user.name, &user.email));
        context.insert("change", SecurityAction::sentence(action.key()));
        context.insert("detail", &detail);
        context.insert("client_ip", &client_ip);
        context.insert("link", &self.mailer.link("/account/security/"));
        context.insert("reset_link", &self.mailer.link("/password-reset/"));
        let subject = format!(
            "{}: {}",
            self.issuer,
            SecurityAction::sentence(action.key())
        );
        self.mailer
            .send(txn, "security_change", &user.email, subject, &context)
            .await?;
        Ok(())
    }
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
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

    #[test]
    fn a_webauthn_user_handle_is_a_random_uuid() {
        let id = random_uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(random_uuid(), id);
    }
}
