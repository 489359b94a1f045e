//! Audit events become webhook messages (`crate::webhooks` delivers them) in the transaction
//! that records them: one message per
//! event (its `webhook-id` the same to every endpoint and on every retry) and one delivery per
//! enabled endpoint that wants its type. A change that rolls back writes none; a committed one
//! is never lost. The payload is the Standard Webhooks shape, `type`, `timestamp`, `data`, and
//! holds only what the organization's own audit log holds (no client address or user agent).

use entity::{audit_event, webhook_delivery, webhook_endpoint, webhook_message};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, QueryFilter};
use serde_json::{Value, json};

use crate::tenancy::TenantTxn;

/// The type of the test event an endpoint's owner sends.
pub const TEST_EVENT: &str = "webhook.test";

/// Whether an endpoint whose stored `event_types` is `types` wants `action`.
fn wants(types: &str, action: &str) -> bool {
    match serde_json::from_str::<Vec<String>>(types) {
        Ok(types) => types.is_empty() || types.iter().any(|t| t == action),
        Err(_) => false,
    }
}

/// `msg_` and 32 hex digits.
fn new_webhook_id() -> String {
    let mut id = crate::tokens::generate();
    id.truncate(32);
    format!("msg_{id}")
}

/// The body of the message of `event`.
pub fn payload(event: &audit_event::Model) -> Value {
    let changes = event
        .changes
        .as_deref()
        .and_then(|c| serde_json::from_str::<Value>(c).ok());
    let target = event
        .target_type
        .as_ref()
        .map(|kind| json!({"type": kind, "id": event.target_id, "label": event.target_label}));
    json!({
        "type": event.action,
        "timestamp": event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": {
            "event_id": event.id,
            "organization": {"id": event.organization_id, "name": event.organization_name},
            "actor": {"type": event.actor_type, "id": event.actor_id, "name": event.actor_name},
            "target": target,
            "changes": changes,
            "request_id": event.request_id,
        },
    })
}

/// Writes the message of `event` and its deliveries to the organization's endpoints that want
/// it, in `tx`; nothing when none does.
pub(crate) async fn write(tx: &TenantTxn, event: &audit_event::Model) -> Result<(), DbErr> {
    let endpoints: Vec<webhook_endpoint::Model> = tx
        .select::<webhook_endpoint::Entity>()
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(tx.conn())
        .await?
        .into_iter()
        .filter(|e| wants(&e.event_types, &event.action))
        // An endpoint hears of what happens after it exists, not of its own creation.
        .filter(|e| !(event.action == "webhook_endpoint.created" && event.target_id == Some(e.id)))
        .collect();
    if endpoints.is_empty() {
        return Ok(());
    }
    let message = insert_message(tx, &event.action, &payload(event)).await?;
    for endpoint in &endpoints {
        insert_delivery(tx, &message, endpoint, false).await?;
    }
    tx.wrote_webhooks();
    Ok(())
}

/// Writes a test message to `endpoint` alone, whatever types it wants.
pub(crate) async fn write_test(
    tx: &TenantTxn,
    endpoint: &webhook_endpoint::Model,
    actor: &str,
) -> Result<webhook_delivery::Model, DbErr> {
    let now = entity::chrono_now();
    let body = json!({
        "type": TEST_EVENT,
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": {
            "organization": {"id": tx.organization_id().get()},
            "endpoint_id": endpoint.id,
            "sent_by": actor,
            "message": "A test event: this endpoint receives the organization's webhooks.",
        },
    });
    let message = insert_message(tx, TEST_EVENT, &body).await?;
    let delivery = insert_delivery(tx, &message, endpoint, true).await?;
    tx.wrote_webhooks();
    Ok(delivery)
}

async fn insert_message(
    tx: &TenantTxn,
    event_type: &str,
    body: &Value,
) -> Result<webhook_message::Model, DbErr> {
    let mut row: webhook_message::ActiveModel = tx.new_active_model();
    row.webhook_id = Set(new_webhook_id());
    row.event_type = Set(event_type.to_string());
    row.payload = Set(body.to_string());
    row.created_at = Set(entity::chrono_now());
    row.insert(tx.conn()).await
}

async fn insert_delivery(
    tx: &TenantTxn,
    message: &webhook_message::Model,
    endpoint: &webhook_endpoint::Model,
    test: bool,
) -> Result<webhook_delivery::Model, DbErr> {
    let mut row: webhook_delivery::ActiveModel = tx.new_active_model();
    row.endpoint_id = Set(endpoint.id);
    row.message_id = Set(message.id);
    row.webhook_id = Set(message.webhook_id.clone());
    row.event_type = Set(message.event_type.clone());
    row.url = Set(endpoint.url.clone());
    row.secret_sealed = Set(endpoint.secret_sealed.clone());
    row.status = Set("pending".into());
    row.attempts = Set(0);
    row.claims = Set(0);
    row.next_attempt_at = Set(message.created_at);
    row.lease_until = Set(None);
    row.last_attempt_at = Set(None);
    row.response_status = Set(None);
    row.response_body = Set(None);
    row.request_headers = Set(None);
    row.last_error = Set(None);
    row.delivered_at = Set(None);
    row.test = Set(test);
    row.insert(tx.conn()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_with_no_types_wants_every_event_and_one_with_types_only_those() {
        assert!(wants("[]", "member.added"));
        assert!(wants(r#"["member.added"]"#, "member.added"));
        assert!(!wants(r#"["member.removed"]"#, "member.added"));
        assert!(!wants("not json", "member.added"));
        assert!(new_webhook_id().starts_with("msg_") && new_webhook_id().len() == 36);
    }
}
