//! Beyond the matrix: another organization's project on every project route, unknown tenants,
//! the login redirect back to the tenant address, two tabs on two tenants, and the project API's
//! pagination and validation.

use super::*;
use entity::OrganizationId;

#[tokio::test]
async fn a_project_of_another_organization_is_404_on_every_project_route() {
    let app = TestApp::spawn().await;
    let w = world(&app, 0).await;
    for mode in [Mode::Subdomain, Mode::Path] {
        for route in TENANT_ROUTES
            .iter()
            .filter(|r| r.path.contains("projects/{id}"))
        {
            let case = case(route).unwrap();
            for (role, visitor) in &w.visitors {
                if !matches!(
                    role,
                    Role::Owner | Role::Admin | Role::Member | Role::Superuser
                ) {
                    continue;
                }
                let response = send(&app, visitor, mode, &w, route, &case, w.globex_project).await;
                let status = response.status().as_u16();
                let body = response.text().await.unwrap();
                let allowed = holds(*role, route.needs);
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
    let tx = orgs::tenancy::door::tenant(app.conn(), app.events(), OrganizationId(w.globex_id))
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
    assert_redirect_to(&response, 308, "/o/acme/");
}

#[tokio::test]
async fn the_login_redirect_comes_back_to_the_tenant_address() {
    let app = TestApp::spawn().await;
    world(&app, 0).await;
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
    let w = world(&app, 0).await;
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

    let (status, body) = owner
        .get("/o/acme-corp/api/v1/projects/?page=9&per_page=2")
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
    // Issue 17: above the documented maximum is a 422 naming the field (it was capped to 100).
    assert_eq!(capped.status(), 422);
    let json: serde_json::Value = capped.json().await.unwrap();
    assert!(json["error"]["fields"]["per_page"].is_array(), "{json}");
    let bad = owner
        .client
        .get(format!(
            "{}/o/acme-corp/api/v1/projects/?page=zero",
            app.address
        ))
        .send()
        .await
        .unwrap();
    // Issue 17: a query value of the wrong type is a 422 naming the parameter (it was a 400
    // with "Query deserialize error").
    assert_eq!(bad.status(), 422);
    let json: serde_json::Value = bad.json().await.unwrap();
    assert!(json["error"]["fields"]["page"].is_array(), "{json}");
    assert!(!json.to_string().contains("deserialize"), "{json}");

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
    // Issue 17 made an unknown field a 422 naming it (it was a 400 with serde's text).
    assert_eq!(
        unknown_field.status(),
        422,
        "the organization cannot be chosen by the body"
    );
    let json: serde_json::Value = unknown_field.json().await.unwrap();
    assert!(
        json["error"]["fields"]["organization_id"].is_array(),
        "{json}"
    );
}

#[tokio::test]
async fn an_invalid_project_form_keeps_the_input_and_shows_the_error() {
    let app = TestApp::spawn().await;
    let w = world(&app, 0).await;
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
    assert!(body.contains(">kept</textarea>"), "{body}");
}

#[tokio::test]
async fn bad_json_bodies_answer_in_the_envelope_with_the_field_named() {
    let app = TestApp::spawn().await;
    let w = world(&app, 0).await;
    let (_, owner) = &w.visitors[0];
    let post = |body: &'static str, content_type: &'static str| {
        let owner = owner.clone();
        let url = format!("{}/o/{}/api/v1/projects/", app.address, w.acme_slug);
        async move {
            let response = owner
                .client
                .post(url)
                .header("x-csrf-token", &owner.csrf)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let json: serde_json::Value = response.json().await.unwrap();
            (status, json)
        }
    };
    for (body, field) in [
        (r#"{"name": 5}"#, "name"),
        (r#"{"nam": "x"}"#, "nam"),
        (r#"{"description": "no name"}"#, "name"),
        (r#""a string""#, "body"),
    ] {
        let (status, json) = post(body, "application/json").await;
        assert_eq!(status, 422, "{body}: {json}");
        assert!(json["error"]["fields"][field].is_array(), "{body}: {json}");
        assert!(!json.to_string().contains("line 1"), "{json}");
    }
    let (status, json) = post(r#"{"name": "#, "application/json").await;
    assert_eq!(status, 400, "{json}");
    assert_eq!(json["error"]["code"], "bad_request");
    let (status, json) = post(r#"{"name": "x"}"#, "text/plain").await;
    assert_eq!(status, 415, "{json}");
    assert_eq!(json["error"]["code"], "unsupported_media_type");
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(300 * 1024));
    let response = owner
        .client
        .post(format!(
            "{}/o/{}/api/v1/projects/",
            app.address, w.acme_slug
        ))
        .header("x-csrf-token", &owner.csrf)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn api_errors_without_a_handler_come_in_the_envelope_and_a_missing_credential_is_a_401() {
    let app = TestApp::spawn().await;
    let w = world(&app, 0).await;
    let (_, owner) = &w.visitors[0];
    // A method the route does not have.
    let response = owner
        .client
        .put(format!(
            "{}/o/{}/api/v1/projects/",
            app.address, w.acme_slug
        ))
        .header("x-csrf-token", &owner.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["error"]["code"], "method_not_allowed");
    // No credentials at all: 401 with the scheme to use, for a write too (not the CSRF 403).
    let anonymous = reqwest::Client::new();
    for response in [
        anonymous
            .post(format!("{}/api/v1/organizations/", app.address))
            .json(&serde_json::json!({"name": "Nope"}))
            .send()
            .await
            .unwrap(),
        anonymous
            .get(format!("{}/api/v1/organizations/", app.address))
            .send()
            .await
            .unwrap(),
        anonymous
            .get(format!("{}/api/v1/organizations/", app.address))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"orgs\""
        );
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["error"]["code"], "unauthorized");
    }
    // A signed-in browser without its token still gets the CSRF refusal.
    let response = owner
        .client
        .post(format!("{}/api/v1/organizations/", app.address))
        .json(&serde_json::json!({"name": "Nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn every_201_says_where_the_new_thing_is() {
    let app = TestApp::spawn().await;
    let w = world(&app, 0).await;
    let (_, owner) = &w.visitors[0];
    let slug = &w.acme_slug;
    for (path, body, starts) in [
        (
            format!("/o/{slug}/api/v1/projects/"),
            serde_json::json!({"name": "Located"}),
            format!("/o/{slug}/api/v1/projects/"),
        ),
        (
            format!("/o/{slug}/api/v1/api-keys/"),
            serde_json::json!({"name": "located"}),
            format!("/o/{slug}/api/v1/api-keys/"),
        ),
        (
            format!("/o/{slug}/api/v1/domains/"),
            serde_json::json!({"domain": "located.example.org"}),
            format!("/o/{slug}/api/v1/domains/"),
        ),
        (
            format!("/o/{slug}/api/v1/roles/"),
            serde_json::json!({"key": "located", "name": "Located"}),
            format!("/o/{slug}/api/v1/roles/located/"),
        ),
        (
            "/api/v1/organizations/".to_string(),
            serde_json::json!({"name": "Located Org"}),
            "/o/located-org/api/v1/organization/".to_string(),
        ),
    ] {
        let response = owner.send(reqwest::Method::POST, &path, Some(body)).await;
        assert_eq!(response.status(), 201, "{path}");
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with(&starts), "{path}: {location}");
        if path.contains("projects") {
            let (status, _) = owner.get(&location).await;
            assert_eq!(status, 200, "{location} answers");
        }
    }
}

#[tokio::test]
async fn a_stale_if_match_is_a_412_and_the_object_is_left_as_it_was() {
    let app = TestApp::spawn().await;
    let w = world(&app, 0).await;
    let (_, owner) = &w.visitors[0];
    let slug = &w.acme_slug;
    let project = format!("/o/{slug}/api/v1/projects/{}/", w.acme_project);
    let person = format!("/o/{slug}/api/v1/people/{}/", w.member_uid);
    let organization = format!("/o/{slug}/api/v1/organization/");
    let (status, _) = owner
        .api(
            reqwest::Method::POST,
            &format!("/o/{slug}/api/v1/roles/"),
            Some(serde_json::json!({"key": "tagged", "name": "Tagged"})),
        )
        .await;
    assert_eq!(status, 201);
    let role = format!("/o/{slug}/api/v1/roles/tagged/");
    for (path, patch) in [
        (&project, serde_json::json!({"description": "edited"})),
        (&person, serde_json::json!({"roles": ["admin"]})),
        (
            &organization,
            serde_json::json!({"name": "Acme Corp edited"}),
        ),
        (&role, serde_json::json!({"name": "Tagged edited"})),
    ] {
        let read = owner.send(reqwest::Method::GET, path, None).await;
        assert_eq!(read.status(), 200, "{path}");
        let tag = read.headers()["etag"].to_str().unwrap().to_string();
        assert!(tag.starts_with('"') && tag.len() > 10, "{path}: {tag}");
        // Someone else's version: refused, nothing changed.
        let stale = owner
            .client
            .patch(format!("{}{path}", app.address))
            .header("x-csrf-token", &owner.csrf)
            .header("if-match", "\"0000000000000000000\"")
            .json(&patch)
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 412, "{path}");
        let json: serde_json::Value = stale.json().await.unwrap();
        assert_eq!(json["error"]["code"], "precondition_failed");
        let again = owner.send(reqwest::Method::GET, path, None).await;
        assert_eq!(
            again.headers()["etag"].to_str().unwrap(),
            tag,
            "{path} unchanged"
        );
        // The version read: it goes, and the tag moves.
        let fresh = owner
            .client
            .patch(format!("{}{path}", app.address))
            .header("x-csrf-token", &owner.csrf)
            .header("if-match", &tag)
            .json(&patch)
            .send()
            .await
            .unwrap();
        assert_eq!(fresh.status(), 200, "{path}");
        assert_ne!(fresh.headers()["etag"].to_str().unwrap(), tag, "{path}");
    }
    // DELETE honours it too; without If-Match writes go ahead as before.
    let stale_delete = owner
        .client
        .delete(format!("{}{project}", app.address))
        .header("x-csrf-token", &owner.csrf)
        .header("if-match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale_delete.status(), 412);
    let (status, _) = owner.api(reqwest::Method::DELETE, &project, None).await;
    assert_eq!(status, 204);
}
