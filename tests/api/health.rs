//! `/healthz` and `/readyz` over real HTTP.

use crate::helpers::{TestApp, World, get_on};

#[tokio::test]
async fn healthz_answers_200() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn probes_answer_on_an_organization_host_and_path_too() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    for probe in ["/healthz", "/readyz"] {
        let response = get_on(&app, &app.client, "nirvana.localhost", probe).await;
        assert_eq!(response.status(), 200, "{probe} on nirvana.localhost");
        assert_eq!(
            app.get(&format!("/o/nirvana{probe}")).await.status(),
            200,
            "/o/nirvana{probe}"
        );
    }
}

#[tokio::test]
async fn readyz_answers_200_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readyz_answers_503_with_a_json_error_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.close_by_ref().await.unwrap();
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    // The process itself still answers.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn unknown_path_answers_404() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/no-such-page").await.status(), 404);
}
