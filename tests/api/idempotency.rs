//! `Idempotency-Key` over real HTTP: a retry with the same key and body answers the first answer
//! and creates nothing more, on every creating POST; another body is 422; a key whose first
//! request still runs is 409; a refused request frees its key; keys are each principal's own.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Visitor, two_tenants, visitor};

async fn post_with_key(
    who: &Visitor,
    path: &str,
    key: &str,
    body: Value,
) -> (u16, Option<String>, Option<String>, Value) {
    let response = who
        .client
        .post(format!("{}{path}", who.address))
        .header("x-csrf-token", &who.csrf)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let location = header("location");
    let replayed = header("idempotent-replayed");
    let text = response.text().await.unwrap();
    (
        status,
        location,
        replayed,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn count(who: &Visitor, list: &str) -> usize {
    let (status, page) = who.api(Method::GET, list, None).await;
    assert_eq!(status, 200, "{list}");
    page["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn every_creating_post_answers_a_retry_with_its_first_answer_and_creates_once() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let cases = [
        (
            "/o/acme/api/v1/projects/",
            json!({"name": "Once"}),
            "/o/acme/api/v1/projects/",
        ),
        (
            "/o/acme/api/v1/people/",
            json!({"email": "once@acme.test"}),
            "/o/acme/api/v1/invitations/",
        ),
        (
            "/o/acme/api/v1/api-keys/",
            json!({"name": "Once"}),
            "/o/acme/api/v1/api-keys/",
        ),
        (
            "/o/acme/api/v1/domains/",
            json!({"domain": "once.acme-corp.test"}),
            "/o/acme/api/v1/domains/",
        ),
        (
            "/o/acme/api/v1/roles/",
            json!({"key": "once", "name": "Once"}),
            "/o/acme/api/v1/roles/",
        ),
        (
            "/api/v1/organizations/",
            json!({"name": "Once"}),
            "/api/v1/organizations/",
        ),
    ];
    for (path, body, list) in cases {
        let before = count(&ada, list).await;
        let key = format!("retry-of-{path}");
        let first = post_with_key(&ada, path, &key, body.clone()).await;
        assert_eq!(first.0, 201, "{path}: {}", first.3);
        assert_eq!(first.2, None, "{path}: the first answer is not a replay");
        let again = post_with_key(&ada, path, &key, body.clone()).await;
        assert_eq!(again.0, 201, "{path}");
        assert_eq!(again.1, first.1, "{path}: the same Location");
        assert_eq!(again.2.as_deref(), Some("true"), "{path}");
        assert_eq!(
            again.3, first.3,
            "{path}: the same body (a key's secret too)"
        );
        assert_eq!(count(&ada, list).await, before + 1, "{path}: created once");
    }
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422_and_creates_nothing() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let path = "/o/acme/api/v1/projects/";
    let first = post_with_key(&ada, path, "k1", json!({"name": "First"})).await;
    assert_eq!(first.0, 201);
    let other = post_with_key(&ada, path, "k1", json!({"name": "Second"})).await;
    assert_eq!(other.0, 422, "{}", other.3);
    assert!(
        other.3["error"]["fields"]["Idempotency-Key"].is_array(),
        "{}",
        other.3
    );
    assert_eq!(count(&ada, path).await, 2, "Acme anvil and First only");
}

#[tokio::test]
async fn a_refused_request_frees_its_key_for_the_corrected_retry() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let path = "/o/acme/api/v1/projects/";
    let refused = post_with_key(&ada, path, "k2", json!({"name": ""})).await;
    assert_eq!(refused.0, 422);
    let same = post_with_key(&ada, path, "k2", json!({"name": ""})).await;
    assert_eq!(same.0, 422, "refused again, not replayed");
    assert_eq!(same.2, None);
    let fixed = post_with_key(&ada, path, "k2", json!({"name": "Fixed"})).await;
    assert_eq!(fixed.0, 201, "{}", fixed.3);
}

#[tokio::test]
async fn a_key_whose_first_request_still_runs_answers_409() {
    let app = TestApp::spawn().await;
    let (acme, _) = two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, me) = ada.api(Method::GET, "/api/v1/account/", None).await;
    let path = "/o/acme/api/v1/projects/";
    let body = json!({"name": "Slow"});
    // The first request's claim, as an instance holds it while the request runs.
    let row = orgs::idempotency::row_key(
        &format!("organization:{acme}"),
        &format!("user:{}", me["id"]),
        "k3",
    );
    let hash = orgs::idempotency::request_hash(
        "POST",
        "/api/v1/projects/",
        serde_json::to_string(&body).unwrap().as_bytes(),
    );
    let claim = orgs::idempotency::claim(app.conn(), &row, &hash)
        .await
        .unwrap();
    assert_eq!(claim, orgs::idempotency::Claim::Fresh);
    let second = post_with_key(&ada, path, "k3", body).await;
    assert_eq!(second.0, 409, "{}", second.3);
    assert_eq!(second.3["error"]["code"], "conflict");
    assert_eq!(count(&ada, path).await, 1, "nothing created meanwhile");
}

#[tokio::test]
async fn a_key_is_its_principals_own_in_its_organization() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let gus = visitor(&app, Some("gus@globex.test")).await;
    let body = json!({"name": "Mine"});
    let ada_first = post_with_key(&ada, "/o/acme/api/v1/projects/", "shared", body.clone()).await;
    assert_eq!(ada_first.0, 201);
    let gus_first = post_with_key(&gus, "/o/globex/api/v1/projects/", "shared", body.clone()).await;
    assert_eq!(
        gus_first.0, 201,
        "another person's key of the same name is theirs"
    );
    assert_eq!(gus_first.2, None);
    assert_ne!(gus_first.3["id"], ada_first.3["id"]);
    let ada_elsewhere = post_with_key(&ada, "/api/v1/organizations/", "shared", body).await;
    assert_eq!(
        ada_elsewhere.0, 201,
        "and so is the same key on another scope"
    );
}

#[tokio::test]
async fn a_malformed_key_is_422_naming_the_header() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let long = "k".repeat(256);
    for key in ["with space", long.as_str()] {
        let answer =
            post_with_key(&ada, "/o/acme/api/v1/projects/", key, json!({"name": "X"})).await;
        assert_eq!(answer.0, 422, "{key}");
        assert!(answer.3["error"]["fields"]["Idempotency-Key"].is_array());
    }
    assert_eq!(count(&ada, "/o/acme/api/v1/projects/").await, 1);
}
