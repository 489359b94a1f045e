//! Webhook endpoints: registered, changed, turned off and on, rotated and deleted by holders of
//! `webhooks.manage`, every change audited. An address is checked when it is given (an
//! `https` URL without credentials, on an allowed port, not a literal address deliveries may
//! not reach); the address each attempt connects to is checked again when it is sent
//! (`super::deliver`), since a name can resolve elsewhere later.

use entity::{webhook_delivery, webhook_endpoint};
use sea_orm::sea_query::ExprTrait as _;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use serde::Serialize;

use super::{Hooks, signing};
use crate::audit::{self, Target};
use crate::error::AppError;
use crate::permissions::Permission;
use crate::tenancy::{Grant, TenantTxn};

/// The longest address.
pub const MAX_URL_LEN: usize = 2_000;
/// The longest description.
pub const MAX_DESCRIPTION_LEN: usize = 500;
/// The most event types one endpoint names.
pub const MAX_EVENT_TYPES: usize = 100;
/// The most endpoints of one organization.
pub const MAX_ENDPOINTS: u64 = 50;
/// How long the previous secret still signs after a rotation.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// An endpoint as the settings and the API show it (never its secret).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookEndpoint)]
pub struct EndpointView {
    /// Its id.
    pub id: i64,
    /// Where events are posted.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// The event types it receives; empty for every type.
    pub event_types: Vec<String>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Why it is off: `manual`, `gone` (the receiver answered 410) or `failing` (days of failed
    /// attempts).
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    pub failing_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Until when the previous secret signs too, after a rotation.
    pub previous_secret_until: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was registered.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<webhook_endpoint::Model> for EndpointView {
    fn from(row: webhook_endpoint::Model) -> Self {
        let now = entity::chrono_now();
        Self {
            event_types: serde_json::from_str(&row.event_types).unwrap_or_default(),
            id: row.id,
            url: row.url,
            description: row.description,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            failing_since: row.failing_since,
            previous_secret_until: row.previous_secret_until.filter(|until| *until > now),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// What an endpoint is made with.
#[derive(Clone, Debug, Default)]
pub struct NewEndpoint {
    /// Its address.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// The event types it wants; empty for all.
    pub event_types: Vec<String>,
}

/// What a change sets; `None` keeps.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// A new address.
    pub url: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// New event types.
    pub event_types: Option<Vec<String>>,
    /// On or off.
    pub enabled: Option<bool>,
}

/// `url` when deliveries may be made to it, else the field error saying why.
pub fn check_url(hooks: &Hooks<'_>, url: &str) -> Result<String, AppError> {
    let bad = |why: String| AppError::field("url", why);
    let url = url.trim();
    if url.is_empty() || url.len() > MAX_URL_LEN {
        return Err(bad(format!("must be 1 to {MAX_URL_LEN} characters")));
    }
    let parsed = url::Url::parse(url).map_err(|e| bad(format!("is not a URL ({e})")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if hooks.settings.allow_insecure_urls => {}
        "http" => return Err(bad("must be https".into())),
        other => return Err(bad(format!("must be https, not {other}"))),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("must not carry credentials (user:password@)".into()));
    }
    let Some(host) = parsed.host() else {
        return Err(bad("must name a host".into()));
    };
    if parsed.fragment().is_some() {
        return Err(bad("must not have a fragment (#...)".into()));
    }
    let port = parsed.port_or_known_default().unwrap_or(0);
    let ports = hooks.settings.ports();
    if !ports.contains(&port) {
        let allowed: Vec<String> = ports.iter().map(u16::to_string).collect();
        return Err(bad(format!(
            "port {port} is not allowed (webhooks.allowed_ports: {})",
            allowed.join(", ")
        )));
    }
    let literal = match host {
        url::Host::Ipv4(ip) => Some(std::net::IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(std::net::IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    if let Some(ip) = literal {
        hooks
            .reach
            .check(ip)
            .map_err(|refused| bad(refused.to_string()))?;
    }
    Ok(parsed.to_string())
}

fn check_description(description: &str) -> Result<String, AppError> {
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(AppError::field(
            "description",
            format!("at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
    Ok(description.to_string())
}

/// The event types as stored (sorted, once each), or the field error naming an unknown one.
fn check_event_types(hooks: &Hooks<'_>, types: &[String]) -> Result<String, AppError> {
    if types.len() > MAX_EVENT_TYPES {
        return Err(AppError::field(
            "event_types",
            format!("at most {MAX_EVENT_TYPES}"),
        ));
    }
    let mut kept: Vec<&str> = Vec::with_capacity(types.len());
    for kind in types {
        let kind = kind.trim();
        if !hooks.event_types.contains(&kind) {
            return Err(AppError::field(
                "event_types",
                format!(
                    "`{kind}` is not an event type (GET /api/v1/webhook-event-types/ lists them)"
                ),
            ));
        }
        kept.push(kind);
    }
    kept.sort_unstable();
    kept.dedup();
    Ok(serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into()))
}

/// Refuses unless `grant` holds `audit.read`: an endpoint receives the audit log, event by
/// event, so choosing where it goes (or reading what went) is for those who may read it.
pub fn may_read_events(grant: &Grant) -> Result<(), AppError> {
    let audit = grant.catalog().one(Permission::AUDIT_READ);
    if grant.holds().contains_all(audit) {
        Ok(())
    } else {
        Err(AppError::MissingPermission(Permission::AUDIT_READ))
    }
}

/// Registers an endpoint for the person `maker` (`None` for an API key); its secret is in the
/// answer only.
pub async fn create(
    tx: &TenantTxn,
    hooks: &Hooks<'_>,
    grant: &Grant,
    new: NewEndpoint,
    maker: Option<i64>,
) -> Result<(EndpointView, String), AppError> {
    may_read_events(grant)?;
    let url = check_url(hooks, &new.url)?;
    let description = check_description(&new.description)?;
    let event_types = check_event_types(hooks, &new.event_types)?;
    let count =
        sea_orm::PaginatorTrait::count(tx.select::<webhook_endpoint::Entity>(), tx.conn()).await?;
    if count >= MAX_ENDPOINTS {
        return Err(AppError::Conflict(format!(
            "an organization has at most {MAX_ENDPOINTS} webhook endpoints"
        )));
    }
    let secret = signing::new_secret();
    let mut row: webhook_endpoint::ActiveModel = tx.new_active_model();
    row.url = Set(url);
    row.description = Set(description);
    row.event_types = Set(event_types);
    row.enabled = Set(true);
    row.disabled_reason = Set(None);
    row.secret_sealed = Set(String::new());
    row.previous_secret_sealed = Set(None);
    row.previous_secret_until = Set(None);
    row.failing_since = Set(None);
    row.created_by_id = Set(maker);
    let row = row.insert(tx.conn()).await?;
    // Sealed for this endpoint's id, known only now.
    let sealed = hooks
        .sealer
        .seal(&super::purpose(row.id), secret.as_bytes());
    tx.update_many::<webhook_endpoint::Entity>()
        .col_expr(webhook_endpoint::Column::SecretSealed, Expr::value(sealed))
        .filter(webhook_endpoint::Column::Id.eq(row.id))
        .exec(tx.conn())
        .await?;
    audit::record(
        tx,
        "webhook_endpoint.created",
        Some(Target::new("webhook_endpoint", row.id, &row.url)),
        Some(serde_json::json!({"event_types": new.event_types})),
    )
    .await?;
    Ok((row.into(), secret))
}

/// The organization's endpoints, oldest first.
pub async fn list(tx: &TenantTxn) -> Result<Vec<EndpointView>, DbErr> {
    Ok(tx
        .select::<webhook_endpoint::Entity>()
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(EndpointView::from)
        .collect())
}

/// The endpoint `id`, if the organization has it.
pub async fn find(tx: &TenantTxn, id: i64) -> Result<Option<webhook_endpoint::Model>, DbErr> {
    tx.select::<webhook_endpoint::Entity>()
        .filter(webhook_endpoint::Column::Id.eq(id))
        .one(tx.conn())
        .await
}

/// The endpoint `id`, its row locked for the rest of the transaction: every change of an
/// endpoint (a person's, an attempt turning it off) takes this lock first.
pub async fn find_locked(
    tx: &TenantTxn,
    id: i64,
) -> Result<Option<webhook_endpoint::Model>, DbErr> {
    tx.select::<webhook_endpoint::Entity>()
        .filter(webhook_endpoint::Column::Id.eq(id))
        .lock_exclusive()
        .one(tx.conn())
        .await
}

/// Applies `changes` to the endpoint `id` (recorded); turning it on clears why it was off.
pub async fn update(
    tx: &TenantTxn,
    hooks: &Hooks<'_>,
    grant: &Grant,
    id: i64,
    changes: Changes,
) -> Result<EndpointView, AppError> {
    may_read_events(grant)?;
    // Every field checked before anything is written: a refused change writes nothing.
    let url = changes.url.map(|u| check_url(hooks, &u)).transpose()?;
    let description = changes
        .description
        .map(|d| check_description(&d))
        .transpose()?;
    let event_types = changes
        .event_types
        .map(|t| check_event_types(hooks, &t))
        .transpose()?;
    let row = find_locked(tx, id).await?.ok_or(AppError::NotFound)?;
    let mut model: webhook_endpoint::ActiveModel = row.clone().into();
    let mut changed = serde_json::Map::new();
    if let Some(url) = url
        && url != row.url
    {
        changed.insert("url".into(), serde_json::json!([row.url, url]));
        // What a waiting delivery would use once the organization is gone.
        tx.update_many::<webhook_delivery::Entity>()
            .col_expr(webhook_delivery::Column::Url, Expr::value(url.clone()))
            .filter(webhook_delivery::Column::EndpointId.eq(id))
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .exec(tx.conn())
            .await?;
        model.url = Set(url);
    }
    if let Some(description) = description
        && description != row.description
    {
        changed.insert(
            "description".into(),
            serde_json::json!([row.description, description]),
        );
        model.description = Set(description);
    }
    if let Some(types) = event_types
        && types != row.event_types
    {
        changed.insert(
            "event_types".into(),
            serde_json::json!([row.event_types, types]),
        );
        model.event_types = Set(types);
    }
    if let Some(enabled) = changes.enabled
        && enabled != row.enabled
    {
        changed.insert("enabled".into(), serde_json::json!([row.enabled, enabled]));
        model.enabled = Set(enabled);
        model.disabled_reason = Set((!enabled).then(|| "manual".to_string()));
        model.failing_since = Set(None);
        if !enabled {
            fail_pending(tx, id, "the endpoint was turned off").await?;
        }
    }
    if changed.is_empty() {
        return Ok(row.into());
    }
    let saved = model.update(tx.conn()).await?;
    audit::record(
        tx,
        "webhook_endpoint.updated",
        Some(Target::new("webhook_endpoint", saved.id, &saved.url)),
        Some(serde_json::Value::Object(changed)),
    )
    .await?;
    Ok(saved.into())
}

/// Ends the endpoint's waiting deliveries as failed (`why`): a turned-off endpoint's messages
/// are not sent later in a burst; they can be sent again from the delivery log.
pub(crate) async fn fail_pending(tx: &TenantTxn, id: i64, why: &str) -> Result<u64, DbErr> {
    Ok(tx
        .update_many::<webhook_delivery::Entity>()
        .col_expr(webhook_delivery::Column::Status, Expr::value("failed"))
        .col_expr(webhook_delivery::Column::LastError, Expr::value(why))
        // An attempt in flight records nothing over this.
        .col_expr(
            webhook_delivery::Column::Claims,
            Expr::col(webhook_delivery::Column::Claims).add(1),
        )
        .col_expr(
            webhook_delivery::Column::LeaseUntil,
            Expr::value(None::<chrono::DateTime<chrono::Utc>>),
        )
        .col_expr(
            webhook_delivery::Column::UpdatedAt,
            Expr::value(entity::chrono_now()),
        )
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .exec(tx.conn())
        .await?
        .rows_affected)
}

/// Deletes the endpoint `id` and its delivery log (recorded); `false` when there is none.
pub async fn delete(tx: &TenantTxn, id: i64) -> Result<bool, DbErr> {
    let Some(row) = find_locked(tx, id).await? else {
        return Ok(false);
    };
    tx.delete_many::<webhook_delivery::Entity>()
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<webhook_endpoint::Entity>()
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    audit::record(
        tx,
        "webhook_endpoint.deleted",
        Some(Target::new("webhook_endpoint", row.id, &row.url)),
        None,
    )
    .await?;
    Ok(true)
}

/// Gives the endpoint `id` a new secret (recorded), shown in the answer only; the previous one
/// signs too for [`ROTATION_OVERLAP_HOURS`], so receivers can switch without losing a message.
pub async fn rotate(
    tx: &TenantTxn,
    hooks: &Hooks<'_>,
    grant: &Grant,
    id: i64,
) -> Result<String, AppError> {
    // A secret signs events as the audit log's: for those who may read it.
    may_read_events(grant)?;
    let row = find_locked(tx, id).await?.ok_or(AppError::NotFound)?;
    let secret = signing::new_secret();
    let until = entity::chrono_now() + chrono::TimeDelta::hours(ROTATION_OVERLAP_HOURS);
    let sealed = hooks.sealer.seal(&super::purpose(id), secret.as_bytes());
    tx.update_many::<webhook_endpoint::Entity>()
        .col_expr(
            webhook_endpoint::Column::SecretSealed,
            Expr::value(sealed.clone()),
        )
        .col_expr(
            webhook_endpoint::Column::PreviousSecretSealed,
            Expr::value(Some(row.secret_sealed.clone())),
        )
        .col_expr(
            webhook_endpoint::Column::PreviousSecretUntil,
            Expr::value(Some(until)),
        )
        .col_expr(
            webhook_endpoint::Column::UpdatedAt,
            Expr::value(entity::chrono_now()),
        )
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    tx.update_many::<webhook_delivery::Entity>()
        .col_expr(webhook_delivery::Column::SecretSealed, Expr::value(sealed))
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .exec(tx.conn())
        .await?;
    audit::record(
        tx,
        "webhook_endpoint.secret_rotated",
        Some(Target::new("webhook_endpoint", row.id, &row.url)),
        None,
    )
    .await?;
    Ok(secret)
}
