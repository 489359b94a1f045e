//! Tenant isolation over real HTTP: every tenant route (pages and API) x every role x both ways
//! of addressing a tenant (subdomain and `/o/{slug}/`), asserting the status and that nothing
//! of the other organization appears in any body.

use entity::project;
use orgs::organizations::{self as orgs_service};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::helpers::{TestApp, Visitor, create_user, get, get_on, item_names, location, visitor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Owner,
    Admin,
    Member,
    OtherTenantMember,
    Outsider,
    Anonymous,
    Superuser,
}

const ROLES: [Role; 7] = [
    Role::Owner,
    Role::Admin,
    Role::Member,
    Role::OtherTenantMember,
    Role::Outsider,
    Role::Anonymous,
    Role::Superuser,
];

#[derive(Clone, Copy, Debug)]
enum Mode {
    Subdomain,
    Path,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    Member,
    Admin,
    Owner,
}

/// One request of the matrix: method, tenant-relative path (`{id}` = a project of this
/// tenant), body, what it needs and what success looks like.
struct Route {
    method: Method,
    path: &'static str,
    form: Option<&'static [(&'static str, &'static str)]>,
    json: Option<&'static str>,
    needs: Needs,
    ok: u16,
    /// The request deletes its project, so each try gets a fresh one.
    destroys: bool,
}

