//! Every kind of host the server is reached at, against every other: the service's own host
//! (`server.public_url`), an organization's subdomain, a verified custom domain, a custom domain
//! not yet verified, a host nobody configured, and an address. A tenant's own host is that
//! tenant and nothing else; the pages that sign people in answer only on the service's hosts;
//! a handoff link works only on the host it was made for.

use entity::OrganizationId;
use entity::organization_domain;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::helpers::{
    TestApp, Visitor, browser, get_on, location, path_of, port, two_tenants, visitor,
};

const PUBLIC: &str = "www.orgs.test";
const ACME_SUBDOMAIN: &str = "acme.orgs.test";
const GLOBEX_SUBDOMAIN: &str = "globex.orgs.test";
/// Acme's, verified.
const ACME_DOMAIN: &str = "projects.acme-corp.example";
/// Claimed by Acme, never verified.
const PENDING_DOMAIN: &str = "pending.acme-corp.example";
const UNKNOWN: &str = "evil.example";

/// An app on `{slug}.orgs.test` with `http://www.orgs.test` as its public URL, Acme and Globex
/// (see `two_tenants`), Acme's verified and pending domains, and the IDs of Acme and Globex.
async fn hosts_app() -> (TestApp, i64, i64) {
    let app = TestApp::spawn_with(|s| {
        s.tenant.links = orgs::config::TenantLinks::Subdomain;
        s.tenant.base_domain = "orgs.test".into();
        s.server.public_url = format!("http://{PUBLIC}");
    })
    .await;
    let (acme, globex) = two_tenants(&app).await;
    let tx = orgs::tenancy::door::tenant(app.conn(), app.events(), OrganizationId(acme))
        .await
        .unwrap();
    for (domain, verified) in [(ACME_DOMAIN, true), (PENDING_DOMAIN, false)] {
        let mut row: organization_domain::ActiveModel = tx.new_active_model();
        row.domain = Set(domain.into());
        row.verification_token = Set(format!("token-of-{domain}"));
        row.verified_at = Set(verified.then(entity::chrono_now));
        row.insert(tx.conn()).await.unwrap();
    }
    tx.commit().await.unwrap();
    (app, acme, globex)
}

/// The address the app listens on, as a `Host`.
fn address_host(app: &TestApp) -> String {
    format!("127.0.0.1:{}", port(app))
}

