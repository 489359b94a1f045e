//! orgs: organization accounts and multi-tenancy for actix-web SaaS backends, the Rust
//! counterpart of django-organizations.

/// Accounts: users and passwords.
pub mod auth;
/// The `orgs` command line.
pub mod cli;
/// Layered settings.
pub mod config;
/// Connection and migrations.
pub mod db;
/// The application error and its responses.
pub mod error;
/// Membership events.
pub mod events;
/// Organization rules and slugs.
pub mod organizations;
/// HTTP routes.
pub mod routes;
/// Bulk demo data.
pub mod seed;
/// Server construction.
pub mod startup;
/// Logging set-up.
pub mod telemetry;
/// Organization-scoped queries.
pub mod tenancy;

pub use config::Settings;
pub use error::AppError;
pub use events::{EventListener, Events, OrgEvent};
pub use startup::{AppState, Application};
