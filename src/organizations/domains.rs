//! Custom domains: an admin adds `app.acme.com`, publishes the TXT record
//! `_orgs-challenge.app.acme.com` = `orgs-verify=<token>`, and asks for verification; from then
//! on the organization answers at that host.
//!
//! Several organizations may claim one domain while it is unverified (a claim proves nothing,
//! so it must not block anyone); the first to verify it wins, and the others' claims lapse.

use entity::OrganizationId;
use entity::organization_domain;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, IntoActiveModel,
    QueryFilter, QueryOrder, TransactionTrait,
};

use crate::audit::{self, Target};
use crate::db::{OnUniqueViolation as _, insert_unique};
use crate::tenancy::TenantTxn;
use crate::tenancy::dns::TxtLookup;
use crate::tokens;

/// Why a domain was refused or not verified.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Not a host name.
    #[error("enter a host name such as app.example.com")]
    Invalid,
    /// Under the service's own domain.
    #[error("addresses under {0} are given by the organization's slug")]
    Ours(String),
    /// This organization has claimed it already.
    #[error("this organization has already added this domain")]
    AlreadyClaimed,
    /// Another organization verified it.
    #[error("another organization has verified this domain")]
    Taken,
    /// No such domain in the organization.
    #[error("not found")]
    NotFound,
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
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl crate::fields::FieldError for DomainError {
    fn field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid | Self::Ours(_) | Self::Taken | Self::AlreadyClaimed => Some("domain"),
            _ => None,
        }
    }
}

/// The TXT record name that proves control of `domain`.
pub fn challenge_name(domain: &str) -> String {
    format!("_orgs-challenge.{domain}")
}

/// The TXT value expected for a domain row.
pub fn challenge_value(row: &organization_domain::Model) -> String {
    format!("orgs-verify={}", row.verification_token)
}

/// Whether `name` (lower-cased, no trailing dot) is a DNS name of two labels or more: each of
/// `a-z`, `0-9` and inner `-`, at most 63 long, 253 in all, and no address (an all-digit last
/// label, an IP literal). Custom host domains and email domains both are.
pub fn is_domain_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && name.parse::<std::net::IpAddr>().is_err()
        && !labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks and normalises a host name.
pub fn clean_domain(domain: &str, base_domain: &str) -> Result<String, DomainError> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if !is_domain_name(&domain) {
        return Err(DomainError::Invalid);
    }
    if domain == base_domain || domain.ends_with(&format!(".{base_domain}")) {
        return Err(DomainError::Ours(base_domain.to_string()));
    }
    Ok(domain)
}

/// Adds an unverified claim of a domain. `db` answers whether another organization already
/// serves it (a public fact: the domain answers for that organization).
pub async fn add(
    tx: &TenantTxn,
    db: &DatabaseConnection,
    domain: &str,
    base_domain: &str,
) -> Result<organization_domain::Model, DomainError> {
    let domain = clean_domain(domain, base_domain)?;
    if crate::tenancy::org_rows::by_verified_domain(db, &domain)
        .await?
        .is_some_and(|org| org.id != tx.organization_id())
    {
        return Err(DomainError::Taken);
    }
    let mut row: organization_domain::ActiveModel = tx.new_active_model();
    row.domain = Set(domain);
    row.verification_token = Set(tokens::generate()[..32].to_string());
    row.verified_at = Set(None);
    let added = insert_unique(tx.conn(), row)
        .await?
        .ok_or(DomainError::AlreadyClaimed)?;
    audit::record(
        tx,
        "domain.added",
        Some(Target::new("domain", added.id, &added.domain)),
        None,
    )
    .await?;
    Ok(added)
}

/// The organization's domain `id`, if any.
pub async fn get(tx: &TenantTxn, id: i64) -> Result<Option<organization_domain::Model>, DbErr> {
    tx.select::<organization_domain::Entity>()
        .filter(organization_domain::Column::Id.eq(id))
        .one(tx.conn())
        .await
}

