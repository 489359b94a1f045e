//! `projects.enabled` (issue 31): Projects, the built-in example resource, can be switched off.
//! Then nothing of it is left: no route (pages or API), no link, no dashboard card, no
//! permission in the catalog, no operation in the OpenAPI document, no line in `orgs routes`.
//! On (the default), everything is as it was.

use reqwest::Method;
use serde_json::Value;

use crate::cli::{orgs_with_env, stderr, stdout};
use crate::helpers::{TestApp, TestDb, two_tenants, visitor};

/// Every permission name the roles of Acme hold, as Ada (its owner) reads them from the API.
async fn role_permissions(app: &TestApp) -> Vec<(String, Vec<String>)> {
    let ada = visitor(app, Some("ada@acme.test")).await;
    let (status, list) = ada.api(Method::GET, "/o/acme/api/v1/roles/", None).await;
    assert_eq!(status, 200, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|role| {
            let names = role["permissions"].as_array().unwrap().iter();
            let names = names.map(|p| p.as_str().unwrap().to_string()).collect();
            (role["key"].as_str().unwrap().to_string(), names)
        })
        .collect()
}

/// The paths and tags of the served OpenAPI document.
async fn documented(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let document: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let paths = document["paths"].as_object().unwrap().keys().cloned();
    let tags = document["tags"].as_array().unwrap().iter();
    let tags = tags.map(|t| t["name"].as_str().unwrap().to_string());
    (paths.collect(), tags.collect())
}

#[tokio::test]
async fn with_projects_switched_off_no_project_page_api_link_permission_or_operation_is_left() {
    let app = TestApp::spawn_with(|s| s.projects.enabled = false).await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    for path in [
        "/o/acme/projects/",
        "/o/acme/projects/new/",
        "/o/acme/projects/1/",
        "/o/acme/api/v1/projects/",
        "/o/acme/api/v1/projects/1/",
    ] {
        assert_eq!(ada.get(path).await.0, 404, "{path}");
    }
    let (status, _) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/projects/",
            Some(serde_json::json!({"name": "Not served"})),
        )
        .await;
    assert_eq!(status, 404);

    let (status, dashboard) = ada.get("/o/acme/").await;
    assert_eq!(status, 200, "{dashboard}");
    assert!(!dashboard.contains("/projects/"), "{dashboard}");
    assert!(!dashboard.contains("Projects"), "{dashboard}");
    assert!(!dashboard.contains("Recent projects"), "{dashboard}");
    assert!(
        dashboard.contains("/o/acme/people/"),
        "the rest is still there"
    );

    let (paths, tags) = documented(&app).await;
    assert!(paths.iter().all(|p| !p.contains("projects")), "{paths:?}");
    assert!(paths.contains(&"/o/{slug}/api/v1/people/".to_string()));
    assert!(!tags.contains(&"projects".to_string()), "{tags:?}");
    let (document, problems) = orgs::routes::openapi::build_for(
        &orgs::routes::tenant_routes(&app.state.settings),
        &app.state.tenant_routes,
    );
    assert!(problems.is_empty(), "{problems:?}");
    let schemas = document.components.unwrap().schemas;
    let schemas: Vec<&String> = schemas.keys().collect();
    assert!(
        schemas.iter().all(|s| !s.contains("Project")),
        "{schemas:?}"
    );

    // The catalog has no projects.* permission: no role holds one, and none is offered.
    let roles = role_permissions(&app).await;
    for (key, names) in &roles {
        assert!(
            names.iter().all(|n| !n.starts_with("projects.")),
            "{key}: {names:?}"
        );
    }
    assert!(roles.contains(&("member".into(), vec!["members.read".into()])));
    let (status, form) = ada.get("/o/acme/roles/new/").await;
    assert_eq!(status, 200);
    assert!(!form.contains("projects."), "{form}");
    assert!(form.contains("members.invite"), "{form}");

    // The built-in member role is still a valid role: Max, a member, sees the overview.
    let max = visitor(&app, Some("max@acme.test")).await;
    let (status, overview) = max.get("/o/acme/").await;
    assert_eq!(status, 200, "{overview}");
    assert!(!overview.contains("/projects/"), "{overview}");
}

#[tokio::test]
async fn with_projects_on_by_default_they_are_served_linked_offered_and_described() {
    let app = TestApp::spawn().await;
    assert!(app.state.settings.projects.enabled);
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    for path in ["/o/acme/projects/", "/o/acme/api/v1/projects/"] {
        assert_eq!(ada.get(path).await.0, 200, "{path}");
    }
    let (_, dashboard) = ada.get("/o/acme/").await;
    assert!(
        dashboard.contains("<a href=\"/o/acme/projects/\">Projects</a>"),
        "{dashboard}"
    );
    assert!(dashboard.contains("Recent projects"), "{dashboard}");
    assert!(dashboard.contains("Acme anvil"), "{dashboard}");

    let (paths, tags) = documented(&app).await;
    assert!(paths.contains(&"/o/{slug}/api/v1/projects/".to_string()));
    assert!(tags.contains(&"projects".to_string()));

    let roles = role_permissions(&app).await;
    let member = vec!["members.read", "projects.read", "projects.write"];
    let member: Vec<String> = member.into_iter().map(String::from).collect();
    assert!(roles.contains(&("member".into(), member)), "{roles:?}");
    let (_, form) = ada.get("/o/acme/roles/new/").await;
    assert!(form.contains("projects.delete"), "{form}");
}

#[tokio::test]
async fn orgs_routes_lists_no_project_route_when_projects_are_switched_off() {
    let db = TestDb::new().await;
    let on = orgs_with_env(&db, &["routes"], &[]);
    assert!(on.status.success(), "{}", stderr(&on));
    assert!(stdout(&on).contains("| GET | `/projects/` | `projects.read` |"));
    let off = orgs_with_env(&db, &["routes"], &[("ORGS_PROJECTS__ENABLED", "false")]);
    assert!(off.status.success(), "{}", stderr(&off));
    let listed = stdout(&off);
    assert!(!listed.contains("projects"), "{listed}");
    assert!(listed.contains("| GET | `/people/` | `members.read` |"));
    let document = orgs_with_env(&db, &["openapi"], &[("ORGS_PROJECTS__ENABLED", "false")]);
    assert!(document.status.success(), "{}", stderr(&document));
    assert!(!stdout(&document).contains("/api/v1/projects/"));
}
