//! Passkeys (WebAuthn): the relying party is `tenant.base_domain`, so a passkey made on the
//! base domain works on every organization's subdomain too. A passkey is a second factor (the
//! ceremonies here require user verification: a PIN or biometrics on the device) and a way to
//! sign in on its own. Every ceremony's state is kept server-side on an `auth_challenges` row
//! (`auth::challenges`), so any instance can finish it and none can be finished twice.
//!
//! Adding or removing one happens in one transaction with what a factor change does besides
//! (the security log, the other sessions ended, a mail: [`Security::changed`]); the first
//! factor brings recovery codes, and removing the last one takes them away. Signing in with
//! one is [`sign_in`]'s.

mod sign_in;

use base64::Engine as _;
use entity::{UserId, passkey, user};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr,
    QueryFilter as _, QueryOrder as _,
};
use serde::{Deserialize, Serialize};
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::{Passkey, PasskeyRegistration, RegisterPublicKeyCredential, Uuid};

use super::challenges::{self, Purpose};
use super::recovery;
use super::security_log::SecurityAction;
use super::two_factor::{self, Security, TwoFactorError};
use crate::config::{Environment, Settings};
use crate::db::OnUniqueViolation as _;
use crate::tenancy::global;

/// The longest name a passkey may have.
pub const MAX_NAME_CHARS: usize = 100;

/// The relying party of `settings`: id `tenant.base_domain`, origin `server.public_url`, its
/// subdomains allowed (organizations' hosts); any port outside production (development servers
/// and tests listen where they can).
pub fn relying_party(settings: &Settings) -> anyhow::Result<Webauthn> {
    let rp_id = settings.tenant.base_domain.trim().trim_end_matches('.');
    let origin = webauthn_rs::prelude::Url::parse(settings.server.public_url.trim())
        .map_err(|e| anyhow::anyhow!("server.public_url: {e}"))?;
    let builder = webauthn_rs::WebauthnBuilder::new(rp_id, &origin)
        .map_err(|e| anyhow::anyhow!("tenant.base_domain and server.public_url: {e}"))?
        .rp_name(&settings.ui.product_name)
        .allow_subdomains(true)
        .allow_any_port(settings.environment != Environment::Production);
    builder
        .build()
        .map_err(|e| anyhow::anyhow!("the passkeys' relying party: {e}"))
}

/// A passkey as the account page and the API show it (nothing of the credential itself).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PasskeyJson {
    /// Its id.
    pub id: i64,
    /// The name its owner gave it.
    pub name: String,
    /// When it was added.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was last used to sign in.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<passkey::Model> for PasskeyJson {
    fn from(row: passkey::Model) -> Self {
        Self {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        }
    }
}

/// The user's passkeys, oldest first.
pub async fn list<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<Vec<PasskeyJson>, DbErr> {
    Ok(rows(db, user_id)
        .await?
        .into_iter()
        .map(PasskeyJson::from)
        .collect())
}

async fn rows<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<Vec<passkey::Model>, DbErr> {
    global::select::<passkey::Entity>()
        .filter(passkey::Column::UserId.eq(user_id.get()))
        .order_by_asc(passkey::Column::Id)
        .all(db)
        .await
}

/// Why a passkey step was refused.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The name is empty, too long, or not one line of visible text.
    #[error("{0}")]
    Name(String),
    /// The ceremony's challenge is unknown, expired, someone else's, or used already.
    #[error("this passkey request expired or was used already; start again")]
    Expired,
    /// The browser's answer was not accepted (a wrong signature or origin, an unknown
    /// passkey, no user verification): what about it.
    #[error("the passkey was not accepted: {0}")]
    Refused(String),
    /// The passkey is registered already (to this account or another).
    #[error("this passkey is registered already")]
    Taken,
    /// The person has no passkey to use.
    #[error("you have no passkey; use a code instead")]
    NoPasskey,
    /// The passkey's account is not active.
    #[error("this account is not active yet; follow the link in the email we sent to confirm it")]
    Inactive,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
    /// Anything else (state that would not serialise, a mail that would not render).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<TwoFactorError> for PasskeyError {
    fn from(error: TwoFactorError) -> Self {
        match error {
            TwoFactorError::Db(e) => Self::Db(e),
            other => Self::Other(other.into()),
        }
    }
}

