//! The delivery log: what each attempt is recorded as (in its organization's transaction: the
//! delivery's status, the endpoint's health, an endpoint turned off after a 410 or days of
//! failures, its admins mailed), and what the settings and the API show and send again.

use entity::{
    OrganizationId, organization_member_role, organization_owner, organization_user, user,
    webhook_delivery, webhook_endpoint, webhook_message,
};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::deliver::Sent;
use super::{Outcome, endpoints, schedule};
use crate::audit::{self, Target};
use crate::config::WebhookSettings;
use crate::error::AppError;
use crate::mail::Mailer;
use crate::tenancy::{Actor, TenantTxn, door};

/// The most deliveries one page of the log lists.
pub const MAX_PAGE: u64 = 100;

/// What mails an organization's admins about their endpoints.
#[derive(Clone, Debug)]
pub struct Notices {
    /// Composes the mail.
    pub mailer: Mailer,
}

/// Records attempt `sent` of `row` (fenced by its claim) and what it says of the endpoint;
/// how the attempt ended, and when the delivery is tried again. The endpoint's row is locked first, as every change of an endpoint
/// locks it first: an attempt turning it off and a person changing it take their locks in one
/// order.
pub(crate) async fn record(
    db: &DatabaseConnection,
    events: &crate::events::Events,
    notices: &Notices,
    settings: &WebhookSettings,
    organization: OrganizationId,
    row: &webhook_delivery::Model,
    sent: &Sent,
) -> Result<(Outcome, Option<chrono::DateTime<chrono::Utc>>), DbErr> {
    #[expect(
        clippy::disallowed_methods,
        reason = "the dispatcher records an attempt in its organization's transaction"
    )]
    let tx = door::tenant(db, events, organization)
        .await?
        .acting_for(Actor::system("webhooks"));
    let endpoint = endpoints::find_locked(&tx, row.endpoint_id).await?;
    let now = entity::chrono_now();
    let success = sent.status.is_some_and(|s| (200..300).contains(&s));
    let gone = sent.status == Some(410);
    let asked = sent
        .retry_after
        .filter(|_| matches!(sent.status, Some(429 | 503)));
    let next = (!success && !gone && !sent.never)
        .then(|| schedule::after(row.attempts, schedule::jitter(), asked))
        .flatten();
    let (status, mut outcome) = match (success, next) {
        (true, _) => ("succeeded", Outcome::Succeeded),
        (false, Some(_)) => ("pending", Outcome::Retrying),
        (false, None) => ("failed", Outcome::Failed),
    };
    let mut update = tx
        .update_many::<webhook_delivery::Entity>()
        .filter(webhook_delivery::Column::Id.eq(row.id))
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .filter(webhook_delivery::Column::Claims.eq(row.claims))
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(
            webhook_delivery::Column::Attempts,
            Expr::value(row.attempts),
        )
        .col_expr(
            webhook_delivery::Column::LeaseUntil,
            Expr::value(None::<chrono::DateTime<chrono::Utc>>),
        )
        .col_expr(
            webhook_delivery::Column::LastAttemptAt,
            Expr::value(Some(sent.at)),
        )
        .col_expr(
            webhook_delivery::Column::ResponseStatus,
            Expr::value(sent.status.map(i32::from)),
        )
        .col_expr(
            webhook_delivery::Column::ResponseBody,
            Expr::value(sent.body.clone()),
        )
        .col_expr(
            webhook_delivery::Column::RequestHeaders,
            Expr::value(sent.headers.clone()),
        )
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value(sent.error.clone()),
        )
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now));
    if let Some(wait) = next {
        update = update.col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(now + wait),
        );
    }
    if success {
        update = update.col_expr(
            webhook_delivery::Column::DeliveredAt,
            Expr::value(Some(now)),
        );
    }
    if update.exec(tx.conn()).await?.rows_affected == 0 {
        // Another instance took the delivery over meanwhile, or it was turned off: the row
        // says what became of it.
        tx.commit().await?;
        return Ok((outcome, None));
    }
    if let Some(endpoint) = endpoint.filter(|e| e.enabled && !sent.never) {
        let failing_for = endpoint.failing_since.map(|since| now - since);
        let limit = chrono::TimeDelta::days(i64::from(settings.disable_after_days));
        if success {
            if endpoint.failing_since.is_some() {
                set_failing_since(&tx, endpoint.id, None).await?;
            }
        } else if gone {
            disable(&tx, notices, &endpoint, "gone").await?;
        } else if failing_for.is_some_and(|f| f >= limit) {
            disable(&tx, notices, &endpoint, "failing").await?;
            // Its waiting deliveries, this one among them, failed with it.
            outcome = Outcome::Failed;
            tx.commit().await?;
            return Ok((outcome, None));
        } else if endpoint.failing_since.is_none() {
            set_failing_since(&tx, endpoint.id, Some(now)).await?;
        }
    }
    tx.commit().await?;
    Ok((outcome, next.map(|wait| now + wait)))
}

