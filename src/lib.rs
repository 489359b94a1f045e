//! orgs: organization accounts and multi-tenancy for actix-web SaaS backends, the Rust
//! counterpart of django-organizations.

/// Accounts: users and passwords.
pub mod auth;
/// The replaceable invitation and registration flows.
pub mod backends;
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
/// Invitations to organizations.
pub mod invitations;
/// Outgoing mail through the outbox.
pub mod mail;
/// Organization rules and slugs.
pub mod organizations;
/// The example tenant resource.
pub mod projects;
/// Sign-up and activation.
pub mod registration;
/// HTTP routes.
pub mod routes;
/// Bulk demo data.
pub mod seed;
/// The session store chosen by configuration.
pub mod session_store;
/// Server construction.
pub mod startup;
/// Logging set-up.
pub mod telemetry;
/// Organization-scoped queries.
pub mod tenancy;
/// Pages: templates, rendering, flash messages, error pages.
pub mod web;

pub use config::Settings;
pub use error::AppError;
pub use events::{EventListener, Events, OrgEvent};
pub use startup::{AppState, Application};
