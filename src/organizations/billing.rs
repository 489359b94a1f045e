//! What the customer pays for: an organization's seat limit, plan and entitlements. Set by the
//! embedding app's billing through [`set`] (and the operator's API and CLI on top of it), never
//! by the organization's own admins; every change is in the audit log with who made it, and
//! fires [`OrgEvent::BillingChanged`](crate::events::OrgEvent::BillingChanged).
//!
//! A feature is on when the organization has no plan, or when its entitlements say `true` for
//! it ([`has_feature`]); a tenant route that names a feature answers 402 `plan_required` when
//! it is off.

use std::collections::BTreeMap;

use entity::{OrganizationId, organization};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, DatabaseConnection, DbErr, IntoActiveModel as _,
};
use serde_json::json;

use super::seats::{self, Seats};
use crate::audit::{self, Target};
use crate::events::{Events, OrgEvent};
use crate::fields::FieldErrors;
use crate::tenancy::{Actor, TenantTxn};

/// The most feature flags a plan may carry.
pub const MAX_FEATURES: usize = 64;

/// Feature flags by key.
pub type Entitlements = BTreeMap<String, bool>;

/// An organization's billing as the operator's API shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = SystemOrganization)]
pub struct Billing {
    /// The organization.
    pub id: i64,
    /// Its address.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// How many seats it may use; null is no limit, 0 is none.
    pub seat_limit: Option<u64>,
    /// Members and pending invitations.
    pub seats_used: u64,
    /// Its plan's key; null is no plan (every feature on).
    pub plan: Option<String>,
    /// Its feature flags.
    pub entitlements: Entitlements,
}

/// A change of billing: each field given is set, each left out stays.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// The new seat limit (`Some(None)`: no limit).
    pub seat_limit: Option<Option<u64>>,
    /// The new plan (`Some(None)`: no plan).
    pub plan: Option<Option<String>>,
    /// The new feature flags, replacing the old.
    pub entitlements: Option<Entitlements>,
}

/// Why a change of billing was refused.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// Fields that break a rule, named (`plan`, `entitlements.sso`).
    #[error("{}", crate::fields::summary(.0))]
    Fields(FieldErrors),
    /// No such organization.
    #[error("organization not found")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Whether `key` may name a plan or a feature: 1 to 40 of `a-z`, `0-9`, `_`, `-`, starting with
/// a letter or a digit.
pub fn is_key(key: &str) -> bool {
    (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The feature flags an organization's row keeps.
pub fn entitlements_of(organization: &organization::Model) -> Entitlements {
    organization
        .entitlements
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// Whether the organization's plan includes `feature`: yes without a plan, else what its
/// entitlements say (a feature they do not name is off).
pub fn has_feature(organization: &organization::Model, feature: &str) -> bool {
    organization.plan.is_none() || entitlements_of(organization).get(feature) == Some(&true)
}

/// The organization's billing as `tx` sees it.
pub async fn get(tx: &TenantTxn) -> Result<Billing, BillingError> {
    let organization = tx.organization().await?.ok_or(BillingError::NotFound)?;
    let seats = seats::of(tx).await?;
    Ok(view(&organization, seats))
}

fn view(organization: &organization::Model, seats: Seats) -> Billing {
    Billing {
        id: organization.id,
        slug: organization.slug.clone(),
        name: organization.name.clone(),
        seat_limit: seats::limit_of(organization.seat_limit),
        seats_used: seats.used,
        plan: organization.plan.clone(),
        entitlements: entitlements_of(organization),
    }
}

/// Checks a change before it is made: a plan and each feature a key ([`is_key`]), at most
/// [`MAX_FEATURES`] features, a limit the database can keep.
pub fn check(change: &Change) -> Result<(), BillingError> {
    let mut fields = FieldErrors::new();
    if let Some(Some(plan)) = &change.plan
        && !is_key(plan)
    {
        fields.insert(
            "plan".into(),
            vec!["1 to 40 of a-z, 0-9, _ and -, starting with a letter or digit".into()],
        );
    }
    if let Some(Some(limit)) = change.seat_limit
        && i64::try_from(limit).is_err()
    {
        fields.insert("seat_limit".into(), vec!["too large".into()]);
    }
    if let Some(features) = &change.entitlements {
        if features.len() > MAX_FEATURES {
            fields.insert(
                "entitlements".into(),
                vec![format!("at most {MAX_FEATURES} features")],
            );
        }
        for key in features.keys().filter(|key| !is_key(key)) {
            fields.insert(
                format!("entitlements.{key}"),
                vec!["a feature's key is 1 to 40 of a-z, 0-9, _ and -".into()],
            );
        }
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(BillingError::Fields(fields))
    }
}

/// Makes `change` in `tx` (with the organization's row locked) and records it as `tx`'s actor
/// made it: `billing.seat_limit_changed` and `billing.plan_changed` in the audit log, each only
/// when something changed. Lowering the limit below use blocks new seats; it removes nobody.
pub async fn set(tx: &TenantTxn, change: Change) -> Result<Billing, BillingError> {
    check(&change)?;
    let before = tx
        .lock_organization()
        .await?
        .ok_or(BillingError::NotFound)?;
    let old_limit = seats::limit_of(before.seat_limit);
    let old_features = entitlements_of(&before);
    let new_limit = change.seat_limit.unwrap_or(old_limit);
    let new_plan = change.plan.clone().unwrap_or_else(|| before.plan.clone());
    let new_features = change.entitlements.clone().unwrap_or(old_features.clone());
    let limit_changed = new_limit != old_limit;
    let plan_changed = new_plan != before.plan || new_features != old_features;
    if !limit_changed && !plan_changed {
        let seats = seats::of(tx).await?;
        return Ok(view(&before, seats));
    }
    let (old_plan, name, id) = (before.plan.clone(), before.name.clone(), before.id);
    let mut row = before.into_active_model();
    row.seat_limit = Set(new_limit.and_then(|n| i64::try_from(n).ok()));
    row.plan = Set(new_plan.clone());
    row.entitlements = Set(if new_features.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&new_features).map_err(|e| DbErr::Custom(e.to_string()))?)
    });
    let updated = row.update(tx.conn()).await?;
    let target = || Some(Target::new("organization", id, &name));
    if limit_changed {
        audit::record(
            tx,
            "billing.seat_limit_changed",
            target(),
            Some(json!({ "seat_limit": { "from": old_limit, "to": new_limit } })),
        )
        .await?;
    }
    if plan_changed {
        audit::record(
            tx,
            "billing.plan_changed",
            target(),
            Some(json!({
                "plan": { "from": old_plan, "to": new_plan },
                "entitlements": { "from": old_features, "to": new_features },
            })),
        )
        .await?;
    }
    tx.fire(OrgEvent::BillingChanged {
        organization_id: id,
        seat_limit: new_limit,
        plan: new_plan,
        by: tx.actor().name.clone(),
    });
    let seats = seats::of(tx).await?;
    Ok(view(&updated, seats))
}

