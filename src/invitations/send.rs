//! Sending an invitation with its roles: the one call behind the people page and the API. The
//! roles pass the grant rule against the requester's [`Grant`] before the invitation goes out
//! (through whichever flow the caller passes: the configured `backends::InvitationBackend`),
//! and the invitation records who granted them (checked again at acceptance).

use std::future::Future;

use entity::organization_invitation;

use super::InviteError;
use crate::organizations::grants;
use crate::tenancy::{Grant, TenantTxn};

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
    let row = grants::resend(tx, grant, row).await?;
    send(row.id).await
}
