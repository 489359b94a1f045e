//! The request's tenant transaction is settled in one place, by its route: committed when the
//! handler answers `Ok`, rolled back when it answers `Err`. A handler mounted outside a route
//! table gets no context at all (500 before anything is written), so a forgotten commit cannot
//! pass for a saved one.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use orgs::AppError;
use orgs::projects::ProjectInput;
use orgs::routes::{Needs, TenantRoute};
use orgs::web::TenantCtx;

use crate::helpers::{TestApp, World, visitor};

async fn scribble(TenantCtx { tx, .. }: TenantCtx) -> Result<HttpResponse, AppError> {
    let input = ProjectInput {
        name: "Scribble".into(),
        description: String::new(),
    };
    orgs::projects::create(&tx, input).await?;
    Ok(HttpResponse::Ok().body("written"))
}

async fn scribble_past_a_failure(ctx: TenantCtx) -> Result<HttpResponse, AppError> {
    use sea_orm::ConnectionTrait as _;
    let input = ProjectInput {
        name: "Scribble".into(),
        description: String::new(),
    };
    orgs::projects::create(&ctx.tx, input).await?;
    // A handler that goes on after a failed statement (on PostgreSQL the transaction is now
    // aborted, and its COMMIT would roll back without an error).
    let failed = ctx
        .tx
        .conn()
        .execute_unprepared("SELECT * FROM no_such_table")
        .await;
    assert!(failed.is_err());
    Ok(HttpResponse::Ok().body("written, or so it says"))
}

async fn scribble_then_refuse(ctx: TenantCtx) -> Result<HttpResponse, AppError> {
    scribble(ctx).await?;
    Err(AppError::Conflict("changed my mind".into()))
}

fn table() -> Vec<TenantRoute> {
    vec![
        TenantRoute::new(Method::POST, "/scribble/", Needs::Member, || {
            web::post().to(scribble)
        }),
        TenantRoute::new(
            Method::POST,
            "/scribble-past-a-failure/",
            Needs::Member,
            || web::post().to(scribble_past_a_failure),
        ),
        TenantRoute::new(
            Method::POST,
            "/scribble-then-refuse/",
            Needs::Member,
            || web::post().to(scribble_then_refuse),
        ),
    ]
}

async fn app() -> TestApp {
    TestApp::spawn_with_routes(
        |state| {
            *state = state
                .clone()
                .with_tenant_routes(table(), Default::default());
        },
        |cfg| {
            // By hand, outside any route table: nothing would settle its transaction.
            cfg.service(orgs::routes::tenant("/scribble-by-hand/").route(web::post().to(scribble)));
        },
    )
    .await
}

async fn scribbles(app: &TestApp) -> i64 {
    app.column::<i64>("SELECT COUNT(*) FROM projects WHERE name = 'Scribble'")
        .await[0]
}

#[tokio::test]
async fn a_handler_that_answers_ok_has_its_work_committed_by_its_route() {
    let app = app().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let response = kurt.post_form("/o/nirvana/scribble/", &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(scribbles(&app).await, 1);
}

#[tokio::test]
async fn a_handler_that_answers_an_error_has_its_work_rolled_back() {
    let app = app().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let response = kurt
        .post_form("/o/nirvana/scribble-then-refuse/", &[])
        .await;
    assert_eq!(response.status(), 409);
    assert_eq!(scribbles(&app).await, 0);
}

#[tokio::test]
async fn a_context_outside_a_route_table_is_refused_before_anything_is_written() {
    let app = app().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let response = kurt.post_form("/o/nirvana/scribble-by-hand/", &[]).await;
    assert_eq!(response.status(), 500, "no route would commit its work");
    assert_eq!(scribbles(&app).await, 0);
}

#[tokio::test]
async fn work_that_went_on_past_a_failed_statement_is_not_reported_committed() {
    let app = app().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let response = kurt
        .post_form("/o/nirvana/scribble-past-a-failure/", &[])
        .await;
    if app.is_postgres() {
        // PostgreSQL rolls an aborted transaction back at COMMIT without an error: the route
        // asks first, and answers the failure instead of the handler's Ok.
        assert_eq!(response.status(), 500);
        assert_eq!(scribbles(&app).await, 0);
    } else {
        // SQLite goes on after a failed statement, and commits what the handler wrote.
        assert_eq!(response.status(), 200);
        assert_eq!(scribbles(&app).await, 1);
    }
}

#[tokio::test]
async fn a_write_whose_body_is_still_on_its_way_holds_no_lock_on_anyone_else() {
    use std::io::Write as _;
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, key) = kurt
        .api(
            reqwest::Method::POST,
            "/o/nirvana/api/v1/api-keys/",
            Some(serde_json::json!({ "name": "slow", "permissions": ["projects.write"] })),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let secret = key["secret"].as_str().unwrap().to_string();
    // A client that sends the headers and the first bytes of its body, then stalls.
    let address = app.address.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&address).unwrap();
    let head = format!(
        "POST /o/nirvana/api/v1/projects/ HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {secret}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"name\": "
    );
    slow.write_all(head.as_bytes()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Meanwhile another organization writes: nothing of the stalled request holds a lock.
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let write = dave.api(
        reqwest::Method::POST,
        "/o/foo-fighters/api/v1/projects/",
        Some(serde_json::json!({ "name": "Unblocked" })),
    );
    let (status, body) = tokio::time::timeout(std::time::Duration::from_secs(10), write)
        .await
        .expect("the other organization's write is not held up");
    assert_eq!(status, 201, "{body}");
    drop(slow);
}
