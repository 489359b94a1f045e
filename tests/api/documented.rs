//! Every status an operation answers is in its `responses` in the served document: the errors
//! any client meets cheaply (401 without credentials, 403 for a member lacking the permission,
//! 404 for another tenant, 422 for a bad body, 412 for a stale `If-Match`) asked of every
//! operation here, and every answer of the tenancy route matrix checked with [`undocumented`].

use std::collections::{BTreeMap, BTreeSet};

use orgs::routes::openapi::TENANT_PREFIX;
use orgs::routes::{Needs, TENANT_ROUTES};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, two_tenants, visitor};

/// One answer seen: method (lower case), documented path, status.
pub type Answer = (String, String, u16);

/// The served document's operations: `(method, path)` to the operation.
async fn operations(app: &TestApp) -> BTreeMap<(String, String), Value> {
    let document: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let mut operations = BTreeMap::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            operations.insert((method.clone(), path.clone()), operation.clone());
        }
    }
    operations
}

/// The answers of `seen` that the served document does not list for their operation.
pub async fn undocumented(app: &TestApp, seen: &BTreeSet<Answer>) -> Vec<String> {
    let operations = operations(app).await;
    seen.iter()
        .filter_map(|(method, path, status)| {
            let Some(operation) = operations.get(&(method.clone(), path.clone())) else {
                return Some(format!("{method} {path}: not in the document"));
            };
            let listed = operation["responses"].get(status.to_string()).is_some();
            (!listed).then(|| format!("{method} {path}: {status} is not documented"))
        })
        .collect()
}

/// The answer to a tenant `path` as the matrix records it.
pub fn tenant_answer(method: &actix_web::http::Method, path: &str, status: u16) -> Answer {
    let method = method.as_str().to_lowercase();
    (method, format!("{TENANT_PREFIX}{path}"), status)
}

/// Whether a plain member of acme lacks what the tenant operation at `path` needs.
fn member_lacks(method: &str, path: &str) -> bool {
    use orgs::permissions::{BuiltinRole, Catalog};
    let catalog = Catalog::orgs();
    let member = catalog.builtin(BuiltinRole::Member);
    TENANT_ROUTES
        .iter()
        .filter(|r| r.method.as_str().eq_ignore_ascii_case(method))
        .find(|r| format!("{TENANT_PREFIX}{}", r.path) == path)
        .is_some_and(|r| match r.needs {
            Needs::Member | Needs::MemberNotOwner => false,
            Needs::Permission(p) => !member.contains_all(catalog.one(p)),
            Needs::AnyOf(ps) => !ps.iter().any(|p| member.contains_all(catalog.one(*p))),
        })
}

/// A request to `path` of `app` from a client with no cookie.
fn app_client_request(app: &TestApp, verb: Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().request(verb, format!("{}{path}", app.address))
}

#[tokio::test]
async fn every_cheaply_provoked_error_of_every_operation_is_documented() {
    let app = TestApp::spawn_with(|s| {
        s.billing.operator_token = crate::seats::OPERATOR_TOKEN.into();
    })
    .await;
    let (acme, _) = two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let max = visitor(&app, Some("max@acme.test")).await;
    let gus = visitor(&app, Some("gus@globex.test")).await;
    let anonymous = visitor(&app, None).await;
    let (_, projects) = ada.api(Method::GET, "/o/acme/api/v1/projects/", None).await;
    let project = projects["items"][0]["id"].as_i64().unwrap().to_string();
    let (_, people) = ada.api(Method::GET, "/o/acme/api/v1/people/", None).await;
    let max_id = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "max@acme.test")
        .map(|p| p["user_id"].to_string())
        .unwrap();
    let scribe = json!({"key": "scribe", "name": "Scribe", "permissions": ["projects.read"]});
    let (status, _) = ada
        .api(Method::POST, "/o/acme/api/v1/roles/", Some(scribe))
        .await;
    assert_eq!(
        status, 201,
        "a custom role, which a stale If-Match can reach"
    );
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for ((method, path), operation) in operations(&app).await {
        // The operator's API names an organization by id, and only the operator sends it a
        // body.
        let operator = path.starts_with("/api/v1/system/");
        let path_id = if operator {
            acme.to_string()
        } else {
            project.clone()
        };
        let concrete = path
            .replace("{slug}", "acme")
            .replace("{id}", &path_id)
            .replace("{user_id}", &max_id)
            .replace("{key}", "scribe");
        let verb = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let tenant = path.starts_with(TENANT_PREFIX);
        let secured = operation["security"].as_array().is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
        let if_match = operation["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
        let has_body = operation.get("requestBody").is_some();
        let mut ask = |who: &str, status: u16, want: Option<&[u16]>| {
            seen.insert((method.clone(), path.clone(), status));
            if let Some(want) = want.filter(|w| !w.contains(&status)) {
                failures.push(format!(
                    "{who} {method} {path}: {status}, expected {want:?}"
                ));
            }
        };
        let body = has_body.then(|| json!({}));
        let status = anonymous.send(verb.clone(), &concrete, body.clone()).await;
        ask(
            "anonymous",
            status.status().as_u16(),
            secured.then_some(&[401]),
        );
        if tenant {
            let status = gus.send(verb.clone(), &concrete, body.clone()).await;
            ask("another tenant's", status.status().as_u16(), Some(&[404]));
            if member_lacks(&method, &path) {
                let status = max.send(verb.clone(), &concrete, body.clone()).await;
                ask("a member", status.status().as_u16(), Some(&[403]));
            }
        }
        if has_body {
            let bad = Some(json!({"no_such_field": true}));
            let status = if operator {
                app_client_request(&app, verb.clone(), &concrete)
                    .bearer_auth(crate::seats::OPERATOR_TOKEN)
                    .json(&bad)
                    .send()
                    .await
                    .unwrap()
            } else {
                ada.send(verb.clone(), &concrete, bad).await
            };
            ask("a bad body", status.status().as_u16(), Some(&[422]));
        }
        if if_match {
            let response = ada
                .client
                .request(verb.clone(), format!("{}{concrete}", app.address))
                .header("x-csrf-token", &ada.csrf)
                .header("if-match", "\"stale\"");
            let response = match has_body {
                true => response.json(&json!({})),
                false => response,
            };
            let status = response.send().await.unwrap().status().as_u16();
            // An empty patch may be refused before the version is compared.
            ask("a stale If-Match", status, Some(&[412, 422]));
        }
    }
    let (status, _) = ada.api(Method::POST, "/o/acme/api/v1/leave/", None).await;
    seen.insert(tenant_answer(
        &actix_web::http::Method::POST,
        "/api/v1/leave/",
        status,
    ));
    assert_eq!(status, 409, "the owner cannot leave");
    failures.extend(undocumented(&app, &seen).await);
    assert!(
        seen.iter().any(|(_, _, status)| *status == 412),
        "a stale If-Match was answered 412 somewhere: {seen:?}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
