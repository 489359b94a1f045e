//! The sign-in handoff to an organization's own host (`tenant.links = "subdomain"`) carries what
//! the sign-in proved: its second factor (so a member reaches an organization requiring it) and
//! the time of its last confirmation, never a new one; and it is never made for a browser that
//! is only half signed in.

use entity::{user_session, user_token};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{
    assert_error, confirmed_long_ago, enrol, half_signed_in, password_body, reauthenticate,
    set_requirement, user_id,
};
use crate::helpers::{
    TestApp, Visitor, browser, csrf_from, get_on, location, path_of, port, subdomain_app,
    two_tenants, visitor,
};

/// Follows `visitor`'s `/go/acme/` on the plain host with a new browser (the organization's
/// host has cookies of its own): that browser, once it arrived.
async fn handed_to_acme(app: &TestApp, visitor: &Visitor) -> reqwest::Client {
    let go = visitor
        .get_on(&format!("localhost:{}", port(app)), "/go/acme/")
        .await;
    assert_eq!(go.status(), 303);
    let handoff = location(&go);
    assert!(handoff.contains("/handoff/"), "{handoff}");
    let tenant = browser();
    let arrived = get_on(app, &tenant, &acme_host(app), &path_of(&handoff)).await;
    assert_eq!(arrived.status(), 303, "{handoff}");
    tenant
}

fn acme_host(app: &TestApp) -> String {
    format!("acme.localhost:{}", port(app))
}

