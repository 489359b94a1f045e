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