fn routes() -> Vec<Route> {
    let page = |method: Method, path, needs, ok| Route {
        method,
        path,
        form: None,
        json: None,
        needs,
        ok,
        destroys: false,
    };
    vec![
        page(Method::GET, "/", Needs::Member, 200),
        page(Method::GET, "/projects/", Needs::Member, 200),
        page(Method::GET, "/projects/new/", Needs::Member, 200),
        Route {
            form: Some(&[
                ("name", "Matrix project"),
                ("description", "made by the matrix"),
            ]),
            ..page(Method::POST, "/projects/new/", Needs::Member, 303)
        },
        page(Method::GET, "/projects/{id}/", Needs::Member, 200),
        page(Method::GET, "/projects/{id}/edit/", Needs::Member, 200),
        Route {
            form: Some(&[("name", "Renamed by the matrix"), ("description", "")]),
            ..page(Method::POST, "/projects/{id}/edit/", Needs::Member, 303)
        },
        page(Method::GET, "/projects/{id}/delete/", Needs::Admin, 200),
        Route {
            form: Some(&[]),
            destroys: true,
            ..page(Method::POST, "/projects/{id}/delete/", Needs::Admin, 303)
        },
        page(Method::GET, "/api/v1/projects/", Needs::Member, 200),
        Route {
            json: Some(r#"{"name": "API project"}"#),
            ..page(Method::POST, "/api/v1/projects/", Needs::Member, 201)
        },
        page(Method::GET, "/api/v1/projects/{id}/", Needs::Member, 200),
        Route {
            json: Some(r#"{"description": "patched"}"#),
            ..page(Method::PATCH, "/api/v1/projects/{id}/", Needs::Member, 200)
        },
        Route {
            destroys: true,
            ..page(Method::DELETE, "/api/v1/projects/{id}/", Needs::Admin, 204)
        },
        page(Method::GET, "/settings/", Needs::Admin, 200),
        page(Method::GET, "/edit/", Needs::Admin, 200),
        page(Method::GET, "/delete/", Needs::Owner, 200),
        page(Method::GET, "/transfer/", Needs::Owner, 200),
        page(Method::GET, "/people/", Needs::Member, 200),
        page(Method::GET, "/people/add/", Needs::Admin, 200),
        page(Method::GET, "/people/{uid}/", Needs::Admin, 200),
        page(Method::GET, "/people/{uid}/edit/", Needs::Admin, 200),
        page(Method::GET, "/people/{uid}/delete/", Needs::Admin, 200),
        page(Method::GET, "/api/v1/organization/", Needs::Member, 200),
        page(Method::GET, "/api/v1/people/", Needs::Member, 200),
        page(Method::GET, "/api/v1/people/{uid}/", Needs::Admin, 200),
        page(Method::GET, "/api/v1/api-keys/", Needs::Admin, 200),
        page(Method::GET, "/api/v1/domains/", Needs::Admin, 200),
    ]
}

struct World {
    acme_id: i64,
    member_uid: i64,
    globex_id: i64,
    acme_project: i64,
    globex_project: i64,
    visitors: Vec<(Role, Visitor)>,
}

const ACME_SECRET: &str = "Acme Rocket Skates";
const GLOBEX_NAME: &str = "Globex";
const GLOBEX_SECRET: &str = "Globex Doomsday Device";

async fn project(app: &TestApp, organization_id: i64, name: &str) -> i64 {
    project::ActiveModel {
        organization_id: Set(organization_id),
        name: Set(name.to_string()),
        description: Set(format!("{name} description")),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap()
    .id
}

async fn world(app: &TestApp) -> World {
    let db = app.conn();
    let hasher = &app.state.hasher;
    let owner = create_user(db, hasher, "owner@acme.test", "Ada Owner", false).await;
    let admin = create_user(db, hasher, "admin@acme.test", "Alan Admin", false).await;
    let member = create_user(db, hasher, "member@acme.test", "Mary Member", false).await;
    let globex_member = create_user(db, hasher, "hank@globex.test", "Hank Scorpio", false).await;
    create_user(db, hasher, "outsider@nowhere.test", "Olive Outsider", false).await;
    create_user(db, hasher, "root@orgs.test", "Root", true).await;
    let acme = orgs_service::create_organization(db, app.events(), owner.id, "Acme Corp")
        .await
        .unwrap()
        .organization;
    crate::rules::add_user(db, app.events(), acme.id, admin.id, true)
        .await
        .unwrap();
    crate::rules::add_user(db, app.events(), acme.id, member.id, false)
        .await
        .unwrap();
    let globex =
        orgs_service::create_organization(db, app.events(), globex_member.id, "Globex Inc")
            .await
            .unwrap()
            .organization;
    assert_eq!(
        (acme.slug.as_str(), globex.slug.as_str()),
        ("acme-corp", "globex-inc")
    );
    let acme_project = project(app, acme.id, ACME_SECRET).await;
    let globex_project = project(app, globex.id, GLOBEX_SECRET).await;
    let mut visitors = Vec::new();
    for role in ROLES {
        let email = match role {
            Role::Owner => Some("owner@acme.test"),
            Role::Admin => Some("admin@acme.test"),
            Role::Member => Some("member@acme.test"),
            Role::OtherTenantMember => Some("hank@globex.test"),
            Role::Outsider => Some("outsider@nowhere.test"),
            Role::Anonymous => None,
            Role::Superuser => Some("root@orgs.test"),
        };
        visitors.push((role, visitor(app, email).await));
    }
    World {
        acme_id: acme.id,
        member_uid: member.id,
        globex_id: globex.id,
        acme_project,
        globex_project,
        visitors,
    }
}

fn expected(role: Role, route: &Route, api: bool) -> u16 {
    match role {
        Role::Owner | Role::Superuser => route.ok,
        Role::Admin if route.needs == Needs::Owner => 403,
        Role::Admin => route.ok,
        Role::Member if route.needs == Needs::Member => route.ok,
        Role::Member => 403,
        Role::OtherTenantMember | Role::Outsider => 404,
        Role::Anonymous if api => 401,
        Role::Anonymous => 302,
    }
}

async fn send(
    app: &TestApp,
    visitor: &Visitor,
    mode: Mode,
    slug: &str,
    route: &Route,
    id: i64,
    uid: i64,
) -> reqwest::Response {
    let path = route
        .path
        .replace("{id}", &id.to_string())
        .replace("{uid}", &uid.to_string());
    let (url, host) = match mode {
        Mode::Subdomain => (
            format!("{}{path}", app.address),
            Some(format!("{slug}.localhost")),
        ),
        Mode::Path => (format!("{}/o/{slug}{path}", app.address), None),
    };
    let mut request = visitor.client.request(route.method.clone(), url);
    if let Some(host) = host {
        request = request.header("host", host);
    }
    if route.method != Method::GET {
        request = request.header("x-csrf-token", &visitor.csrf);
    }
    if let Some(form) = route.form {
        request = request.form(form);
    }
    if let Some(json) = route.json {
        request = request
            .header("content-type", "application/json")
            .body(json);
    }
    request.send().await.unwrap()
}

async fn run_matrix(mode: Mode) {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let mut failures = Vec::new();
    for route in routes() {
        let api = route.path.starts_with("/api/");
        for (role, visitor) in &w.visitors {
            let id = if route.destroys {
                project(&app, w.acme_id, "Doomed project").await
            } else {
                w.acme_project
            };
            let response = send(&app, visitor, mode, "acme-corp", &route, id, w.member_uid).await;
            let status = response.status().as_u16();
            let redirect = location(&response);
            let body = response.text().await.unwrap();
            let want = expected(*role, &route, api);
            if status != want {
                failures.push(format!(
                    "{mode:?} {role:?} {} {}: {status}, expected {want}",
                    route.method, route.path
                ));
            }
            if want == 302 && !redirect.starts_with("/login/?next=") {
                failures.push(format!(
                    "{mode:?} {role:?} {}: redirect to {redirect}",
                    route.path
                ));
            }
            if body.contains(GLOBEX_NAME) || body.contains(GLOBEX_SECRET) {
                failures.push(format!(
                    "{mode:?} {role:?} {} {}: leaks the other tenant",
                    route.method, route.path
                ));
            }
            if matches!(role, Role::OtherTenantMember | Role::Outsider)
                && body.contains(ACME_SECRET)
            {
                failures.push(format!(
                    "{mode:?} {role:?} {}: shows a tenant it does not belong to",
                    route.path
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_tenant_route_answers_each_role_correctly_on_subdomains() {
    run_matrix(Mode::Subdomain).await;
}

#[tokio::test]
async fn every_tenant_route_answers_each_role_correctly_on_the_path_form() {
    run_matrix(Mode::Path).await;
}

#[tokio::test]
async fn a_project_of_another_organization_is_404_on_every_project_route() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    for mode in [Mode::Subdomain, Mode::Path] {
        for route in routes().into_iter().filter(|r| r.path.contains("{id}")) {
            for (role, visitor) in &w.visitors {
                if !matches!(
                    role,
                    Role::Owner | Role::Admin | Role::Member | Role::Superuser
                ) {
                    continue;
                }
                let response = send(
                    &app,
                    visitor,
                    mode,
                    "acme-corp",
                    &route,
                    w.globex_project,
                    w.member_uid,
                )
                .await;
                let status = response.status().as_u16();
                let body = response.text().await.unwrap();
                let allowed = !(route.needs == Needs::Admin && *role == Role::Member);
                let want = if allowed { 404 } else { 403 };
                assert_eq!(
                    status, want,
                    "{mode:?} {role:?} {} {}",
                    route.method, route.path
                );
                assert!(
                    !body.contains(GLOBEX_SECRET),
                    "{mode:?} {role:?} {}",
                    route.path
                );
            }
        }
    }
    // Globex's project is intact after all of that.
    let tx = orgs::tenancy::door::tenant(app.conn(), app.events(), w.globex_id)
        .await
        .unwrap();
    let still = orgs::projects::get(&tx, w.globex_project).await.unwrap();
    assert!(still.is_some_and(|p| p.name == GLOBEX_SECRET));
}

#[tokio::test]
async fn an_unknown_tenant_is_404_both_ways() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/o/no-such-org/").await.status(), 404);
    assert_eq!(
        app.get("/o/no-such-org/api/v1/projects/").await.status(),
        404
    );
    let response = get_on(&app, &app.client, "no-such-org.localhost", "/projects/").await;
    assert_eq!(response.status(), 404);
    // A tenant route without a tenant does not exist.
    assert_eq!(app.get("/projects/").await.status(), 404);
    // The bare prefix gets its trailing slash.
    let response = app.get("/o/acme").await;
    assert_eq!(response.status(), 308);
    assert_eq!(location(&response), "/o/acme/");
}

#[tokio::test]
async fn the_login_redirect_comes_back_to_the_tenant_address() {
    let app = TestApp::spawn().await;
    world(&app).await;
    let response = app.get("/o/acme-corp/projects/?page=2").await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        location(&response),
        "/login/?next=%2Fo%2Facme-corp%2Fprojects%2F%3Fpage%3D2"
    );
}

#[tokio::test]
async fn two_tabs_on_two_tenants_both_work() {
    let app = TestApp::spawn().await;
    let db = app.conn();
    let both = create_user(db, &app.state.hasher, "both@orgs.test", "Bo Th", false).await;
    let first = orgs_service::create_organization(db, app.events(), both.id, "First")
        .await
        .unwrap()
        .organization;
    let second = orgs_service::create_organization(db, app.events(), both.id, "Second")
        .await
        .unwrap()
        .organization;
    project(&app, first.id, "Alpha").await;
    project(&app, second.id, "Beta").await;
    let v = visitor(&app, Some("both@orgs.test")).await;
    for _ in 0..2 {
        let a = v
            .client
            .get(format!("{}/o/first/projects/", app.address))
            .send()
            .await
            .unwrap();
        let a = a.text().await.unwrap();
        let b = v
            .client
            .get(format!("{}/o/second/projects/", app.address))
            .send()
            .await
            .unwrap();
        let b = b.text().await.unwrap();
        assert!(a.contains("Alpha") && !a.contains("Beta"));
        assert!(b.contains("Beta") && !b.contains("Alpha"));
    }
}

#[tokio::test]
async fn project_api_lists_are_paginated_and_validated() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    for n in 0..5 {
        project(&app, w.acme_id, &format!("Extra {n}")).await;
    }
    let (_, owner) = &w.visitors[0];
    let page = owner
        .client
        .get(format!(
            "{}/o/acme-corp/api/v1/projects/?page=2&per_page=2",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let json: serde_json::Value = page.json().await.unwrap();
    assert_eq!(json["page"], 2);
    assert_eq!(json["per_page"], 2);
    assert_eq!(json["total"], 6);
    let names = item_names(&json);
    assert_eq!(names, ["Extra 1", "Extra 2"], "by name, the second pair");

    let (status, body) = get(
        &app,
        owner,
        "/o/acme-corp/api/v1/projects/?page=9&per_page=2",
    )
    .await;
    assert_eq!(status, 200);
    let beyond: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(beyond["items"].as_array().unwrap().len(), 0);
    assert_eq!(beyond["total"], 6, "the count survives a page past the end");

    let capped = owner
        .client
        .get(format!(
            "{}/o/acme-corp/api/v1/projects/?per_page=5000",
            app.address
        ))
        .send()
        .await
        .unwrap();
    let json: serde_json::Value = capped.json().await.unwrap();
    assert_eq!(json["per_page"], 100);
    let bad = owner
        .client
        .get(format!(
            "{}/o/acme-corp/api/v1/projects/?page=zero",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let invalid = owner
        .client
        .post(format!("{}/o/acme-corp/api/v1/projects/", app.address))
        .header("x-csrf-token", &owner.csrf)
        .json(&serde_json::json!({"name": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);
    let json: serde_json::Value = invalid.json().await.unwrap();
    assert!(json["error"]["fields"]["name"].is_array());
    let unknown_field = owner
        .client
        .post(format!("{}/o/acme-corp/api/v1/projects/", app.address))
        .header("x-csrf-token", &owner.csrf)
        .json(&serde_json::json!({"name": "x", "organization_id": 999}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown_field.status(),
        400,
        "the organization cannot be chosen by the body"
    );
}

#[tokio::test]
async fn an_invalid_project_form_keeps_the_input_and_shows_the_error() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let (_, member) = &w.visitors[2];
    let long = "x".repeat(201);
    let response = member
        .client
        .post(format!("{}/o/acme-corp/projects/new/", app.address))
        .form(&[
            ("name", long.as_str()),
            ("description", "kept"),
            ("csrf_token", &member.csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("must be 1 to 200 characters long"));
    assert!(body.contains("value=\"kept\""));
}
