//! A person's own security log (`security_events`): factors added and removed, recovery codes
//! used and renewed, sign-ins locked after wrong codes. Shown on their account page; an
//! organization's audit log is a different thing and never holds these.

use entity::{UserId, security_event};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::tenancy::global;

/// What happened to a person's sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityAction {
    /// An authenticator app was set up.
    TotpEnabled,
    /// The authenticator app was removed.
    TotpDisabled,
    /// A passkey was added.
    PasskeyAdded,
    /// A passkey was removed.
    PasskeyRemoved,
    /// New recovery codes replaced the old ones.
    RecoveryCodesRenewed,
    /// A recovery code was used.
    RecoveryCodeUsed,
    /// Too many wrong codes: the sign-in ended and the password is needed again, later.
    SignInLocked,
    /// An operator removed every second factor (`orgs user reset-two-factor`).
    FactorsReset,
}

impl SecurityAction {
    /// The stored name.
    pub fn key(self) -> &'static str {
        match self {
            Self::TotpEnabled => "totp.enabled",
            Self::TotpDisabled => "totp.disabled",
            Self::PasskeyAdded => "passkey.added",
            Self::PasskeyRemoved => "passkey.removed",
            Self::RecoveryCodesRenewed => "recovery_codes.renewed",
            Self::RecoveryCodeUsed => "recovery_code.used",
            Self::SignInLocked => "sign_in.locked",
            Self::FactorsReset => "factors.reset",
        }
    }

    /// How the account page says it.
    pub fn sentence(key: &str) -> &'static str {
        match key {
            "totp.enabled" => "Authenticator app set up",
            "totp.disabled" => "Authenticator app removed",
            "passkey.added" => "Passkey added",
            "passkey.removed" => "Passkey removed",
            "recovery_codes.renewed" => "New recovery codes made",
            "recovery_code.used" => "Recovery code used",
            "sign_in.locked" => "Sign-in stopped after too many wrong codes",
            "factors.reset" => "Every second factor removed",
            _ => "Security change",
        }
    }

    /// Whether it adds or removes a factor (the person's other sessions end, and they are
    /// told by mail).
    pub fn changes_a_factor(self) -> bool {
        matches!(
            self,
            Self::TotpEnabled
                | Self::TotpDisabled
                | Self::PasskeyAdded
                | Self::PasskeyRemoved
                | Self::FactorsReset
        )
    }
}

/// Writes one entry.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    action: SecurityAction,
    detail: Option<String>,
    client_ip: Option<&str>,
) -> Result<(), DbErr> {
    security_event::ActiveModel {
        user_id: Set(user_id.get()),
        action: Set(action.key().to_string()),
        detail: Set(detail),
        client_ip: Set(client_ip.map(str::to_string)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// One entry as the account page and the API show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SecurityEventJson {
    /// What happened (`totp.enabled`, `passkey.removed`, `recovery_code.used` ...).
    pub action: String,
    /// The sentence the account page shows.
    pub description: &'static str,
    /// A detail: a passkey's name, how many recovery codes remain.
    pub detail: Option<String>,
    /// The client's address.
    pub client_ip: Option<String>,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The person's newest `limit` entries.
pub async fn newest<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    limit: u64,
) -> Result<Vec<SecurityEventJson>, DbErr> {
    let rows = global::select::<security_event::Entity>()
        .filter(security_event::Column::UserId.eq(user_id.get()))
        .order_by_desc(security_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| SecurityEventJson {
            description: SecurityAction::sentence(&row.action),
            action: row.action,
            detail: row.detail,
            client_ip: row.client_ip,
            created_at: row.created_at,
        })
        .collect())
}
