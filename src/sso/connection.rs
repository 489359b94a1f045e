//! An organization's single sign-on connection: its identity provider's issuer, the client id
//! and secret it was given there (the secret sealed with `auth.encryption_key`), the verified
//! email domains it answers for, the role people it brings in get, whether its members must
//! use it, and whether the provider's own second factor counts.

use entity::sso_connection;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, IntoActiveModel};
use serde::{Deserialize, Serialize};

use super::SsoError;
use super::provider::check_issuer;
use crate::audit::{self, Target};
use crate::auth::secrets::Sealer;
use crate::organizations::{email_domains, grants};
use crate::permissions::{BuiltinRole, Permission};
use crate::tenancy::{Grant, TenantTxn};

/// What the organization's admins set.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SsoConnectionInput)]
pub struct Settings {
    /// The issuer URL, exactly as the provider's discovery document gives it.
    #[schema(example = "https://login.acme.com")]
    pub issuer: String,
    /// The client id the provider gave.
    pub client_id: String,
    /// The client secret the provider gave; leave it out to keep the stored one (while the
    /// issuer and client id stay the same).
    #[serde(default)]
    #[schema(write_only)]
    pub client_secret: Option<String>,
    /// The organization's verified email domains the provider answers for.
    pub domains: Vec<String>,
    /// The role people it brings in get (default `member`).
    #[serde(default)]
    pub role: Option<String>,
    /// Members with an address in `domains` must sign in through the provider (owners keep
    /// their password, to get back in when the provider is down).
    #[serde(default)]
    pub enforced: bool,
    /// The provider's `amr` (RFC 8176: `mfa`, `otp`, `hwk` ...) satisfies the organization's
    /// two-factor requirement.
    #[serde(default)]
    pub trust_idp_mfa: bool,
}

// By hand: the client secret never reaches a log.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("domains", &self.domains)
            .field("role", &self.role)
            .field("enforced", &self.enforced)
            .field("trust_idp_mfa", &self.trust_idp_mfa)
            .finish()
    }
}

/// The connection as it is shown and answered (never the secret).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SsoConnection)]
pub struct View {
    /// The issuer URL.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The domains it answers for.
    pub domains: Vec<String>,
    /// The role people it brings in get.
    pub role: String,
    /// Members must sign in through it.
    pub enforced: bool,
    /// The provider's second factor counts.
    pub trust_idp_mfa: bool,
    /// The redirect URI to register at the provider.
    pub redirect_uri: String,
    /// Where a sign-on through it starts.
    pub start_url: String,
}

/// The sealing purpose of a connection's client secret: bound to its organization.
fn purpose(organization_id: i64) -> String {
    format!("sso-client-secret:{organization_id}")
}

/// The connection's domains, as stored.
pub fn domains_of(row: &sso_connection::Model) -> Vec<String> {
    serde_json::from_str(&row.domains).unwrap_or_default()
}

/// The redirect URI of every connection: the callback on `server.public_url`.
pub fn redirect_uri(public_url: &str) -> String {
    format!("{}/sso/callback", public_url.trim_end_matches('/'))
}

/// The view of `row`.
pub fn view(row: &sso_connection::Model, public_url: &str, slug: &str) -> View {
    View {
        issuer: row.issuer.clone(),
        client_id: row.client_id.clone(),
        domains: domains_of(row),
        role: row.role.clone(),
        enforced: row.enforced,
        trust_idp_mfa: row.trust_idp_mfa,
        redirect_uri: redirect_uri(public_url),
        start_url: format!("{}/sso/{slug}/start", public_url.trim_end_matches('/')),
    }
}

/// The organization's connection, if any.
pub async fn get(tx: &TenantTxn) -> Result<Option<sso_connection::Model>, DbErr> {
    tx.select::<sso_connection::Entity>().one(tx.conn()).await
}

/// The client secret of `row`, opened.
pub fn client_secret(sealer: &Sealer, row: &sso_connection::Model) -> Result<String, SsoError> {
    let opened = sealer
        .open(&purpose(row.organization_id), &row.client_secret)
        .map_err(|_| {
            SsoError::Provider(
                "the stored client secret cannot be opened with auth.encryption_key".into(),
            )
        })?;
    String::from_utf8(opened).map_err(|_| SsoError::ClientSecret)
}

