//! Identity providers as the server reaches them: their discovery documents and keys, fetched
//! through the SSRF-safe client (`net::client`) and kept for a few minutes; the keys fetched
//! again when a token names one not seen yet (a provider rotating its keys).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::CoreProviderMetadata;
use openidconnect::{HttpRequest, HttpResponse, IssuerUrl, JsonWebKeySet};

use super::SsoError;
use crate::config::SsoSettings;
use crate::net::addresses::Reach;
use crate::net::client::{Limits, Outbound, OutboundError};

/// How long a discovery document is used before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(300);

/// The identity providers' documents, shared by the server.
#[derive(Debug)]
pub struct Providers {
    http: Outbound,
    insecure: bool,
    cache: Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>,
}

impl Providers {
    /// Providers reached as `[sso]` allows.
    pub fn new(settings: &SsoSettings) -> anyhow::Result<Self> {
        Ok(Self {
            http: Outbound::new(
                Reach::allowing(settings.allow_private_networks.clone()),
                Limits::default(),
            )?
            .https_only(!settings.allow_insecure_issuers),
            insecure: settings.allow_insecure_issuers,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Whether `http://` issuers are accepted (`sso.allow_insecure_issuers`).
    pub fn allows_insecure(&self) -> bool {
        self.insecure
    }

    /// The HTTP client `openidconnect` calls: ours, whatever the request.
    pub fn http(
        &self,
    ) -> impl Fn(
        HttpRequest,
    ) -> std::pin::Pin<
        Box<dyn Future<Output = Result<HttpResponse, OutboundError>> + Send>,
    > + '_ {
        move |request| {
            let http = self.http.clone();
            Box::pin(async move { http.send(request).await })
        }
    }

    /// The discovery document of `issuer` (and its keys), from the cache unless `fresh`.
    pub async fn metadata(
        &self,
        issuer: &str,
        fresh: bool,
    ) -> Result<CoreProviderMetadata, SsoError> {
        if !fresh && let Some(found) = self.cached(issuer) {
            return Ok(found);
        }
        let url = IssuerUrl::new(issuer.to_string())
            .map_err(|e| SsoError::Issuer(format!("not a URL: {e}")))?;
        let metadata = CoreProviderMetadata::discover_async(url, &self.http())
            .await
            .map_err(|e| SsoError::Provider(format!("discovery: {}", describe(&e))))?;
        self.keep(issuer, metadata.clone());
        Ok(metadata)
    }

    /// `metadata` with its keys fetched again: a token named a key the cached set lacks.
    pub async fn refresh_keys(
        &self,
        issuer: &str,
        metadata: CoreProviderMetadata,
    ) -> Result<CoreProviderMetadata, SsoError> {
        let keys = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http())
            .await
            .map_err(|e| SsoError::Provider(format!("keys: {}", describe(&e))))?;
        let metadata = metadata.set_jwks(keys);
        self.keep(issuer, metadata.clone());
        Ok(metadata)
    }

    fn cached(&self, issuer: &str) -> Option<CoreProviderMetadata> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(issuer)
            .filter(|(at, _)| at.elapsed() < METADATA_TTL)
            .map(|(_, metadata)| metadata.clone())
    }

    fn keep(&self, issuer: &str, metadata: CoreProviderMetadata) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(issuer.to_string(), (Instant::now(), metadata));
        }
    }
}

/// An error and its causes on one line; a refused address is logged, not told (an
/// organization's admin must not map the operator's network through the answers).
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(OutboundError::Refused(refused)) = current.downcast_ref::<OutboundError>() {
            tracing::warn!(%refused, "an identity provider's address was refused");
            return "its address is one this server may not reach (a private, loopback or \
                    metadata address: see sso.allow_private_networks)"
                .into();
        }
        cause = current.source();
    }
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// Checks an issuer URL as configured: `https` (or `http` where allowed), a host, no query or
/// fragment, and not one of Entra's multi-tenant endpoints, whose tokens any tenant can mint.
pub fn check_issuer(issuer: &str, insecure: bool) -> Result<String, SsoError> {
    // Kept as typed, a trailing slash included: it must equal the discovery document's `issuer`.
    let issuer = issuer.trim().to_string();
    let url = url::Url::parse(&issuer).map_err(|_| {
        SsoError::Issuer("enter the issuer's URL, such as https://login.example.com".into())
    })?;
    match url.scheme() {
        "https" => {}
        "http" if insecure => {}
        "http" => return Err(SsoError::Issuer("must be https".into())),
        _ => return Err(SsoError::Issuer("must be an https URL".into())),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(SsoError::Issuer("must name a host".into()));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(SsoError::Issuer(
            "must have no query, fragment or user".into(),
        ));
    }
    let multi_tenant = url.path_segments().into_iter().flatten().any(|segment| {
        matches!(
            segment.to_ascii_lowercase().as_str(),
            "common" | "organizations" | "consumers" | "{tenantid}" | "%7btenantid%7d"
        )
    });
    if multi_tenant {
        return Err(SsoError::Issuer(
            "is a multi-tenant endpoint (any tenant's accounts could sign in): use your own tenant's issuer, such as https://login.microsoftonline.com/<tenant id>/v2.0".into(),
        ));
    }
    Ok(issuer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_tenant_and_plain_http_issuers_are_refused() {
        for bad in [
            "https://login.microsoftonline.com/common/v2.0",
            "https://login.microsoftonline.com/organizations/v2.0",
            "https://login.microsoftonline.com/consumers/v2.0",
            "https://login.microsoftonline.com/{tenantid}/v2.0",
            "http://idp.example.com",
            "ftp://idp.example.com",
            "https://idp.example.com/?a=b",
            "not a url",
        ] {
            assert!(check_issuer(bad, false).is_err(), "{bad}");
        }
        assert_eq!(
            check_issuer(" https://login.microsoftonline.com/8f1c/v2.0 ", false).unwrap(),
            "https://login.microsoftonline.com/8f1c/v2.0"
        );
        assert!(check_issuer("http://127.0.0.1:4000", true).is_ok());
    }
}
