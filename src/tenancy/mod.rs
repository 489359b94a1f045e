//! Tenancy: resolving the organization of a request, the extractors that grant access to it,
//! the tenant transaction that is the one capability for an organization's rows, and every query
//! that filters by organization. Raw sea-orm finders are allowed only here (clippy
//! `disallowed-methods`); work that is by nature not one tenant's goes through [`door`], whose
//! module docs list every such path and the row-level security context it runs in.

pub mod dns;
pub mod door;
mod extract;
pub mod global;
pub mod links;
pub mod organizations;
mod prepared;
pub mod resolve;
pub mod rls;
mod scope;
mod txn;

pub use extract::{Access, OrgAdmin, OrgMember, OrgOwner, Principal, Tenant};
pub use prepared::ScopedStatement;
pub use resolve::{ApiKeyPrincipal, ResolvedTenant, has_tenant};
pub use scope::Scope;
pub use txn::TenantTxn;
