//! The server's one HTTP client for requests it makes on an organization's behalf (OpenID
//! discovery, token and key requests; webhooks later): it resolves names itself, connects only
//! to an address [`Reach`] allows, checks the address the socket actually reached, follows no
//! redirect, reads no proxy setting, caps the body it reads and gives up after a timeout.
//!
//! TLS is rustls on ring with the Mozilla roots, configured for this client alone: no
//! process-wide crypto provider is chosen, so an embedding app's own clients are untouched.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::addresses::{Reach, Refused};

/// A request: `http::Request` with its whole body.
pub type Request = http::Request<Vec<u8>>;
/// A response with its whole body (at most [`Limits::max_body`] bytes).
pub type Response = http::Response<Vec<u8>>;

/// How long and how much.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// To open the TCP connection to one address.
    pub connect: Duration,
    /// For the whole request, from resolving the name to the body's last byte.
    pub total: Duration,
    /// The largest body read; a longer one is an error.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(10),
            max_body: 1 << 20,
        }
    }
}

/// Why an outgoing request failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// Not an `http` or `https` address with a host.
    #[error("{0} is not an http(s) address with a host")]
    Address(String),
    /// The name has no address.
    #[error("{0} has no address")]
    NoAddress(String),
    /// Every address of the name is one outgoing requests may not reach.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// No connection could be made.
    #[error("could not connect to {host}: {reason}")]
    Connect {
        /// The host.
        host: String,
        /// What failed.
        reason: String,
    },
    /// The TLS handshake failed (an untrusted certificate, a wrong name ...).
    #[error("TLS with {host} failed: {reason}")]
    Tls {
        /// The host.
        host: String,
        /// What failed.
        reason: String,
    },
    /// The server broke HTTP, or the connection dropped.
    #[error("HTTP with {host} failed: {reason}")]
    Http {
        /// The host.
        host: String,
        /// What failed.
        reason: String,
    },
    /// The body is longer than the limit.
    #[error("the answer of {host} is larger than {limit} bytes")]
    TooLarge {
        /// The host.
        host: String,
        /// The limit.
        limit: usize,
    },
    /// The request took longer than the limit.
    #[error("{host} did not answer within {secs} s")]
    Timeout {
        /// The host.
        host: String,
        /// The limit.
        secs: u64,
    },
}

/// The future a name lookup returns.
pub type ResolveFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Answers "which addresses does this name have?" (A and AAAA): the DNS server the operator
/// configured, or a test's. Without one the client asks the system's resolver.
pub trait Resolve: Send + Sync + std::fmt::Debug {
    /// The addresses of `name`; empty when it has none.
    fn resolve<'a>(&'a self, name: &'a str) -> ResolveFuture<'a>;
}

/// The client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Outbound {
    inner: Arc<Inner>,
}

#[derive(Clone, Debug)]
struct Inner {
    reach: Reach,
    limits: Limits,
    tls: Arc<rustls::ClientConfig>,
    https_only: bool,
    resolver: Option<Arc<dyn Resolve>>,
    truncate: bool,
}

