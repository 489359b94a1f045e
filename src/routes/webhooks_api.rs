//! Webhook endpoints and their delivery logs as JSON (`/api/v1/webhook-endpoints/`), for
//! holders of `webhooks.manage` (people and API keys). Thin: the rules are `webhooks::endpoints`'
//! and `webhooks::log`'.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Json, Query, TenantCtx};
use crate::webhooks::endpoints::{self, Changes, EndpointView, NewEndpoint};
use crate::webhooks::log::{self, DeliveryDetail, DeliveryView};

/// `POST /api/v1/webhook-endpoints/` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewWebhookEndpoint)]
pub struct NewJson {
    /// Where events are posted: an `https` URL (without credentials, on an allowed port).
    #[schema(
        min_length = 1,
        max_length = 2000,
        example = "https://hooks.example.com/orgs"
    )]
    url: String,
    /// What it is for.
    #[serde(default)]
    #[schema(max_length = 500)]
    description: String,
    /// The event types it receives (`GET /api/v1/webhook-event-types/`); empty or absent for
    /// every type.
    #[serde(default)]
    #[schema(max_items = 100)]
    event_types: Vec<String>,
}

/// An endpoint just registered, its secret shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CreatedWebhookEndpoint)]
pub struct Created {
    /// The endpoint.
    #[serde(flatten)]
    endpoint: EndpointView,
    /// The signing secret (`whsec_...`), for the receiver's Standard Webhooks verifier; kept
    /// only sealed. `null` when the answer is given again to a retry with the same
    /// `Idempotency-Key` (`Idempotent-Redacted: secret`): rotate it if the first was lost.
    secret: Option<String>,
}

/// A new secret, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = RotatedWebhookSecret)]
pub struct Rotated {
    /// The new signing secret (`whsec_...`); the previous one signs too for 24 hours.
    secret: String,
}

/// `PATCH /api/v1/webhook-endpoints/{id}/` body: what to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookEndpointChange)]
pub struct ChangeJson {
    /// A new address.
    #[schema(min_length = 1, max_length = 2000)]
    url: Option<String>,
    /// A new description.
    #[schema(max_length = 500)]
    description: Option<String>,
    /// New event types; empty for every type.
    #[schema(max_items = 100)]
    event_types: Option<Vec<String>>,
    /// On or off (turning it off fails its waiting deliveries; on clears why it was off).
    enabled: Option<bool>,
}

/// `POST .../redeliver/` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookRedelivery)]
pub struct SinceJson {
    /// Every failed delivery of events at or after this time (RFC 3339) is sent again.
    since: chrono::DateTime<chrono::Utc>,
}

/// How many deliveries were queued again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookRedeliveries)]
pub struct Queued {
    /// Deliveries queued again.
    queued: u64,
}

/// `GET .../deliveries/` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Deliveries older than this one (its id), for the next page.
    #[param(minimum = 1)]
    before: Option<i64>,
    /// How many, 1 to 100 (50 when absent).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

/// An event type an endpoint can ask for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookEventType)]
pub struct EventType {
    /// `member.added` ...
    name: &'static str,
}

fn actor_name(ctx: &TenantCtx) -> String {
    ctx.tx.actor().name.clone()
}

/// List the webhook endpoints
#[utoipa::path(
    get,
    path = "/api/v1/webhook-endpoints/",
    tag = "webhooks",
    operation_id = "list_webhook_endpoints",
    responses((status = 200, description = "The endpoints, oldest first.", body = Vec<EndpointView>)),
)]
pub async fn list(ctx: TenantCtx) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(endpoints::list(&ctx.tx).await?))
}

/// List the event types
#[utoipa::path(
    get,
    path = "/api/v1/webhook-event-types/",
    tag = "webhooks",
    operation_id = "list_webhook_event_types",
    responses((status = 200, description = "Every event type an endpoint can ask for (the OpenAPI document's `webhooks` describe each).", body = Vec<EventType>)),
)]
pub async fn event_types(
    state: web::Data<AppState>,
    _ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let types: Vec<EventType> = state
        .sentences
        .actions()
        .iter()
        .map(|name| EventType { name })
        .collect();
    Ok(HttpResponse::Ok().json(types))
}

