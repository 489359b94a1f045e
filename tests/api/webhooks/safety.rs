//! What deliveries may reach and how they are shared: addresses refused when an endpoint is
//! made (a field error), a name that resolves inside refused at each attempt (even after it
//! was delivered to), two instances draining one database, a change that rolls back.

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    acme, deliveries, endpoint, hook_url, hooks_app, hooks_app_with, ip_dns, project,
    receiver_port, register, types, wait_for, wait_log,
};

#[tokio::test]
async fn an_address_deliveries_may_not_reach_is_refused_with_a_field_error() {
    let app = hooks_app_with(None, |s| s.webhooks.allowed_ports = vec![443]).await;
    let ada = acme(&app).await;
    let port = receiver_port();
    for url in [
        "ftp://hooks.example.com/".to_string(),
        "https://user:secret@hooks.example.com/".to_string(),
        "https://hooks.example.com:8443/".to_string(),
        format!("http://127.0.0.2:{port}/r/x/ok"),
        "https://127.0.0.1/".to_string(),
        "https://[::ffff:127.0.0.1]/".to_string(),
        "https://169.254.169.254/latest/".to_string(),
        "https://10.0.0.1/".to_string(),
        "not a url".to_string(),
        String::new(),
    ] {
        let answer = ada
            .send(
                Method::POST,
                "/o/acme/api/v1/webhook-endpoints/",
                Some(json!({"url": url})),
            )
            .await;
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, 422, "{url}: {body}");
        assert!(body["error"]["fields"]["url"].is_array(), "{url}: {body}");
    }
    let answer = ada
        .send(
            Method::POST,
            "/o/acme/api/v1/webhook-endpoints/",
            Some(json!({"url": "https://hooks.example.com/", "event_types": ["member.added", "no.such"]})),
        )
        .await;
    assert_eq!(answer.status(), 422);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["error"]["fields"]["event_types"][0]
            .as_str()
            .unwrap()
            .contains("no.such")
    );
    // Nothing was made.
    let answer = ada
        .send(Method::GET, "/o/acme/api/v1/webhook-endpoints/", None)
        .await;
    assert_eq!(answer.json::<Value>().await.unwrap(), json!([]));
}

#[tokio::test]
async fn a_name_resolving_inside_is_refused_at_every_attempt_even_after_it_was_delivered_to() {
    let dns = ip_dns().await;
    let app = hooks_app_with(Some(&dns), |_| {}).await;
    let ada = acme(&app).await;
    let port = receiver_port();
    let inside = [
        ("loop.hooks.test", "127.0.0.1"),
        ("ten.hooks.test", "10.0.0.1"),
        ("meta.hooks.test", "169.254.169.254"),
        ("mapped.hooks.test", "::ffff:127.0.0.1"),
    ];
    {
        let mut names = dns.names.lock().unwrap();
        for (name, ip) in inside {
            names.insert(name.into(), vec![ip.parse().unwrap()]);
        }
        names.insert("good.hooks.test".into(), vec!["127.0.0.2".parse().unwrap()]);
    }
    let mut refused = Vec::new();
    for (name, _) in inside {
        let url = format!("http://{name}:{port}/r/inside/ok");
        refused.push(endpoint(&ada, &url, &["project.created"]).await.0);
    }
    let url = format!("http://good.hooks.test:{port}/r/rebound/ok");
    let (good, secret) = endpoint(&ada, &url, &["project.created"]).await;
    register("rebound", &[&secret]).await;
    project(&ada, "One").await;
    let got = wait_for("rebound", 10, |got| !got.is_empty()).await;
    assert_eq!(types(&got), ["project.created"]);
    assert_eq!(got[0]["verified"], true);
    for id in &refused {
        let log = wait_log(&ada, *id, 10, |log| {
            log.first().is_some_and(|d| !d["last_error"].is_null())
        })
        .await;
        let error = log[0]["last_error"].as_str().unwrap();
        assert!(error.contains("may not reach"), "{error}");
        assert!(log[0]["response_status"].is_null());
    }
    // The allowed name now points at the machine itself: the next attempt is refused.
    dns.names
        .lock()
        .unwrap()
        .insert("good.hooks.test".into(), vec!["127.0.0.1".parse().unwrap()]);
    project(&ada, "Two").await;
    let log = wait_log(&ada, good, 10, |log| {
        log.len() == 2 && !log[0]["last_error"].is_null()
    })
    .await;
    assert!(
        log[0]["last_error"].as_str().unwrap().contains("loopback"),
        "{log:#?}"
    );
    assert_eq!(wait_for("inside", 1, |_| false).await.len(), 0);
    assert_eq!(wait_for("rebound", 1, |_| false).await.len(), 1);
}