async fn set_failing_since(
    tx: &TenantTxn,
    id: i64,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), DbErr> {
    tx.update_many::<webhook_endpoint::Entity>()
        .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(since))
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Turns `endpoint` off for `reason` (`gone`, `failing`): its waiting deliveries fail, the
/// change is audited and the organization's owner and admins are mailed.
async fn disable(
    tx: &TenantTxn,
    notices: &Notices,
    endpoint: &webhook_endpoint::Model,
    reason: &str,
) -> Result<(), DbErr> {
    tx.update_many::<webhook_endpoint::Entity>()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(Some(reason)),
        )
        .col_expr(
            webhook_endpoint::Column::UpdatedAt,
            Expr::value(entity::chrono_now()),
        )
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .exec(tx.conn())
        .await?;
    let why = match reason {
        "gone" => "the receiver answered 410 Gone",
        _ => "every attempt failed for days",
    };
    endpoints::fail_pending(
        tx,
        endpoint.id,
        &format!("the endpoint was turned off: {why}"),
    )
    .await?;
    audit::record(
        tx,
        "webhook_endpoint.disabled",
        Some(Target::new("webhook_endpoint", endpoint.id, &endpoint.url)),
        Some(serde_json::json!({ "reason": reason })),
    )
    .await?;
    let (name, slug) = tx
        .organization()
        .await?
        .map(|o| (o.name, o.slug))
        .unwrap_or_default();
    let mut context = tera::Context::new();
    context.insert("organization", &name);
    context.insert("url", &endpoint.url);
    context.insert("why", why);
    context.insert("link", &notices.mailer.link(&format!("/go/{slug}/")));
    for email in admin_addresses(tx).await? {
        let subject = format!("A webhook endpoint of {name} was turned off");
        match notices
            .mailer
            .compose("webhook_disabled", &email, subject, &context)
        {
            Ok(mail) => {
                tx.enqueue_mail(mail).await?;
            }
            Err(error) => tracing::warn!(%error, "the webhook notice could not be composed"),
        }
    }
    Ok(())
}

/// The addresses of the organization's owner and admins who are not suspended.
async fn admin_addresses(tx: &TenantTxn) -> Result<Vec<String>, DbErr> {
    let owner: Vec<i64> = tx
        .select::<organization_owner::Entity>()
        .select_only()
        .column(organization_owner::Column::OrganizationUserId)
        .into_tuple()
        .all(tx.conn())
        .await?;
    let mut memberships: Vec<i64> = tx
        .select::<organization_member_role::Entity>()
        .select_only()
        .column(organization_member_role::Column::OrganizationUserId)
        .filter(organization_member_role::Column::RoleKey.is_in(["owner", "admin"]))
        .limit(50)
        .into_tuple()
        .all(tx.conn())
        .await?;
    memberships.extend(owner);
    let people: Vec<i64> = tx
        .select::<organization_user::Entity>()
        .select_only()
        .column(organization_user::Column::UserId)
        .filter(organization_user::Column::Id.is_in(memberships))
        .filter(organization_user::Column::SuspendedAt.is_null())
        .into_tuple()
        .all(tx.conn())
        .await?;
    crate::tenancy::global::select::<user::Entity>()
        .select_only()
        .column(user::Column::Email)
        .filter(user::Column::Id.is_in(people))
        .into_tuple()
        .all(tx.conn())
        .await
}

