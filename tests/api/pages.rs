//! The pages as a person meets them (issue 18): security headers on every answer, where signing
//! in lands, times in words, confirmations that ask for the slug, invitations beside members.

use crate::helpers::{TestApp, browser, csrf_from, two_tenants, visitor};

#[tokio::test]
async fn every_answer_carries_the_security_headers_without_unsafe_inline() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let anonymous = browser();
    let mut answers = Vec::new();
    for path in [
        "/",
        "/login/",
        "/static/app.css",
        "/no-such-page/",
        "/api/v1/openapi.json",
    ] {
        answers.push(
            anonymous
                .get(format!("{}{path}", app.address))
                .send()
                .await
                .unwrap(),
        );
    }
    for path in [
        "/o/acme/",
        "/o/acme/people/",
        "/o/globex/people/",
        "/o/acme/api/v1/people/",
    ] {
        answers.push(
            ada.client
                .get(format!("{}{path}", app.address))
                .send()
                .await
                .unwrap(),
        );
    }
    for answer in answers {
        let url = answer.url().to_string();
        let headers = answer.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{url}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{url}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{url}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        assert!(headers.contains_key("referrer-policy"), "{url}");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "{url}: no HSTS over plain HTTP"
        );
    }
}

#[tokio::test]
async fn hsts_is_sent_when_cookies_are_secure() {
    let app = TestApp::spawn_with(|s| s.session.cookie_secure = true).await;
    let answer = app.get("/login/").await;
    assert_eq!(
        answer.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}

#[tokio::test]
async fn no_template_has_inline_styles_or_scripts_the_policy_would_block() {
    for (name, source) in orgs::templates::TEMPLATES {
        if name.starts_with("email/") {
            continue;
        }
        for refused in [
            "style=\"",
            "<style",
            "<script>",
            "onclick=",
            "onsubmit=",
            "javascript:",
        ] {
            assert!(!source.contains(refused), "{name} holds {refused}");
        }
    }
}

async fn sign_in(app: &TestApp, email: &str, next: &str) -> String {
    let client = browser();
    let page = client
        .get(format!("{}/login/", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_from(&page);
    let response = client
        .post(format!("{}/login/", app.address))
        .form(&[
            ("email", email),
            ("password", crate::helpers::PASSWORD),
            ("next", next),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{email}");
    crate::helpers::location(&response)
}

#[tokio::test]
async fn signing_in_lands_on_next_then_on_the_persons_organization_or_the_list_or_making_one() {
    let app = TestApp::spawn().await;
    let (acme, _) = two_tenants(&app).await;
    // Ada is in Acme only, Nora in none, Multi in Acme and an organization of her own.
    app.user("nora@nowhere.test", "Nora").await;
    assert_eq!(sign_in(&app, "ada@acme.test", "").await, "/go/acme/");
    assert_eq!(
        sign_in(&app, "ada@acme.test", "/o/acme/projects/").await,
        "/o/acme/projects/",
        "a safe next= comes first"
    );
    assert_eq!(
        sign_in(&app, "ada@acme.test", "//evil.example/").await,
        "/go/acme/",
        "an unsafe one is ignored"
    );
    assert_eq!(
        sign_in(&app, "nora@nowhere.test", "").await,
        "/organizations/add/"
    );
    let multi = app.user("multi@globex.test", "Multi").await;
    crate::rules::add_user(app.conn(), app.events(), acme, multi.id, false)
        .await
        .unwrap();
    let quiet = orgs::events::Events::new();
    orgs::organizations::create_organization(app.conn(), &quiet, multi.id, "Multi Co")
        .await
        .unwrap();
    assert_eq!(
        sign_in(&app, "multi@globex.test", "").await,
        "/organizations/"
    );
}

#[tokio::test]
async fn times_are_shown_in_words_inside_a_time_element() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, people) = ada.get("/o/acme/api/v1/people/").await;
    let people: serde_json::Value = serde_json::from_str(&people).unwrap();
    let ada_row = &people["items"][0];
    let (status, page) = ada
        .get(&format!("/o/acme/people/{}/", ada_row["user_id"]))
        .await;
    assert_eq!(status, 200);
    let joined = ada_row["joined_at"].as_str().unwrap();
    assert!(
        page.contains(&format!("<time datetime=\"{joined}\"")),
        "the machine-readable time stays: {page}"
    );
    assert!(page.contains(">just now</time>"), "{page}");
    assert!(
        !page.contains(&format!(">{joined}<")),
        "no raw timestamp shown"
    );
}

#[tokio::test]
async fn people_shows_pending_invitations_with_resend_and_revoke_to_those_who_manage_them() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, page) = ada.get("/o/acme/people/").await;
    assert!(
        page.contains("No one is waiting to join."),
        "an empty state that says what to do"
    );
    let (status, invitation) = ada
        .api(
            reqwest::Method::POST,
            "/o/acme/api/v1/people/",
            Some(serde_json::json!({"email": "newcomer@acme.test"})),
        )
        .await;
    assert_eq!(status, 201);
    let id = invitation["id"].as_i64().unwrap();
    let (_, page) = ada.get("/o/acme/people/").await;
    assert!(page.contains("newcomer@acme.test"), "{page}");
    assert!(page.contains(&format!("/o/acme/invitations/{id}/resend/")));
    assert!(page.contains(&format!("/o/acme/invitations/{id}/revoke/")));
    // Pressed on People, the button comes back to People.
    let revoked = ada
        .post_form(
            &format!("/o/acme/invitations/{id}/revoke/"),
            &[("back", "people")],
        )
        .await;
    crate::helpers::assert_redirect_to(&revoked, 303, "/o/acme/people/");
    let (_, page) = ada.get("/o/acme/people/").await;
    assert!(
        page.contains("Invitation to newcomer@acme.test revoked."),
        "{page}"
    );
    assert!(!page.contains(&format!("/o/acme/invitations/{id}/resend/")));
    // A member without invitations.manage sees the members only.
    let max = visitor(&app, Some("max@acme.test")).await;
    let (status, page) = max.get("/o/acme/people/").await;
    assert_eq!(status, 200);
    assert!(!page.contains("Pending invitations"));
}

#[tokio::test]
async fn the_stylesheet_answers_on_an_unknown_organizations_host_whose_pages_are_404() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let client = browser();
    let page = crate::helpers::get_on(&app, &client, "nosuch.localhost", "/people/").await;
    assert_eq!(page.status(), 404);
    let css = crate::helpers::get_on(&app, &client, "nosuch.localhost", "/static/app.css").await;
    assert_eq!(css.status(), 200, "the 404 page is styled");
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn an_error_page_keeps_the_persons_own_navigation_and_never_names_the_organization_asked_for()
{
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    // Globex exists but Ada is not in it: 404, as for one that does not exist.
    for path in ["/o/globex/people/", "/o/no-such-org/people/"] {
        let (status, page) = ada.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            page.contains("Log out"),
            "{path}: signed in, so no 'Log in': {page}"
        );
        assert!(!page.contains(">Log in<"), "{path}");
        assert!(page.contains("href=\"/organizations/\""), "{path}");
        assert!(
            !page.contains("Globex"),
            "{path}: the page must not confirm it exists"
        );
    }
    let (status, page) = ada.get("/no-such-page/").await;
    assert_eq!(status, 404);
    assert!(page.contains("Ada"), "the account menu names her");
    let anonymous = browser();
    let page = anonymous
        .get(format!("{}/no-such-page/", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(">Log in<"), "a visitor is offered to log in");
    assert!(!page.contains("Log out"));
}

#[tokio::test]
async fn the_dashboard_shows_the_organization_at_a_glance() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (status, _) = ada
        .api(
            reqwest::Method::POST,
            "/o/acme/api/v1/people/",
            Some(serde_json::json!({"email": "newcomer@acme.test"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, page) = ada.get("/o/acme/").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<strong>2</strong> members"), "{page}");
    assert!(
        page.contains("<strong>1</strong> pending invitation<"),
        "{page}"
    );
    assert!(page.contains("<strong>1</strong> project<"), "{page}");
    assert!(
        page.contains("Recent activity")
            && page.contains("<strong>Ada</strong> invited newcomer@acme.test</p>"),
        "the activity is in sentences: {page}"
    );
    // A member sees the counts they may read, and no activity.
    let max = visitor(&app, Some("max@acme.test")).await;
    let (status, page) = max.get("/o/acme/").await;
    assert_eq!(status, 200);
    assert!(page.contains("<strong>2</strong> members"));
    assert!(!page.contains("pending invitation"));
    assert!(!page.contains("Recent activity"));
}

#[tokio::test]
async fn revoking_a_key_from_the_settings_page_asks_first() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (status, key) = ada
        .api(
            reqwest::Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(serde_json::json!({"name": "Deploys"})),
        )
        .await;
    assert_eq!(status, 201);
    let id = key["id"].as_i64().unwrap();
    let (_, settings) = ada.get("/o/acme/settings/api-keys/").await;
    let ask = format!("href=\"/o/acme/settings/api-keys/{id}/revoke/\"");
    assert!(
        settings.contains(&ask),
        "the list links to a confirmation: {settings}"
    );
    let (status, page) = ada
        .get(&format!("/o/acme/settings/api-keys/{id}/revoke/"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("Revoke the API key “Deploys”?"), "{page}");
    let (_, list) = ada
        .api(reqwest::Method::GET, "/o/acme/api/v1/api-keys/", None)
        .await;
    assert!(
        list["items"][0]["revoked_at"].is_null(),
        "asking changed nothing"
    );
    let done = ada
        .post_form(&format!("/o/acme/settings/api-keys/{id}/revoke/"), &[])
        .await;
    crate::helpers::assert_redirect_to(&done, 303, "/o/acme/settings/api-keys/");
    let (_, list) = ada
        .api(reqwest::Method::GET, "/o/acme/api/v1/api-keys/", None)
        .await;
    let still_active = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["id"] == id && k["revoked_at"].is_null());
    assert!(!still_active, "revoked once confirmed: {list}");
}

#[tokio::test]
async fn a_template_folder_replaces_built_in_templates_and_the_product_name_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("people")).unwrap();
    std::fs::write(
        dir.path().join("people/list.html"),
        "{% extends \"base.html\" %}{% block content %}<p>Our own people page: {{ total }}</p>{% endblock content %}",
    )
    .unwrap();
    let folder = dir.path().display().to_string();
    let app = TestApp::spawn_with(move |s| {
        s.ui.template_dir = folder;
        s.ui.product_name = "Acme Cloud".into();
    })
    .await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (status, page) = ada.get("/o/acme/people/").await;
    assert_eq!(status, 200);
    assert!(page.contains("<p>Our own people page: 2</p>"), "{page}");
    assert!(
        page.contains("class=\"brand\" href=\"/\">Acme Cloud</a>"),
        "{page}"
    );
    let (_, projects) = ada.get("/o/acme/projects/").await;
    assert!(
        projects.contains("Acme anvil"),
        "the other templates are orgs' own"
    );
}

