//! The one HTTP client of the server's outgoing requests, safe to point at an address someone
//! else typed (an OpenID issuer, later a webhook endpoint): it resolves names itself and
//! connects only to addresses [`Reach`] allows, refuses an address literal the same way, checks
//! again the address the answer came from, follows no redirect, ignores the system's proxy
//! settings, caps the body it reads and gives up after its timeouts. TLS is rustls on ring with
//! the Mozilla roots (`webpki-roots`), the same as the mail's.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::addresses::{Reach, Refused};

/// How long and how much an outgoing request may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// To open the connection (TCP and TLS).
    pub connect: Duration,
    /// For the whole request, the body read included.
    pub total: Duration,
    /// The most bytes of a body read.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(15),
            max_body: 1024 * 1024,
        }
    }
}

/// Why an outgoing request failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The address is one outgoing requests may not reach.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// Not an `http` or `https` URL with a host.
    #[error("not an http(s) URL with a host: {0}")]
    Url(String),
    /// The name resolves to no address at all.
    #[error("{0} does not resolve")]
    Unresolved(String),
    /// The body is longer than [`Limits::max_body`].
    #[error("the answer is longer than {0} bytes")]
    TooLarge(usize),
    /// It took longer than [`Limits`] allow.
    #[error("no answer in time")]
    Timeout,
    /// Anything else on the way: the connection, TLS, the protocol.
    #[error("the request failed: {0}")]
    Failed(String),
}

impl From<reqwest::Error> for OutboundError {
    fn from(error: reqwest::Error) -> Self {
        // A refusal inside the resolver comes back wrapped in a connect error.
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(cause) = source {
            if let Some(refused) = cause.downcast_ref::<Refused>() {
                return Self::Refused(*refused);
            }
            if let Some(OutboundError::Unresolved(name)) = cause.downcast_ref::<OutboundError>() {
                return Self::Unresolved(name.clone());
            }
            source = cause.source();
        }
        if error.is_timeout() {
            Self::Timeout
        } else {
            Self::Failed(format!("{error:#}"))
        }
    }
}

/// Resolves with the system's resolver and keeps only the addresses [`Reach`] allows; none
/// left is a refusal naming the first refused address.
#[derive(Debug)]
struct Guarded(Arc<Reach>);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|address| match reach.check(address.ip()) {
                    Ok(()) => true,
                    Err(refusal) => {
                        refused.get_or_insert(refusal);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), refused) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as Addrs),
                (true, Some(refused)) => Err(Box::new(refused) as _),
                (true, None) => Err(Box::new(OutboundError::Unresolved(host)) as _),
            }
        })
    }
}

/// The outgoing client: clone it freely (one connection pool).
#[derive(Clone, Debug)]
pub struct Outbound {
    client: reqwest::Client,
    reach: Arc<Reach>,
    limits: Limits,
}

impl Outbound {
    /// A client that reaches what `reach` allows, within `limits`.
    pub fn new(reach: Reach, limits: Limits) -> Result<Self, OutboundError> {
        let reach = Arc::new(reach);
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| OutboundError::Failed(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(Arc::new(Guarded(reach.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(limits.connect)
            .timeout(limits.total)
            .user_agent(concat!("orgs/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            reach,
            limits,
        })
    }

    /// Sends `request` and reads its answer, body and all: the shape `openidconnect`'s
    /// `AsyncHttpClient` takes. A redirect is returned as it is, never followed.
    pub async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, OutboundError> {
        let url = request.uri().to_string();
        self.check_url(&url)?;
        let request = reqwest::Request::try_from(request)?;
        let mut response = self.client.execute(request).await?;
        // The resolver chose the address; the answer says which one was used.
        if let Some(remote) = response.remote_addr() {
            self.reach.check(remote.ip())?;
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > self.limits.max_body {
                return Err(OutboundError::TooLarge(self.limits.max_body));
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        answer
            .body(body)
            .map_err(|e| OutboundError::Failed(e.to_string()))
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> Result<http::Response<Vec<u8>>, OutboundError> {
        let request = http::Request::get(url)
            .body(Vec::new())
            .map_err(|_| OutboundError::Url(url.to_string()))?;
        self.send(request).await
    }

    /// An `http(s)` URL with a host, and its host, when an address literal, one [`Reach`]
    /// allows (the resolver never sees those).
    fn check_url(&self, url: &str) -> Result<(), OutboundError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| OutboundError::Url(url.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(OutboundError::Url(url.to_string()));
        }
        match parsed.host() {
            Some(url::Host::Ipv4(v4)) => Ok(self.reach.check(IpAddr::V4(v4))?),
            Some(url::Host::Ipv6(v6)) => Ok(self.reach.check(IpAddr::V6(v6))?),
            Some(url::Host::Domain(_)) => Ok(()),
            None => Err(OutboundError::Url(url.to_string())),
        }
    }
}