impl Outbound {
    /// A client reaching public addresses and those `reach` allows, within `limits`.
    pub fn new(reach: Reach, limits: Limits) -> anyhow::Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            inner: Arc::new(Inner {
                reach,
                limits,
                tls: Arc::new(tls),
                https_only: false,
                resolver: None,
                truncate: false,
            }),
        })
    }

    /// This client, resolving names with `resolver` instead of the system's.
    #[must_use]
    pub fn resolving_with(self, resolver: Arc<dyn Resolve>) -> Self {
        let mut inner = (*self.inner).clone();
        inner.resolver = Some(resolver);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// This client keeping the first [`Limits::max_body`] bytes of a longer body instead of
    /// failing (a webhook receiver's answer is only logged).
    #[must_use]
    pub fn truncating_bodies(self) -> Self {
        let mut inner = (*self.inner).clone();
        inner.truncate = true;
        Self {
            inner: Arc::new(inner),
        }
    }

    /// This client, refusing plain `http` addresses when `https_only` (a provider's discovery
    /// document could name an `http` token endpoint, where the client secret would travel in
    /// clear).
    pub fn https_only(self, https_only: bool) -> Self {
        let mut inner = (*self.inner).clone();
        inner.https_only = https_only;
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Sends `request` and reads the answer, whatever its status: a redirect is an answer
    /// like any other, never followed.
    pub async fn send(&self, request: Request) -> Result<Response, OutboundError> {
        let host = request.uri().host().unwrap_or_default().to_string();
        let total = self.inner.limits.total;
        tokio::time::timeout(total, self.send_within(request))
            .await
            .map_err(|_| OutboundError::Timeout {
                host,
                secs: total.as_secs(),
            })?
    }

    async fn send_within(&self, request: Request) -> Result<Response, OutboundError> {
        let uri = request.uri().clone();
        let bad = || OutboundError::Address(uri.to_string());
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if !self.inner.https_only => false,
            _ => return Err(bad()),
        };
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        let name = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let candidates: Vec<SocketAddr> = match name.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => match &self.inner.resolver {
                Some(resolver) => resolver
                    .resolve(name)
                    .await
                    .map_err(|_| OutboundError::NoAddress(name.to_string()))?
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, port))
                    .collect(),
                None => tokio::net::lookup_host((name, port))
                    .await
                    .map_err(|_| OutboundError::NoAddress(name.to_string()))?
                    .collect(),
            },
        };
        let mut refused = None;
        let mut failed = None;
        for candidate in candidates {
            if let Err(refusal) = self.inner.reach.check(candidate.ip()) {
                refused.get_or_insert(refusal);
                continue;
            }
            let connecting = TcpStream::connect(candidate);
            let stream = match tokio::time::timeout(self.inner.limits.connect, connecting).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    failed = Some(e.to_string());
                    continue;
                }
                Err(_) => {
                    failed = Some("timed out".into());
                    continue;
                }
            };
            // The address the socket reached, not the one asked for, is what must be allowed.
            let peer = stream.peer_addr().map_err(|e| OutboundError::Connect {
                host: name.to_string(),
                reason: e.to_string(),
            })?;
            self.inner.reach.check(peer.ip())?;
            return if https {
                let server_name =
                    rustls::pki_types::ServerName::try_from(name.to_string()).map_err(|_| bad())?;
                let tls = tokio_rustls::TlsConnector::from(self.inner.tls.clone())
                    .connect(server_name, stream)
                    .await
                    .map_err(|e| OutboundError::Tls {
                        host: name.to_string(),
                        reason: e.to_string(),
                    })?;
                self.exchange(tls, name, request).await
            } else {
                self.exchange(stream, name, request).await
            };
        }
        match (refused, failed) {
            (_, Some(reason)) => Err(OutboundError::Connect {
                host: name.to_string(),
                reason,
            }),
            (Some(refused), None) => Err(refused.into()),
            (None, None) => Err(OutboundError::NoAddress(name.to_string())),
        }
    }

    /// One request over a fresh connection (no pool: a connection is made to the checked
    /// address each time).
    async fn exchange<S>(
        &self,
        io: S,
        host: &str,
        request: Request,
    ) -> Result<Response, OutboundError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let http = |e: hyper::Error| OutboundError::Http {
            host: host.to_string(),
            reason: e.to_string(),
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(http)?;
        // Aborted however this ends (an answer, an error, the caller's timeout dropping us).
        let driver = AbortOnDrop(tokio::spawn(connection));
        let (mut parts, body) = request.into_parts();
        let authority = parts
            .uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        parts.uri = path.parse().map_err(|_| OutboundError::Address(path))?;
        let header = |value: &str| {
            http::HeaderValue::from_str(value)
                .map_err(|_| OutboundError::Address(value.to_string()))
        };
        parts
            .headers
            .insert(http::header::HOST, header(&authority)?);
        parts
            .headers
            .entry(http::header::USER_AGENT)
            .or_insert(http::HeaderValue::from_static("orgs"));
        let answer = sender
            .send_request(http::Request::from_parts(
                parts,
                Full::new(Bytes::from(body)),
            ))
            .await
            .map_err(http)?;
        let (parts, mut body) = answer.into_parts();
        let limit = self.inner.limits.max_body;
        let mut read = Vec::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.map_err(http)?.into_data() {
                if read.len() + data.len() > limit && self.inner.truncate {
                    read.extend_from_slice(&data[..limit - read.len()]);
                    break;
                }
                if read.len() + data.len() > limit {
                    return Err(OutboundError::TooLarge {
                        host: host.to_string(),
                        limit,
                    });
                }
                read.extend_from_slice(&data);
            }
        }
        drop(driver);
        Ok(http::Response::from_parts(parts, read))
    }
}

/// A spawned task aborted when this is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
