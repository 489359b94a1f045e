//! Signing in with a passkey: alone (a discoverable credential names its owner through its
//! user handle) or as the second step after a password; a passkey that answered keeps its
//! counter and when it was used.

use entity::{UserId, passkey, user};
use sea_orm::{ColumnTrait as _, QueryFilter as _, sea_query::Expr};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PublicKeyCredential,
};

use super::{
    Ceremony, PasskeyError, Passkeys, credential, encoded, failed, refused, rows, take, user_handle,
};
use crate::auth::challenges::{self, Purpose};
use crate::auth::users;
use crate::tenancy::global;

impl Passkeys<'_> {
    /// Starts a sign-in with a passkey alone: options naming no account (the browser offers
    /// the discoverable passkeys it holds for this relying party).
    pub async fn start_sign_in(&self) -> Result<Ceremony, PasskeyError> {
        let (options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(failed)?;
        let state = serde_json::to_string(&state)?;
        let purpose = Purpose::PasskeyLogin;
        let key = challenges::start(self.db(), None, purpose, Some(state)).await?;
        Ok(Ceremony {
            challenge: key,
            options: serde_json::to_value(options)?,
        })
    }

    /// Finishes the sign-in with key `key`: the person whose passkey answered, when it is
    /// theirs (its user handle is theirs), verified them, and their account is active.
    pub async fn finish_sign_in(
        &self,
        key: &str,
        answer: &PublicKeyCredential,
    ) -> Result<user::Model, PasskeyError> {
        let state = take(self.db(), key, Purpose::PasskeyLogin, None).await?;
        let state: DiscoverableAuthentication = serde_json::from_str(&state)?;
        let (handle, credential_id) = self
            .webauthn
            .identify_discoverable_authentication(answer)
            .map_err(refused)?;
        let unknown = || PasskeyError::Refused("it is not registered here".into());
        let row = global::select::<passkey::Entity>()
            .filter(passkey::Column::CredentialId.eq(encoded(credential_id)))
            .one(self.db())
            .await?
            .ok_or_else(unknown)?;
        if user_handle(self.db(), UserId(row.user_id)).await? != handle {
            return Err(unknown());
        }
        let stored = credential(&row)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(answer, state, &stored)
            .map_err(refused)?;
        self.used(&row, stored, &result).await?;
        let user = users::find_by_id(self.db(), UserId(row.user_id))
            .await?
            .ok_or_else(unknown)?;
        if !user.is_active {
            return Err(PasskeyError::Inactive);
        }
        global::update_many::<user::Entity>()
            .col_expr(user::Column::LastLoginAt, Expr::value(entity::chrono_now()))
            .filter(user::Column::Id.eq(user.id))
            .exec(self.db())
            .await?;
        Ok(user)
    }

    /// Options for the half-signed-in person's passkeys, the ceremony's state kept on their
    /// pending step (the one with key `pending`).
    pub async fn start_second_factor(
        &self,
        user_id: UserId,
        pending: &str,
    ) -> Result<serde_json::Value, PasskeyError> {
        let step = challenges::find(self.db(), pending, Purpose::SecondFactor)
            .await?
            .filter(|step| step.user_id == Some(user_id.get()))
            .ok_or(PasskeyError::Expired)?;
        let mut keys = Vec::new();
        for row in rows(self.db(), user_id).await? {
            keys.push(credential(&row)?);
        }
        if keys.is_empty() {
            return Err(PasskeyError::NoPasskey);
        }
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(&keys)
            .map_err(failed)?;
        challenges::set_state(self.db(), step.id, serde_json::to_string(&state)?).await?;
        Ok(serde_json::to_value(options)?)
    }

    /// Checks the browser's answer to [`Passkeys::start_second_factor`]: one of the person's
    /// passkeys, with user verification. The state is used once; the step itself is ended by
    /// the sign-in it completes.
    pub async fn verify_second_factor(
        &self,
        user_id: UserId,
        pending: &str,
        answer: &PublicKeyCredential,
    ) -> Result<(), PasskeyError> {
        let step = challenges::find(self.db(), pending, Purpose::SecondFactor)
            .await?
            .filter(|step| step.user_id == Some(user_id.get()))
            .ok_or(PasskeyError::Expired)?;
        let state = step.state.ok_or(PasskeyError::Expired)?;
        if !challenges::take_state(self.db(), step.id, &state).await? {
            return Err(PasskeyError::Expired);
        }
        let state: PasskeyAuthentication = serde_json::from_str(&state)?;
        let result = self
            .webauthn
            .finish_passkey_authentication(answer, &state)
            .map_err(refused)?;
        let row = global::select::<passkey::Entity>()
            .filter(passkey::Column::CredentialId.eq(encoded(result.cred_id())))
            .filter(passkey::Column::UserId.eq(user_id.get()))
            .one(self.db())
            .await?
            .ok_or_else(|| PasskeyError::Refused("it is not one of yours".into()))?;
        let stored = credential(&row)?;
        self.used(&row, stored, &result).await
    }

    /// After a passkey answered: refused without user verification (only then is it a second
    /// factor); else its counter and backup state kept, and when it was used.
    async fn used(
        &self,
        row: &passkey::Model,
        mut stored: Passkey,
        result: &AuthenticationResult,
    ) -> Result<(), PasskeyError> {
        if !result.user_verified() {
            return Err(PasskeyError::Refused(
                "the device did not verify you (a PIN, a fingerprint or a face)".into(),
            ));
        }
        stored.update_credential(result);
        let now = entity::chrono_now();
        global::update_many::<passkey::Entity>()
            .col_expr(
                passkey::Column::Passkey,
                Expr::value(serde_json::to_string(&stored)?),
            )
            .col_expr(passkey::Column::LastUsedAt, Expr::value(now))
            .col_expr(passkey::Column::UpdatedAt, Expr::value(now))
            .filter(passkey::Column::Id.eq(row.id))
            .exec(self.db())
            .await?;
        Ok(())
    }
}
