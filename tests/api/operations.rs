//! What an operator relies on: request ids in answers, logs and audit events; `/metrics`;
//! `/readyz` while draining.

use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{TestApp, World, visitor};

#[tokio::test]
async fn every_answer_carries_a_request_id_and_a_sane_one_sent_is_kept() {
    let app = TestApp::spawn().await;
    let generated = app.get("/healthz").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let other = app.get("/healthz").await;
    assert_ne!(
        other.headers()["x-request-id"],
        id.as_str(),
        "one id per request"
    );

    for (sent, kept) in [
        ("trace-7f3a:1", true),
        ("two words", false),
        ("x\"y", false),
    ] {
        let answer = app
            .client
            .get(format!("{}/no-such-page/", app.address))
            .header("x-request-id", sent)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "errors carry it too");
        let echoed = answer.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(echoed == sent, kept, "{sent} -> {echoed}");
    }
}

#[tokio::test]
async fn the_audit_event_of_a_request_names_its_request_id() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let created = kurt
        .client
        .post(format!("{}/o/nirvana/api/v1/projects/", app.address))
        .header("x-csrf-token", &kurt.csrf)
        .header("x-request-id", "support-ticket-4711")
        .json(&serde_json::json!({"name": "Bleach"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["x-request-id"], "support-ticket-4711");
    let events = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Action.eq("project.created"))
        .all(app.conn())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].request_id.as_deref(), Some("support-ticket-4711"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_never_by_tenant() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for _ in 0..3 {
        assert_eq!(kurt.get("/o/nirvana/people/").await.0, 200);
    }
    assert_eq!(kurt.get("/o/foo-fighters/people/").await.0, 404);
    let (status, _) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/people/", None)
        .await;
    assert_eq!(status, 200);

    let answer = app.get("/metrics").await;
    assert_eq!(answer.status(), 200);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = answer.text().await.unwrap();
    let count = |route: &str, status: u16| -> u64 {
        let prefix = format!(
            "orgs_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"{status}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    // Tenant routes by their pattern under the tenant's root, the same for `/o/{slug}/`, a
    // subdomain and a custom domain.
    assert_eq!(count("/people/", 200), 3, "{text}");
    assert_eq!(count("/people/", 404), 1, "{text}");
    assert_eq!(count("/api/v1/people/", 200), 1, "{text}");
    for slug in ["nirvana", "foo-fighters"] {
        assert!(!text.contains(slug), "a series names the tenant {slug}");
    }
    for line in [
        "# TYPE orgs_http_request_duration_seconds histogram",
        "orgs_db_connections{state=\"idle\"}",
        "orgs_outbox_backlog ",
        "orgs_outbox_sent_total ",
        "orgs_cache_lookups_total{result=\"hit\"}",
    ] {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
    let bucket = text
        .lines()
        .find(|l| {
            l.starts_with("orgs_http_request_duration_seconds_bucket{method=\"GET\",route=\"/people/\",status=\"200\",le=\"+Inf\"}")
        })
        .unwrap();
    assert!(bucket.ends_with(" 3"), "{bucket}");
}

/// The series `/metrics` reports (lines of the request counters and histograms).
async fn series(app: &TestApp) -> Vec<String> {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("orgs_http_"))
        .map(|l| {
            l.rsplit_once(' ')
                .map_or(l, |(labels, _)| labels)
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn made_up_methods_and_paths_add_no_series_to_the_metrics() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let send = |method: String, path: String| {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        app.client
            .request(method, format!("{}{path}", app.address))
            .send()
    };
    // One of each kind first, and two scrapes, so that every series the flood can reach exists.
    for (method, path) in [
        ("M000000", "/healthz"),
        ("M000000", "/no-such-page-0/"),
        ("M000000", "/o/nirvana/no-such-page-0/"),
        ("GET", "/no-such-page-0/"),
    ] {
        send(method.into(), path.into()).await.unwrap();
    }
    series(&app).await;
    let before = series(&app).await;
    for n in 1..=300 {
        let method = format!("M{n:06}");
        send(method.clone(), "/healthz".into()).await.unwrap();
        send(method.clone(), format!("/no-such-page-{n}/"))
            .await
            .unwrap();
        send(method, format!("/o/nirvana/no-such-page-{n}/"))
            .await
            .unwrap();
        send("GET".into(), format!("/no-such-page-{n}/"))
            .await
            .unwrap();
    }
    let after = series(&app).await;
    assert_eq!(
        after.len(),
        before.len(),
        "new series, the first of them: {:?}",
        after
            .iter()
            .filter(|s| !before.contains(s))
            .take(5)
            .collect::<Vec<_>>()
    );
    assert!(
        after.iter().any(|s| s.contains("method=\"OTHER\"")),
        "{after:?}"
    );
    assert!(!after.iter().any(|s| s.contains("M000")), "{after:?}");
}

#[tokio::test]
async fn with_a_token_metrics_answer_only_to_it() {
    let app = TestApp::spawn_with(|s| s.metrics.token = "scrape-secret-0123456789".into()).await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let with = |token: &'static str| {
        app.client
            .get(format!("{}/metrics", app.address))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(with("wrong").await.unwrap().status(), 401);
    assert_eq!(
        with("scrape-secret-0123456789").await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn metrics_switched_off_or_bound_elsewhere_are_not_on_the_main_port() {
    let off = TestApp::spawn_with(|s| s.metrics.enabled = false).await;
    assert_eq!(off.get("/metrics").await.status(), 404);

    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = free.local_addr().unwrap().to_string();
    drop(free);
    let bound = {
        let bind = bind.clone();
        TestApp::spawn_with(move |s| {
            s.metrics.bind = bind;
            s.metrics.token = "unused-on-the-private-listener".into();
        })
        .await
    };
    assert_eq!(bound.get("/metrics").await.status(), 404);
    let mut answer = None;
    for _ in 0..50 {
        if let Ok(a) = reqwest::get(format!("http://{bind}/metrics")).await {
            answer = Some(a);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let answer = answer.expect("the metrics listener answers");
    assert_eq!(answer.status(), 200);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("orgs_http_requests_total")
    );
}

#[tokio::test]
async fn readyz_answers_503_while_the_instance_drains() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.state
        .draining
        .store(true, std::sync::atomic::Ordering::Release);
    let answer = app.get("/readyz").await;
    assert_eq!(answer.status(), 503);
    assert_eq!(app.get("/healthz").await.status(), 200, "alive, not ready");
}

#[test]
fn production_refuses_open_metrics_on_the_main_port() {
    let mut settings =
        orgs::config::Settings::for_environment(orgs::config::Environment::Test).unwrap();
    settings.environment = orgs::config::Environment::Production;
    settings.session.secret_key =
        "Jq8vT2mX9pL4rW7nK1cZ6bH3sD0fG5yU8eA2iO7uQ4tR1wE9xC6vB3nM5kJ0hL2gF7dS4aP1oI8uY3tR6eW"
            .into();
    settings.email.smtp_url = "smtp://127.0.0.1:25".into();
    settings.auth.encryption_key = "azNWOXFMMnhXOHRSNW5NMWNaN2JINHNEMGZHNnlVMmU=".into();
    let refused = settings.validate().unwrap_err().to_string();
    assert!(refused.contains("metrics.token"), "{refused}");
    settings.metrics.token = "a-token".into();
    settings.validate().unwrap();
    settings.metrics.token = "".into();
    settings.metrics.bind = "127.0.0.1:9100".into();
    settings.validate().unwrap();
}

#[test]
fn a_cache_bus_without_its_channel_is_refused_naming_the_key() {
    let mut settings =
        orgs::config::Settings::for_environment(orgs::config::Environment::Test).unwrap();
    settings.cache.notify = orgs::config::CacheNotify::Postgres;
    let refused = settings.validate().unwrap_err().to_string();
    assert!(refused.contains("cache.notify"), "{refused}");
    settings.database.listen_url = "postgres://orgs@127.0.0.1:5432/orgs".into();
    settings.validate().unwrap();
    settings.cache.notify = orgs::config::CacheNotify::Redis;
    settings.session.redis_url = "".into();
    let refused = settings.validate().unwrap_err().to_string();
    assert!(refused.contains("session.redis_url"), "{refused}");
}