/// Register a webhook endpoint
///
/// Every audit event of the organization of a type it wants is posted to it, signed by the
/// Standard Webhooks spec with the secret in this answer.
#[utoipa::path(
    post,
    path = "/api/v1/webhook-endpoints/",
    tag = "webhooks",
    operation_id = "create_webhook_endpoint",
    request_body = NewJson,
    responses((status = 201, description = "Registered; the secret is in this answer only.", body = Created)),
)]
pub async fn create(
    state: web::Data<AppState>,
    body: Json<NewJson>,
    ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let maker = ctx.tenant.user().map(|u| u.id);
    let new = NewEndpoint {
        url: body.url,
        description: body.description,
        event_types: body.event_types,
    };
    let (endpoint, secret) =
        endpoints::create(&ctx.tx, &state.hooks(), &ctx.grant, new, maker).await?;
    let mut response = HttpResponse::build(StatusCode::CREATED).json(Created {
        endpoint,
        secret: Some(secret),
    });
    response
        .extensions_mut()
        .insert(crate::web::idempotency::ShownOnce(&["secret"]));
    Ok(response)
}

/// Show a webhook endpoint
#[utoipa::path(
    get,
    path = "/api/v1/webhook-endpoints/{id}/",
    tag = "webhooks",
    operation_id = "get_webhook_endpoint",
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id.")),
    responses(
        (status = 200, description = "The endpoint.", body = EndpointView),
        (status = 404, description = "No such endpoint here.", body = crate::error::ErrorBody),
    ),
)]
pub async fn detail(id: web::Path<i64>, ctx: TenantCtx) -> Result<HttpResponse, AppError> {
    let row = endpoints::find(&ctx.tx, *id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(EndpointView::from(row)))
}

/// Change a webhook endpoint
#[utoipa::path(
    patch,
    path = "/api/v1/webhook-endpoints/{id}/",
    tag = "webhooks",
    operation_id = "update_webhook_endpoint",
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id.")),
    request_body = ChangeJson,
    responses((status = 200, description = "Changed.", body = EndpointView)),
)]
pub async fn update(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<ChangeJson>,
    ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let changes = Changes {
        url: body.url,
        description: body.description,
        event_types: body.event_types,
        enabled: body.enabled,
    };
    let view = endpoints::update(&ctx.tx, &state.hooks(), &ctx.grant, *id, changes).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Delete a webhook endpoint
#[utoipa::path(
    delete,
    path = "/api/v1/webhook-endpoints/{id}/",
    tag = "webhooks",
    operation_id = "delete_webhook_endpoint",
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id.")),
    responses(
        (status = 204, description = "Deleted, with its delivery log."),
        (status = 404, description = "No such endpoint here.", body = crate::error::ErrorBody),
    ),
)]
pub async fn delete(id: web::Path<i64>, ctx: TenantCtx) -> Result<HttpResponse, AppError> {
    if !endpoints::delete(&ctx.tx, *id).await? {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook endpoint's secret
#[utoipa::path(
    post,
    path = "/api/v1/webhook-endpoints/{id}/rotate-secret/",
    tag = "webhooks",
    operation_id = "rotate_webhook_secret",
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id.")),
    responses((status = 200, description = "The new secret, in this answer only; for 24 hours deliveries carry a signature with each.", body = Rotated)),
)]
pub async fn rotate(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let secret = endpoints::rotate(&ctx.tx, &state.hooks(), &ctx.grant, *id).await?;
    Ok(HttpResponse::Ok().json(Rotated { secret }))
}

