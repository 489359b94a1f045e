//! The server's own outgoing requests (OpenID Provider discovery, tokens and keys; webhooks
//! later): what they may reach ([`addresses`]) and the one client that makes them
//! ([`client`]).

pub mod addresses;
pub mod client;
