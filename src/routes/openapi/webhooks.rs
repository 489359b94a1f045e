//! The document's `webhooks` (OpenAPI 3.1): one per event type an endpoint can receive, each a
//! `POST` of the Standard Webhooks payload [`WebhookEvent`] to the endpoint, with what the
//! event means (its audit sentence).

use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{Content, Paths, Ref, RefOr, Required};

use crate::audit::Sentences;

/// What every delivery posts: the Standard Webhooks payload. Headers: `webhook-id` (the same
/// on every attempt), `webhook-timestamp` (the attempt's, in seconds), `webhook-signature`
/// (`v1,` and base64 of HMAC-SHA256 of `{id}.{timestamp}.{body}` with the endpoint's secret;
/// two, space-separated, for a day after a rotation).
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "a description of the payload, never built")]
pub struct WebhookEvent {
    /// The event type (`member.added` ...).
    #[schema(rename = "type")]
    kind: String,
    /// When it happened, RFC 3339 UTC with microseconds.
    timestamp: chrono::DateTime<chrono::Utc>,
    /// What happened.
    data: WebhookEventData,
}

/// The event: the organization's audit event as its log holds it, without client details.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "a description of the payload, never built")]
pub struct WebhookEventData {
    /// The audit event's id (`GET /api/v1/audit-events/`); absent from `webhook.test`.
    event_id: Option<i64>,
    /// The organization (its name then).
    organization: WebhookOrganization,
    /// Who did it.
    actor: Option<crate::audit::ActorView>,
    /// What it was done to.
    target: Option<crate::audit::TargetView>,
    /// What changed, per field.
    changes: Option<serde_json::Value>,
    /// The request's id.
    request_id: Option<String>,
}

/// The organization an event belongs to.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "a description of the payload, never built")]
pub struct WebhookOrganization {
    /// Its id.
    id: i64,
    /// Its name when the event happened.
    name: Option<String>,
}

/// One webhook per event type of `sentences`, and `webhook.test`.
pub fn section(sentences: &Sentences) -> Paths {
    let mut paths = PathsBuilder::new();
    let types = sentences
        .actions()
        .iter()
        .copied()
        .chain(std::iter::once(crate::webhooks::TEST_EVENT));
    for kind in types {
        let meaning = match sentences.template(kind) {
            Some(template) => format!("Someone {template}."),
            None => "A test event, sent from the endpoint's settings or `POST /api/v1/webhook-endpoints/{id}/test/`.".into(),
        };
        let body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                "application/json",
                Content::new(Some(RefOr::<utoipa::openapi::schema::Schema>::Ref(
                    Ref::from_schema_name("WebhookEvent"),
                ))),
            )
            .build();
        let operation = OperationBuilder::new()
            .operation_id(Some(format!("webhook_{}", kind.replace('.', "_"))))
            .summary(Some(kind))
            .description(Some(format!(
                "{meaning} Posted to each endpoint that wants `{kind}` (or every type), with `type` = `{kind}`."
            )))
            .tag("webhooks")
            .request_body(Some(body))
            .response(
                "2XX",
                ResponseBuilder::new().description("Received; any other answer is retried (410 turns the endpoint off)."),
            )
            .build();
        paths = paths.path(kind, PathItem::new(HttpMethod::Post, operation));
    }
    paths.build()
}
