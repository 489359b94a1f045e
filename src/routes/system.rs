//! The operator's API: what the embedding app's billing reads and sets of an organization, its
//! seat limit, plan and entitlements (`GET` and `PATCH /api/v1/system/organizations/{id}/`).
//! Authenticated by `billing.operator_token` alone (compared as digests, in constant time), in
//! no person's name; 404 while no token is configured. Thin: the rules are
//! `organizations::billing`'s.

use std::collections::BTreeMap;

use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};
use entity::OrganizationId;
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::error::AppError;
use crate::organizations::billing::{self, Billing, Change};
use crate::state::AppState;
use crate::tenancy::{Actor, ActorKind};
use crate::tokens;
use crate::web::ResolvedTenant;
use crate::web::json::Json;

/// `PATCH /api/v1/system/organizations/{id}/` body: each field given is set.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SystemOrganizationChange)]
pub struct ChangeJson {
    /// Seats it may use; `null` for no limit, 0 for none.
    #[serde(default, deserialize_with = "crate::web::json::nullable")]
    #[schema(value_type = Option<u64>, nullable)]
    seat_limit: Option<Option<u64>>,
    /// The plan's key (1 to 40 of `a-z`, `0-9`, `_`, `-`); `null` for no plan, with which every
    /// feature is on.
    #[serde(default, deserialize_with = "crate::web::json::nullable")]
    #[schema(value_type = Option<String>, nullable)]
    plan: Option<Option<String>>,
    /// The plan's feature flags, replacing the old ones: `true` or `false` by feature key
    /// (`{"sso": true, "scim": false}`); a `seat_limit` key in it (a whole number, or `null`)
    /// sets the seat limit as the field does. A key given twice is refused.
    #[serde(default, deserialize_with = "crate::web::json::unique_keys")]
    #[schema(value_type = BTreeMap<String, serde_json::Value>)]
    entitlements: Option<BTreeMap<String, serde_json::Value>>,
}

/// The operator, as the audit log names them: taken before the body is read, so a request
/// without the token learns nothing of what the body should be.
pub struct Operator(Actor);

impl actix_web::FromRequest for Operator {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")));
        std::future::ready(state.and_then(|state| operator(req, state).map(Operator)))
    }
}

/// Refuses a request without the operator's token: 404 while none is configured (the API is
/// off), 401 for a missing or wrong one.
fn operator(req: &HttpRequest, state: &AppState) -> Result<Actor, AppError> {
    let token = state.settings.billing.operator_token.expose_secret().trim();
    // Served at the service's own `/api/v1/system/` only, never under an organization's
    // address (`/o/acme/...`, `acme.example.com`), where the global routes also match.
    if token.is_empty() || req.extensions().get::<ResolvedTenant>().is_some() {
        return Err(AppError::NotFound);
    }
    let given = crate::web::user::bearer(req).unwrap_or("");
    if !tokens::same_secret(given, token) {
        return Err(AppError::Unauthorized);
    }
    Ok(crate::web::tenant::request_actor(
        req,
        ActorKind::System,
        None,
        "billing (operator token)".into(),
        crate::web::client::Client::ip_of(req, state),
    ))
}

/// The body as a change: a `seat_limit` key of `entitlements` is the seat limit (a
/// non-negative integer or `null`), every other key a feature (`true` or `false`).
fn change_of(body: ChangeJson) -> Result<Change, AppError> {
    let mut change = Change {
        seat_limit: body.seat_limit,
        plan: body.plan,
        entitlements: None,
    };
    if let Some(mut flags) = body.entitlements {
        if let Some(limit) = flags.remove("seat_limit") {
            let limit = match limit {
                serde_json::Value::Null => None,
                value => Some(value.as_u64().ok_or_else(|| {
                    AppError::field(
                        "entitlements.seat_limit",
                        "a whole number of seats, or null for no limit",
                    )
                })?),
            };
            if change.seat_limit.is_some_and(|given| given != limit) {
                return Err(AppError::field(
                    "entitlements.seat_limit",
                    "differs from seat_limit; send one of them",
                ));
            }
            change.seat_limit = Some(limit);
        }
        let mut features = billing::Entitlements::new();
        for (key, value) in flags {
            let on = value
                .as_bool()
                .ok_or_else(|| AppError::field(&format!("entitlements.{key}"), "true or false"))?;
            features.insert(key, on);
        }
        change.entitlements = Some(features);
    }
    Ok(change)
}

/// Read an organization's seats and plan
///
/// Its seat limit, the seats it uses (members and pending invitations), its plan and its
/// feature flags.
#[utoipa::path(
    get,
    path = "/api/v1/system/organizations/{id}/",
    tag = "system",
    operation_id = "get_system_organization",
    params(("id" = i64, Path, description = "The organization's id.")),
    responses((status = 200, description = "The organization's billing.", body = Billing)),
)]
pub async fn api_show(
    _: Operator,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let billing = billing::read(state.db.connection(), OrganizationId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(billing))
}

/// Set an organization's seats and plan
///
/// Any of `seat_limit`, `plan` and `entitlements`; each change is in the organization's audit
/// log as made by billing. Lowering the limit below the seats used blocks new seats; nobody is
/// removed.
#[utoipa::path(
    patch,
    path = "/api/v1/system/organizations/{id}/",
    tag = "system",
    operation_id = "update_system_organization",
    params(("id" = i64, Path, description = "The organization's id.")),
    request_body = ChangeJson,
    responses((status = 200, description = "The organization's billing as it is now.", body = Billing)),
)]
pub async fn api_update(
    Operator(actor): Operator,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<ChangeJson>,
) -> Result<HttpResponse, AppError> {
    let change = change_of(body.into_inner())?;
    let billing = billing::change(
        state.db.connection(),
        &state.events,
        OrganizationId(id.into_inner()),
        actor,
        change,
    )
    .await?;
    Ok(HttpResponse::Ok().json(billing))
}
