//! Who a verified sign-on is, decided strictly, in the organization's transaction:
//!
//! 1. An identity linked before, the pair (issuer, `sub`), is its account, whatever the email
//!    claim says now, while the account's address is still at a domain the organization has
//!    verified and listed on the connection.
//! 2. Otherwise the email claim must be at such a domain; anything else is refused and audited.
//!    The provider's `email_verified` never vouches for an address (Entra does not send it):
//!    the organization's proof of its domain does; a provider that says `false` is believed.
//! 3. A new address gets a new account (no password). An existing account is linked only when
//!    it has no credential of its own (no password, no factor), or when this browser is signed
//!    in to it already: an organization's provider never takes over an account someone can
//!    sign in to otherwise, and never a superuser's. A sign-up never activated is taken over
//!    by its address's owner: its password and sign-ins end (whoever typed that address at
//!    sign-up never proved it).
//! 4. A person who is not a member joins, taking a seat: with the roles of a pending
//!    invitation of their address (when its inviter still grants them), else the connection's
//!    role (while whoever saved it still could grant it). `member.added` is audited and
//!    `UserAdded` fires like on every other path.

use entity::{
    OrganizationId, organization, organization_invitation, sso_connection, sso_identity, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, IntoActiveModel,
    QueryFilter,
};

use super::SsoError;
use super::connection::domains_of;
use super::flow::Asserted;
use crate::audit::{self, Target};
use crate::auth::{PasswordHasher, users};
use crate::events::Events;
use crate::organizations::email_domains::{self, domain_of};
use crate::organizations::seats::Take;
use crate::organizations::{OrgError, get_or_add_user_holding, grants, members, roles};
use crate::permissions::Catalog;
use crate::tenancy::{Actor, TenantTxn};

/// A sign-on's outcome.
#[derive(Clone, Debug)]
pub struct SignedOn {
    /// The account.
    pub user: user::Model,
    /// The organization.
    pub organization: organization::Model,
    /// The account was made now.
    pub created: bool,
    /// The membership was made now.
    pub joined: bool,
    /// The provider asserted a second factor and the connection trusts it.
    pub provider_second_factor: bool,
}

/// Decides who `asserted` is for the organization of `row` and makes them a member.
pub async fn sign_on(
    db: &DatabaseConnection,
    events: &Events,
    catalog: &Catalog,
    hasher: &PasswordHasher,
    row: &sso_connection::Model,
    asserted: &Asserted,
    signed_in: Option<entity::UserId>,
) -> Result<SignedOn, SsoError> {
    #[expect(
        clippy::disallowed_methods,
        reason = "a sign-on brings its person into the organization: no membership of theirs opens it yet"
    )]
    let tx = crate::tenancy::door::tenant(db, events, OrganizationId(row.organization_id)).await?;
    let organization = tx
        .lock_organization()
        .await?
        .ok_or(SsoError::NotConfigured)?;
    let linked = tx
        .select::<sso_identity::Entity>()
        .filter(sso_identity::Column::Issuer.eq(asserted.issuer.as_str()))
        .filter(sso_identity::Column::Subject.eq(asserted.subject.as_str()))
        .one(tx.conn())
        .await?;
    let (user, created) = match linked {
        Some(identity) => {
            let user = users::find_by_id(tx.conn(), entity::UserId(identity.user_id))
                .await?
                .ok_or_else(|| SsoError::Refused("the linked account is gone".into()))?;
            let domain = domain_of(&user.email).unwrap_or_default();
            if !answers_for(&tx, row, &domain).await? {
                let refusal = refuse(
                    &tx,
                    row,
                    asserted,
                    &user.email,
                    "the linked account's address is no longer at a domain this organization has verified and listed",
                )
                .await?;
                tx.commit().await?;
                return Err(refusal);
            }
            let mut identity = identity.into_active_model();
            identity.last_sign_in_at = Set(Some(entity::chrono_now()));
            identity.update(tx.conn()).await?;
            (user, false)
        }
        None => match link(&tx, hasher, row, asserted, signed_in).await? {
            Ok(found) => found,
            Err(refusal) => {
                // The refusal is kept: the audit row commits, nothing else was written.
                tx.commit().await?;
                return Err(refusal);
            }
        },
    };
    if !user.is_active {
        return Err(SsoError::Refused("this account is deactivated".into()));
    }
    let tx = tx.acting_for(Actor::user(&user));
    let joined = match members::membership(&tx, user.id()).await? {
        Some(_) => false,
        None => join(&tx, catalog, row, &user).await?,
    };
    tx.commit().await?;
    Ok(SignedOn {
        user,
        organization,
        created,
        joined,
        provider_second_factor: row.trust_idp_mfa && asserted.second_factor(),
    })
}

/// Whether the connection `row` answers for `domain` now: listed on it and verified by the
/// organization.
async fn answers_for(
    tx: &TenantTxn,
    row: &sso_connection::Model,
    domain: &str,
) -> Result<bool, sea_orm::DbErr> {
    Ok(domains_of(row).iter().any(|d| d == domain)
        && email_domains::verified(tx)
            .await?
            .iter()
            .any(|d| d == domain))
}

/// Audits a refused claim and says why to the person.
async fn refuse(
    tx: &TenantTxn,
    row: &sso_connection::Model,
    asserted: &Asserted,
    email: &str,
    reason: &str,
) -> Result<SsoError, SsoError> {
    audit::record(
        tx,
        "sso.claim_refused",
        Some(Target::new("sso_connection", row.id, &row.issuer)),
        Some(serde_json::json!({
            "email": email, "subject": asserted.subject, "reason": reason,
        })),
    )
    .await?;
    Ok(SsoError::Refused(format!(
        "{reason}. (This organization's single sign-on answers for {}.)",
        domains_of(row).join(", ")
    )))
}

