//! Sending an invitation: the row and its mail (`invite`, what the configured
//! `backends::InvitationBackend` calls), the organization's hourly quota, and the roles it carries.
//! The roles pass the grant rule against the requester's [`Grant`] before the invitation goes out
//! (through whichever flow the caller passes), and the invitation records who granted them
//! (checked again at acceptance).

use std::future::Future;

use chrono::Duration;
use entity::{organization, organization_invitation, organization_user, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, IntoActiveModel, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};
use tera::Context;

use super::{InviteError, pending};
use crate::audit::{self, Target};
use crate::auth::users;
use crate::config::AuthSettings;
use crate::mail::Mailer;
use crate::organizations::grants;
use crate::organizations::seats::{self, Take};
use crate::tenancy::{Grant, TenantTxn};
use crate::text::describe_ttl;
use crate::tokens;

/// Where the organization stands against its hourly invitation quota (`auth.invitations_per_hour`):
/// every invitation and reminder is one outbox row tagged with the organization.
pub async fn quota(
    tx: &TenantTxn,
    auth: &AuthSettings,
) -> Result<crate::auth::throttle::RateLimit, DbErr> {
    let hour_ago = entity::chrono_now() - Duration::hours(1);
    let last_hour = tx
        .select::<entity::email_outbox::Entity>()
        .filter(entity::email_outbox::Column::CreatedAt.gt(hour_ago))
        .order_by_asc(entity::email_outbox::Column::CreatedAt)
        .limit(u64::from(auth.invitations_per_hour))
        .all(tx.conn())
        .await?;
    let used = u32::try_from(last_hour.len()).unwrap_or(u32::MAX);
    // More is allowed once the oldest of the hour is an hour old.
    let reset = last_hour.first().map_or(0, |oldest| {
        (oldest.created_at - hour_ago).num_seconds().max(1)
    });
    Ok(crate::auth::throttle::RateLimit {
        policy: "invitations",
        quota: auth.invitations_per_hour,
        window_secs: 3_600,
        remaining: auth.invitations_per_hour.saturating_sub(used),
        reset_secs: u64::try_from(reset).unwrap_or(1).max(1),
    })
}

/// Invites `email` to the organization, or re-sends its pending invitation with a new token.
/// The invitation and its mail are written in the request's transaction. A new invitation, or
/// one resent after it ran out, takes a seat ([`seats::take`], under the organization's row
/// lock); an unexpired one keeps its own. A backend that writes invitations without this
/// function must take the seat the same way.
pub async fn invite(
    tx: &TenantTxn,
    mailer: &Mailer,
    auth: &AuthSettings,
    organization: &organization::Model,
    inviter: Option<&user::Model>,
    email: &str,
) -> Result<organization_invitation::Model, InviteError> {
    invite_counted(tx, mailer, auth, organization, inviter, email, true).await
}

/// [`invite`] for the organization's directory (SCIM): its invitations do not count against
/// the organization's hourly quota (a directory provisions everyone at once), but each still
/// counts against its address's and its client's.
pub async fn invite_for_directory(
    tx: &TenantTxn,
    mailer: &Mailer,
    auth: &AuthSettings,
    organization: &organization::Model,
    email: &str,
) -> Result<organization_invitation::Model, InviteError> {
    invite_counted(tx, mailer, auth, organization, None, email, false).await
}

async fn invite_counted(
    tx: &TenantTxn,
    mailer: &Mailer,
    auth: &AuthSettings,
    organization: &organization::Model,
    inviter: Option<&user::Model>,
    email: &str,
    quota_counts: bool,
) -> Result<organization_invitation::Model, InviteError> {
    if organization.id != tx.organization_id() {
        return Err(InviteError::NotFound);
    }
    // The organization's row first: what is pending is then decided by the lock's holder, and
    // no acceptance, revocation or other invitation changes it before this one commits.
    tx.lock_organization().await?;
    let email = invitable(tx, auth, email, quota_counts).await?;
    let existing = pending(tx.select::<organization_invitation::Entity>())
        .filter(organization_invitation::Column::Email.eq(email.as_str()))
        .one(tx.conn())
        .await?;
    // A resend of an unexpired invitation keeps the seat it holds; a new invitation, or one
    // that ran out, takes one.
    if existing
        .as_ref()
        .is_none_or(|row| row.expires_at <= entity::chrono_now())
    {
        seats::take(tx, Take::New).await??;
    }
    let secret = tokens::generate();
    let ttl = auth.invitation_ttl_secs;
    let expires_at =
        entity::chrono_now() + Duration::seconds(i64::try_from(ttl).unwrap_or(604_800));
    let resent = existing.is_some();
    let invitation = match existing {
        Some(row) => {
            let mut row = row.into_active_model();
            row.token_hash = Set(tokens::hash(&secret));
            row.expires_at = Set(expires_at);
            row.update(tx.conn()).await?
        }
        None => {
            let mut row: organization_invitation::ActiveModel = tx.new_active_model();
            row.email = Set(email.clone());
            row.invited_by_id = Set(inviter.map(|u| u.id));
            row.token_hash = Set(tokens::hash(&secret));
            row.expires_at = Set(expires_at);
            row.accepted_at = Set(None);
            row.accepted_by_id = Set(None);
            row.revoked_at = Set(None);
            row.insert(tx.conn()).await?
        }
    };
    let mut context = Context::new();
    context.insert("organization", &organization.name);
    context.insert("inviter", &inviter.map(user::Model::display_name));
    context.insert("link", &mailer.link(&format!("/invitations/{secret}/")));
    context.insert("expires_in", &describe_ttl(ttl));
    mailer
        .send(
            tx,
            "invitation",
            &email,
            format!("You're invited to join {} on orgs", organization.name),
            &context,
        )
        .await?;
    audit::record(
        tx,
        if resent {
            "invitation.resent"
        } else {
            "invitation.created"
        },
        Some(Target::new("invitation", invitation.id, &invitation.email)),
        None,
    )
    .await?;
    Ok(invitation)
}