/// Creates or replaces the connection; `true` when it was created. The domains must be
/// verified by the organization, the role one the requester could grant.
pub async fn put(
    tx: &TenantTxn,
    grant: &Grant,
    sealer: &Sealer,
    insecure: bool,
    input: Settings,
) -> Result<(sso_connection::Model, bool), SsoError> {
    let issuer = check_issuer(&input.issuer, insecure)?;
    let client_id = input.client_id.trim().to_string();
    if client_id.is_empty() || client_id.len() > 255 {
        return Err(SsoError::ClientId);
    }
    let verified = email_domains::verified(tx).await?;
    let mut domains = Vec::new();
    for domain in &input.domains {
        let domain = email_domains::clean(domain)
            .map_err(|e| SsoError::Domains(format!("{domain}: {e}")))?;
        if !verified.contains(&domain) {
            return Err(SsoError::Domains(format!(
                "{domain} is not a verified email domain of this organization: add and verify it first"
            )));
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.is_empty() {
        return Err(SsoError::Domains(
            "name at least one of the organization's verified email domains".into(),
        ));
    }
    let role = input
        .role
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| BuiltinRole::Member.key().to_string());
    grants::invitation_roles(tx, grant, std::slice::from_ref(&role)).await?;
    let secret = match input.client_secret.as_deref().map(str::trim) {
        Some(secret) if !secret.is_empty() && secret.len() <= 1024 => {
            Some(sealer.seal(&purpose(tx.organization_id().get()), secret.as_bytes()))
        }
        Some(_) => return Err(SsoError::ClientSecret),
        None => None,
    };
    let existing = get(tx).await?;
    let created = existing.is_none();
    // The stored secret goes only to the provider it was given for: a new issuer or client id
    // needs it typed again (else whoever may change the issuer could have it sent to theirs).
    if secret.is_none()
        && existing
            .as_ref()
            .is_some_and(|row| row.issuer != issuer || row.client_id != client_id)
    {
        return Err(SsoError::ClientSecret);
    }
    // Trusting the provider's second factor changes the organization's sign-in security.
    let trusting = input.trust_idp_mfa && !existing.as_ref().is_some_and(|row| row.trust_idp_mfa);
    if trusting
        && !grant
            .holds()
            .contains_all(grant.catalog().one(Permission::SECURITY_MANAGE))
    {
        return Err(SsoError::Role(
            crate::organizations::roles::RoleError::NotHeld(Permission::SECURITY_MANAGE),
        ));
    }
    let before = existing.as_ref().map(|row| {
        serde_json::json!({
            "issuer": row.issuer, "client_id": row.client_id, "domains": domains_of(row),
            "role": row.role, "enforced": row.enforced, "trust_idp_mfa": row.trust_idp_mfa,
        })
    });
    let mut row: sso_connection::ActiveModel = match existing {
        Some(row) => row.into_active_model(),
        None => {
            let Some(_) = secret else {
                return Err(SsoError::ClientSecret);
            };
            tx.new_active_model()
        }
    };
    let secret_changed = secret.is_some();
    if let Some(secret) = secret {
        row.client_secret = Set(secret);
    }
    row.issuer = Set(issuer);
    row.client_id = Set(client_id);
    row.domains = Set(serde_json::to_string(&domains).unwrap_or_else(|_| "[]".into()));
    row.role = Set(role);
    let actor = tx.actor();
    row.role_set_by = Set((actor.kind == crate::tenancy::ActorKind::User)
        .then_some(actor.id)
        .flatten());
    row.enforced = Set(input.enforced);
    row.trust_idp_mfa = Set(input.trust_idp_mfa);
    let saved = if created {
        row.insert(tx.conn()).await?
    } else {
        row.update(tx.conn()).await?
    };
    let after = serde_json::json!({
        "issuer": saved.issuer, "client_id": saved.client_id, "domains": domains,
        "role": saved.role, "enforced": saved.enforced, "trust_idp_mfa": saved.trust_idp_mfa,
        "client_secret_changed": secret_changed,
    });
    email_domains::set_enforced(tx, saved.enforced.then_some(domains.as_slice())).await?;
    audit::record(
        tx,
        if created {
            "sso.connection_created"
        } else {
            "sso.connection_updated"
        },
        Some(Target::new("sso_connection", saved.id, &saved.issuer)),
        Some(serde_json::json!({ "before": before, "after": after })),
    )
    .await?;
    Ok((saved, created))
}

/// Removes the connection; `false` when there was none. Linked identities stay, for a
/// connection made again to the same issuer.
pub async fn remove(tx: &TenantTxn) -> Result<bool, DbErr> {
    let Some(existing) = get(tx).await? else {
        return Ok(false);
    };
    let removed = tx
        .delete_row::<sso_connection::Entity>(sso_connection::Column::Id, existing.id)
        .await?;
    if removed {
        email_domains::set_enforced(tx, None).await?;
        audit::record(
            tx,
            "sso.connection_removed",
            Some(Target::new("sso_connection", existing.id, &existing.issuer)),
            None,
        )
        .await?;
    }
    Ok(removed)
}

/// The connection of `organization`, for a sign-on through it: refused when the organization
/// has none or its plan lacks the feature `sso`.
pub async fn for_sign_on(
    db: &sea_orm::DatabaseConnection,
    organization: &entity::organization::Model,
) -> Result<sso_connection::Model, SsoError> {
    if !crate::organizations::billing::has_feature(organization, "sso") {
        return Err(SsoError::NotEntitled);
    }
    #[expect(
        clippy::disallowed_methods,
        reason = "a sign-on reads its organization's connection before anyone is signed in"
    )]
    let tx = crate::tenancy::door::tenant_read(db, entity::OrganizationId(organization.id)).await?;
    let row = get(&tx).await?;
    tx.commit().await?;
    row.ok_or(SsoError::NotConfigured)
}

/// The organization whose single sign-on answers for the address `email`: its domain verified
/// by that organization and listed on its connection.
pub async fn for_address(
    db: &sea_orm::DatabaseConnection,
    email: &str,
) -> Result<Option<entity::organization::Model>, SsoError> {
    let Some(domain) = email_domains::domain_of(email) else {
        return Ok(None);
    };
    let Some((organization, _)) =
        crate::tenancy::org_rows::by_verified_email_domain(db, &domain).await?
    else {
        return Ok(None);
    };
    match for_sign_on(db, &organization).await {
        Ok(row) if domains_of(&row).contains(&domain) => Ok(Some(organization)),
        Ok(_) | Err(SsoError::NotConfigured | SsoError::NotEntitled) => Ok(None),
        Err(other) => Err(other),
    }
}