/// A JSON request on Acme's host from `client`, with the CSRF token of its session.
async fn on_acme(
    app: &TestApp,
    client: &reqwest::Client,
    method: Method,
    path: &str,
) -> (u16, serde_json::Value) {
    let page = get_on(app, client, &acme_host(app), "/people/").await;
    assert_eq!(page.status(), 200);
    let csrf = csrf_from(&page.text().await.unwrap());
    let response = client
        .request(method, format!("{}{path}", app.address))
        .header("host", acme_host(app))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// The sign-ins of Ada, oldest first.
async fn adas_sessions(app: &TestApp) -> Vec<user_session::Model> {
    let id = user_id(app, "ada@acme.test").await;
    user_session::Entity::find()
        .filter(user_session::Column::UserId.eq(id))
        .all(app.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_handoff_carries_the_second_factor_to_an_organization_that_requires_it() {
    let app = subdomain_app().await;
    two_tenants(&app).await;
    set_requirement(&app, "acme", true).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    // Without a second factor, Ada's sign-in is handed over but Acme sends her to set one up.
    let tenant = handed_to_acme(&app, &ada).await;
    let people = get_on(&app, &tenant, &acme_host(&app), "/people/").await;
    assert_eq!(people.status(), 303);
    assert_eq!(location(&people), "/account/security/?for=acme");

    let enrolled = enrol(&ada).await;
    let tenant = handed_to_acme(&app, &ada).await;
    let people = get_on(&app, &tenant, &acme_host(&app), "/people/").await;
    assert_eq!(people.status(), 200, "the code typed at enrolment counts");

    // A new sign-in with the code lands on Acme's host through /go/.
    let fresh = super::signed_in_with(&app, "ada@acme.test", &enrolled.app.code()).await;
    let tenant = handed_to_acme(&app, &fresh).await;
    let people = get_on(&app, &tenant, &acme_host(&app), "/people/").await;
    assert_eq!(people.status(), 200);
    let sessions = adas_sessions(&app).await;
    let handed = sessions.last().unwrap();
    let origin = sessions
        .iter()
        .find(|s| s.family == handed.family && s.id != handed.id)
        .expect("the sign-in it was handed from");
    assert_eq!(handed.second_factor_at, origin.second_factor_at);
    assert!(handed.second_factor_at.is_some());
}

#[tokio::test]
async fn a_handoff_is_never_a_confirmation() {
    let app = subdomain_app().await;
    two_tenants(&app).await;
    set_requirement(&app, "acme", true).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    enrol(&ada).await;
    confirmed_long_ago(&app, "ada@acme.test").await;

    let tenant = handed_to_acme(&app, &ada).await;
    let (status, body) = on_acme(
        &app,
        &tenant,
        Method::POST,
        "/api/v1/account/two-factor/recovery-codes/",
    )
    .await;
    assert_error(status, &body, 403, "reauthentication_required");
    let sessions = adas_sessions(&app).await;
    let handed = sessions.last().unwrap();
    let long_ago = entity::chrono_now() - chrono::Duration::minutes(10);
    assert!(
        handed.confirmed_at.is_some_and(|at| at < long_ago),
        "it carries the old confirmation: {:?}",
        handed.confirmed_at
    );

    // Confirmed on the plain host just now, the next handoff carries that.
    let (status, body) = reauthenticate(&ada, password_body()).await;
    assert_eq!(status, 200, "{body}");
    let tenant = handed_to_acme(&app, &ada).await;
    let (status, body) = on_acme(
        &app,
        &tenant,
        Method::POST,
        "/api/v1/account/two-factor/recovery-codes/",
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_half_signed_in_browser_is_handed_nothing() {
    let app = subdomain_app().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    enrol(&ada).await;
    let half = half_signed_in(&app, "ada@acme.test").await;
    let go = half
        .get_on(&format!("localhost:{}", port(&app)), "/go/acme/")
        .await;
    assert_eq!(go.status(), 302, "sent to sign in");
    assert!(location(&go).starts_with("/login/"), "{}", location(&go));
    let handoffs = user_token::Entity::find()
        .filter(user_token::Column::Purpose.eq("handoff"))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(handoffs, 0);
    let acme = get_on(&app, &half.client, &acme_host(&app), "/people/").await;
    assert_eq!(acme.status(), 302);
}

#[tokio::test]
async fn a_handoff_made_before_enrolment_carries_no_second_factor() {
    let app = subdomain_app().await;
    two_tenants(&app).await;
    set_requirement(&app, "acme", true).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let go = ada
        .get_on(&format!("localhost:{}", port(&app)), "/go/acme/")
        .await;
    let handoff = path_of(&location(&go));
    let enrolled = enrol(&ada).await;

    // The link made before she set up the app, followed after.
    let tenant = browser();
    let arrived = get_on(&app, &tenant, &acme_host(&app), &handoff).await;
    assert_eq!(arrived.status(), 303, "her own sign-in goes on");
    let people = get_on(&app, &tenant, &acme_host(&app), "/people/").await;
    assert_eq!(people.status(), 303, "not let in");
    assert_eq!(location(&people), "/account/security/?for=acme");
    let page = get_on(
        &app,
        &tenant,
        &acme_host(&app),
        "/account/security/?for=acme",
    )
    .await;
    let page = page.text().await.unwrap();
    assert!(page.contains("this sign-in did not use it"), "{page}");
    // Her code, on this host, completes this sign-in too.
    let csrf = csrf_from(&page);
    let confirmed = tenant
        .post(format!("{}/reauthenticate/", app.address))
        .header("host", acme_host(&app))
        .form(&[
            ("code", enrolled.app.code().as_str()),
            ("next", "/people/"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 303);
    assert_eq!(location(&confirmed), "/people/");
    let people = get_on(&app, &tenant, &acme_host(&app), "/people/").await;
    assert_eq!(people.status(), 200);
}

#[tokio::test]
async fn a_handoff_link_made_by_a_sign_in_that_enrolment_ended_signs_nobody_in() {
    let app = subdomain_app().await;
    two_tenants(&app).await;
    // Someone with Ada's password, signed in before she set up an app, keeps a handoff link.
    let attacker = visitor(&app, Some("ada@acme.test")).await;
    let go = attacker
        .get_on(&format!("localhost:{}", port(&app)), "/go/acme/")
        .await;
    let handoff = path_of(&location(&go));
    let ada = visitor(&app, Some("ada@acme.test")).await;
    enrol(&ada).await;
    let (status, _) = attacker.api(Method::GET, "/api/v1/account/", None).await;
    assert_eq!(status, 401, "enrolment ended the attacker's sign-in");

    let tenant = browser();
    let arrived = get_on(&app, &tenant, &acme_host(&app), &handoff).await;
    assert_eq!(arrived.status(), 410, "no new sign-in from an ended one");
    let people = get_on(&app, &tenant, &acme_host(&app), "/people/").await;
    assert_eq!(people.status(), 302, "still anonymous");
}
