//! `Idempotency-Key` over real HTTP: a retry with the same key and body answers the first answer
//! and creates nothing more, on every creating POST; another body is 422; a retry while the
//! first request runs waits for its answer; a refused request frees its key; keys are each
//! principal's own; a secret is not kept for a replay; and a server killed between any two
//! steps of a request leaves either nothing or the work with its answer (`killed`).

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
        let mut expected = first.3.clone();
        if path.ends_with("/api-keys/") {
            // A secret is shown once: the replay has it as null (and says so).
            assert!(first.3["secret"].as_str().unwrap().starts_with("orgs_key_"));
            expected["secret"] = Value::Null;
        }
        assert_eq!(again.3, expected, "{path}: the same body, without a secret");
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
async fn a_retry_while_the_first_request_runs_waits_for_it_and_gets_its_answer() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let path = "/o/acme/api/v1/projects/";
    // Hold the first request inside its transaction: a lock the test takes on what it writes.
    let conn = app.conn();
    let hold = sea_orm::TransactionTrait::begin(conn).await.unwrap();
    let lock = if app.is_postgres() {
        "LOCK TABLE projects IN EXCLUSIVE MODE"
    } else {
        // SQLite: the write lock itself (BEGIN IMMEDIATE's, taken by a first write).
        "UPDATE projects SET name = name WHERE 0"
    };
    sea_orm::ConnectionTrait::execute_unprepared(&hold, lock)
        .await
        .unwrap();
    let body = json!({"name": "Once"});
    let first = post_with_key(&ada, path, "k3", body.clone());
    let second = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        post_with_key(&ada, path, "k3", body.clone()).await
    };
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        hold.commit().await.unwrap();
    };
    let (first, second, ()) = tokio::join!(first, second, release);
    assert_eq!(first.0, 201, "{}", first.3);
    assert_eq!(second.0, 201, "{}", second.3);
    assert_eq!(
        second.3["id"], first.3["id"],
        "the first answer, not a second project"
    );
    assert_eq!(
        [first.2.as_deref(), second.2.as_deref()]
            .iter()
            .filter(|r| **r == Some("true"))
            .count(),
        1,
        "one ran, one was given its answer"
    );
    assert_eq!(count(&ada, path).await, 2, "Acme anvil and Once");
}

#[tokio::test]
async fn a_secret_shown_once_is_not_kept_for_a_replay() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let body = json!({"name": "ci"});
    let first = post_with_key(&ada, "/o/acme/api/v1/api-keys/", "key-1", body.clone()).await;
    assert_eq!(first.0, 201, "{}", first.3);
    let secret = first.3["secret"].as_str().unwrap().to_string();
    let kept: Vec<String> = app
        .column("SELECT response_body FROM idempotency_keys")
        .await;
    assert_eq!(kept.len(), 1);
    assert!(!kept[0].contains(&secret), "{}", kept[0]);
    let response = ada
        .client
        .post(format!("{}/o/acme/api/v1/api-keys/", ada.address))
        .header("x-csrf-token", &ada.csrf)
        .header("idempotency-key", "key-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["idempotent-redacted"].to_str().unwrap(),
        "secret"
    );
    let again: Value = response.json().await.unwrap();
    assert_eq!(again["secret"], Value::Null);
    assert_eq!(again["id"], first.3["id"]);
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

mod killed;

/// How many kept answers the app's ordinary role sees with `context` set (`set_config` pairs).
async fn visible(app: &TestApp, context: &[(&str, String)]) -> i64 {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let db = sea_orm::Database::connect(app.app_database_url())
        .await
        .unwrap();
    let txn = db.begin().await.unwrap();
    for (name, value) in context {
        txn.execute_unprepared(&format!("SELECT set_config('{name}', '{value}', true)"))
            .await
            .unwrap();
    }
    let row = txn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) FROM idempotency_keys",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn kept_answers_are_read_only_in_their_organization_or_by_their_person() {
    let app = TestApp::spawn().await;
    assert!(
        app.is_postgres(),
        "run with TEST_DATABASE_URL=postgres://..."
    );
    let (acme, globex) = two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, me) = ada.api(Method::GET, "/api/v1/account/", None).await;
    let gus_id = orgs::auth::users::find_by_email(app.conn(), "gus@globex.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    let tenant = post_with_key(&ada, "/o/acme/api/v1/projects/", "t", json!({"name": "T"})).await;
    assert_eq!(tenant.0, 201);
    let global = post_with_key(&ada, "/api/v1/organizations/", "g", json!({"name": "G"})).await;
    assert_eq!(global.0, 201);
    let tenant_of = |id: i64| vec![("orgs.tenant_id", id.to_string())];
    let user = |id: i64| vec![("orgs.user_id", id.to_string())];
    assert_eq!(visible(&app, &[]).await, 0, "no context: none");
    assert_eq!(visible(&app, &tenant_of(acme)).await, 1, "Acme's own");
    assert_eq!(visible(&app, &tenant_of(globex)).await, 0, "not Acme's");
    assert_eq!(
        visible(&app, &user(me["id"].as_i64().unwrap())).await,
        1,
        "Ada's global key"
    );
    assert_eq!(visible(&app, &user(gus_id)).await, 0, "not Ada's");
    assert_eq!(
        visible(&app, &[("orgs.context", "system".into())]).await,
        2,
        "the system context prunes them all"
    );
}

#[tokio::test]
async fn many_keyed_invitations_at_once_all_go_through() {
    // Inviting locks the organization's row; a claim written before that lock would share-lock
    // the row through its foreign key, and two such requests would wait for each other.
    let app = TestApp::spawn_with(|s| s.auth.invitations_per_hour = 1_000).await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let answers = futures_util::future::join_all((0..16).map(|i| {
        let ada = &ada;
        async move {
            post_with_key(
                ada,
                "/o/acme/api/v1/people/",
                &format!("invite-{i}"),
                json!({"email": format!("p{i}@acme.test")}),
            )
            .await
        }
    }))
    .await;
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer.0, 201, "{i}: {}", answer.3);
    }
}
