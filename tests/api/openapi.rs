//! The OpenAPI document over real HTTP: served without credentials, OpenAPI 3.1, describing every
//! `/api/v1` route of the route tables and nothing else; and the API behaviours it promises
//! (bodies that are objects, `null` refused, a bad body 422 before a stale version 412, a new
//! invitation readable at its `Location`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, location, path_of, two_tenants, visitor};

fn api_routes() -> Vec<(String, String)> {
    let mut routes: Vec<(String, String)> = orgs::routes::GLOBAL_API_ROUTES
        .iter()
        .map(|r| (r.method.as_str().to_lowercase(), r.path.to_string()))
        .collect();
    routes.extend(
        orgs::routes::TENANT_ROUTES
            .iter()
            .filter(|r| r.path.starts_with("/api/v1/"))
            .map(|r| {
                (
                    r.method.as_str().to_lowercase(),
                    format!("{}{}", orgs::routes::openapi::TENANT_PREFIX, r.path),
                )
            }),
    );
    routes.sort();
    routes
}

fn documented(document: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            operations.push((method.clone(), path.clone()));
        }
    }
    operations.sort();
    operations
}

#[test]
fn the_document_describes_every_api_route_and_only_those() {
    let (document, problems) = orgs::routes::openapi::build();
    assert!(problems.is_empty(), "{problems:#?}");
    let document = serde_json::to_value(&document).unwrap();
    assert_eq!(documented(&document), api_routes());
}

#[tokio::test]
async fn the_document_is_served_as_openapi_3_1_without_credentials() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(documented(&document), api_routes());
    let schemes = document["components"]["securitySchemes"]
        .as_object()
        .unwrap();
    for scheme in ["personal_token", "api_key", "session", "csrf_token"] {
        assert!(schemes.contains_key(scheme), "{scheme}");
    }
    let people = &document["paths"]["/o/{slug}/api/v1/people/"]["get"];
    let parameters: Vec<&str> = people["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(parameters, ["slug", "q", "after", "page", "per_page"]);
    assert!(
        people["description"]
            .as_str()
            .unwrap()
            .contains("`members.read`"),
        "the permission a route needs comes from the route table"
    );
    let created = &document["paths"]["/o/{slug}/api/v1/projects/"]["post"]["responses"]["201"];
    assert_eq!(
        created["links"]["get_project"]["parameters"],
        json!({"id": "$response.body#/id", "slug": "$request.path.slug"}),
        "a 201 links to the operations on what it made"
    );
    let idempotent = document["paths"]["/o/{slug}/api/v1/projects/"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header");
    assert!(idempotent, "a creating POST describes Idempotency-Key");
    for status in ["401", "403", "404", "422", "500", "503"] {
        assert!(
            people["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .is_some_and(|r| r.ends_with("/Error")),
            "{status} answers the error envelope"
        );
    }
}

#[tokio::test]
async fn every_documented_list_answers_its_owner() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (document, _) = orgs::routes::openapi::build();
    let document = serde_json::to_value(&document).unwrap();
    let mut asked = 0;
    for (method, path) in documented(&document) {
        let concrete = path.replace("{slug}", "acme");
        if method != "get" || concrete.contains('{') {
            continue;
        }
        // A resource that may not exist yet (the single sign-on connection) documents its 404.
        let absent = document["paths"][&path]["get"]["responses"]
            .get("404")
            .is_some();
        let response = ada.send(Method::GET, &concrete, None).await;
        let wanted: &[u16] = if absent { &[200, 404] } else { &[200] };
        assert!(
            wanted.contains(&response.status().as_u16()),
            "GET {concrete}: {}",
            response.status()
        );
        asked += 1;
    }
    assert!(asked >= 10, "{asked}");
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    // serde reads a struct from an array by position: ["X"] was a project named X.
    for body in [json!(["From an array"]), json!("a string"), json!(7)] {
        let (status, error) = ada
            .api(Method::POST, "/o/acme/api/v1/projects/", Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {error}");
        assert!(error["error"]["fields"]["body"].is_array(), "{error}");
    }
    let (_, list) = ada.api(Method::GET, "/o/acme/api/v1/projects/", None).await;
    assert_eq!(list["total"], 1, "nothing was created: {list}");
}

#[tokio::test]
async fn null_for_a_field_of_a_patch_is_refused_not_read_as_left_out() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, list) = ada.api(Method::GET, "/o/acme/api/v1/projects/", None).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    for (path, field) in [
        (format!("/o/acme/api/v1/projects/{id}/"), "name"),
        ("/o/acme/api/v1/organization/".to_string(), "slug"),
        ("/api/v1/account/".to_string(), "name"),
    ] {
        let (status, error) = ada
            .api(Method::PATCH, &path, Some(json!({ field: null })))
            .await;
        assert_eq!(status, 422, "{path}: {error}");
        assert!(error["error"]["fields"][field].is_array(), "{error}");
    }
    let (status, error) = ada
        .api(
            Method::POST,
            "/api/v1/organizations/",
            Some(json!({"name": "Initech", "slug": ""})),
        )
        .await;
    assert_eq!(status, 422, "a blank slug is not 'make one': {error}");
    assert!(error["error"]["fields"]["slug"].is_array(), "{error}");
}

#[tokio::test]
async fn a_bad_body_is_422_whatever_version_it_names_and_a_stale_one_changes_nothing() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let stale = "\"0000\"";
    let cases = [
        (
            "/o/acme/api/v1/organization/",
            json!({"name": ""}),
            json!({"name": "Acme 2"}),
        ),
        (
            "/api/v1/account/",
            json!({"name": ""}),
            json!({"name": "Ada 2"}),
        ),
    ];
    for (path, bad, good) in cases {
        let (_, before) = ada.api(Method::GET, path, None).await;
        for (body, expected) in [(bad, 422), (good, 412)] {
            let response = ada
                .client
                .patch(format!("{}{path}", app.address))
                .header("x-csrf-token", &ada.csrf)
                .header("if-match", stale)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), expected, "{path} {body}");
        }
        let (_, after) = ada.api(Method::GET, path, None).await;
        assert_eq!(before, after, "{path}: the stale write was rolled back");
    }
}

#[tokio::test]
async fn a_new_invitation_answers_at_its_location_with_its_status_and_roles() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let response = ada
        .send(
            Method::POST,
            "/o/acme/api/v1/people/",
            Some(json!({"email": "new@acme.test", "roles": ["admin"]})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let at = path_of(&location(&response));
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "pending");
    assert_eq!(created["roles"], json!(["admin"]));
    assert!(created.get("token_hash").is_none());
    let (status, read) = ada.api(Method::GET, &at, None).await;
    assert_eq!(status, 200, "{at}");
    assert_eq!(read, created);
    let (status, _) = ada.api(Method::POST, &format!("{at}revoke/"), None).await;
    assert_eq!(status, 200);
    let (status, read) = ada.api(Method::GET, &at, None).await;
    assert_eq!(status, 200, "a revoked invitation is still readable");
    assert_eq!(read["status"], "revoked");
    let gus = visitor(&app, Some("gus@globex.test")).await;
    let other = at.replace("/o/acme/", "/o/globex/");
    assert_eq!(gus.api(Method::GET, &other, None).await.0, 404);
}