impl From<serde_json::Error> for PasskeyError {
    fn from(error: serde_json::Error) -> Self {
        Self::Other(error.into())
    }
}

/// A ceremony begun: the key the browser sends back, and the options for
/// `navigator.credentials.create()` or `.get()` (challenge and ids in base64url).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ceremony {
    /// The ceremony's key: send it back with the browser's answer.
    pub challenge: String,
    /// `{"publicKey": {...}}` as WebAuthn's JSON forms have it.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// A passkey added: it, and the recovery codes when it is the person's first factor (shown
/// once).
#[derive(Debug)]
pub struct Added {
    /// The new passkey.
    pub passkey: PasskeyJson,
    /// New recovery codes, when the account had no second factor before.
    pub recovery_codes: Option<Vec<String>>,
}

/// A registration's state, kept on its challenge row.
#[derive(Serialize, Deserialize)]
struct Registering {
    name: String,
    registration: PasskeyRegistration,
}

/// The passkey services: the two-factor services' database, sealer and mail, and the relying
/// party (`AppState::passkeys`).
#[derive(Clone, Copy, Debug)]
pub struct Passkeys<'a> {
    /// What factor changes go through.
    pub security: Security<'a>,
    /// The relying party.
    pub webauthn: &'a Webauthn,
}

/// A credential id as the `passkeys` table stores it: base64url without padding.
fn encoded(credential_id: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(credential_id)
}

fn refused(error: webauthn_rs::prelude::WebauthnError) -> PasskeyError {
    PasskeyError::Refused(error.to_string())
}

fn failed(error: webauthn_rs::prelude::WebauthnError) -> PasskeyError {
    PasskeyError::Other(anyhow::anyhow!("webauthn: {error}"))
}

/// The person's WebAuthn user handle (their row made when they have none).
async fn user_handle<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<Uuid, PasskeyError> {
    let row = two_factor::ensure_row(db, user_id).await?;
    Uuid::parse_str(&row.webauthn_id)
        .map_err(|e| PasskeyError::Other(anyhow::anyhow!("user {user_id:?}'s webauthn_id: {e}")))
}

/// A stored credential, read back.
fn credential(row: &passkey::Model) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(&row.passkey)
        .map_err(|e| PasskeyError::Other(anyhow::anyhow!("passkey {}: {e}", row.id)))
}

/// `name` trimmed, when it is one line of 1 to [`MAX_NAME_CHARS`] visible characters.
fn clean_name(name: &str) -> Result<String, PasskeyError> {
    let name = crate::text::clean_name(name).map_err(|e| PasskeyError::Name(e.to_string()))?;
    match name.chars().count() {
        0 => Err(PasskeyError::Name("give the passkey a name".into())),
        n if n > MAX_NAME_CHARS => Err(PasskeyError::Name(format!(
            "at most {MAX_NAME_CHARS} characters"
        ))),
        _ => Ok(name.to_string()),
    }
}

/// The ceremony's state stored on the challenge with `key`, ending the challenge (once).
async fn take<C: ConnectionTrait>(
    db: &C,
    key: &str,
    purpose: Purpose,
    user_id: Option<UserId>,
) -> Result<String, PasskeyError> {
    let row = challenges::find(db, key, purpose)
        .await?
        .filter(|row| user_id.is_none_or(|user| row.user_id == Some(user.get())))
        .ok_or(PasskeyError::Expired)?;
    if !challenges::finish(db, key).await? {
        return Err(PasskeyError::Expired);
    }
    row.state.ok_or(PasskeyError::Expired)
}

