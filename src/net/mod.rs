//! The server's own outgoing requests (OpenID Provider discovery, tokens and keys; webhooks
//! later): what they may reach ([`addresses`]).

pub mod addresses;
pub mod client;
