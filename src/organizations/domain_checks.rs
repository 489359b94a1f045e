//! The email domains' scheduled lookups, run with the hourly housekeeping: a pending claim is
//! looked up daily (and fails 30 days after it was made), a verified domain weekly (and goes
//! back to pending, audited, when its record is gone). Each domain in its organization's own
//! transaction, so one organization's lookup never holds another's rows.

use entity::{OrganizationId, email_domain};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, QueryFilter};

use super::email_domains::{self, EmailDomainError, state};
use crate::events::Events;
use crate::tenancy::dns::TxtLookup;

/// What a pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rechecked {
    /// Domains looked up.
    pub checked: u64,
    /// Lookups that failed (the DNS server did not answer): tried again next pass.
    pub failed_lookups: u64,
}

/// Looks up every domain due at `now` ([`email_domains::due`]).
pub async fn recheck_due(db: &DatabaseConnection, dns: &dyn TxtLookup) -> Result<Rechecked, DbErr> {
    let now = entity::chrono_now();
    #[expect(
        clippy::disallowed_methods,
        reason = "the scheduled lookups find the due domains of every organization"
    )]
    let system = crate::tenancy::door::system_read(db, "find email domains due a lookup").await?;
    let rows = system
        .select_all::<email_domain::Entity>()
        .filter(email_domain::Column::State.is_in([state::PENDING, state::VERIFIED]))
        .all(system.conn())
        .await?;
    system.commit().await?;
    let quiet = Events::new();
    let mut done = Rechecked::default();
    for row in rows.into_iter().filter(|row| email_domains::due(row, now)) {
        #[expect(
            clippy::disallowed_methods,
            reason = "a scheduled lookup updates one organization's email domain"
        )]
        let tx = crate::tenancy::door::tenant(db, &quiet, OrganizationId(row.organization_id))
            .await?
            .acting_for(crate::tenancy::Actor::system("email domain check"));
        done.checked += 1;
        match email_domains::verify(&tx, dns, row.id).await {
            Ok(_) | Err(EmailDomainError::NotVerified { .. } | EmailDomainError::Taken) => {
                tx.commit().await?;
            }
            Err(EmailDomainError::Lookup(error)) => {
                done.failed_lookups += 1;
                tracing::warn!(domain = row.domain, %error, "an email domain could not be looked up");
            }
            Err(EmailDomainError::Db(e)) => return Err(e),
            Err(other) => {
                tracing::warn!(domain = row.domain, %other, "an email domain check failed")
            }
        }
    }
    Ok(done)
}
