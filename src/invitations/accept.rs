//! Answering an invitation link: looking it up, accepting it (signed in with the invited address,
//! or as a new person: the claim, the new account and the membership commit together or not at
//! all), or declining it. Each runs in the transaction of the invitation's organization, found
//! by the link's token.

use entity::UserId;
use entity::{organization, organization_invitation, user};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, QueryFilter};

use super::{AcceptError, end};
use crate::audit::{self, Target};
use crate::auth::{NewUser, PasswordHasher, UserError, users};
use crate::events::Events;
use crate::organizations::grants;
use crate::organizations::seats::Take;
use crate::permissions::Catalog;
use crate::tenancy::{Actor, TenantTxn};
use crate::tokens;

/// `kurt@nirvana.com` -> `k***@n***.com`: enough to recognise one's own address, not to learn
/// someone else's.
pub fn mask_email(email: &str) -> String {
    let Some((local, domain)) = email.split_once('@') else {
        return "***".into();
    };
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let tld = if tld.is_empty() {
        String::new()
    } else {
        format!(".{tld}")
    };
    format!("{}***@{}***{tld}", first(local), first(host))
}

/// A usable invitation and its organization.
#[derive(Clone, Debug)]
pub struct Pending {
    /// The invitation.
    pub invitation: organization_invitation::Model,
    /// The organization it is for.
    pub organization: organization::Model,
}

/// Whether the invitation can still be used, and why not.
fn usable(invitation: &organization_invitation::Model) -> Result<(), AcceptError> {
    if invitation.accepted_at.is_some() {
        return Err(AcceptError::Used);
    }
    if invitation.revoked_at.is_some() {
        return Err(AcceptError::Revoked);
    }
    if invitation.expires_at <= entity::chrono_now() {
        return Err(AcceptError::Expired);
    }
    Ok(())
}

/// The usable invitation a link names, with the transaction of its organization (`write` to
/// accept or decline it in that same transaction).
async fn open(
    db: &DatabaseConnection,
    events: &Events,
    secret: &str,
    write: bool,
) -> Result<(TenantTxn, Pending), AcceptError> {
    #[expect(
        clippy::disallowed_methods,
        reason = "an invitation link is resolved before any tenant is known"
    )]
    let found =
        crate::tenancy::door::invitation(db, events, &tokens::hash(secret.trim()), write).await?;
    let (tx, invitation) = found.ok_or(AcceptError::Unknown)?;
    usable(&invitation)?;
    let organization = tx.organization().await?.ok_or(AcceptError::Unknown)?;
    Ok((
        tx,
        Pending {
            invitation,
            organization,
        },
    ))
}

/// The invitation a link names, if it can still be used.
pub async fn lookup(db: &DatabaseConnection, secret: &str) -> Result<Pending, AcceptError> {
    // A read: nothing is fired.
    let (_read, pending) = open(db, &Events::new(), secret, false).await?;
    Ok(pending)
}

/// A usable invitation as its link's page shows it: the organization, who sent it and the
/// roles it gives.
#[derive(Clone, Debug)]
pub struct Offer {
    /// The invitation and its organization.
    pub pending: Pending,
    /// The roles it gives and the name of the person who sent it.
    pub shown: super::shown::InvitationLine,
}

/// The invitation a link names with who sent it and the roles it gives, if it can still be
/// used (one read transaction).
pub async fn offer(db: &DatabaseConnection, secret: &str) -> Result<Offer, AcceptError> {
    let (read, pending) = open(db, &Events::new(), secret, false).await?;
    let shown = super::shown::lines(&read, vec![pending.invitation.clone()])
        .await?
        .pop()
        .ok_or(AcceptError::Unknown)?;
    read.commit().await?;
    Ok(Offer { pending, shown })
}

