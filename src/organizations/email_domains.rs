//! Email domains an organization proves it owns: an admin adds `acme.com`, publishes the TXT
//! record `_orgs-email.acme.com` = `orgs-email-verify=<token>` and asks for a check. A claim is
//! `pending` until the record is seen, `failed` after [`PENDING_DAYS`] without it; a `verified`
//! domain is looked at again every [`RECHECK_VERIFIED_DAYS`] days and goes back to `pending`
//! when its record is gone. Only one organization can hold a domain verified, and consumer mail
//! domains (`gmail.com` ...) are refused.
//!
//! An email domain is a different claim from a custom host domain (`domains`, under
//! `_orgs-challenge.`): neither ever counts as the other.

use chrono::Duration;
use entity::email_domain;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, IntoActiveModel,
    QueryFilter, QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::roles::{self, RoleError};
use crate::audit::{self, Target};
use crate::db::{OnUniqueViolation as _, insert_unique};
use crate::tenancy::dns::TxtLookup;
use crate::tenancy::{Grant, TenantTxn};
use crate::tokens;

/// Days a claim waits for its record before it fails.
pub const PENDING_DAYS: i64 = 30;
/// How often a pending claim is looked up again, in hours.
pub const RECHECK_PENDING_HOURS: i64 = 24;
/// How often a verified domain is looked up again, in days.
pub const RECHECK_VERIFIED_DAYS: i64 = 7;

/// Consumer and disposable mail domains: nobody's organization owns them.
const CONSUMER: &str = include_str!("consumer_domains.txt");

/// Whether `domain` is a consumer or disposable mail domain.
pub fn is_consumer(domain: &str) -> bool {
    CONSUMER
        .lines()
        .map(str::trim)
        .any(|line| !line.is_empty() && !line.starts_with('#') && line == domain)
}

/// How people with a verified address at a domain join its organization.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JoinMode {
    /// They do not, except by invitation.
    #[default]
    Off,
    /// Their organizations page offers "Join": one click.
    Suggest,
    /// They join when their address is verified, or when they sign in.
    Automatic,
}

impl JoinMode {
    /// Its name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Suggest => "suggest",
            Self::Automatic => "automatic",
        }
    }

    /// The mode stored as `value`.
    pub fn parse(value: &str) -> Self {
        match value {
            "suggest" => Self::Suggest,
            "automatic" => Self::Automatic,
            _ => Self::Off,
        }
    }
}

/// Where a claim stands.
pub mod state {
    /// Waiting for its TXT record.
    pub const PENDING: &str = "pending";
    /// Its record was seen.
    pub const VERIFIED: &str = "verified";
    /// No record within the time allowed.
    pub const FAILED: &str = "failed";
}

/// Why an email domain was refused or not verified.
#[derive(Debug, thiserror::Error)]
pub enum EmailDomainError {
    /// Not a domain name.
    #[error("enter a domain such as acme.com")]
    Invalid,
    /// A consumer or disposable mail domain.
    #[error("{0} is a public mail service: no organization can claim it")]
    Consumer(String),
    /// This organization has claimed it already.
    #[error("this organization has already added this domain")]
    AlreadyClaimed,
    /// Another organization verified it.
    #[error("another organization has verified this domain")]
    Taken,
    /// No such domain in the organization.
    #[error("not found")]
    NotFound,
    /// Join by domain needs a verified domain.
    #[error("verify the domain before people can join by it")]
    NotVerifiedYet,
    /// The TXT record is missing or different.
    #[error("the TXT record {name} does not contain {expected} yet")]
    NotVerified {
        /// The record to publish.
        name: String,
        /// Its value.
        expected: String,
    },
    /// The DNS lookup failed.
    #[error("the DNS lookup failed: {0}")]
    Lookup(String),
    /// The role is unknown, or not one the requester may grant.
    #[error(transparent)]
    Role(#[from] RoleError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl crate::fields::FieldError for EmailDomainError {
    fn field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid | Self::Consumer(_) | Self::Taken | Self::AlreadyClaimed => {
                Some("domain")
            }
            Self::NotVerifiedYet => Some("join"),
            _ => None,
        }
    }
}

