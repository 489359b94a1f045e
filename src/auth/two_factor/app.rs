//! The authenticator app (TOTP): set up with a secret shown once as a QR code and as text,
//! enabled by a code from it, removed; the recovery codes that come with a first factor; and an
//! operator's reset of every factor.

use entity::{user, user_two_factor};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, sea_query::Expr};

use super::{
    Enrolment, Security, TwoFactorError, ensure_row, factors, passkey_count, purpose, row, unix_now,
};
use crate::auth::security_log::{self, SecurityAction};
use crate::auth::{challenges, recovery, totp};
use crate::tenancy::global;

/// The update that removes `user`'s authenticator app and any enrolment under way.
fn without_app(user: &user::Model) -> sea_orm::UpdateMany<user_two_factor::Entity> {
    let none = Option::<String>::None;
    global::update_many::<user_two_factor::Entity>()
        .col_expr(
            user_two_factor::Column::TotpSecret,
            Expr::value(none.clone()),
        )
        .col_expr(user_two_factor::Column::TotpPending, Expr::value(none))
        .col_expr(
            user_two_factor::Column::TotpEnabledAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            user_two_factor::Column::UpdatedAt,
            Expr::value(entity::chrono_now()),
        )
        .filter(user_two_factor::Column::UserId.eq(user.id))
}

/// How long an enrolment waits for its first code.
const PENDING_SECS: i64 = 600;

/// The sealed secret of the enrolment under way, unless it lapsed.
fn pending(row: user_two_factor::Model) -> Option<String> {
    let started = row.totp_pending_at?;
    (started + chrono::Duration::seconds(PENDING_SECS) > entity::chrono_now())
        .then_some(row.totp_pending)
        .flatten()
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
        active.totp_pending_at = Set(Some(entity::chrono_now()));
        active.update(self.db).await?;
        self.enrolment(user, &secret)
    }

    /// The enrolment under way, to show again (after a wrong code).
    pub async fn pending_totp(
        &self,
        user: &user::Model,
    ) -> Result<Option<Enrolment>, TwoFactorError> {
        let Some(sealed) = row(self.db, user.id()).await?.and_then(pending) else {
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
        let sealed = pending(row).ok_or(TwoFactorError::NotStarted)?;
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
        let removed = without_app(user)
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
        without_app(user)
            .col_expr(user_two_factor::Column::Failures, Expr::value(0))
            .col_expr(
                user_two_factor::Column::LockedUntil,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
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
}
