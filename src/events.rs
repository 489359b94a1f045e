//! Membership events (the peer's signals): fired after the change is committed, on every path
//! that adds or removes a member or changes the owner. An embedding app subscribes with a
//! listener or takes a channel.

use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::mpsc;

/// Something that happened to an organization's membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgEvent {
    /// A user became a member.
    UserAdded {
        /// The organization.
        organization_id: i64,
        /// The new member.
        user_id: i64,
        /// The membership row.
        membership_id: i64,
    },
    /// A user stopped being a member.
    UserRemoved {
        /// The organization.
        organization_id: i64,
        /// The former member.
        user_id: i64,
    },
    /// Ownership moved to another membership.
    OwnerChanged {
        /// The organization.
        organization_id: i64,
        /// The previous owner's membership, if there was an owner.
        old: Option<MembershipRef>,
        /// The new owner's membership.
        new: MembershipRef,
    },
    /// An invitation was accepted (fired with `UserAdded` for the same person).
    InvitationAccepted {
        /// The organization.
        organization_id: i64,
        /// The invitation row.
        invitation_id: i64,
        /// Who accepted it.
        user_id: i64,
    },
    /// The organization and everything scoped to it were deleted.
    OrganizationDeleted {
        /// The organization that no longer exists.
        organization_id: i64,
    },
    /// Billing changed the organization's seat limit, plan or entitlements.
    BillingChanged {
        /// The organization.
        organization_id: i64,
        /// Its seat limit now; none is no limit.
        seat_limit: Option<u64>,
        /// Its plan now.
        plan: Option<String>,
        /// Who changed it (the audit log's actor).
        by: String,
    },
}

/// A membership named by its row id and its user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MembershipRef {
    /// `organization_users.id`
    pub membership_id: i64,
    /// `users.id`
    pub user_id: i64,
}

/// Receives events synchronously, right after the change commits. Keep it quick: hand slow work
/// to a task or use [`Events::channel`].
pub trait EventListener: Send + Sync {
    /// Called once per event.
    fn on_event(&self, event: &OrgEvent);
}

impl<F> EventListener for F
where
    F: Fn(&OrgEvent) + Send + Sync,
{
    fn on_event(&self, event: &OrgEvent) {
        self(event)
    }
}

/// The hub services fire events into. Cloning shares the listeners.
#[derive(Clone, Default)]
pub struct Events {
    listeners: Arc<RwLock<Vec<Arc<dyn EventListener>>>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self
            .listeners
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("Events").field("listeners", &count).finish()
    }
}

impl Events {
    /// A hub with no listeners.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a listener for every later event.
    pub fn subscribe(&self, listener: impl EventListener + 'static) {
        self.listeners
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(listener));
    }

    /// A receiver of every later event, in order.
    pub fn channel(&self) -> mpsc::UnboundedReceiver<OrgEvent> {
        let (sender, receiver) = mpsc::unbounded_channel();
        self.subscribe(move |event: &OrgEvent| {
            // A dropped receiver only means nobody listens any more.
            let _ = sender.send(event.clone());
        });
        receiver
    }

    /// Delivers an event to every listener.
    pub fn emit(&self, event: OrgEvent) {
        tracing::debug!(?event, "organization event");
        let listeners = self
            .listeners
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for listener in listeners {
            listener.on_event(&event);
        }
    }

    /// Delivers events in order.
    pub fn emit_all(&self, events: impl IntoIterator<Item = OrgEvent>) {
        for event in events {
            self.emit(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_receives_events_in_order() {
        let events = Events::new();
        let mut rx = events.channel();
        events.emit(OrgEvent::OrganizationDeleted { organization_id: 1 });
        events.emit(OrgEvent::OrganizationDeleted { organization_id: 2 });
        assert_eq!(
            rx.try_recv().unwrap(),
            OrgEvent::OrganizationDeleted { organization_id: 1 }
        );
        assert_eq!(
            rx.try_recv().unwrap(),
            OrgEvent::OrganizationDeleted { organization_id: 2 }
        );
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_dropped_receiver_does_not_stop_other_listeners() {
        let events = Events::new();
        drop(events.channel());
        let mut rx = events.channel();
        events.emit(OrgEvent::OrganizationDeleted { organization_id: 3 });
        assert!(rx.try_recv().is_ok());
    }
}