/// The TXT record name that proves ownership of the email domain `domain`.
pub fn txt_name(domain: &str) -> String {
    format!("_orgs-email.{domain}")
}

/// The TXT value expected for a claim.
pub fn txt_value(row: &email_domain::Model) -> String {
    format!("orgs-email-verify={}", row.verification_token)
}

/// Checks and normalises an email domain (`Acme.COM.` is `acme.com`).
pub fn clean(domain: &str) -> Result<String, EmailDomainError> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.strip_prefix('@').unwrap_or(&domain).to_string();
    if !super::domains::is_domain_name(&domain) {
        return Err(EmailDomainError::Invalid);
    }
    if is_consumer(&domain) {
        return Err(EmailDomainError::Consumer(domain));
    }
    Ok(domain)
}

/// The domain part of an address, lower-cased.
pub fn domain_of(email: &str) -> Option<String> {
    email
        .rsplit_once('@')
        .map(|(_, domain)| domain.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty())
}

/// Adds a pending claim of `domain`.
pub async fn add(
    tx: &TenantTxn,
    db: &DatabaseConnection,
    domain: &str,
) -> Result<email_domain::Model, EmailDomainError> {
    let domain = clean(domain)?;
    if crate::tenancy::org_rows::by_verified_email_domain(db, &domain)
        .await?
        .is_some_and(|(org, _)| org.id != tx.organization_id().get())
    {
        return Err(EmailDomainError::Taken);
    }
    let mut row: email_domain::ActiveModel = tx.new_active_model();
    row.domain = Set(domain);
    row.verification_token = Set(tokens::generate()[..32].to_string());
    row.state = Set(state::PENDING.into());
    row.join_mode = Set(JoinMode::Off.as_str().into());
    row.pending_since = Set(entity::chrono_now());
    let added = insert_unique(tx.conn(), row)
        .await?
        .ok_or(EmailDomainError::AlreadyClaimed)?;
    audit::record(tx, "email_domain.added", Some(target(&added)), None).await?;
    Ok(added)
}

fn target(row: &email_domain::Model) -> Target {
    Target::new("email_domain", row.id, &row.domain)
}

/// The organization's email domain `id`, if any.
pub async fn get(tx: &TenantTxn, id: i64) -> Result<Option<email_domain::Model>, DbErr> {
    tx.select::<email_domain::Entity>()
        .filter(email_domain::Column::Id.eq(id))
        .one(tx.conn())
        .await
}

/// The organization's email domains, by name.
pub async fn list(tx: &TenantTxn) -> Result<Vec<email_domain::Model>, DbErr> {
    tx.select::<email_domain::Entity>()
        .order_by_asc(email_domain::Column::Domain)
        .all(tx.conn())
        .await
}

/// The organization's verified email domains.
pub async fn verified(tx: &TenantTxn) -> Result<Vec<String>, DbErr> {
    Ok(list(tx)
        .await?
        .into_iter()
        .filter(|d| d.state == state::VERIFIED)
        .map(|d| d.domain)
        .collect())
}

