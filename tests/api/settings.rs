//! The settings area over real HTTP: a page per section, listed by what the requester may open;
//! the General section (name, address, colour); the danger zone; a role that someone holds
//! refused on its own confirmation page; errors inside an organization keeping its navigation.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, two_tenants, visitor};

/// The settings sections a page's navigation lists, by their labels.
fn sections(page: &str) -> Vec<String> {
    let Some(start) = page.find("aria-label=\"Settings\"") else {
        return Vec::new();
    };
    let nav = &page[start
        ..page[start..]
            .find("</nav>")
            .map_or(page.len(), |e| start + e)];
    nav.split("</a>")
        .filter_map(|part| part.rsplit('>').next())
        .filter(|label| !label.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_settings_area_lists_each_section_the_requester_may_open_as_its_own_page() {
    let app = TestApp::spawn().await;
    let (acme, _) = two_tenants(&app).await;
    let alan = app.user("alan@acme.test", "Alan").await;
    crate::rules::add_user(app.conn(), app.events(), acme, alan.id, true)
        .await
        .unwrap();
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (status, general) = ada.get("/o/acme/settings/").await;
    assert_eq!(status, 200);
    assert_eq!(
        sections(&general),
        [
            "General",
            "Members and invitations",
            "Roles",
            "API keys",
            "Domains",
            "Security",
            "Email domains and SSO",
            "SCIM provisioning",
            "Webhooks",
            "Danger zone"
        ]
    );
    for path in [
        "/o/acme/settings/api-keys/",
        "/o/acme/settings/domains/",
        "/o/acme/settings/security/",
        "/o/acme/settings/sso/",
        "/o/acme/settings/scim/",
        "/o/acme/settings/webhooks/",
        "/o/acme/settings/danger/",
        "/o/acme/roles/",
        "/o/acme/roles/new/",
        "/o/acme/transfer/",
        "/o/acme/delete/",
        "/o/acme/edit/",
    ] {
        let (status, page) = ada.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(sections(&page).len(), 10, "{path} is a page of the area");
        assert!(page.contains("aria-current=\"page\">"), "{path}");
    }
    let (_, danger) = ada.get("/o/acme/settings/danger/").await;
    assert!(
        danger.contains("href=\"/o/acme/transfer/\"")
            && danger.contains("href=\"/o/acme/delete/\"")
    );

    // An admin holds neither transfer nor delete: no danger zone.
    let alan = visitor(&app, Some("alan@acme.test")).await;
    let (_, general) = alan.get("/o/acme/settings/").await;
    assert!(!sections(&general).contains(&"Danger zone".to_string()));
    assert_eq!(alan.get("/o/acme/settings/danger/").await.0, 403);

    // A member has no settings at all, and no link to them.
    let max = visitor(&app, Some("max@acme.test")).await;
    let (_, dashboard) = max.get("/o/acme/").await;
    assert!(!dashboard.contains("href=\"/o/acme/settings/\""));
    let (status, refused) = max.get("/o/acme/settings/").await;
    assert_eq!(status, 403);
    assert!(
        refused
            .contains("You need one of the permissions “Edit the organization”, “Manage roles”,"),
        "a route that takes any of several names them all: {refused}"
    );
}

#[tokio::test]
async fn the_general_section_saves_the_name_address_and_colour_and_shows_errors_on_their_fields() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, general) = ada.get("/o/acme/settings/").await;
    assert!(
        general.contains("<option value=\"teal\">Teal</option>"),
        "{general}"
    );
    assert!(
        general.contains("the organization is at http"),
        "the address is said as the path form writes it: {general}"
    );

    let refused = ada
        .post_form(
            "/o/acme/edit/",
            &[("name", "Acme"), ("slug", "acme"), ("color", "chartreuse")],
        )
        .await;
    assert_eq!(refused.status(), 200);
    let page = refused.text().await.unwrap();
    assert!(page.contains("choose one of the colours offered"), "{page}");
    assert!(
        page.contains("aria-describedby=\"color-hint color-errors\"")
            && page.contains("aria-invalid=\"true\""),
        "{page}"
    );

    let saved = ada
        .post_form(
            "/o/acme/edit/",
            &[("name", "Acme Inc"), ("slug", "acme"), ("color", "teal")],
        )
        .await;
    crate::helpers::assert_redirect_to(&saved, 303, "/o/acme/settings/");
    let (status, organization) = ada
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(organization["color"], "teal");
    assert_eq!(organization["name"], "Acme Inc");
    let (status, body) = ada
        .api(
            Method::PATCH,
            "/o/acme/api/v1/organization/",
            Some(json!({"color": "mauve"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["fields"]["color"][0],
        "choose one of the colours offered"
    );
    let (status, body) = ada
        .api(
            Method::PATCH,
            "/o/acme/api/v1/organization/",
            Some(json!({"color": ""})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["color"].is_null(),
        "empty goes back to the picked colour"
    );
}

#[tokio::test]
async fn the_dashboard_says_the_address_as_links_go_and_leaves_deleting_to_the_danger_zone() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, dashboard) = ada.get("/o/acme/").await;
    assert!(dashboard.contains("/o/acme/</p>"), "{dashboard}");
    assert!(!dashboard.contains("acme.localhost"), "{dashboard}");
    assert!(!dashboard.contains("/o/acme/delete/"), "{dashboard}");
    assert!(dashboard.contains(">Audit log</a>"), "{dashboard}");
}

#[tokio::test]
async fn a_404_inside_ones_own_organization_keeps_its_navigation_and_another_organizations_does_not()
 {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (status, page) = ada.get("/o/acme/projects/999999/").await;
    assert_eq!(status, 404);
    assert!(page.contains(">Back to Acme</a>"), "{page}");
    let (status, page) = ada.get("/o/globex/projects/").await;
    assert_eq!(status, 404);
    assert!(!page.contains("Globex"), "{page}");
}

#[tokio::test]
async fn a_new_address_saved_on_the_organizations_subdomain_leads_to_the_new_subdomain_signed_in() {
    // Whichever form links take: the request came to the subdomain, which answers 404 now.
    for links in [
        orgs::config::TenantLinks::Subdomain,
        orgs::config::TenantLinks::Path,
    ] {
        let app = TestApp::spawn_with(|s| {
            s.tenant.links = links;
            s.tenant.base_domain = "localhost".into();
        })
        .await;
        two_tenants(&app).await;
        let ada = visitor(&app, Some("ada@acme.test")).await;
        let port = crate::helpers::port(&app).to_string();
        let saved = ada
            .post_form_on(
                &format!("acme.localhost:{port}"),
                "/edit/",
                &[("name", "Acme"), ("slug", "acme-inc"), ("color", "")],
            )
            .await;
        assert_eq!(saved.status(), 303);
        let location = crate::helpers::location(&saved);
        assert!(
            location.starts_with(&format!("http://acme-inc.localhost:{port}/handoff/"))
                && location.ends_with("?next=%2Fsettings%2F"),
            "{location}"
        );
        assert_eq!(ada.get_on("acme.localhost", "/").await.status(), 404);
    }
}

#[tokio::test]
async fn a_general_form_without_the_colour_leaves_the_colour_as_it_is() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    for fields in [
        &[("name", "Acme"), ("slug", "acme"), ("color", "violet")][..],
        &[("name", "Acme Corp"), ("slug", "acme")][..],
    ] {
        let saved = ada.post_form("/o/acme/edit/", fields).await;
        assert_eq!(saved.status(), 303);
    }
    let (_, organization) = ada
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(organization["color"], "violet");
    assert_eq!(organization["name"], "Acme Corp");
    // The colour is where the organization is shown: its overview, the switcher, the list.
    let (_, overview) = ada.get("/o/acme/").await;
    assert!(
        overview.contains("class=\"avatar c-violet large\""),
        "{overview}"
    );
    assert!(
        overview.contains("class=\"avatar c-violet small\""),
        "{overview}"
    );
    let (_, mine) = ada.get("/organizations/").await;
    assert!(mine.contains("class=\"avatar c-violet\""), "{mine}");
}
