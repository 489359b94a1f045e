//! Passkeys (WebAuthn): the relying party is `tenant.base_domain`, so a passkey made on the
//! base domain works on every organization's subdomain too.

use crate::config::{Environment, Settings};

/// The relying party of `settings`: id `tenant.base_domain`, origin `server.public_url`, its
/// subdomains allowed (organizations' hosts); any port outside production (development servers
/// and tests listen where they can).
pub fn relying_party(settings: &Settings) -> anyhow::Result<webauthn_rs::Webauthn> {
    let rp_id = settings.tenant.base_domain.trim().trim_end_matches('.');
    let origin = webauthn_rs::prelude::Url::parse(settings.server.public_url.trim())
        .map_err(|e| anyhow::anyhow!("server.public_url: {e}"))?;
    let builder = webauthn_rs::WebauthnBuilder::new(rp_id, &origin)
        .map_err(|e| anyhow::anyhow!("tenant.base_domain and server.public_url: {e}"))?
        .rp_name(&settings.ui.product_name)
        .allow_subdomains(true)
        .allow_any_port(settings.environment != Environment::Production);
    builder
        .build()
        .map_err(|e| anyhow::anyhow!("the passkeys' relying party: {e}"))
}

/// A passkey as the account page and the API show it (nothing of the credential itself).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PasskeyJson {
    /// Its id.
    pub id: i64,
    /// The name its owner gave it.
    pub name: String,
    /// When it was added.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was last used to sign in.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The user's passkeys, oldest first.
pub async fn list<C: sea_orm::ConnectionTrait>(
    db: &C,
    user_id: entity::UserId,
) -> Result<Vec<PasskeyJson>, sea_orm::DbErr> {
    use entity::passkey;
    use sea_orm::{ColumnTrait as _, QueryFilter as _, QueryOrder as _};
    let rows = crate::tenancy::global::select::<passkey::Entity>()
        .filter(passkey::Column::UserId.eq(user_id.get()))
        .order_by_asc(passkey::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| PasskeyJson {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        })
        .collect())
}