/// Send a test event
#[utoipa::path(
    post,
    path = "/api/v1/webhook-endpoints/{id}/test/",
    tag = "webhooks",
    operation_id = "test_webhook_endpoint",
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id.")),
    responses(
        (status = 202, description = "Queued: a `webhook.test` event goes to this endpoint alone.", body = DeliveryView),
        (status = 409, description = "The endpoint is turned off.", body = crate::error::ErrorBody),
    ),
)]
pub async fn test(id: web::Path<i64>, ctx: TenantCtx) -> Result<HttpResponse, AppError> {
    let name = actor_name(&ctx);
    let delivery = log::send_test(&ctx.tx, *id, &name).await?;
    Ok(HttpResponse::Accepted().json(delivery))
}

/// List an endpoint's deliveries
#[utoipa::path(
    get,
    path = "/api/v1/webhook-endpoints/{id}/deliveries/",
    tag = "webhooks",
    operation_id = "list_webhook_deliveries",
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id."), Page),
    responses((status = 200, description = "Its deliveries, newest first.", body = Vec<DeliveryView>)),
)]
pub async fn deliveries(
    id: web::Path<i64>,
    page: Query<Page>,
    ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    endpoints::find(&ctx.tx, *id)
        .await?
        .ok_or(AppError::NotFound)?;
    let limit = page.0.limit.unwrap_or(50);
    if !(1..=log::MAX_PAGE).contains(&limit) {
        return Err(AppError::field("limit", "1 to 100"));
    }
    if page.0.before.is_some_and(|b| b < 1) {
        return Err(AppError::field("before", "a delivery's id, from 1"));
    }
    Ok(HttpResponse::Ok().json(log::list(&ctx.tx, *id, page.0.before, limit).await?))
}

/// Show a delivery
#[utoipa::path(
    get,
    path = "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/",
    tag = "webhooks",
    operation_id = "get_webhook_delivery",
    params(
        ("id" = i64, Path, minimum = 1, description = "The endpoint's id."),
        ("delivery_id" = i64, Path, minimum = 1, description = "The delivery's id."),
    ),
    responses(
        (status = 200, description = "The delivery, what was sent and the first 4 KiB of the last answer.", body = DeliveryDetail),
        (status = 404, description = "No such delivery of this endpoint.", body = crate::error::ErrorBody),
    ),
)]
pub async fn delivery(
    path: web::Path<(i64, i64)>,
    ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let (endpoint, id) = path.into_inner();
    let found = log::detail(&ctx.tx, &ctx.grant, endpoint, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(found))
}

/// Send a delivery again
#[utoipa::path(
    post,
    path = "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver/",
    tag = "webhooks",
    operation_id = "redeliver_webhook",
    params(
        ("id" = i64, Path, minimum = 1, description = "The endpoint's id."),
        ("delivery_id" = i64, Path, minimum = 1, description = "The delivery's id."),
    ),
    responses(
        (status = 202, description = "Queued from its first attempt, with the same `webhook-id`.", body = Queued),
        (status = 404, description = "No such finished delivery of this endpoint.", body = crate::error::ErrorBody),
        (status = 409, description = "The endpoint is turned off.", body = crate::error::ErrorBody),
    ),
)]
pub async fn redeliver(
    path: web::Path<(i64, i64)>,
    ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let (endpoint, id) = path.into_inner();
    if !log::redeliver(&ctx.tx, endpoint, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::Accepted().json(Queued { queued: 1 }))
}

/// Send failed deliveries again
#[utoipa::path(
    post,
    path = "/api/v1/webhook-endpoints/{id}/redeliver/",
    tag = "webhooks",
    operation_id = "redeliver_failed_webhooks",
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id.")),
    request_body = SinceJson,
    responses(
        (status = 202, description = "Every failed delivery of an event since then, queued again.", body = Queued),
        (status = 409, description = "The endpoint is turned off.", body = crate::error::ErrorBody),
    ),
)]
pub async fn redeliver_since(
    id: web::Path<i64>,
    body: Json<SinceJson>,
    ctx: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let queued = log::redeliver_failed_since(&ctx.tx, *id, body.since).await?;
    Ok(HttpResponse::Accepted().json(Queued { queued }))
}