async fn new_key(who: &Visitor, slug: &str) -> String {
    let (status, json) = who
        .api(
            reqwest::Method::POST,
            &format!("/o/{slug}/api/v1/api-keys/"),
            Some(serde_json::json!({"name": "ci"})),
        )
        .await;
    assert_eq!(status, 201, "{json}");
    json["secret"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_custom_domain_serves_its_own_tenant_only() {
    let (app, _, _) = hosts_app().await;
    let gus = visitor(&app, Some("gus@globex.test")).await;
    let address = address_host(&app);
    // Gus is Globex's owner; his browser carries his session to every host here.
    for (host, served) in [
        (PUBLIC, true),
        (address.as_str(), true),
        (ACME_SUBDOMAIN, false),
        (ACME_DOMAIN, false),
        (PENDING_DOMAIN, true),
        (UNKNOWN, true),
    ] {
        for path in ["/o/globex/projects/", "/o/globex/api/v1/projects/"] {
            let response = gus.get_on(host, path).await;
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            if served {
                assert_eq!(status, 200, "{host}{path}");
                assert!(body.contains("Globex laser"), "{host}{path}");
            } else {
                assert_eq!(status, 404, "{host}{path} names another tenant");
                assert!(!body.contains("Globex laser"), "{host}{path}");
            }
        }
    }
    // On Acme's hosts Acme answers, and only Acme.
    let ada = visitor(&app, Some("ada@acme.test")).await;
    for host in [ACME_SUBDOMAIN, ACME_DOMAIN] {
        let page = ada.get_on(host, "/projects/").await;
        assert_eq!(page.status(), 200, "{host}");
        let body = page.text().await.unwrap();
        assert!(body.contains("Acme anvil") && !body.contains("Globex laser"));
        let elsewhere = ada.get_on(host, "/o/globex/projects/").await;
        assert_eq!(elsewhere.status(), 404, "{host}");
    }
}

#[tokio::test]
async fn an_organizations_api_key_is_404_on_another_tenants_hosts() {
    let (app, _, _) = hosts_app().await;
    let gus = visitor(&app, Some("gus@globex.test")).await;
    let key = new_key(&gus, "globex").await;
    let address = address_host(&app);
    let api = reqwest::Client::new();
    for (host, served) in [
        (PUBLIC, true),
        (address.as_str(), true),
        (GLOBEX_SUBDOMAIN, true),
        (ACME_SUBDOMAIN, false),
        (ACME_DOMAIN, false),
        (PENDING_DOMAIN, true),
        (UNKNOWN, true),
    ] {
        let mut paths = vec!["/api/v1/projects/"];
        if host != GLOBEX_SUBDOMAIN {
            paths.push("/o/globex/api/v1/projects/");
        }
        for path in paths {
            let response = api
                .get(format!("{}{path}", app.address))
                .header("host", host)
                .bearer_auth(&key)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            let want = if served { 200 } else { 404 };
            assert_eq!(status, want, "Globex's key at {host}{path}: {body}");
            assert_eq!(body.contains("Globex laser"), served, "{host}{path}");
        }
    }
}

/// Global pages that take or hand out credentials.
const SIGN_IN_PAGES: &[&str] = &[
    "/login/?next=%2Fprojects%2F",
    "/signup/",
    "/account/",
    "/password-reset/",
    "/password-reset/0123abcd/",
    "/invitations/0123abcd/",
    "/activate/0123abcd/",
    "/organizations/",
    "/organizations/add/",
    "/go/acme/",
];

#[tokio::test]
async fn the_sign_in_pages_answer_only_on_the_services_own_hosts() {
    let (app, _, _) = hosts_app().await;
    let address = address_host(&app);
    for host in [ACME_DOMAIN, PENDING_DOMAIN, UNKNOWN] {
        for path in SIGN_IN_PAGES {
            let response = get_on(&app, &browser(), host, path).await;
            assert_eq!(response.status(), 303, "{host}{path}");
            assert_eq!(
                location(&response),
                format!("http://{PUBLIC}{path}"),
                "{host}{path}"
            );
        }
    }
    for host in [PUBLIC, ACME_SUBDOMAIN, address.as_str()] {
        for path in SIGN_IN_PAGES {
            let response = get_on(&app, &browser(), host, path).await;
            assert!(
                !location(&response).starts_with(&format!("http://{PUBLIC}")),
                "{host}{path}: {}",
                response.status()
            );
        }
        let login = get_on(&app, &browser(), host, "/login/").await;
        assert_eq!(login.status(), 200, "{host}");
    }
}

#[tokio::test]
async fn signing_in_on_a_custom_domain_starts_no_session_there() {
    let (app, _, _) = hosts_app().await;
    for host in [ACME_DOMAIN, PENDING_DOMAIN, UNKNOWN] {
        // One cookie jar for every host (the test's client keys cookies by address), so the
        // form's token is valid wherever it is posted.
        let anonymous = visitor(&app, None).await;
        let posted = anonymous
            .client
            .post(format!("{}/login/", app.address))
            .header("host", host)
            .form(&[
                ("email", "ada@acme.test"),
                ("password", crate::helpers::PASSWORD),
                ("csrf_token", anonymous.csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 303, "{host}");
        assert_eq!(
            location(&posted),
            format!("http://{PUBLIC}/login/"),
            "{host}"
        );
        let (status, _) = anonymous.get("/account/").await;
        assert_eq!(status, 302, "nobody is signed in after a post to {host}");
    }
}

#[tokio::test]
async fn a_handoff_link_works_only_on_the_host_it_was_made_for() {
    let (app, _, _) = hosts_app().await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let go = ada.get_on(PUBLIC, "/go/acme/").await;
    assert_eq!(go.status(), 303);
    let handoff = location(&go);
    assert!(
        handoff.starts_with(&format!("http://{ACME_SUBDOMAIN}/handoff/")),
        "{handoff}"
    );
    let handoff = path_of(&handoff);
    let address = address_host(&app);
    for host in [
        PUBLIC,
        address.as_str(),
        GLOBEX_SUBDOMAIN,
        ACME_DOMAIN,
        PENDING_DOMAIN,
        UNKNOWN,
    ] {
        let elsewhere = browser();
        let refused = get_on(&app, &elsewhere, host, &handoff).await;
        assert_eq!(refused.status(), 404, "Acme's handoff link at {host}");
        let account = get_on(&app, &elsewhere, &address, "/account/").await;
        assert_eq!(account.status(), 302, "nobody signed in at {host}");
    }
    // Refused elsewhere, the link still works (once) where it was made for.
    let acme = browser();
    let arrived = get_on(&app, &acme, ACME_SUBDOMAIN, &handoff).await;
    assert_eq!(arrived.status(), 303);
    let people = get_on(&app, &acme, ACME_SUBDOMAIN, "/people/").await;
    assert_eq!(people.status(), 200);
    let again = get_on(&app, &browser(), ACME_SUBDOMAIN, &handoff).await;
    assert_eq!(again.status(), 410);
}