/// Looks the record up now: a claim whose record is there becomes verified (unless another
/// organization verified the domain first); one without it stays pending, or fails once its
/// time is up; a verified domain whose record is gone goes back to pending, audited.
pub async fn verify(
    tx: &TenantTxn,
    dns: &dyn TxtLookup,
    id: i64,
) -> Result<email_domain::Model, EmailDomainError> {
    let row = get(tx, id).await?.ok_or(EmailDomainError::NotFound)?;
    let name = txt_name(&row.domain);
    let expected = txt_value(&row);
    let records = dns
        .lookup_txt(&name)
        .await
        .map_err(|e| EmailDomainError::Lookup(format!("{e:#}")))?;
    let found = records.iter().any(|r| r.trim() == expected);
    let now = entity::chrono_now();
    let was = row.state.clone();
    let id = row.id;
    let mut active = row.into_active_model();
    active.checked_at = Set(Some(now));
    if found {
        if was == state::VERIFIED {
            return Ok(active.update(tx.conn()).await?);
        }
        active.state = Set(state::VERIFIED.into());
        active.verified_at = Set(Some(now));
        // In a savepoint: the unique index of verified domains refuses a second organization.
        let attempt = tx.conn().begin().await?;
        let verified = match active
            .update(&attempt)
            .await
            .on_unique_violation(EmailDomainError::Taken)
        {
            Ok(verified) => verified,
            Err(error) => {
                attempt.rollback().await?;
                // The lookup happened all the same: the claim waits for its next one.
                let mut checked = get(tx, id)
                    .await?
                    .ok_or(EmailDomainError::NotFound)?
                    .into_active_model();
                checked.checked_at = Set(Some(now));
                checked.update(tx.conn()).await?;
                return Err(error);
            }
        };
        attempt.commit().await?;
        audit::record(tx, "email_domain.verified", Some(target(&verified)), None).await?;
        return Ok(verified);
    }
    let (state, action) = match was.as_str() {
        state::VERIFIED => {
            active.pending_since = Set(now);
            active.verified_at = Set(None);
            (state::PENDING, Some("email_domain.unverified"))
        }
        state::PENDING if *active.pending_since.as_ref() + Duration::days(PENDING_DAYS) <= now => {
            (state::FAILED, Some("email_domain.failed"))
        }
        other => (
            if other == state::FAILED {
                state::FAILED
            } else {
                state::PENDING
            },
            None,
        ),
    };
    active.state = Set(state.into());
    let updated = active.update(tx.conn()).await?;
    if was == state::VERIFIED {
        stop_enforcing(tx, &updated.domain).await?;
    }
    if let Some(action) = action {
        audit::record(
            tx,
            action,
            Some(target(&updated)),
            Some(serde_json::json!({ "record": name })),
        )
        .await?;
    }
    if was == state::VERIFIED {
        // The change must be kept though the caller is told the record is missing.
        return Ok(updated);
    }
    Err(EmailDomainError::NotVerified { name, expected })
}

/// Sets how people join by the domain, and with which role (`None`: `member`). Suggest and
/// automatic need a verified domain; the role must be one the requester could grant.
pub async fn set_join(
    tx: &TenantTxn,
    grant: &Grant,
    id: i64,
    join: Option<JoinMode>,
    role: Option<Option<String>>,
) -> Result<email_domain::Model, EmailDomainError> {
    let row = get(tx, id).await?.ok_or(EmailDomainError::NotFound)?;
    let mode = join.unwrap_or(JoinMode::parse(&row.join_mode));
    if mode != JoinMode::Off && row.state != state::VERIFIED {
        return Err(EmailDomainError::NotVerifiedYet);
    }
    let role = match role {
        Some(role) => role.filter(|r| !r.trim().is_empty()),
        None => row.join_role.clone(),
    };
    let keys: Vec<String> = role.iter().cloned().collect();
    super::grants::invitation_roles(tx, grant, &keys).await?;
    let actor = tx.actor();
    let setter = (actor.kind == crate::tenancy::ActorKind::User)
        .then_some(actor.id)
        .flatten();
    if mode.as_str() == row.join_mode && role == row.join_role && setter == row.join_set_by {
        return Ok(row);
    }
    let mut active = row.into_active_model();
    active.join_mode = Set(mode.as_str().into());
    active.join_role = Set(role.clone());
    active.join_set_by = Set(setter);
    let updated = active.update(tx.conn()).await?;
    audit::record(
        tx,
        "email_domain.join_changed",
        Some(target(&updated)),
        Some(serde_json::json!({ "join": mode.as_str(), "role": role })),
    )
    .await?;
    Ok(updated)
}

