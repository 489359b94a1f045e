//! What a requester may grant: a [`Grant`] is made by the access layer from what the requester
//! holds, read from fresh rows in the request's transaction (`web::ctx`), or by a named job. Every
//! service that hands out a permission on a requester's behalf (roles, invitations, API keys)
//! takes one, so a new handler cannot skip the grant rule (`organizations::grants`). Its
//! constructors are fenced in orgs' `clippy.toml`; an embedding crate's own lints decide for it.

use std::sync::Arc;

use crate::permissions::{Catalog, PermissionSet};

/// The permissions a requester may grant in one organization, over the application's catalog.
/// Only the access layer makes one ([`Grant::new`] is fenced in `clippy.toml`).
#[derive(Clone, Debug)]
pub struct Grant {
    catalog: Arc<Catalog>,
    holds: PermissionSet,
}

impl Grant {
    /// What someone holding `holds` may grant. The access layer calls it after its check; a job
    /// names why (`#[expect(clippy::disallowed_methods, reason = "...")]`).
    pub fn new(catalog: Arc<Catalog>, holds: PermissionSet) -> Self {
        Self { catalog, holds }
    }

    /// Everything in `catalog`: a job acting as the system (the CLI, the seeder).
    pub fn everything(catalog: Arc<Catalog>) -> Self {
        let holds = catalog.everything();
        Self { catalog, holds }
    }

    /// The application's permission catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The permissions the requester holds: the most they may grant.
    pub fn holds(&self) -> PermissionSet {
        self.holds
    }
}
