//! An organization's sign-in security: whether its members must sign in with a second factor
//! (`two_factor_required`). Changed by holders of `security.manage` after a recent sign-in
//! (the handlers check both); turned on only by a person whose own sign-in used a second
//! factor, so nobody requires of others what they do not do, nor locks themselves out.

use entity::organization;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, IntoActiveModel as _};

use super::OrgError;
use crate::audit::{self, Target};
use crate::tenancy::TenantTxn;

/// Turns the requirement on or off; `actor_second_factor`: whether the person doing it signed
/// in with a second factor (an API key is no person: `false`). Unchanged: nothing recorded.
pub async fn set_two_factor_required(
    tx: &TenantTxn,
    required: bool,
    actor_second_factor: bool,
) -> Result<organization::Model, OrgError> {
    let organization = super::lifecycle::lock_organization(tx).await?;
    if organization.two_factor_required == required {
        return Ok(organization);
    }
    if required && !actor_second_factor {
        return Err(OrgError::TwoFactorNotYours);
    }
    let mut row = organization.into_active_model();
    row.two_factor_required = Set(required);
    let updated = row.update(tx.conn()).await?;
    let action = if required {
        "security.two_factor_required"
    } else {
        "security.two_factor_optional"
    };
    audit::record(
        tx,
        action,
        Some(Target::new("organization", updated.id, &updated.name)),
        Some(serde_json::json!({ "two_factor_required": { "from": !required, "to": required } })),
    )
    .await?;
    Ok(updated)
}