/// Marks the invitation accepted by `user_id` if nobody did first: the single-use guarantee,
/// one conditional UPDATE that exactly one of any number of racing requests wins.
async fn claim(
    tx: &TenantTxn,
    invitation: &organization_invitation::Model,
    user_id: Option<i64>,
) -> Result<bool, DbErr> {
    let now = entity::chrono_now();
    let update = tx
        .update_many::<organization_invitation::Entity>()
        .col_expr(
            organization_invitation::Column::AcceptedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            organization_invitation::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            organization_invitation::Column::AcceptedById,
            sea_orm::sea_query::Expr::value(user_id),
        );
    let result = update
        .filter(organization_invitation::Column::Id.eq(invitation.id))
        .filter(organization_invitation::Column::AcceptedAt.is_null())
        .filter(organization_invitation::Column::RevokedAt.is_null())
        .filter(organization_invitation::Column::ExpiresAt.gt(now))
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Adds the membership of a claimed invitation, in `tx`, once its inviter is found to hold, as
/// they are now, every permission it gives (the grant rule); `UserAdded` and
/// `InvitationAccepted` fire when it commits.
async fn join(
    tx: &TenantTxn,
    catalog: &Catalog,
    pending: &Pending,
    user_id: UserId,
) -> Result<(), AcceptError> {
    if !grants::inviter_still_grants(tx, catalog, &pending.invitation).await? {
        return Err(AcceptError::InviterLacks);
    }
    let carried =
        crate::organizations::roles::invitation_role_rows(tx, pending.invitation.id).await?;
    let (membership, _) =
        crate::organizations::get_or_add_user_holding(tx, user_id, false, &carried, Take::Held)
            .await
            .map_err(|e| match e {
                crate::organizations::OrgError::Db(e) => AcceptError::Db(e),
                crate::organizations::OrgError::SeatLimit(full) => AcceptError::SeatLimit(full),
                other => AcceptError::Other(other.into()),
            })?;
    crate::organizations::group_roles::link_invited(tx, catalog, &pending.invitation, user_id)
        .await?;
    let roles = crate::organizations::roles::keys_of(tx, &[membership.id])
        .await?
        .remove(&membership.id)
        .unwrap_or_default();
    audit::record(
        tx,
        "invitation.accepted",
        Some(Target::new(
            "invitation",
            pending.invitation.id,
            &pending.invitation.email,
        )),
        Some(serde_json::json!({ "user_id": user_id, "roles": roles })),
    )
    .await?;
    tx.fire(crate::events::OrgEvent::InvitationAccepted {
        organization_id: pending.organization.id,
        invitation_id: pending.invitation.id,
        user_id: user_id.get(),
    });
    Ok(())
}

/// Joins the organization as `user`, whose address must be the invited one: the claim and the
/// membership in one transaction. Fires `UserAdded` and `InvitationAccepted`.
pub async fn accept(
    db: &DatabaseConnection,
    events: &Events,
    catalog: &Catalog,
    secret: &str,
    user: &user::Model,
) -> Result<Pending, AcceptError> {
    let (tx, pending) = open(db, events, secret, true).await?;
    let tx = tx.acting_for(Actor::user(user));
    if !pending.invitation.email.eq_ignore_ascii_case(&user.email) {
        return Err(AcceptError::WrongAccount {
            masked: mask_email(&pending.invitation.email),
        });
    }
    // The organization's row first, as every path that takes a seat locks it, then the
    // invitation's: one order, so an acceptance and a resend of the same invitation never wait
    // for each other in a circle.
    tx.lock_organization().await?;
    if !claim(&tx, &pending.invitation, Some(user.id)).await? {
        return Err(AcceptError::Used);
    }
    join(&tx, catalog, &pending, user.id()).await?;
    tx.commit().await?;
    Ok(pending)
}

/// Creates the invited person's account (active, the address proven by the link), joins the
/// organization, and returns the new user: the claim, the account and the membership in one
/// transaction. No personal organization is made.
pub async fn accept_as_new_user(
    db: &DatabaseConnection,
    events: &Events,
    catalog: &Catalog,
    hasher: &PasswordHasher,
    secret: &str,
    name: &str,
    password: &str,
) -> Result<(Pending, user::Model), AcceptError> {
    let email = lookup(db, secret).await?.invitation.email;
    if name.trim().is_empty() {
        return Err(AcceptError::Name("enter your name".into()));
    }
    // Checked and hashed before the transaction opens: it takes a while, and holds no lock
    // meanwhile.
    let account = NewUser {
        email,
        name: name.to_string(),
        password: Some(password.to_string()),
        is_superuser: false,
    }
    .check(hasher)
    .await
    .map_err(|error| match error {
        UserError::InvalidPassword(reason) => AcceptError::Password(reason),
        UserError::Db(e) => AcceptError::Db(e),
        UserError::Other(e) => AcceptError::Other(e),
        other => AcceptError::Name(other.to_string()),
    })?
    .verified();
    let (tx, pending) = open(db, events, secret, true).await?;
    // The claim first (after the organization's row, the order every seat path keeps): of
    // racing acceptances one wins, the others wait for it and find it used.
    tx.lock_organization().await?;
    if !claim(&tx, &pending.invitation, None).await? {
        return Err(AcceptError::Used);
    }
    if users::find_by_email(tx.conn(), account.email())
        .await?
        .is_some()
    {
        return Err(AcceptError::SignInFirst);
    }
    let user = account
        .insert(tx.conn())
        .await?
        .ok_or(AcceptError::SignInFirst)?;
    tx.update_many::<organization_invitation::Entity>()
        .col_expr(
            organization_invitation::Column::AcceptedById,
            sea_orm::sea_query::Expr::value(user.id),
        )
        .filter(organization_invitation::Column::Id.eq(pending.invitation.id))
        .exec(tx.conn())
        .await?;
    let tx = tx.acting_for(Actor::user(&user));
    join(&tx, catalog, &pending, user.id()).await?;
    tx.commit().await?;
    Ok((pending, user))
}

/// Declines: the invitation stops working.
pub async fn decline(
    db: &DatabaseConnection,
    events: &Events,
    secret: &str,
) -> Result<Pending, AcceptError> {
    let (tx, pending) = open(db, events, secret, true).await?;
    // Whoever holds the link declines; they may have no account.
    let tx = tx.acting_for(Actor {
        kind: crate::tenancy::ActorKind::User,
        name: pending.invitation.email.clone(),
        ..Actor::default()
    });
    end(&tx, pending.invitation.id, "invitation.declined").await?;
    tx.commit().await?;
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::mask_email;

    #[test]
    fn masked_addresses_keep_only_first_letters_and_the_tld() {
        assert_eq!(mask_email("kurt@nirvana.com"), "k***@n***.com");
        assert_eq!(mask_email("a@b"), "a***@b***");
        assert_eq!(mask_email("nonsense"), "***");
    }
}
