//! The sections every page and probe reads but no rule checks beyond their types: `[ui]`, the
//! pages' look, `[metrics]`, the `/metrics` endpoint (whose token is never printed), and
//! `[projects]`, whether the built-in example resource is served, and `[billing]`, the
//! operator's token for seats and plans (never printed).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// `[ui]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiSettings {
    /// The product's name in every page's header and title.
    pub product_name: String,
    /// A folder of templates that replace the built-in ones of the same name
    /// (`people/list.html`, `base.html`) or add new ones; empty for none.
    #[serde(default)]
    pub template_dir: String,
}

impl Default for UiSettings {
    fn default() -> Self {
        Self {
            product_name: "orgs".into(),
            template_dir: String::new(),
        }
    }
}

/// `[metrics]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve `/metrics` (Prometheus text format).
    pub enabled: bool,
    /// The bearer token `/metrics` asks for on the main port; required in production unless
    /// `bind` names a listener of its own.
    #[serde(skip_serializing)]
    pub token: SecretString,
    /// `host:port` of a listener serving only `/metrics` (no token asked); empty to serve it
    /// on the main port.
    pub bind: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            token: SecretString::default(),
            bind: String::new(),
        }
    }
}

/// `[projects]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectsSettings {
    /// Serve Projects, the built-in example resource: its pages, `/api/v1/projects/`, its
    /// permissions, its link and its card on the overview. Off, none of them exist (the table
    /// and its rows stay).
    pub enabled: bool,
}

impl Default for ProjectsSettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// `[billing]`
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingSettings {
    /// The bearer token of the operator's API (`/api/v1/system/organizations/{id}/`), with
    /// which the embedding app's billing sets seat limits and plans; empty: that API answers
    /// 404. At least 24 characters when set.
    #[serde(skip_serializing)]
    pub operator_token: SecretString,
}

/// `[sso]`
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoSettings {
    /// Private networks the server's outgoing requests (OpenID discovery, tokens, keys) may
    /// reach besides public addresses: a company's identity provider on its own network, a
    /// test's on loopback. Empty by default: loopback, private, link-local (metadata), CGNAT
    /// and the ranges that disguise them are refused.
    pub allow_private_networks: Vec<ipnet::IpNet>,
    /// Accept `http://` issuers (tests and development only; production refuses it).
    pub allow_insecure_issuers: bool,
}

/// `[webhooks]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// Private networks (CIDR) webhook deliveries may reach besides public addresses. Empty by
    /// default: loopback, private, link-local (metadata), CGNAT and the IPv6 ranges that embed
    /// them are refused, checked on the address each attempt actually connects to.
    pub allow_private_networks: Vec<ipnet::IpNet>,
    /// Accept `http://` endpoints (development and tests only; production refuses it).
    pub allow_insecure_urls: bool,
    /// The ports an endpoint's address may name; empty: 443, and 80 with `allow_insecure_urls`.
    pub allowed_ports: Vec<u16>,
    /// Deliveries one instance sends at once (to different endpoints; one endpoint's go one
    /// after another, in order).
    pub concurrency: usize,
    /// Seconds a claimed delivery is reserved for its instance before another may take it over.
    pub lease_secs: u64,
    /// Days of failing attempts in a row after which an endpoint is turned off.
    pub disable_after_days: u32,
    /// Days a finished delivery and its message are kept for the delivery log.
    pub keep_days: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_networks: Vec::new(),
            allow_insecure_urls: false,
            allowed_ports: Vec::new(),
            concurrency: 32,
            lease_secs: 60,
            disable_after_days: 5,
            keep_days: 30,
        }
    }
}

impl WebhookSettings {
    /// The ports an endpoint may use: `allowed_ports`, or 443 (and 80 with insecure URLs).
    pub fn ports(&self) -> Vec<u16> {
        match (self.allowed_ports.is_empty(), self.allow_insecure_urls) {
            (false, _) => self.allowed_ports.clone(),
            (true, false) => vec![443],
            (true, true) => vec![443, 80],
        }
    }
}
