//! Seats and plans: the seat limit checked with the organization's row locked on every path
//! that takes a seat (inviting, resending an expired invitation, accepting, adding without an
//! invitation), under races on SQLite and PostgreSQL; the operator's API and CLI that set
//! limits and plans; the 402 of a route whose feature the plan lacks.

mod limits;
mod operator;
mod races;

use orgs::organizations::billing;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Visitor};

/// The operator token the apps of these tests are given.
pub(crate) const OPERATOR_TOKEN: &str = "operator-token-for-the-tests-0123456789";

/// An app whose operator API is on.
pub(crate) async fn billing_app() -> TestApp {
    TestApp::spawn_with(|s| s.billing.operator_token = OPERATOR_TOKEN.into()).await
}

/// `method` on the operator's API for the organization `id`, with `token`: status and body.
pub(crate) async fn operator(
    app: &TestApp,
    method: Method,
    id: i64,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(
        method,
        format!("{}/api/v1/system/organizations/{id}/", app.address),
    );
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Sets the seat limit of the organization `id` through the operator's API.
pub(crate) async fn set_limit(app: &TestApp, id: i64, limit: Option<u64>) {
    let (status, body) = operator(
        app,
        Method::PATCH,
        id,
        Some(OPERATOR_TOKEN),
        Some(json!({ "seat_limit": limit })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["seat_limit"], json!(limit));
}

/// Sets the limit through the service an embedding app's billing calls.
pub(crate) async fn set_limit_as_billing(app: &TestApp, id: i64, limit: Option<u64>) {
    billing::change(
        app.conn(),
        app.events(),
        entity::OrganizationId(id),
        orgs::tenancy::Actor::system("test billing"),
        billing::Change {
            seat_limit: Some(limit),
            ..billing::Change::default()
        },
    )
    .await
    .unwrap();
}

/// Invites `email` to Nirvana through the API as `who`: status and body.
pub(crate) async fn invite(who: &Visitor, email: &str) -> (u16, Value) {
    who.api(
        Method::POST,
        "/o/nirvana/api/v1/people/",
        Some(json!({ "email": email })),
    )
    .await
}

/// Asserts a 409 `seat_limit` with `used` and `limit`.
#[track_caller]
pub(crate) fn assert_full(status: u16, body: &Value, used: u64, limit: u64) {
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "seat_limit", "{body}");
    assert_eq!(body["error"]["used"], used, "{body}");
    assert_eq!(body["error"]["limit"], limit, "{body}");
}