/// A delivery as the log lists it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct DeliveryView {
    /// Its id.
    pub id: i64,
    /// The message's `webhook-id` (the same on every attempt and to every endpoint).
    pub webhook_id: String,
    /// The event type.
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// The last answer's status, if there was one.
    pub response_status: Option<i32>,
    /// Why the last attempt got no answer.
    pub last_error: Option<String>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    /// A test event.
    pub test: bool,
    /// When the event happened.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<webhook_delivery::Model> for DeliveryView {
    fn from(row: webhook_delivery::Model) -> Self {
        Self {
            next_attempt_at: (row.status == "pending").then_some(row.next_attempt_at),
            id: row.id,
            webhook_id: row.webhook_id,
            event_type: row.event_type,
            status: row.status,
            attempts: row.attempts,
            response_status: row.response_status,
            last_error: row.last_error,
            last_attempt_at: row.last_attempt_at,
            delivered_at: row.delivered_at,
            test: row.test,
            created_at: row.created_at,
        }
    }
}

/// One delivery with what was sent and what came back.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookDeliveryDetail)]
pub struct DeliveryDetail {
    /// The delivery.
    #[serde(flatten)]
    pub delivery: DeliveryView,
    /// The body sent (the Standard Webhooks payload).
    pub payload: serde_json::Value,
    /// The last attempt's request headers.
    pub request_headers: Option<serde_json::Value>,
    /// The first 4 KiB of the last answer's body.
    pub response_body: Option<String>,
}

/// The endpoint's deliveries, newest first, before the delivery `before` when given.
pub async fn list(
    tx: &TenantTxn,
    endpoint_id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<DeliveryView>, DbErr> {
    let mut query = tx
        .select::<webhook_delivery::Entity>()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id));
    if let Some(before) = before {
        query = query.filter(webhook_delivery::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit.clamp(1, MAX_PAGE))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(DeliveryView::from)
        .collect())
}

/// The delivery `id` of the endpoint, with its request and answer (its body is an audit event:
/// for holders of `audit.read`).
pub async fn detail(
    tx: &TenantTxn,
    grant: &crate::tenancy::Grant,
    endpoint_id: i64,
    id: i64,
) -> Result<Option<DeliveryDetail>, AppError> {
    endpoints::may_read_events(grant)?;
    let Some(row) = tx
        .select::<webhook_delivery::Entity>()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .filter(webhook_delivery::Column::Id.eq(id))
        .one(tx.conn())
        .await?
    else {
        return Ok(None);
    };
    let payload = tx
        .select::<webhook_message::Entity>()
        .filter(webhook_message::Column::Id.eq(row.message_id))
        .one(tx.conn())
        .await?
        .and_then(|m| serde_json::from_str(&m.payload).ok())
        .unwrap_or(serde_json::Value::Null);
    let request_headers = row
        .request_headers
        .as_deref()
        .and_then(|h| serde_json::from_str(h).ok());
    let response_body = row.response_body.clone();
    Ok(Some(DeliveryDetail {
        delivery: row.into(),
        payload,
        request_headers,
        response_body,
    }))
}

/// The endpoint `id`, on, or the error saying why deliveries to it cannot be made.
async fn enabled_endpoint(tx: &TenantTxn, id: i64) -> Result<webhook_endpoint::Model, AppError> {
    let endpoint = endpoints::find(tx, id).await?.ok_or(AppError::NotFound)?;
    if !endpoint.enabled {
        return Err(AppError::Conflict(
            "the endpoint is turned off: turn it on first".into(),
        ));
    }
    Ok(endpoint)
}

/// Queues deliveries again from their first attempt, to the endpoint's present address.
async fn requeue(
    tx: &TenantTxn,
    endpoint: &webhook_endpoint::Model,
    filter: sea_orm::Condition,
) -> Result<u64, DbErr> {
    let now = entity::chrono_now();
    let queued = tx
        .update_many::<webhook_delivery::Entity>()
        .col_expr(webhook_delivery::Column::Status, Expr::value("pending"))
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(0))
        // A claim of the old round must not fence the new one.
        .col_expr(
            webhook_delivery::Column::Claims,
            Expr::col(webhook_delivery::Column::Claims).add(1),
        )
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            webhook_delivery::Column::LeaseUntil,
            Expr::value(None::<chrono::DateTime<chrono::Utc>>),
        )
        .col_expr(
            webhook_delivery::Column::Url,
            Expr::value(endpoint.url.clone()),
        )
        .col_expr(
            webhook_delivery::Column::SecretSealed,
            Expr::value(endpoint.secret_sealed.clone()),
        )
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::Status.ne("pending"))
        .filter(filter)
        .exec(tx.conn())
        .await?
        .rows_affected;
    if queued > 0 {
        tx.wrote_webhooks();
    }
    Ok(queued)
}