#[tokio::test]
async fn two_instances_draining_one_database_send_each_message_once_in_order() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let second = app.restart_with(|_| {}).await;
    let (id, secret) = endpoint(&ada, &hook_url("pair", "ok"), &["project.created"]).await;
    register("pair", &[&secret]).await;
    let mut made = Vec::new();
    for n in 0..30 {
        made.push(project(&ada, &format!("Project {n}")).await);
    }
    wait_for("pair", 20, |got| got.len() >= 30).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let received = super::received("pair").await;
    assert_eq!(received.len(), 30, "each message once");
    let labels: Vec<i64> = received
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            body["data"]["target"]["id"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(labels, made, "in the order of their events");
    assert!(received.iter().all(|r| r["verified"] == true));
    let log = deliveries(&ada, id).await;
    assert!(
        log.iter()
            .all(|d| d["status"] == "succeeded" && d["attempts"] == 1),
        "{log:#?}"
    );
    drop(second);
}

#[tokio::test]
async fn a_change_that_rolls_back_sends_nothing() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (_, secret) = endpoint(&ada, &hook_url("undone", "ok"), &["project.created"]).await;
    register("undone", &[&secret]).await;
    let acme_id = app
        .column::<i64>("SELECT id FROM organizations WHERE slug = 'acme'")
        .await[0];
    let input = || orgs::projects::ProjectInput {
        name: "Undone".into(),
        description: String::new(),
    };
    let tx = orgs::tenancy::door::tenant(app.conn(), app.events(), entity::OrganizationId(acme_id))
        .await
        .unwrap();
    orgs::projects::create(&tx, input()).await.unwrap();
    drop(tx);
    let tx = orgs::tenancy::door::tenant(app.conn(), app.events(), entity::OrganizationId(acme_id))
        .await
        .unwrap();
    orgs::projects::create(
        &tx,
        orgs::projects::ProjectInput {
            name: "Kept".into(),
            description: String::new(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    wait_for("undone", 10, |got| !got.is_empty()).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let got = super::received("undone").await;
    assert_eq!(got.len(), 1);
    assert!(got[0]["body"].as_str().unwrap().contains("Kept"));
    let kept: Vec<String> = app
        .column("SELECT event_type FROM webhook_deliveries")
        .await;
    assert_eq!(kept, ["project.created"]);
}

#[tokio::test]
async fn webhooks_manage_without_audit_read_cannot_point_the_audit_log_anywhere() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let answer = ada
        .send(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({"key": "hooks", "name": "Hooks", "permissions": ["webhooks.manage"]})),
        )
        .await;
    assert_eq!(answer.status(), 201);
    let max = app
        .column::<i64>("SELECT id FROM users WHERE email = 'max@acme.test'")
        .await[0];
    let answer = ada
        .send(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{max}/"),
            Some(json!({"roles": ["member", "hooks"]})),
        )
        .await;
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let max = crate::helpers::visitor(&app, Some("max@acme.test")).await;
    let answer = max
        .send(
            Method::POST,
            "/o/acme/api/v1/webhook-endpoints/",
            Some(json!({"url": hook_url("nosy", "ok")})),
        )
        .await;
    assert_eq!(answer.status(), 403);
    let body: Value = answer.json().await.unwrap();
    assert!(body.to_string().contains("audit.read"), "{body}");
    let listed = max
        .send(Method::GET, "/o/acme/api/v1/webhook-endpoints/", None)
        .await;
    assert_eq!(listed.status(), 200);
}

#[tokio::test]
async fn finished_deliveries_past_their_days_are_pruned_and_waiting_ones_kept() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (id, secret) = endpoint(&ada, &hook_url("pruned", "ok"), &["project.created"]).await;
    register("pruned", &[&secret]).await;
    project(&ada, "One").await;
    wait_log(&ada, id, 10, |log| {
        log.first().is_some_and(|d| d["status"] == "succeeded")
    })
    .await;
    let kept = orgs::webhooks::log::prune(app.state.db.connection(), 1)
        .await
        .unwrap();
    assert_eq!(kept, 0, "a delivery of today stays");
    let pruned = orgs::webhooks::log::prune(app.state.db.connection(), 0)
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    assert!(deliveries(&ada, id).await.is_empty());
    let messages: Vec<i64> = app.column("SELECT count(*) FROM webhook_messages").await;
    assert_eq!(messages, [0]);
}

#[tokio::test]
async fn a_refused_change_of_an_endpoint_writes_nothing() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (id, _) = endpoint(&ada, &hook_url("unchanged", "hang"), &["project.created"]).await;
    project(&ada, "One").await;
    let path = format!("/o/acme/api/v1/webhook-endpoints/{id}/");
    let answer = ada
        .send(
            Method::PATCH,
            &path,
            Some(json!({"url": hook_url("elsewhere", "ok"), "event_types": ["no.such"]})),
        )
        .await;
    assert_eq!(answer.status(), 422);
    let shown: Value = ada
        .send(Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["url"], hook_url("unchanged", "hang"));
    let copies: Vec<String> = app.column("SELECT url FROM webhook_deliveries").await;
    assert_eq!(copies, [hook_url("unchanged", "hang")]);
    // Form the settings page: the same, told on the page.
    let page = ada
        .post_form(
            &format!("/o/acme/settings/webhooks/{id}/"),
            &[
                ("url", "ftp://nowhere.example/"),
                ("description", "x"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(page.status(), 303);
    let shown: Value = ada
        .send(Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["description"], "tests");
}