/// The billing of the organization `id`, read in a transaction of its own: the operator's
/// API and CLI, or an embedding app's billing.
pub async fn read(db: &DatabaseConnection, id: OrganizationId) -> Result<Billing, BillingError> {
    #[expect(
        clippy::disallowed_methods,
        reason = "billing names the organization by its id, outside any request"
    )]
    let tx = crate::tenancy::door::tenant_read(db, id).await?;
    let billing = get(&tx).await?;
    tx.commit().await?;
    Ok(billing)
}

/// Makes `change` to the organization `id` as `actor` (what the audit log records), in a
/// transaction of its own: what an embedding app's billing calls when a subscription changes.
/// Within a request that writes, the server's caches are emptied after it; from a job, call
/// `state.caches.invalidate()` to have every instance see the change at once rather than
/// within `cache.ttl_ms`.
pub async fn change(
    db: &DatabaseConnection,
    events: &Events,
    id: OrganizationId,
    actor: Actor,
    change: Change,
) -> Result<Billing, BillingError> {
    let tx = open(db, events, id).await?.acting_for(actor);
    let billing = set(&tx, change).await?;
    tx.commit().await?;
    Ok(billing)
}

async fn open(
    db: &DatabaseConnection,
    events: &Events,
    id: OrganizationId,
) -> Result<TenantTxn, DbErr> {
    #[expect(
        clippy::disallowed_methods,
        reason = "billing names the organization by its id, outside any request"
    )]
    crate::tenancy::door::tenant(db, events, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_and_feature_keys_are_short_lowercase_words() {
        for good in ["sso", "scim", "pro-2026", "team_plan", "9lives"] {
            assert!(is_key(good), "{good}");
        }
        for bad in ["", "SSO", "-x", "_x", "a b", "é", &"x".repeat(41)] {
            assert!(!is_key(bad), "{bad}");
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let change = Change {
            plan: Some(Some("Pro Plan".into())),
            entitlements: Some(BTreeMap::from([
                ("SSO".into(), true),
                ("scim".into(), true),
            ])),
            ..Change::default()
        };
        let Err(BillingError::Fields(fields)) = check(&change) else {
            panic!("refused");
        };
        assert!(fields.contains_key("plan"));
        assert!(fields.contains_key("entitlements.SSO"));
        assert!(!fields.contains_key("entitlements.scim"));
    }
}
