//! Joining by email domain: a verified address at a domain set to `suggest` is offered "Join"
//! and joins with one click; one set to `automatic` joins at activation and at sign-in; an
//! address never verified counts for nothing; the seat limit holds; the audit log says why.

use reqwest::Method;
use sea_orm::ConnectionTrait as _;
use serde_json::json;

use super::{audit_actions, sso_app, verified_domain};
use crate::helpers::{TestApp, Visitor, link_in, path_of, two_tenants, visitor};

/// Acme with `acme.test` verified and joined by `join` with `role`: the app and Ada.
async fn acme_joined_by(join: &str, role: Option<&str>) -> (TestApp, Visitor) {
    let (app, dns) = sso_app().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let id = verified_domain(&ada, &dns, "acme.test").await;
    let (status, body) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/email-domains/{id}/"),
            Some(json!({ "join": join, "role": role })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (app, ada)
}

/// A person whose address is verified (`verified`) or typed and never proved.
async fn person(app: &TestApp, email: &str, verified: bool) {
    app.user(email, "Someone").await;
    if verified {
        app.conn()
            .execute_unprepared(&format!(
                "UPDATE users SET email_verified_at = created_at WHERE email = '{email}'"
            ))
            .await
            .unwrap();
    }
}

async fn members(ada: &Visitor) -> Vec<(String, serde_json::Value)> {
    let (_, list) = ada
        .api(Method::GET, "/o/acme/api/v1/people/?per_page=100", None)
        .await;
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            (
                p["email"].as_str().unwrap_or_default().to_string(),
                p["roles"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_verified_address_is_offered_its_domains_organization_and_joins_with_one_click() {
    let (app, ada) = acme_joined_by("suggest", None).await;
    person(&app, "sam@acme.test", true).await;
    let sam = visitor(&app, Some("sam@acme.test")).await;
    assert!(
        members(&ada)
            .await
            .iter()
            .all(|(e, _)| e != "sam@acme.test"),
        "not at sign-in"
    );
    let (status, page) = sam.get("/organizations/").await;
    assert_eq!(status, 200);
    assert!(page.contains("Join Acme"), "{page}");
    let acme: Vec<i64> = app
        .column("SELECT id FROM organizations WHERE slug = 'acme'")
        .await;
    let joined = sam
        .post_form(&format!("/organizations/join/{}/", acme[0]), &[])
        .await;
    assert_eq!(joined.status(), 303);
    assert!(
        members(&ada)
            .await
            .contains(&("sam@acme.test".into(), json!(["member"])))
    );
    let (_, joined_event) = audit_actions(&ada)
        .await
        .into_iter()
        .find(|(a, _)| a == "member.joined_by_domain")
        .expect("audited");
    assert!(
        joined_event.to_string().contains("acme.test"),
        "{joined_event}"
    );
    let (_, page) = sam.get("/organizations/").await;
    assert!(!page.contains("Join Acme"), "offered no more");
}

#[tokio::test]
async fn an_address_never_verified_is_neither_offered_nor_let_in() {
    let (app, ada) = acme_joined_by("suggest", None).await;
    person(&app, "uma@acme.test", false).await;
    let uma = visitor(&app, Some("uma@acme.test")).await;
    let (_, page) = uma.get("/organizations/").await;
    assert!(!page.contains("Join Acme"), "{page}");
    let acme: Vec<i64> = app
        .column("SELECT id FROM organizations WHERE slug = 'acme'")
        .await;
    let refused = uma
        .post_form(&format!("/organizations/join/{}/", acme[0]), &[])
        .await;
    assert_eq!(refused.status(), 404);
    assert!(
        members(&ada)
            .await
            .iter()
            .all(|(e, _)| e != "uma@acme.test")
    );
    // Another organization's domain offers nothing either.
    person(&app, "gil@globex.test", true).await;
    let gil = visitor(&app, Some("gil@globex.test")).await;
    let refused = gil
        .post_form(&format!("/organizations/join/{}/", acme[0]), &[])
        .await;
    assert_eq!(refused.status(), 404);
}

#[tokio::test]
async fn an_automatic_domain_takes_its_people_in_at_sign_in_with_its_role_while_seats_last() {
    let (app, ada) = acme_joined_by("automatic", Some("admin")).await;
    app.conn()
        .execute_unprepared("UPDATE organizations SET seat_limit = 3 WHERE slug = 'acme'")
        .await
        .unwrap();
    app.state.caches.invalidate();
    person(&app, "ava@acme.test", true).await;
    person(&app, "bea@acme.test", true).await;
    visitor(&app, Some("ava@acme.test")).await;
    let bea = visitor(&app, Some("bea@acme.test")).await;
    let people = members(&ada).await;
    assert!(
        people.contains(&("ava@acme.test".into(), json!(["admin"]))),
        "{people:?}"
    );
    assert!(
        people.iter().all(|(e, _)| e != "bea@acme.test"),
        "no seat left: {people:?}"
    );
    assert_eq!(
        bea.get("/api/v1/account/").await.0,
        200,
        "her sign-in goes on"
    );
}

#[tokio::test]
async fn an_automatic_domain_takes_a_new_account_in_when_its_address_is_confirmed() {
    let (app, ada) = acme_joined_by("automatic", None).await;
    let signed_up = app
        .post_form(
            "/signup/",
            &[
                ("name", "Cy"),
                ("email", "cy@acme.test"),
                ("password", "a long enough password 1"),
            ],
        )
        .await;
    assert_eq!(signed_up.status(), 200);
    assert!(
        members(&ada).await.iter().all(|(e, _)| e != "cy@acme.test"),
        "not before it is confirmed"
    );
    let mail = app.wait_for_mail("cy@acme.test", 1).await;
    let activated = app
        .get(&path_of(&link_in(&mail[0].text, "/activate/")))
        .await;
    assert_eq!(activated.status(), 303);
    assert!(
        members(&ada)
            .await
            .contains(&("cy@acme.test".into(), json!(["member"])))
    );
}
