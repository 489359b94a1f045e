//! SCIM tokens: made by holders of `sso.manage` (`orgs_scim_` and 64 hex characters, shown once,
//! only the SHA-256 kept), listed and revoked on the organization's settings and through
//! `/api/v1/scim-tokens/`, every change audited. A token is looked up within the organization
//! of the URL only (another organization's token is unknown there) and works while its maker
//! holds `sso.manage` in it ([`crate::organizations::grants::scim_token_holds`]).

use entity::scim_token;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use serde::Serialize;

use crate::audit::{self, Target};
use crate::error::AppError;
use crate::tenancy::TenantTxn;
use crate::tokens;

/// What every SCIM token starts with (an API key's is `orgs_key_`).
pub const PREFIX: &str = "orgs_scim_";

/// The longest name.
pub const MAX_NAME_LEN: usize = 100;

/// A token as the settings and the API show it (never its secret).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ScimToken)]
pub struct TokenView {
    /// Its id.
    pub id: i64,
    /// What it is for ("Entra ID").
    pub name: String,
    /// Its first characters, to tell tokens apart.
    pub prefix: String,
    /// Who made it (it works while they hold `sso.manage`).
    pub created_by_id: Option<i64>,
    /// When it was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When a directory last used it.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<scim_token::Model> for TokenView {
    fn from(row: scim_token::Model) -> Self {
        Self {
            id: row.id,
            name: row.name,
            prefix: row.token_prefix,
            created_by_id: row.created_by_id,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        }
    }
}

/// Makes a token named `name` for the person `maker`; the secret is in the answer only.
pub async fn create(
    tx: &TenantTxn,
    name: &str,
    maker: i64,
) -> Result<(TokenView, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(AppError::field(
            "name",
            format!("must be 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    let secret = format!("{PREFIX}{}", tokens::generate());
    let mut row: scim_token::ActiveModel = tx.new_active_model();
    row.name = Set(name.to_string());
    row.token_prefix = Set(secret.chars().take(PREFIX.len() + 8).collect());
    row.token_hash = Set(tokens::hash(&secret));
    row.created_by_id = Set(Some(maker));
    row.last_used_at = Set(None);
    row.revoked_at = Set(None);
    let row = row.insert(tx.conn()).await?;
    audit::record(
        tx,
        "scim_token.created",
        Some(Target::new("scim_token", row.id, &row.name)),
        None,
    )
    .await?;
    Ok((row.into(), secret))
}

/// The organization's working tokens, newest first.
pub async fn list(tx: &TenantTxn) -> Result<Vec<TokenView>, DbErr> {
    Ok(tx
        .select::<scim_token::Entity>()
        .filter(scim_token::Column::RevokedAt.is_null())
        .order_by_desc(scim_token::Column::Id)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(TokenView::from)
        .collect())
}

/// Revokes the token `id` (recorded); `false` when no working token has it.
pub async fn revoke(tx: &TenantTxn, id: i64) -> Result<bool, DbErr> {
    let Some(row) = tx
        .select::<scim_token::Entity>()
        .filter(scim_token::Column::Id.eq(id))
        .filter(scim_token::Column::RevokedAt.is_null())
        .one(tx.conn())
        .await?
    else {
        return Ok(false);
    };
    tx.update_many::<scim_token::Entity>()
        .col_expr(
            scim_token::Column::RevokedAt,
            Expr::value(entity::chrono_now()),
        )
        .filter(scim_token::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    audit::record(
        tx,
        "scim_token.revoked",
        Some(Target::new("scim_token", row.id, &row.name)),
        None,
    )
    .await?;
    Ok(true)
}

/// Revokes the token `id` on a person's behalf: `grant` must hold every permission its maker
/// holds (the grant rule: nobody turns off the directory of someone above them).
pub async fn revoke_for(
    tx: &TenantTxn,
    grant: &crate::tenancy::Grant,
    id: i64,
) -> Result<bool, AppError> {
    let maker = tx
        .select::<scim_token::Entity>()
        .filter(scim_token::Column::Id.eq(id))
        .filter(scim_token::Column::RevokedAt.is_null())
        .one(tx.conn())
        .await?
        .and_then(|t| t.created_by_id);
    if let Some(maker) = maker {
        crate::organizations::grants::may_act_on(tx, grant, entity::UserId(maker)).await?;
    }
    Ok(revoke(tx, id).await?)
}

/// The working token of this organization whose secret is `secret`, if any.
pub async fn find(tx: &TenantTxn, secret: &str) -> Result<Option<scim_token::Model>, DbErr> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    tx.select::<scim_token::Entity>()
        .filter(scim_token::Column::TokenHash.eq(tokens::hash(secret)))
        .filter(scim_token::Column::RevokedAt.is_null())
        .one(tx.conn())
        .await
}

/// Notes that the token `id` was used, at most once a minute (a sync sends thousands).
pub async fn touch(tx: &TenantTxn, token: &scim_token::Model) -> Result<(), DbErr> {
    let now = entity::chrono_now();
    if token
        .last_used_at
        .is_some_and(|at| now - at < chrono::Duration::minutes(1))
    {
        return Ok(());
    }
    tx.update_many::<scim_token::Entity>()
        .col_expr(scim_token::Column::LastUsedAt, Expr::value(now))
        .filter(scim_token::Column::Id.eq(token.id))
        .exec(tx.conn())
        .await?;
    Ok(())
}
