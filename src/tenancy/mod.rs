//! Tenancy: the tenant transaction that is the one capability for an organization's rows, what a
//! user may do in one ([`Access`]), and every query that filters by organization (resolving a
//! request's organization and the extractors that grant access to it are `web::resolve` and
//! `web::tenant`, above the state). Raw sea-orm finders are allowed only here (clippy
//! `disallowed-methods`); work that is by nature not one tenant's goes through [`door`], whose
//! module docs list every such path and the row-level security context it runs in.
//!
//! [`Access`]: crate::tenancy::Access
//! [`door`]: crate::tenancy::door

mod access;
pub mod citus;
pub mod counts;
pub mod dns;
pub mod door;
pub mod factors;
pub mod global;
pub mod grant;
pub mod once;
pub mod org_rows;
mod prepared;
pub mod rls;
mod scope;
mod txn;

pub use access::Access;
pub use grant::Grant;
pub use prepared::ScopedStatement;
pub use scope::Scope;
pub use txn::{Actor, ActorKind, TenantTxn};
