//! The integration suite: one binary, a fresh database per test, the real app on port 0.
//! `TEST_DATABASE_URL=postgres://...` runs the same tests on PostgreSQL.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
#![allow(
    clippy::disallowed_methods,
    reason = "tests inspect and corrupt raw rows on purpose to check the walls"
)]

mod abuse;
mod accounts;
mod audit;
mod backends;
mod base_blocks;
mod big_orgs;
mod caching;
mod cli;
mod cli_app_role;
mod contexts;
mod create_organization;
mod cursors;
mod documented;
mod events;
mod grants;
mod handoff;
mod health;
mod helpers;
mod hosts;
mod idempotency;
mod invitations;
mod keys_and_domains;
mod layers;
mod migrations;
mod models;
mod openapi;
mod operations;
mod organizations;
mod outages;
mod pages;
mod passkeys;
mod password_changes;
mod people;
mod projects_switch;
mod rls;
mod roles;
mod rules;
mod scim;
mod seats;
mod sent_mail;
mod settings;
mod settling;
mod slugs;
mod smtp;
mod sso;
mod team_pages;
mod tenancy;
mod two_factor;
mod webhooks;