#[tokio::test]
async fn an_embedder_adds_navigation_items_and_templates() {
    let app = TestApp::spawn_with_state(|state| {
        *state = state
            .clone()
            .with_nav_item("Notes", "/notes/", None)
            .with_nav_item(
                "Billing",
                "/billing/",
                Some(orgs::permissions::Permission::ROLES_MANAGE),
            )
            .with_templates(&[(
                "notes/list.html",
                "{% extends \"base.html\" %}{% block content %}notes{% endblock content %}",
            )])
            .unwrap();
    })
    .await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, page) = ada.get("/o/acme/people/").await;
    assert!(
        page.contains("<a href=\"/o/acme/notes/\">Notes</a>"),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"/o/acme/billing/\">Billing</a>"),
        "the owner holds it"
    );
    let max = visitor(&app, Some("max@acme.test")).await;
    let (_, page) = max.get("/o/acme/people/").await;
    assert!(page.contains(">Notes</a>"));
    assert!(
        !page.contains(">Billing</a>"),
        "shown only to those who hold its permission"
    );
}

#[tokio::test]
async fn an_unknown_organizations_host_answers_404_everywhere_but_its_stylesheet() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let client = browser();
    for path in [
        "/",
        "/login/",
        "/signup/",
        "/people/",
        "/api/v1/people/",
        "/api/v1/organization/",
    ] {
        let page = crate::helpers::get_on(&app, &client, "renamed.localhost", path).await;
        assert_eq!(page.status(), 404, "{path}: no organization there");
    }
    let page = crate::helpers::get_on(&app, &client, "renamed.localhost", "/").await;
    let html = page.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
    assert!(
        html.contains(&format!(
            "href=\"{}/login/\"",
            app.state.settings.server.public_url
        )),
        "its links lead to the site itself: {html}"
    );
    let css = crate::helpers::get_on(&app, &client, "renamed.localhost", "/static/app.css").await;
    assert_eq!(css.status(), 200);
}