/// Sends the delivery `id` of the endpoint again (one not waiting already); `false` when the
/// endpoint has no such finished delivery.
pub async fn redeliver(tx: &TenantTxn, endpoint_id: i64, id: i64) -> Result<bool, AppError> {
    let endpoint = enabled_endpoint(tx, endpoint_id).await?;
    let filter = sea_orm::Condition::all().add(webhook_delivery::Column::Id.eq(id));
    Ok(requeue(tx, &endpoint, filter).await? == 1)
}

/// Sends every failed delivery of the endpoint since `since` again; how many.
pub async fn redeliver_failed_since(
    tx: &TenantTxn,
    endpoint_id: i64,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<u64, AppError> {
    let endpoint = enabled_endpoint(tx, endpoint_id).await?;
    let filter = sea_orm::Condition::all()
        .add(webhook_delivery::Column::Status.eq("failed"))
        .add(webhook_delivery::Column::CreatedAt.gte(since));
    Ok(requeue(tx, &endpoint, filter).await?)
}

/// Sends a test event to the endpoint (whatever types it wants), by `actor`.
pub async fn send_test(
    tx: &TenantTxn,
    endpoint_id: i64,
    actor: &str,
) -> Result<DeliveryView, AppError> {
    let endpoint = enabled_endpoint(tx, endpoint_id).await?;
    Ok(crate::audit::outgoing::write_test(tx, &endpoint, actor)
        .await?
        .into())
}

/// The queue across organizations, for `/metrics`: deliveries waiting, and the age in seconds
/// of the oldest.
pub async fn queue(db: &DatabaseConnection) -> Result<(u64, f64), DbErr> {
    #[expect(
        clippy::disallowed_methods,
        reason = "the metrics count every organization's queue"
    )]
    let read = door::system_read(db, "webhook metrics").await?;
    let (count, oldest): (i64, Option<chrono::DateTime<chrono::Utc>>) = read
        .select_all::<webhook_delivery::Entity>()
        .select_only()
        .column_as(webhook_delivery::Column::Id.count(), "count")
        .column_as(webhook_delivery::Column::CreatedAt.min(), "oldest")
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .into_tuple()
        .one(read.conn())
        .await?
        .unwrap_or((0, None));
    read.commit().await?;
    let age = oldest.map_or(0.0, |at| {
        Ord::max((entity::chrono_now() - at).num_milliseconds(), 0) as f64 / 1_000.0
    });
    Ok((u64::try_from(count).unwrap_or(0), age))
}

/// Deletes the deliveries finished more than `keep_days` days ago, of every organization, and
/// the messages no delivery needs any more; how many deliveries.
pub async fn prune(db: &DatabaseConnection, keep_days: u32) -> Result<u64, DbErr> {
    let Some(cutoff) =
        entity::chrono_now().checked_sub_signed(chrono::TimeDelta::days(i64::from(keep_days)))
    else {
        return Ok(0);
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "the log's retention crosses organizations"
    )]
    let txn = door::system(db, "prune webhook deliveries").await?;
    let pruned = txn
        .delete_all::<webhook_delivery::Entity>()
        .filter(webhook_delivery::Column::Status.ne("pending"))
        .filter(webhook_delivery::Column::UpdatedAt.lt(cutoff))
        .exec(txn.conn())
        .await?
        .rows_affected;
    txn.delete_all::<webhook_message::Entity>()
        .filter(webhook_message::Column::CreatedAt.lt(cutoff))
        .filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.message_id = webhook_messages.id)",
        ))
        .exec(txn.conn())
        .await?;
    txn.commit().await?;
    Ok(pruned)
}
