//! The HTML side: Tera templates built into the binary, page rendering with the base context,
//! flash messages, form errors and error pages.

pub mod caching;
pub mod client;
pub mod csrf;
pub mod ctx;
pub mod errors;
pub mod etag;
pub mod flash;
pub mod forms;
pub mod hosts;
pub mod idempotency;
pub mod input;
pub mod json;
pub mod links;
pub mod observe;
pub mod page_links;
pub mod pagination;
pub mod query;
pub mod render;
pub mod resolve;
pub mod rows;
pub mod scim;
pub mod security;
pub mod tenant;
pub mod user;

pub use ctx::{Found, RequestTx, TenantCtx};
pub use input::Form;
pub use json::Json;
pub use query::Query;
pub use render::{Page, render};
pub use resolve::{ApiKeyPrincipal, ResolvedTenant, has_tenant};
pub use tenant::{Principal, Tenant};
pub use user::{Credential, CurrentUser, MaybeUser, SignedIn};
