//! Deliveries as a receiver sees them: each kind of change, signed (checked by
//! `standardwebhooks`), once per `webhook-id` and in the order of its events; retried with the
//! same id; a 410, a receiver that never answers, a redirect; a rotated secret; a test event
//! and a redelivery.

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    acme, deliveries, endpoint, hook_url, hooks_app, project, received, register, types, wait_for,
    wait_log,
};

fn ids(got: &[Value]) -> Vec<String> {
    got.iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn each_kind_of_change_arrives_once_verified_by_standard_webhooks_in_the_order_of_its_events()
{
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (_, secret) = endpoint(&ada, &hook_url("kinds", "ok"), &[]).await;
    register("kinds", &[&secret]).await;
    let call = |method: Method, path: &str, body: Option<Value>| {
        let ada = &ada;
        let path = format!("/o/acme/api/v1/{path}");
        async move {
            let answer = ada.send(method, &path, body).await;
            let status = answer.status().as_u16();
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            assert!(status < 300, "{path}: {status} {body}");
            body
        }
    };
    let id = project(&ada, "Anvil 2").await;
    call(
        Method::PATCH,
        &format!("projects/{id}/"),
        Some(json!({"description": "heavier"})),
    )
    .await;
    call(Method::DELETE, &format!("projects/{id}/"), None).await;
    let invitation = call(
        Method::POST,
        "people/",
        Some(json!({"email": "erin@example.org"})),
    )
    .await;
    let invitation = invitation["id"].as_i64().unwrap();
    call(
        Method::POST,
        &format!("invitations/{invitation}/revoke/"),
        None,
    )
    .await;
    call(
        Method::PATCH,
        "organization/",
        Some(json!({"name": "Acme Corp"})),
    )
    .await;
    let key = call(Method::POST, "api-keys/", Some(json!({"name": "ci"}))).await;
    call(Method::DELETE, &format!("api-keys/{}/", key["id"]), None).await;
    let domain = call(
        Method::POST,
        "domains/",
        Some(json!({"domain": "app.acme.example"})),
    )
    .await;
    call(Method::DELETE, &format!("domains/{}/", domain["id"]), None).await;
    call(
        Method::POST,
        "roles/",
        Some(json!({"key": "support", "name": "Support", "permissions": ["members.read"]})),
    )
    .await;
    call(
        Method::PATCH,
        "roles/support/",
        Some(json!({"permissions": ["projects.read"]})),
    )
    .await;
    call(Method::DELETE, "roles/support/", None).await;
    let max = app
        .column::<i64>("SELECT id FROM users WHERE email = 'max@acme.test'")
        .await[0];
    call(
        Method::PATCH,
        &format!("people/{max}/"),
        Some(json!({"is_admin": true})),
    )
    .await;
    call(Method::POST, "transfer/", Some(json!({"user_id": max}))).await;
    let max = crate::helpers::visitor(&app, Some("max@acme.test")).await;
    let answer = max
        .send(Method::DELETE, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(answer.status(), 204);
    let expected = [
        "project.created",
        "project.updated",
        "project.deleted",
        "invitation.created",
        "invitation.revoked",
        "organization.updated",
        "api_key.created",
        "api_key.revoked",
        "domain.added",
        "domain.removed",
        "role.created",
        "role.updated",
        "role.deleted",
        "member.roles_changed",
        "ownership.transferred",
        "organization.deleted",
    ];
    let got = wait_for("kinds", 20, |got| {
        got.iter().any(|r| r["type"] == "organization.deleted")
    })
    .await;
    assert_eq!(types(&got), expected, "{got:#?}");
    assert!(got.iter().all(|r| r["verified"] == true), "{got:#?}");
    let mut unique = ids(&got);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "one request per webhook-id");
    // The payload: the Standard Webhooks shape, this organization's data only.
    let first: Value = serde_json::from_str(got[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(first["type"], "project.created");
    assert!(first["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(first["data"]["organization"]["name"], "Acme");
    assert_eq!(first["data"]["target"]["label"], "Anvil 2");
    assert_eq!(first["data"]["actor"]["name"], "Ada");
    for r in &got {
        let body = r["body"].as_str().unwrap();
        assert!(
            !body.contains("Globex") && !body.contains("127.0.0.1"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_failed_attempt_is_retried_with_the_same_webhook_id_and_holds_up_no_later_message() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (id, secret) = endpoint(&ada, &hook_url("flaky", "flaky"), &["project.created"]).await;
    register("flaky", &[&secret]).await;
    project(&ada, "First").await;
    project(&ada, "Second").await;
    // Both first attempts fail at once: the second message did not wait for the first's retry.
    let early = wait_for("flaky", 4, |got| got.len() >= 2).await;
    assert_eq!(early.len(), 2, "{early:#?}");
    assert_ne!(early[0]["id"], early[1]["id"]);
    let log = wait_log(&ada, id, 15, |log| {
        log.len() == 2 && log.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    assert!(log.iter().all(|d| d["attempts"] == 2), "{log:#?}");
    let got = received("flaky").await;
    assert_eq!(got.len(), 4, "{got:#?}");
    // The retries (each on its own jittered schedule) carry the ids of the first attempts.
    let (mut first, mut again) = (ids(&got[..2]), ids(&got[2..]));
    first.sort();
    again.sort();
    assert_eq!(first, again);
    assert!(got.iter().all(|r| r["verified"] == true));
    // Each attempt is signed anew, with its own time.
    let stamp = |r: &Value| r["timestamp"].as_str().unwrap().parse::<i64>().unwrap();
    assert!(stamp(&got[2]) >= stamp(&got[0]) + 4, "{got:#?}");
}

#[tokio::test]
async fn a_410_turns_the_endpoint_off_and_its_admins_are_mailed() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (id, secret) = endpoint(&ada, &hook_url("gone", "gone"), &["project.created"]).await;
    register("gone", &[&secret]).await;
    project(&ada, "One").await;
    let log = wait_log(&ada, id, 10, |log| {
        log.first().is_some_and(|d| d["status"] == "failed")
    })
    .await;
    assert_eq!(log[0]["response_status"], 410, "{log:#?}");
    assert_eq!(log[0]["attempts"], 1);
    let shown: Value = ada
        .send(
            Method::GET,
            &format!("/o/acme/api/v1/webhook-endpoints/{id}/"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["enabled"], false);
    assert_eq!(shown["disabled_reason"], "gone");
    project(&ada, "Two").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(
        received("gone").await.len(),
        1,
        "nothing goes to an endpoint that is off"
    );
    let mut mailed = Vec::new();
    for _ in 0..50 {
        mailed = app.mailbox().to("ada@acme.test");
        if mailed
            .iter()
            .any(|m| m.subject.contains("webhook endpoint"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        mailed
            .iter()
            .any(|m| m.subject.contains("webhook endpoint") && m.text.contains("410")),
        "{mailed:#?}"
    );
    // A test event to an endpoint that is off is refused; turned on, it goes out.
    let path = format!("/o/acme/api/v1/webhook-endpoints/{id}/test/");
    assert_eq!(ada.send(Method::POST, &path, None).await.status(), 409);
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_cut_off_and_holds_up_no_other_endpoint() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (hanging, _) = endpoint(&ada, &hook_url("hang", "hang"), &["project.created"]).await;
    let (_, secret) = endpoint(&ada, &hook_url("beside", "ok"), &["project.created"]).await;
    register("beside", &[&secret]).await;
    project(&ada, "One").await;
    let started = std::time::Instant::now();
    let beside = wait_for("beside", 5, |got| !got.is_empty()).await;
    assert_eq!(beside.len(), 1);
    assert!(started.elapsed().as_secs() < 5);
    let log = wait_log(&ada, hanging, 25, |log| {
        log.first().is_some_and(|d| !d["last_error"].is_null())
    })
    .await;
    let error = log[0]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("did not answer within 15 s"), "{log:#?}");
    assert_eq!(log[0]["status"], "pending");
    assert!(started.elapsed().as_secs() >= 14);
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_never_followed() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (id, secret) = endpoint(&ada, &hook_url("moved", "redirect"), &["project.created"]).await;
    register("moved", &[&secret]).await;
    project(&ada, "One").await;
    let log = wait_log(&ada, id, 10, |log| {
        log.first().is_some_and(|d| !d["response_status"].is_null())
    })
    .await;
    assert_eq!(log[0]["response_status"], 302);
    assert_eq!(log[0]["status"], "pending", "retried later, not followed");
    let got = received("moved").await;
    assert_eq!(got.len(), 1);
    assert!(got.iter().all(|r| r["behaviour"] == "redirect"), "{got:#?}");
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_for_a_day() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (id, old) = endpoint(&ada, &hook_url("rotated", "ok"), &["project.created"]).await;
    let answer = ada
        .send(
            Method::POST,
            &format!("/o/acme/api/v1/webhook-endpoints/{id}/rotate-secret/"),
            None,
        )
        .await;
    assert_eq!(answer.status(), 200);
    let new = answer.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(new.starts_with("whsec_") && new != old);
    register("rotated", &[&old, &new]).await;
    project(&ada, "One").await;
    let got = wait_for("rotated", 10, |got| !got.is_empty()).await;
    assert_eq!(got[0]["signatures"], 2);
    assert_eq!(got[0]["verified_with"], json!([0, 1]), "{got:#?}");
    // The secret is stored sealed, not in clear.
    let rows = app
        .column::<String>("SELECT secret_sealed FROM webhook_endpoints")
        .await;
    assert!(
        rows.iter()
            .all(|r| !r.contains(&new[6..]) && !r.contains(&old[6..]))
    );
}

#[tokio::test]
async fn a_test_event_and_a_redelivery_carry_their_webhook_id_again() {
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (id, secret) = endpoint(&ada, &hook_url("again", "ok"), &["member.removed"]).await;
    register("again", &[&secret]).await;
    let answer = ada
        .send(
            Method::POST,
            &format!("/o/acme/api/v1/webhook-endpoints/{id}/test/"),
            None,
        )
        .await;
    assert_eq!(answer.status(), 202);
    let got = wait_for("again", 10, |got| !got.is_empty()).await;
    assert_eq!(types(&got), ["webhook.test"]);
    assert_eq!(got[0]["verified"], true);
    let log = wait_log(&ada, id, 5, |log| {
        log.first().is_some_and(|d| d["status"] == "succeeded")
    })
    .await;
    let delivery = log[0]["id"].as_i64().unwrap();
    let detail: Value = ada
        .send(
            Method::GET,
            &format!("/o/acme/api/v1/webhook-endpoints/{id}/deliveries/{delivery}/"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["payload"]["type"], "webhook.test");
    assert_eq!(detail["request_headers"]["webhook-id"], got[0]["id"]);
    let path = format!("/o/acme/api/v1/webhook-endpoints/{id}/deliveries/{delivery}/redeliver/");
    assert_eq!(ada.send(Method::POST, &path, None).await.status(), 202);
    let got = wait_for("again", 10, |got| got.len() == 2).await;
    assert_eq!(got[1]["id"], got[0]["id"]);
    // Every failed delivery since a time: none failed here.
    let path = format!("/o/acme/api/v1/webhook-endpoints/{id}/redeliver/");
    let answer = ada
        .send(
            Method::POST,
            &path,
            Some(json!({"since": "2026-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(answer.status(), 202);
    assert_eq!(answer.json::<Value>().await.unwrap()["queued"], 0);
    assert_eq!(deliveries(&ada, id).await.len(), 1);
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_turned_off_its_admins_mailed_and_the_metrics_say_so()
{
    let app = hooks_app().await;
    let ada = acme(&app).await;
    let (id, secret) = endpoint(&ada, &hook_url("failing", "fail"), &["project.created"]).await;
    register("failing", &[&secret]).await;
    // Failing since six days: the days are the database's, so set them there.
    let acme_id = app
        .column::<i64>("SELECT id FROM organizations WHERE slug = 'acme'")
        .await[0];
    let tx = orgs::tenancy::door::tenant(app.conn(), app.events(), entity::OrganizationId(acme_id))
        .await
        .unwrap();
    use sea_orm::{ColumnTrait as _, QueryFilter as _};
    tx.update_many::<entity::webhook_endpoint::Entity>()
        .col_expr(
            entity::webhook_endpoint::Column::FailingSince,
            sea_orm::sea_query::Expr::value(Some(
                entity::chrono_now() - chrono::TimeDelta::days(6),
            )),
        )
        .filter(entity::webhook_endpoint::Column::Id.eq(id))
        .exec(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    project(&ada, "One").await;
    let log = wait_log(&ada, id, 10, |log| {
        log.first().is_some_and(|d| d["status"] == "failed")
    })
    .await;
    assert_eq!(log[0]["response_status"], 500, "{log:#?}");
    let shown: Value = ada
        .send(
            Method::GET,
            &format!("/o/acme/api/v1/webhook-endpoints/{id}/"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["enabled"], false);
    assert_eq!(shown["disabled_reason"], "failing");
    let mail = app.wait_for_mail("ada@acme.test", 1).await;
    assert!(
        mail.iter()
            .any(|m| m.text.contains("every attempt failed for days")),
        "{mail:#?}"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for line in [
        "orgs_webhook_queue_depth 0",
        r#"orgs_webhook_deliveries_total{result="failed"} 1"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    assert!(metrics.contains("orgs_webhook_oldest_undelivered_seconds"));
}
