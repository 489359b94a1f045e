//! Joining an organization by one's email domain: a person whose *verified* address is at a
//! domain an organization verified, with join set to `suggest`, is offered "Join" on their
//! organizations page; with `automatic`, they join when their address is verified and whenever
//! they sign in. They get the domain's role (which its setter could grant) and take a seat; the
//! audit log gives the domain as the reason. An address typed at sign-up and never verified
//! counts for nothing.

use entity::{OrganizationId, user};
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;

use super::email_domains::{self, JoinMode, domain_of, state};
use super::seats::Take;
use super::{OrgError, get_or_add_user_holding};
use crate::audit::{self, Target};
use crate::events::Events;
use crate::permissions::Catalog;
use crate::tenancy::{Actor, org_rows};

/// An organization a person may join by their address's domain.
#[derive(Clone, Debug, Serialize)]
pub struct Offer {
    /// Its id.
    pub organization_id: i64,
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// The domain.
    pub domain: String,
    /// `suggest` or `automatic`.
    pub join: JoinMode,
}

/// The organization `user`'s verified address may join by its domain, when they are not in it.
pub async fn offer(db: &DatabaseConnection, user: &user::Model) -> Result<Option<Offer>, DbErr> {
    if user.email_verified_at.is_none() || !user.is_active {
        return Ok(None);
    }
    let Some(domain) = domain_of(&user.email) else {
        return Ok(None);
    };
    let Some((organization, row)) = org_rows::by_verified_email_domain(db, &domain).await? else {
        return Ok(None);
    };
    let join = JoinMode::parse(&row.join_mode);
    if join == JoinMode::Off
        || org_rows::is_member(db, OrganizationId(organization.id), user.id()).await?
    {
        return Ok(None);
    }
    Ok(Some(Offer {
        organization_id: organization.id,
        slug: organization.slug,
        name: organization.name,
        domain,
        join,
    }))
}

/// Why a join by domain did not happen.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The person's address gives no way in (unverified, another domain, join off).
    #[error("your address does not let you join this organization")]
    NotOffered,
    /// Whoever set the domain's role no longer holds what it gives (the grant rule).
    #[error(
        "the role this domain gives is no longer one its setter could grant: an admin must set it again"
    )]
    SetterLacks,
    /// The organization has no free seat.
    #[error(transparent)]
    Org(#[from] OrgError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Joins `user` to `organization_id` by their address's domain, when it is verified there
/// and its join mode allows: `suggest` or `automatic` for a click, only `automatic` when
/// `automatic` (a sign-in). Re-checked in the organization's transaction, its row locked.
/// `Ok(false)` when they were a member already.
pub async fn join(
    db: &DatabaseConnection,
    events: &Events,
    catalog: &Catalog,
    user: &user::Model,
    organization_id: OrganizationId,
    automatic: bool,
) -> Result<bool, JoinError> {
    if user.email_verified_at.is_none() || !user.is_active {
        return Err(JoinError::NotOffered);
    }
    let Some(domain) = domain_of(&user.email) else {
        return Err(JoinError::NotOffered);
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "a person joins by their address's domain: no membership of theirs opens it yet"
    )]
    let tx = crate::tenancy::door::tenant(db, events, organization_id).await?;
    let tx = tx.acting_for(Actor::user(user));
    tx.lock_organization().await?;
    let row = email_domains::list(&tx)
        .await?
        .into_iter()
        .find(|d| d.domain == domain && d.state == state::VERIFIED);
    let allowed = row
        .as_ref()
        .is_some_and(|d| match JoinMode::parse(&d.join_mode) {
            JoinMode::Off => false,
            JoinMode::Suggest => !automatic,
            JoinMode::Automatic => true,
        });
    let Some(row) = row.filter(|_| allowed) else {
        return Err(JoinError::NotOffered);
    };
    let roles = email_domains::join_roles(&tx, catalog, row.join_role.as_deref()).await?;
    if !super::grants::setter_still_grants(&tx, catalog, row.join_set_by, &roles).await? {
        return Err(JoinError::SetterLacks);
    }
    let (membership, added) =
        get_or_add_user_holding(&tx, user.id(), false, &roles, Take::New).await?;
    if added {
        audit::record(
            &tx,
            "member.joined_by_domain",
            Some(Target::new("member", user.id, user.display_name())),
            Some(serde_json::json!({
                "domain": row.domain,
                "membership_id": membership.id,
                "join": row.join_mode,
            })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(added)
}

/// At a sign-in or an address's verification: joins the organization whose domain is set to
/// `automatic`, if any; its id when they joined. A full organization is skipped (logged): the
/// sign-in goes on. Every statement runs in a transaction (`db` is the raw pool).
pub async fn join_automatically(
    db: &DatabaseConnection,
    events: &Events,
    catalog: &Catalog,
    user: &user::Model,
) -> Result<Option<OrganizationId>, DbErr> {
    let Some(offer) = offer(db, user).await? else {
        return Ok(None);
    };
    if offer.join != JoinMode::Automatic {
        return Ok(None);
    }
    let organization_id = OrganizationId(offer.organization_id);
    match join(db, events, catalog, user, organization_id, true).await {
        Ok(true) => Ok(Some(organization_id)),
        Ok(false) | Err(JoinError::NotOffered) => Ok(None),
        Err(error @ JoinError::SetterLacks) => {
            tracing::info!(
                organization_id = offer.organization_id,
                user_id = user.id,
                "no automatic join: {error}"
            );
            Ok(None)
        }
        Err(JoinError::Db(e) | JoinError::Org(OrgError::Db(e))) => Err(e),
        Err(JoinError::Org(other)) => {
            tracing::info!(
                organization_id = offer.organization_id,
                user_id = user.id,
                "no automatic join: {other}"
            );
            Ok(None)
        }
    }
}
