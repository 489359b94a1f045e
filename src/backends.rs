//! The pluggable flows (the peer's `INVITATION_BACKEND` and `REGISTRATION_BACKEND`): every
//! handler of these flows calls through the traits, so an embedding app replaces how people are
//! invited, join, decline or sign up by putting its own implementation in `AppState`; its methods get [`Flows`], what the flows use. Each
//! method has the built-in behaviour as its default, so an implementation overrides only what
//! it changes (`tests/api/invitations.rs` has one that records every call and one that allows
//! only its company's addresses). `registration.backend` chooses among the built-in sign-up
//! flows: `default` (sign-up with an account organization and an activation mail) or
//! `disabled` (invitation only: sign-up answers 404).
//!
//! [`Flows`]: crate::backends::Flows

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use entity::{organization, organization_invitation, user};

use sea_orm::DatabaseConnection;

use crate::auth::PasswordHasher;
use crate::config::AuthSettings;
use crate::events::Events;
use crate::invitations::accept::{self, Pending};
use crate::invitations::{self, AcceptError, InviteError};
use crate::mail::{Mailer, Outbox};
use crate::permissions::Catalog;
use crate::registration::{self, ActivationError, SignUp, SignUpError};
use crate::tenancy::TenantTxn;

/// What the flows use, lent by the app's state (`AppState::flows`): a backend gets these, not
/// the whole state.
#[derive(Clone, Copy, Debug)]
pub struct Flows<'a> {
    /// The connection pool.
    pub db: &'a DatabaseConnection,
    /// Where membership events go.
    pub events: &'a Events,
    /// The outbox, to wake its sender after a commit that queued mail.
    pub outbox: &'a Outbox,
    /// Composes mail with links to the service.
    pub mailer: &'a Mailer,
    /// Password hashing.
    pub hasher: &'a PasswordHasher,
    /// The `[auth]` settings (token lifetimes, limits).
    pub auth: &'a AuthSettings,
    /// The permission catalog (an invitation's roles are checked against its inviter's at
    /// acceptance).
    pub catalog: &'a Catalog,
}

/// A boxed future borrowing its arguments.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How people are invited to an organization and join it. Every method defaults to
/// `crate::invitations` (invitations by email, bound to the invited address).
pub trait InvitationBackend: Send + Sync + Debug {
    /// Invites `email` (or re-sends its pending invitation), in the request's transaction.
    fn invite<'a>(
        &'a self,
        flows: Flows<'a>,
        tx: &'a TenantTxn,
        organization: &'a organization::Model,
        inviter: Option<&'a user::Model>,
        email: &'a str,
    ) -> BoxFuture<'a, Result<organization_invitation::Model, InviteError>> {
        Box::pin(invitations::send::invite(
            tx,
            flows.mailer,
            flows.auth,
            organization,
            inviter,
            email,
        ))
    }

    /// Sends the pending invitation `id` again (a reminder): by default through
    /// [`InvitationBackend::invite`] with its address, so a replaced `invite` covers reminders.
    fn resend<'a>(
        &'a self,
        flows: Flows<'a>,
        tx: &'a TenantTxn,
        organization: &'a organization::Model,
        inviter: Option<&'a user::Model>,
        id: i64,
    ) -> BoxFuture<'a, Result<organization_invitation::Model, InviteError>> {
        Box::pin(async move {
            let row = invitations::pending_by_id(tx, id)
                .await?
                .ok_or(InviteError::NotFound)?;
            self.invite(flows, tx, organization, inviter, &row.email)
                .await
        })
    }

    /// Accepts for a signed-in person.
    fn accept<'a>(
        &'a self,
        flows: Flows<'a>,
        secret: &'a str,
        user: &'a user::Model,
    ) -> BoxFuture<'a, Result<Pending, AcceptError>> {
        Box::pin(accept::accept(
            flows.db,
            flows.events,
            flows.catalog,
            secret,
            user,
        ))
    }

    /// Accepts for a new person, creating their account.
    fn accept_as_new_user<'a>(
        &'a self,
        flows: Flows<'a>,
        secret: &'a str,
        name: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<(Pending, user::Model), AcceptError>> {
        Box::pin(accept::accept_as_new_user(
            flows.db,
            flows.events,
            flows.catalog,
            flows.hasher,
            secret,
            name,
            password,
        ))
    }

    /// Declines: the link stops working.
    fn decline<'a>(
        &'a self,
        flows: Flows<'a>,
        secret: &'a str,
    ) -> BoxFuture<'a, Result<Pending, AcceptError>> {
        Box::pin(accept::decline(flows.db, flows.events, secret))
    }
}

/// How people sign up and confirm their address.
pub trait RegistrationBackend: Send + Sync + Debug {
    /// Whether `/signup/` is offered at all.
    fn is_open(&self) -> bool {
        true
    }

    /// Registers; returns the normalised email.
    fn sign_up<'a>(
        &'a self,
        flows: Flows<'a>,
        form: SignUp,
    ) -> BoxFuture<'a, Result<String, SignUpError>> {
        Box::pin(registration::sign_up(
            flows.db,
            flows.events,
            flows.outbox,
            flows.mailer,
            flows.hasher,
            flows.auth,
            form,
        ))
    }

    /// Uses an activation link (also when sign-up is closed: accounts made before can still be
    /// confirmed).
    fn activate<'a>(
        &'a self,
        flows: Flows<'a>,
        secret: &'a str,
    ) -> BoxFuture<'a, Result<user::Model, ActivationError>> {
        Box::pin(registration::activate(flows.db, secret))
    }
}

/// Invitations by email, bound to the invited address (`crate::invitations`).
#[derive(Clone, Copy, Debug, Default)]
pub struct EmailInvitations;

impl InvitationBackend for EmailInvitations {}

/// Open sign-up with an account organization and an activation mail (`crate::registration`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenRegistration;

impl RegistrationBackend for OpenRegistration {}

/// No sign-up: people join by invitation only.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClosedRegistration;

impl RegistrationBackend for ClosedRegistration {
    fn is_open(&self) -> bool {
        false
    }

    fn sign_up<'a>(
        &'a self,
        _: Flows<'a>,
        _: SignUp,
    ) -> BoxFuture<'a, Result<String, SignUpError>> {
        Box::pin(async { Err(SignUpError::Closed) })
    }
}