/// The organization's domains.
pub async fn list(tx: &TenantTxn) -> Result<Vec<organization_domain::Model>, DbErr> {
    tx.select::<organization_domain::Entity>()
        .order_by_asc(organization_domain::Column::Domain)
        .all(tx.conn())
        .await
}

/// Looks up the challenge record and marks the domain verified when it matches.
pub async fn verify(
    tx: &TenantTxn,
    dns: &dyn TxtLookup,
    id: i64,
) -> Result<organization_domain::Model, DomainError> {
    let row = get(tx, id).await?.ok_or(DomainError::NotFound)?;
    if row.verified_at.is_some() {
        return Ok(row);
    }
    let name = challenge_name(&row.domain);
    let expected = challenge_value(&row);
    let records = dns
        .lookup_txt(&name)
        .await
        .map_err(|e| DomainError::Lookup(format!("{e:#}")))?;
    if !records.iter().any(|r| r.trim() == expected) {
        return Err(DomainError::NotVerified { name, expected });
    }
    let id = row.id;
    let mut active = row.into_active_model();
    active.verified_at = Set(Some(entity::chrono_now()));
    // In a savepoint: when another organization verified the domain first, the unique index of
    // verified domains refuses this one, and this claim lapses.
    let attempt = tx.conn().begin().await?;
    match active
        .update(&attempt)
        .await
        .on_unique_violation(DomainError::Taken)
    {
        Ok(verified) => {
            attempt.commit().await?;
            audit::record(
                tx,
                "domain.verified",
                Some(Target::new("domain", verified.id, &verified.domain)),
                None,
            )
            .await?;
            Ok(verified)
        }
        Err(DomainError::Taken) => {
            attempt.rollback().await?;
            remove(tx, id).await?;
            Err(DomainError::Taken)
        }
        Err(error) => Err(error),
    }
}

/// After `organization_id` verified `domain`: the pending claims of other organizations lapse
/// (they could never be verified now). Run after the verification committed.
pub async fn lapse_other_claims(
    db: &DatabaseConnection,
    organization_id: OrganizationId,
    domain: &str,
) -> Result<u64, DbErr> {
    #[expect(
        clippy::disallowed_methods,
        reason = "a verified domain ends the claims other organizations made on it"
    )]
    let system = crate::tenancy::door::system(db, "lapse claims of a verified domain").await?;
    let lapsed = system
        .delete_all::<organization_domain::Entity>()
        .filter(organization_domain::Column::Domain.eq(domain))
        .filter(organization_domain::Column::VerifiedAt.is_null())
        .filter(organization_domain::Column::OrganizationId.ne(organization_id))
        .exec(system.conn())
        .await?
        .rows_affected;
    system.commit().await?;
    Ok(lapsed)
}

/// Removes one of the organization's domains; `false` when it has no such domain.
pub async fn remove(tx: &TenantTxn, id: i64) -> Result<bool, DbErr> {
    let Some(existing) = get(tx, id).await? else {
        return Ok(false);
    };
    let removed = tx
        .delete_row::<organization_domain::Entity>(organization_domain::Column::Id, id)
        .await?;
    if removed {
        audit::record(
            tx,
            "domain.removed",
            Some(Target::new("domain", id, &existing.domain)),
            None,
        )
        .await?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_checked_and_normalised() {
        assert_eq!(
            clean_domain(" App.Acme.COM. ", "example.com").unwrap(),
            "app.acme.com"
        );
        for bad in [
            "acme", "-a.com", "a..com", "1.2.3.4", "a b.com", "a_b.com", "x.123",
        ] {
            assert!(clean_domain(bad, "example.com").is_err(), "{bad}");
        }
        assert!(matches!(
            clean_domain("acme.example.com", "example.com"),
            Err(DomainError::Ours(_))
        ));
    }
}
