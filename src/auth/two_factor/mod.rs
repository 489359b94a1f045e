//! Second factors: an authenticator app (TOTP, its secret sealed with `auth.encryption_key`),
//! recovery codes, and the hard limit on wrong codes. Passkeys are `auth::passkeys`. What a
//! factor change does besides (the person's security log, their other sessions ended, a mail)
//! happens in the change's own transaction, so none of it happens without the rest.
//!
//! Wrong codes have a limit per account, not per client: whoever holds the password could try
//! codes from many addresses. Past [`MAX_WRONG_CODES`] the half-signed-in states end and no new
//! one starts for a delay that doubles with each lockout, from a minute up to an hour.
//!
//! Here: what the services share (the [`Security`] capability, the person's row, their factors,
//! and what a change does besides); the authenticator app and recovery codes are `app`, checking
//! a typed code and the limit on wrong ones `codes`.

mod app;
mod codes;

pub use codes::{
    Accepted, AfterPassword, MAX_WRONG_CODES, Refused, after_password, locked_for, lockout_delay,
};

use entity::{UserId, user, user_two_factor};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait as _, PaginatorTrait as _,
    QueryFilter,
};
use serde::Serialize;

use super::secrets::Sealer;
use super::security_log::{self, SecurityAction};
use super::{api_tokens, recovery, sessions};
use crate::mail::{Mailer, Outbox};
use crate::tenancy::global;

/// What the services of this module work with: the database, the sealing key, and the mail,
/// handed out by the app state (`AppState::security`).
#[derive(Clone, Copy, Debug)]
pub struct Security<'a> {
    /// The database.
    /// The application's pool (statements outside a transaction stay safe behind a
    /// transaction pooler: [`crate::db::Db`]).
    pub db: &'a crate::db::Db,
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

fn purpose(user_id: UserId) -> String {
    format!("totp:{}", user_id.get())
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

impl Security<'_> {
    /// A system transaction that wakes the mail sender on commit.
    pub(crate) async fn begin(
        &self,
        job: &'static str,
    ) -> Result<crate::tenancy::door::SystemTxn, DbErr> {
        #[expect(
            clippy::disallowed_methods,
            reason = "a person's security notice belongs to no organization"
        )]
        let txn = crate::tenancy::door::system(self.db.connection(), job).await?;
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
        // A factor just added proved itself (a code typed, a passkey with user verification):
        // a second factor used in the sign-in kept, now.
        if let (SecurityAction::TotpEnabled | SecurityAction::PasskeyAdded, Some(key)) =
            (action, keep_session)
        {
            sessions::confirm(conn, key, user.id(), true).await?;
        }
        // With no factor left, neither the sign-in kept nor any token of theirs counts as made
        // with one any more.
        if !factors(conn, user.id()).await?.any() {
            api_tokens::forget_second_factor(conn, user.id()).await?;
            sessions::forget_second_factor(conn, user.id()).await?;
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
    fn a_webauthn_user_handle_is_a_random_uuid() {
        let id = random_uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(random_uuid(), id);
    }
}
