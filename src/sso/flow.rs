//! The authorization-code flow with PKCE, state and nonce. [`start`] makes the provider's
//! address and the [`Pending`] sign-on the browser's session keeps; [`finish`] checks the
//! callback against it (one use: the caller removes it first), redeems the code and verifies
//! the ID token: signature (keys fetched again on an unknown `kid`), issuer, audience, expiry
//! and nonce.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError,
    TokenResponse as _,
};
use serde::{Deserialize, Serialize};

use super::SsoError;
use super::connection::{self, redirect_uri};
use super::provider::{Providers, describe};
use crate::auth::secrets::Sealer;
use entity::sso_connection;

/// How long a sign-on may take, from its start to the callback.
pub const FLOW_TTL_SECS: i64 = 600;

/// The RFC 8176 `amr` values that mean a second factor.
pub const SECOND_FACTOR_AMR: &[&str] = &[
    "mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina", "vbm",
];

/// A sign-on under way, kept in the browser's session until its callback.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Pending {
    /// The organization signing on.
    pub organization_id: i64,
    /// The `state` sent.
    pub state: String,
    /// The `nonce` sent.
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
    /// The organization's page to land on.
    pub next: String,
    /// When it started (seconds since the epoch).
    pub started_at: i64,
}

/// What a verified ID token says.
#[derive(Clone, Debug)]
pub struct Asserted {
    /// The issuer.
    pub issuer: String,
    /// The provider's `sub`.
    pub subject: String,
    /// The `email` claim, lower-cased.
    pub email: Option<String>,
    /// The `email_verified` claim, when the provider sent one (Entra does not).
    pub email_verified: Option<bool>,
    /// The `name` claim.
    pub name: Option<String>,
    /// The `amr` claim.
    pub amr: Vec<String>,
}

impl Asserted {
    /// Whether the `amr` names a second factor (RFC 8176).
    pub fn second_factor(&self) -> bool {
        self.amr
            .iter()
            .any(|method| SECOND_FACTOR_AMR.contains(&method.as_str()))
    }
}

fn client(
    metadata: CoreProviderMetadata,
    row: &sso_connection::Model,
    secret: Option<String>,
    public_url: &str,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    SsoError,
> {
    let redirect = RedirectUrl::new(redirect_uri(public_url))
        .map_err(|e| SsoError::Provider(format!("server.public_url: {e}")))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(row.client_id.clone()),
        secret.map(ClientSecret::new),
    )
    .set_redirect_uri(redirect))
}

/// Starts a sign-on through the organization's connection `row`: the provider's address to
/// send the browser to, and what its session keeps.
pub async fn start(
    providers: &Providers,
    row: &sso_connection::Model,
    public_url: &str,
    login_hint: Option<&str>,
    next: &str,
) -> Result<(String, Pending), SsoError> {
    // Checked again: `sso.allow_insecure_issuers` may have been turned off since.
    super::provider::check_issuer(&row.issuer, providers.allows_insecure())
        .map_err(|e| SsoError::Provider(format!("the issuer {e}")))?;
    let metadata = providers.metadata(&row.issuer, false).await?;
    let client = client(metadata, row, None, public_url)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge);
    if let Some(hint) = login_hint.filter(|h| !h.is_empty()) {
        request = request.add_extra_param("login_hint", hint.to_string());
    }
    let (url, state, nonce) = request.url();
    Ok((
        url.to_string(),
        Pending {
            organization_id: row.organization_id,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next: next.to_string(),
            started_at: entity::chrono_now().timestamp(),
        },
    ))
}

/// Finishes the sign-on `pending` with the callback's `code` and `state`: what the provider
/// asserts, once every check passed.
pub async fn finish(
    providers: &Providers,
    sealer: &Sealer,
    row: &sso_connection::Model,
    public_url: &str,
    pending: &Pending,
    code: &str,
    state: &str,
) -> Result<Asserted, SsoError> {
    if !crate::tokens::same_secret(state, &pending.state) {
        return Err(SsoError::Refused(
            "this sign-on's state does not match the one this browser started: start again".into(),
        ));
    }
    if entity::chrono_now().timestamp() - pending.started_at > FLOW_TTL_SECS {
        return Err(SsoError::Refused(
            "the sign-on took too long: start again".into(),
        ));
    }
    let secret = connection::client_secret(sealer, row)?;
    let metadata = providers.metadata(&row.issuer, false).await?;
    let exchanging = client(metadata.clone(), row, Some(secret.clone()), public_url)?;
    let response = exchanging
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| SsoError::Provider(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(&providers.http())
        .await
        .map_err(|e| {
            SsoError::Refused(format!(
                "the identity provider did not accept the sign-on: {}",
                describe(&e)
            ))
        })?;
    let id_token = response
        .id_token()
        .ok_or_else(|| SsoError::Refused("the identity provider sent no ID token".into()))?;
    let nonce = Nonce::new(pending.nonce.clone());
    let claims = match id_token.claims(&exchanging.id_token_verifier(), &nonce) {
        Ok(claims) => claims.clone(),
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            let metadata = providers.refresh_keys(&row.issuer, metadata).await?;
            let verifying = client(metadata, row, Some(secret), public_url)?;
            id_token
                .claims(&verifying.id_token_verifier(), &nonce)
                .map_err(refused_token)?
                .clone()
        }
        Err(error) => return Err(refused_token(error)),
    };
    let asserted = Asserted {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        email: claims
            .email()
            .map(|e| e.as_str().trim().to_ascii_lowercase()),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
        amr: claims
            .auth_method_refs()
            .map(|refs| refs.iter().map(|r| r.as_str().to_string()).collect())
            .unwrap_or_default(),
        email_verified: claims.email_verified(),
    };
    let controls = |text: &str| text.chars().any(char::is_control);
    if controls(&asserted.subject)
        || asserted.email.as_deref().is_some_and(controls)
        || asserted.subject.is_empty()
        || asserted.subject.len() > 255
    {
        return Err(SsoError::Refused(
            "the ID token's subject or email holds what no identifier may".into(),
        ));
    }
    Ok(asserted)
}

fn refused_token(error: ClaimsVerificationError) -> SsoError {
    SsoError::Refused(format!("the ID token was refused: {error}"))
}
