//! Tenancy: everything that filters rows by organization lives here, so scoped queries are
//! written once.

pub mod global;
pub mod organizations;
mod scope;

pub use scope::Scope;
