//! Tenancy: resolving the organization of a request, the extractors that grant access to it,
//! and every query that filters by organization. Raw sea-orm finders are allowed only here
//! (clippy `disallowed-methods`).

pub mod dns;
mod extract;
pub mod global;
pub mod links;
pub mod organizations;
mod prepared;
pub mod resolve;
pub mod rls;
mod scope;

pub use extract::{Access, OrgAdmin, OrgMember, OrgOwner, Principal, Tenant};
pub use prepared::ScopedStatement;
pub use resolve::{ApiKeyPrincipal, ResolvedTenant, has_tenant};
pub use scope::Scope;
