//! Tenancy: everything that filters rows by organization lives here, so scoped queries are
//! written once.

mod scope;

pub use scope::Scope;