/// `email` normalized, once it may be invited: within the organization's hourly quota and its
/// address's and requester's, and not the address of a member.
async fn invitable(
    tx: &TenantTxn,
    auth: &AuthSettings,
    email: &str,
    quota_counts: bool,
) -> Result<String, InviteError> {
    let email = users::normalize_email(email).map_err(|_| InviteError::InvalidEmail)?;
    if quota_counts {
        let limit = quota(tx, auth).await?;
        if limit.remaining == 0 {
            return Err(InviteError::Throttled(limit));
        }
    }
    // And every one counts against its address and its requester's, across organizations.
    let client = tx.client().unwrap_or("job");
    if let Err(limit) = crate::auth::throttle::mail(tx.conn(), &email, client, auth).await? {
        return Err(InviteError::Throttled(limit));
    }
    if member_with_address(tx, &email).await?.is_some() {
        return Err(InviteError::AlreadyMember);
    }
    Ok(email)
}

/// What inviting an address that has a pending invitation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reinvite {
    /// Sends it again with a new link (the page).
    Resend,
    /// Refuses, naming the pending invitation (the API: the client resends it explicitly).
    Refuse,
}

/// An invitation asked for: the address, the role keys to give on joining (`member` when
/// empty), and what an address with a pending invitation gets.
#[derive(Clone, Copy, Debug)]
pub struct Asked<'a> {
    /// The address.
    pub email: &'a str,
    /// The role keys.
    pub roles: &'a [String],
    /// What an address with a pending invitation gets.
    pub again: Reinvite,
}

/// Invites `asked.email` in `tx` through `send` (which writes the invitation and its mail): the
/// roles (or the default role) must be the `grant`'s to give, and the invitation records its
/// granter.
pub async fn with_roles<Fut>(
    tx: &TenantTxn,
    grant: &Grant,
    asked: Asked<'_>,
    send: impl FnOnce() -> Fut,
) -> Result<organization_invitation::Model, InviteError>
where
    Fut: Future<Output = Result<organization_invitation::Model, InviteError>>,
{
    // Locked before anything is read: the order every path that takes a seat keeps
    // (organization, then invitation), whatever the backend does next.
    tx.lock_organization().await?;
    if asked.again == Reinvite::Refuse
        && let Ok(email) = crate::auth::users::normalize_email(asked.email)
        && let Some(pending) = super::pending_for_email(tx, &email).await?
        && pending.expires_at > entity::chrono_now()
    {
        return Err(InviteError::AlreadyInvited {
            invitation_id: pending.id,
        });
    }
    let roles = grants::invitation_roles(tx, grant, asked.roles).await?;
    let invitation = send().await?;
    Ok(grants::record_invitation(tx, invitation, &roles).await?)
}

/// Sends the pending invitation `row` again through `send` (given its id) with a new link, once
/// the `grant` holds every permission it carries; from then on it carries the requester's
/// authority (`organizations::grants::resend`).
pub async fn again<Fut>(
    tx: &TenantTxn,
    grant: &Grant,
    row: organization_invitation::Model,
    send: impl FnOnce(i64) -> Fut,
) -> Result<organization_invitation::Model, InviteError>
where
    Fut: Future<Output = Result<organization_invitation::Model, InviteError>>,
{
    // The organization's row before the invitation's is written (the order every seat path
    // keeps); the backend's `invite` decides the seat under it.
    tx.lock_organization().await?;
    let row = grants::resend(tx, grant, row).await?;
    send(row.id).await
}

/// The membership of the member whose address is `email`, if any.
async fn member_with_address(
    tx: &TenantTxn,
    email: &str,
) -> Result<Option<organization_user::Model>, DbErr> {
    tx.select::<organization_user::Entity>()
        .join(JoinType::InnerJoin, organization_user::Relation::User.def())
        .filter(user::Column::Email.eq(email))
        .one(tx.conn())
        .await
}

/// The pending invitation of `user_id`, who was invited and has not joined: `AlreadyJoined` once
/// they have, `NotFound` when nothing is pending for their address.
pub async fn remindable(
    tx: &TenantTxn,
    user_id: entity::UserId,
) -> Result<organization_invitation::Model, InviteError> {
    if crate::organizations::members::get(tx, user_id)
        .await?
        .is_some()
    {
        return Err(InviteError::AlreadyJoined);
    }
    let user = crate::auth::users::find_by_id(tx.conn(), user_id)
        .await?
        .ok_or(InviteError::NotFound)?;
    super::pending_for_email(tx, &user.email)
        .await?
        .ok_or(InviteError::NotFound)
}