/// The role rows people joining by `row` get: its role while it exists, else `member`.
pub async fn join_roles(
    tx: &TenantTxn,
    catalog: &crate::permissions::Catalog,
    role: Option<&str>,
) -> Result<Vec<(String, Option<i64>)>, DbErr> {
    let Some(key) = role else {
        return Ok(Vec::new());
    };
    Ok(match roles::get(tx, catalog, key).await? {
        Some(role) => vec![(role.key, role.id)],
        None => Vec::new(),
    })
}

/// Removes one of the organization's email domains; `false` when it has no such domain.
pub async fn remove(tx: &TenantTxn, id: i64) -> Result<bool, DbErr> {
    let Some(existing) = get(tx, id).await? else {
        return Ok(false);
    };
    let removed = tx
        .delete_row::<email_domain::Entity>(email_domain::Column::Id, id)
        .await?;
    if removed {
        stop_enforcing(tx, &existing.domain).await?;
        audit::record(tx, "email_domain.removed", Some(target(&existing)), None).await?;
    }
    Ok(removed)
}

/// The email domains whose members must sign in through the organization's single sign-on
/// (`organizations.sso_enforced`, a JSON array); none when sign-on is not enforced.
pub fn enforced_domains(organization: &entity::organization::Model) -> Vec<String> {
    organization
        .sso_enforced
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default()
}

/// Sets the domains whose members must sign on (`None`: sign-on is not enforced), on the
/// organization's row, locked; the access check reads them with the organization.
pub async fn set_enforced(tx: &TenantTxn, domains: Option<&[String]>) -> Result<(), DbErr> {
    let Some(organization) = tx.lock_organization().await? else {
        return Ok(());
    };
    let enforced = domains.map(|d| serde_json::to_string(d).unwrap_or_else(|_| "[]".into()));
    if organization.sso_enforced == enforced {
        return Ok(());
    }
    let mut row = organization.into_active_model();
    row.sso_enforced = Set(enforced);
    row.update(tx.conn()).await?;
    Ok(())
}

/// Takes `domain` out of the enforced domains: a domain no longer verified binds nobody to the
/// sign-on.
async fn stop_enforcing(tx: &TenantTxn, domain: &str) -> Result<(), DbErr> {
    let Some(organization) = tx.lock_organization().await? else {
        return Ok(());
    };
    let mut domains = enforced_domains(&organization);
    if !domains.iter().any(|d| d == domain) {
        return Ok(());
    }
    domains.retain(|d| d != domain);
    set_enforced(tx, (!domains.is_empty()).then_some(domains.as_slice())).await
}

/// Whether `row` is due for a lookup at `now`: a pending claim daily, a verified domain
/// weekly, a failed one never (its admin asks again).
pub fn due(row: &email_domain::Model, now: chrono::DateTime<chrono::Utc>) -> bool {
    let every = match row.state.as_str() {
        state::PENDING => Duration::hours(RECHECK_PENDING_HOURS),
        state::VERIFIED => Duration::days(RECHECK_VERIFIED_DAYS),
        _ => return false,
    };
    row.checked_at.is_none_or(|at| at + every <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_domains_are_checked_and_normalised() {
        assert_eq!(clean(" Acme.COM. ").unwrap(), "acme.com");
        assert_eq!(clean("@acme.com").unwrap(), "acme.com");
        for bad in ["acme", "-a.com", "a..com", "a b.com", "x.123", ""] {
            assert!(
                matches!(clean(bad), Err(EmailDomainError::Invalid)),
                "{bad}"
            );
        }
    }

    #[test]
    fn public_mail_services_cannot_be_claimed() {
        for public in [
            "gmail.com",
            "outlook.com",
            "yahoo.com",
            "mailinator.com",
            "proton.me",
        ] {
            assert!(
                matches!(clean(public), Err(EmailDomainError::Consumer(_))),
                "{public}"
            );
        }
        assert!(clean("acme.com").is_ok());
    }

    #[test]
    fn an_address_names_its_domain() {
        assert_eq!(domain_of("Ada@Acme.com").as_deref(), Some("acme.com"));
        assert_eq!(domain_of("nobody"), None);
    }
}
