//! Abuse resistance over real HTTP, each case from an outside probe of the release server:
//! redirects that stay on this site, throttling that cannot lock the right person out, mail that
//! cannot be used as a weapon, rules that hold under races, input that cannot reach a 500, and
//! a database outage that answers 503 at once.

use std::time::{Duration, Instant};

use entity::{organization, project, user};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{
    PASSWORD, TestApp, Visitor, World, browser, csrf_from, get_on, location, path_of,
    post_from_new_browser, visitor,
};

/// A JSON request as `who`: the status, the `Retry-After` header and the body.
async fn send(
    who: &Visitor,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, Option<u64>, serde_json::Value) {
    let response = who.send(method, path, body).await;
    let status = response.status().as_u16();
    let retry = retry_after(&response);
    let text = response.text().await.unwrap();
    (
        status,
        retry,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// A fresh browser that posts `fields` to the form at `path` as a client at `ip` (the header is
/// believed only when the app trusts 127.0.0.1 as a proxy).
async fn post_as(
    app: &TestApp,
    ip: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    post_from_new_browser(app, path, fields, &[("x-forwarded-for", ip)]).await
}

async fn login_as(app: &TestApp, ip: &str, email: &str, password: &str) -> reqwest::Response {
    post_as(
        app,
        ip,
        "/login/",
        &[("email", email), ("password", password)],
    )
    .await
}

fn behind_proxy(settings: &mut orgs::Settings) {
    settings.server.trusted_proxies =
        orgs::config::TrustedProxies::try_from(vec!["127.0.0.1".to_string()]).unwrap();
}

async fn reset_as(app: &TestApp, ip: &str, email: &str) -> reqwest::Response {
    post_as(app, ip, "/password-reset/", &[("email", email)]).await
}

async fn sign_up_as(app: &TestApp, ip: &str, email: &str, name: &str) -> reqwest::Response {
    post_as(
        app,
        ip,
        "/signup/",
        &[
            ("name", name),
            ("email", email),
            ("password", "a long enough password"),
        ],
    )
    .await
}

mod input;
mod mail;
mod outage;
mod races;
mod redirects;
mod text_guards;
mod throttling;
