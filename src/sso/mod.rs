//! Single sign-on per organization with OpenID Connect: the connection an organization's
//! admins configure ([`connection`]), the providers reached through the SSRF-safe client
//! ([`provider`]), the authorization-code flow with PKCE, state and nonce ([`flow`]), and who
//! an identity is, decided strictly ([`linking`]): an address counts only under a domain the
//! organization verified and listed on the connection, and once linked the pair (issuer,
//! `sub`) alone finds the account.

pub mod connection;
pub mod flow;
pub mod linking;
pub mod provider;

pub use provider::Providers;

use crate::organizations::roles::RoleError;

/// What refused a connection's settings or a sign-on.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The issuer URL.
    #[error("{0}")]
    Issuer(String),
    /// The client id.
    #[error("enter the client id the identity provider gave")]
    ClientId,
    /// The client secret.
    #[error("enter the client secret the identity provider gave")]
    ClientSecret,
    /// The domains.
    #[error("{0}")]
    Domains(String),
    /// The role.
    #[error(transparent)]
    Role(#[from] RoleError),
    /// The organization has no connection.
    #[error("this organization has no single sign-on")]
    NotConfigured,
    /// The organization's plan does not include single sign-on.
    #[error("single sign-on is not part of this organization's plan")]
    NotEntitled,
    /// The identity provider could not be used (unreachable, refused, broken).
    #[error("the identity provider could not be reached: {0}")]
    Provider(String),
    /// The sign-on was refused: a bad or replayed state, a token that does not verify, an
    /// address the connection does not answer for.
    #[error("{0}")]
    Refused(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl crate::fields::FieldError for SsoError {
    fn field(&self) -> Option<&'static str> {
        match self {
            Self::Issuer(_) => Some("issuer"),
            Self::ClientId => Some("client_id"),
            Self::ClientSecret => Some("client_secret"),
            Self::Domains(_) => Some("domains"),
            _ => None,
        }
    }
}