/// Links a first sign-on of (issuer, `sub`) to an account, or refuses it (audited).
async fn link(
    tx: &TenantTxn,
    hasher: &PasswordHasher,
    row: &sso_connection::Model,
    asserted: &Asserted,
    signed_in: Option<entity::UserId>,
) -> Result<Result<(user::Model, bool), SsoError>, SsoError> {
    let email = asserted.email.clone().unwrap_or_default();
    let domain = domain_of(&email).unwrap_or_default();
    let refusal = if email.is_empty() || users::normalize_email(&email).is_err() {
        Some("the identity provider sent no usable email address")
    } else if !domains_of(row).contains(&domain) {
        Some("the address is outside the connection's domains")
    } else if !answers_for(tx, row, &domain).await? {
        Some("the address's domain is not verified by this organization")
    } else if asserted.email_verified == Some(false) {
        Some("the identity provider says this address is not verified")
    } else {
        None
    };
    if let Some(reason) = refusal {
        return Ok(Err(refuse(tx, row, asserted, &email, reason).await?));
    }
    if let Some(existing) = users::find_by_email(tx.conn(), &email).await?
        && (existing.is_active || existing.email_verified_at.is_some())
    {
        let reason = if existing.is_superuser {
            Some("a superuser's account is never linked by a sign-on")
        } else if signed_in == Some(existing.id()) {
            None
        } else if existing.password_hash.is_some()
            || crate::auth::two_factor::factors(tx.conn(), existing.id())
                .await?
                .any()
        {
            Some(
                "an account with this address exists and signs in on its own: sign in to it first \
                 (its password, and its second factor), then sign on again to link it",
            )
        } else {
            None
        };
        if let Some(reason) = reason {
            return Ok(Err(refuse(tx, row, asserted, &email, reason).await?));
        }
    }
    let (user, created) = match users::find_by_email(tx.conn(), &email).await? {
        Some(existing) if !existing.is_active && existing.email_verified_at.is_none() => {
            crate::auth::sessions::delete_all_for_user(tx.conn(), existing.id(), None).await?;
            let mut active = existing.into_active_model();
            active.password_hash = Set(None);
            active.email_verified_at = Set(Some(entity::chrono_now()));
            active.is_active = Set(true);
            (active.update(tx.conn()).await?, false)
        }
        Some(existing) => (existing, false),
        None => {
            let new = users::NewUser {
                email: email.clone(),
                name: asserted.name.clone().unwrap_or_default(),
                password: None,
                is_superuser: false,
            };
            let checked = match new.check(hasher).await {
                Ok(checked) => checked,
                // A name the provider sent that orgs' rules refuse: the account goes without.
                Err(_) => users::NewUser {
                    email: email.clone(),
                    ..Default::default()
                }
                .check(hasher)
                .await
                .map_err(|e| SsoError::Refused(e.to_string()))?,
            };
            let user = checked.verified().insert(tx.conn()).await?.ok_or_else(|| {
                SsoError::Refused(
                    "an account with this address was made a moment ago: try again".into(),
                )
            })?;
            (user, true)
        }
    };
    let mut identity: sso_identity::ActiveModel = tx.new_active_model();
    identity.issuer = Set(asserted.issuer.clone());
    identity.subject = Set(asserted.subject.clone());
    identity.user_id = Set(user.id);
    identity.last_sign_in_at = Set(Some(entity::chrono_now()));
    identity.insert(tx.conn()).await?;
    audit::record(
        tx,
        "sso.identity_linked",
        Some(Target::new("member", user.id, user.display_name())),
        Some(serde_json::json!({
            "issuer": asserted.issuer, "subject": asserted.subject, "account_created": created,
        })),
    )
    .await?;
    Ok(Ok((user, created)))
}

/// Makes `user` a member: a pending invitation's roles when its inviter still grants them,
/// else the connection's role. Takes a seat.
async fn join(
    tx: &TenantTxn,
    catalog: &Catalog,
    row: &sso_connection::Model,
    user: &user::Model,
) -> Result<bool, SsoError> {
    let invitation = tx
        .select::<organization_invitation::Entity>()
        .filter(organization_invitation::Column::Email.eq(user.email.as_str()))
        .filter(organization_invitation::Column::AcceptedAt.is_null())
        .filter(organization_invitation::Column::RevokedAt.is_null())
        .filter(organization_invitation::Column::ExpiresAt.gt(entity::chrono_now()))
        .one(tx.conn())
        .await?;
    let roles = match &invitation {
        Some(invitation) if grants::inviter_still_grants(tx, catalog, invitation).await? => {
            roles::invitation_role_rows(tx, invitation.id).await?
        }
        _ => {
            let roles = email_domains::join_roles(tx, catalog, Some(&row.role)).await?;
            if !grants::setter_still_grants(tx, catalog, row.role_set_by, &roles).await? {
                return Err(SsoError::Refused(
                    "the role this sign-on gives is no longer one whoever saved the connection \
                     could grant: an admin of the organization must save it again"
                        .into(),
                ));
            }
            roles
        }
    };
    match get_or_add_user_holding(tx, user.id(), false, &roles, Take::New).await {
        Ok((_, added)) => Ok(added),
        Err(OrgError::SeatLimit(full)) => Err(SsoError::Refused(format!(
            "{full}: ask an admin of this organization to free a seat"
        ))),
        Err(OrgError::Db(e)) => Err(e.into()),
        Err(other) => Err(SsoError::Refused(other.to_string())),
    }
}
