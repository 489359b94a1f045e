//! orgs: organization accounts and multi-tenancy for actix-web SaaS backends, the Rust
//! counterpart of django-organizations.
//!
//! Embedding it in an app of your own (the [`guide`] adds a tenant table of your own end to end;
//! `examples/embed` is a complete app with one):
//!
//! ```no_run
//! use actix_web::{http::Method, web};
//! use orgs::routes::{Needs, TenantRoute};
//! use orgs::web::Tenant;
//! use orgs::{AppState, Application};
//!
//! // orgs checks the route's needs first, then hands the handler what it may use.
//! async fn hello(tenant: Tenant) -> String {
//!     format!("hello from {}", tenant.organization().name)
//! }
//!
//! fn my_tenant_routes() -> Vec<TenantRoute> {
//!     vec![TenantRoute::new(Method::GET, "/hello/", Needs::Member, || {
//!         web::get().to(hello)
//!     })]
//! }
//!
//! # async fn run() -> anyhow::Result<()> {
//! let settings = orgs::Settings::load()?;
//! let db = orgs::db::connect(&settings.database).await?;
//! orgs::db::migrate(&db).await?;
//! let state = AppState::new(settings, db, orgs::Events::new())?
//!     .with_tenant_routes(my_tenant_routes(), Default::default());
//! state
//!     .events
//!     .subscribe(|event: &orgs::OrgEvent| println!("membership changed: {event:?}"));
//! let app = Application::build_with(state).await?;
//! app.run_until_stopped().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Layers
//!
//! Each module uses only modules on its own line or below it; no two top-level modules import
//! each other (`tests/api/layers.rs` reads the `crate::` paths of each and fails on a circle):
//!
//! | layer | modules | what they are |
//! | --- | --- | --- |
//! | shell | `cli`, `seed`, `startup` | the command line and the server |
//! | HTTP | `routes` | thin handlers: parse, call a service or a backend, answer |
//! | | `web` | extractors (`CurrentUser`, `Tenant`, `TenantCtx`, `Found`: the request's tenant and transaction, committed by its route), the tenant-resolving, CSRF and cache middleware, rendering, links, error pages |
//! | | `state` | `AppState`: what the shell shares; only the layers above reach into it |
//! | | `guide` | documentation only: the embedder's guide |
//! | flows | `backends`, `error`, `cache`, `sender`, `jobs`, `metrics` | the replaceable flows (given `Flows`, not the state), `AppError` and every domain error's conversion to it, the lookup caches and their bus, the outbox sender, the hourly housekeeping, the `/metrics` figures |
//! | services | `invitations`, `registration`, `projects` | each takes what it uses: a connection or the request's `TenantTxn`, the `Mailer`, the hasher, the events, its settings |
//! | | `organizations`, `auth` | membership rules, roles, domains, keys; accounts, sessions, throttling, tokens |
//! | | `audit` | the audit log: written in the transaction of each change, read by cursor, pruned by age |
//! | tenancy | `tenancy` | the tenant transaction, `door`, scopes, row-level security: all tenant filtering |
//! | base | `permissions`, `route_table`, `mail`, `db`, `cursor`, `slug`, `tokens`, `idempotency`, `templates`, `fields`, `text`, `events`, `config`, `session_store`, `telemetry`, `faults` | messages and the outbox, connections, sealed list cursors, the shape of a route table, pure rules and helpers, the fault points of the kill tests |

/// The audit log of each organization.
pub mod audit;
/// Accounts: users and passwords.
pub mod auth;
/// The replaceable invitation and registration flows.
pub mod backends;
/// In-process caches of the lookups every request repeats.
pub mod cache;
/// The `orgs` command line.
pub mod cli;
/// Layered settings.
pub mod config;
/// Sealed list cursors: what a keyset list's `next` is, opaque and unforgeable.
pub mod cursor;
/// Connection and migrations.
pub mod db;
/// The application error and its responses.
pub mod error;
/// Membership events.
pub mod events;
/// Named points where a debug build stops dead, for the tests of a killed process.
pub mod faults;
/// Errors about one input field.
pub mod fields;
/// The embedder's guide: adding a tenant table of your own, end to end.
pub mod guide;
/// `Idempotency-Key`: the first answer to a creating request, kept for its retries.
pub mod idempotency;
/// Invitations to organizations.
pub mod invitations;
/// The hourly housekeeping: retention of audit events, sent mail and idempotency keys, lapsed
/// invitations.
pub mod jobs;
/// Outgoing mail through the outbox.
pub mod mail;
/// `/metrics`: request, pool, outbox and cache figures in the Prometheus text format.
pub mod metrics;
/// The server's own outgoing requests: what they may reach.
pub mod net;
/// Organization rules and slugs.
pub mod organizations;
/// The permission catalog and the built-in roles.
pub mod permissions;
/// The example tenant resource.
pub mod projects;
/// Sign-up and activation.
pub mod registration;
/// The shape of a tenant route table.
pub mod route_table;
/// HTTP routes.
pub mod routes;
/// SCIM 2.0 provisioning per organization.
pub mod scim;
/// Bulk demo data.
pub mod seed;
/// The outbox sender.
pub mod sender;
/// The session store chosen by configuration.
pub mod session_store;
/// Slugs: the rules of an organization's address.
pub mod slug;
/// Single sign-on per organization (OpenID Connect).
pub mod sso;
/// Server construction.
pub mod startup;
/// What the shell shares.
pub mod state;
/// Logging set-up.
pub mod telemetry;
/// The page and mail templates built into the binary.
pub mod templates;
/// Organization-scoped queries.
pub mod tenancy;
/// What text may be stored, and wording of durations.
pub mod text;
/// Random secrets and their hashes.
pub mod tokens;
/// Pages: templates, rendering, flash messages, error pages.
pub mod web;
pub mod webhooks;

pub use config::Settings;
/// The entities (and `TenantOwned`), for an embedding app's own tables.
pub use entity;
pub use error::AppError;
pub use events::{EventListener, Events, OrgEvent};
/// orgs' migrations, and [`migration::tenant_table`] for an embedding app's own tenant tables.
pub use migration;
/// The sea-orm orgs is built on, so an embedding app uses the same version (and its derives:
/// `use orgs::sea_orm;` in the module that uses them).
pub use sea_orm;
pub use startup::Application;
pub use state::AppState;
/// utoipa, for an embedding app's `#[utoipa::path]` on its API handlers (`use orgs::utoipa;`).
pub use utoipa;
/// validator, for an embedding app's form input checked by [`web::forms::check`]: the same
/// version as orgs' (`#[derive(orgs::validator::Validate)]` with
/// `#[validate(crate = "orgs::validator")]`).
pub use validator;