impl Passkeys<'_> {
    fn db(&self) -> &crate::db::Db {
        self.security.db
    }

    /// Starts registering a passkey named `name` for `user`: options that ask for a
    /// discoverable credential (so it can sign in without an email) with user verification,
    /// leaving out the passkeys they have.
    pub async fn start_registration(
        &self,
        user: &user::Model,
        name: &str,
    ) -> Result<Ceremony, PasskeyError> {
        let name = clean_name(name)?;
        let handle = user_handle(self.db(), user.id()).await?;
        let mut exclude = Vec::new();
        for row in rows(self.db(), user.id()).await? {
            exclude.push(credential(&row)?.cred_id().clone());
        }
        let (options, registration) = self
            .webauthn
            .start_passkey_registration(handle, &user.email, user.display_name(), Some(exclude))
            .map_err(failed)?;
        let state = serde_json::to_string(&Registering { name, registration })?;
        let purpose = Purpose::PasskeyRegister;
        let key = challenges::start(self.db(), Some(user.id()), purpose, Some(state)).await?;
        let mut options = serde_json::to_value(options)?;
        // webauthn-rs asks for a resident key only in its attested flows; a passkey that signs
        // in without an email must be discoverable.
        if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
            selection["residentKey"] = "required".into();
            selection["requireResidentKey"] = true.into();
        }
        Ok(Ceremony {
            challenge: key,
            options,
        })
    }

    /// Finishes the registration with key `key` with the browser's answer: the passkey stored,
    /// the change logged, mailed and the person's other sessions ended (but `keep_session`).
    pub async fn finish_registration(
        &self,
        user: &user::Model,
        key: &str,
        answer: &RegisterPublicKeyCredential,
        keep_session: Option<&str>,
        client_ip: Option<&str>,
    ) -> Result<Added, PasskeyError> {
        let state = take(self.db(), key, Purpose::PasskeyRegister, Some(user.id())).await?;
        let state: Registering = serde_json::from_str(&state)?;
        let made = self
            .webauthn
            .finish_passkey_registration(answer, &state.registration)
            .map_err(refused)?;
        let txn = self.security.begin("two-factor change").await?;
        let conn = txn.conn();
        let first = !two_factor::factors(conn, user.id()).await?.any();
        let row = passkey::ActiveModel {
            user_id: Set(user.id),
            name: Set(state.name.clone()),
            credential_id: Set(encoded(made.cred_id())),
            passkey: Set(serde_json::to_string(&made)?),
            ..Default::default()
        }
        .insert(conn)
        .await
        .on_unique_violation(PasskeyError::Taken)?;
        let recovery_codes = match first {
            true => Some(recovery::renew(conn, user.id()).await?),
            false => None,
        };
        let action = SecurityAction::PasskeyAdded;
        let detail = Some(state.name);
        self.security
            .changed(&txn, user, action, detail, keep_session, client_ip)
            .await?;
        txn.commit().await?;
        Ok(Added {
            passkey: row.into(),
            recovery_codes,
        })
    }

    /// Removes `user`'s passkey `id` (and the recovery codes, when no factor is left for them
    /// to stand in for); `false` when they have none with that id.
    pub async fn remove(
        &self,
        user: &user::Model,
        id: i64,
        keep_session: Option<&str>,
        client_ip: Option<&str>,
    ) -> Result<bool, PasskeyError> {
        let txn = self.security.begin("two-factor change").await?;
        let conn = txn.conn();
        let removed = global::select::<passkey::Entity>()
            .filter(passkey::Column::Id.eq(id))
            .filter(passkey::Column::UserId.eq(user.id))
            .one(conn)
            .await?;
        let Some(removed) = removed else {
            return Ok(false);
        };
        global::delete_many::<passkey::Entity>()
            .filter(passkey::Column::Id.eq(removed.id))
            .exec(conn)
            .await?;
        if !two_factor::factors(conn, user.id()).await?.any() {
            recovery::remove_all(conn, user.id()).await?;
        }
        let action = SecurityAction::PasskeyRemoved;
        let detail = Some(removed.name);
        self.security
            .changed(&txn, user, action, detail, keep_session, client_ip)
            .await?;
        txn.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_line_of_one_to_a_hundred_characters() {
        assert_eq!(clean_name("  Laptop ").unwrap(), "Laptop");
        assert!(clean_name("").is_err());
        assert!(clean_name("   ").is_err());
        assert!(clean_name("two\nlines").is_err());
        assert!(clean_name(&"é".repeat(100)).is_ok());
        assert!(clean_name(&"é".repeat(101)).is_err());
    }

    #[test]
    fn credential_ids_are_stored_in_base64url_without_padding() {
        assert_eq!(encoded(&[0xfb, 0xff, 0x01]), "-_8B");
    }
}
