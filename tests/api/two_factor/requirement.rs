//! An organization that requires two-factor: a member whose sign-in did not use a second factor
//! is sent to set one up on its pages and refused with 403 `two_factor_required` on its API
//! (a personal token counts as the sign-in it was made from); their other organizations are
//! untouched, a non-member still gets 404, superusers are not exempt, and an organization's API
//! key, not being a person, is unaffected.

use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use super::{
    assert_error, enrol, half_signed_in, set_requirement, signed_in_with, text_after, type_code,
    user_id, with_token,
};
use crate::helpers::{
    TestApp, Visitor, assert_redirect_to, create_user, location, two_tenants, visitor,
};

/// Acme (Ada owner, Max member) and Globex (Gus owner, Max member too); Acme requires
/// two-factor.
async fn acme_requires_two_factor(app: &TestApp) {
    let (_, globex) = two_tenants(app).await;
    let max = user_id(app, "max@acme.test").await;
    crate::rules::add_user(app.conn(), app.events(), globex, max, false)
        .await
        .unwrap();
    set_requirement(app, "acme", true).await;
}

/// A personal token made on the account page by `visitor`, as its owner copies it.
async fn token_from_the_account_page(visitor: &Visitor) -> String {
    let created = visitor
        .post_form("/account/tokens/", &[("name", "laptop")])
        .await;
    assert_redirect_to(&created, 303, "/account/");
    let (_, page) = visitor.get("/account/").await;
    text_after(&page, "id=\"new-token\">")
}

/// `GET path` with `visitor`: 403 `two_factor_required`.
async fn assert_refused(visitor: &Visitor, path: &str) {
    let (status, body) = visitor.api(Method::GET, path, None).await;
    assert_error(status, &body, 403, "two_factor_required");
}

#[tokio::test]
async fn a_member_without_a_second_factor_is_sent_to_set_one_up_and_their_other_organization_is_untouched()
 {
    let app = TestApp::spawn().await;
    acme_requires_two_factor(&app).await;
    let max = visitor(&app, Some("max@acme.test")).await;

    for path in [
        "/o/acme/api/v1/organization/",
        "/o/acme/api/v1/projects/",
        "/o/acme/api/v1/people/",
    ] {
        assert_refused(&max, path).await;
    }
    let (status, body) = max
        .api(
            Method::POST,
            "/o/acme/api/v1/projects/",
            Some(json!({"name": "Sneaked in"})),
        )
        .await;
    assert_error(status, &body, 403, "two_factor_required");
    for path in ["/o/acme/", "/o/acme/people/", "/o/acme/projects/"] {
        let sent = max.send(Method::GET, path, None).await;
        assert_redirect_to(&sent, 303, "/account/security/?for=acme");
    }
    let (status, page) = max.get("/account/security/?for=acme").await;
    assert_eq!(status, 200);
    assert!(page.contains("Acme requires two-factor sign-in"), "{page}");
    assert!(page.contains("set up a second factor"), "{page}");
    assert!(page.contains("Your other organizations are not affected"));

    // Max's other organization does not ask.
    let (status, body) = max
        .api(Method::GET, "/o/globex/api/v1/organization/", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["two_factor_required"], false);
    let (status, _) = max.get("/o/globex/").await;
    assert_eq!(status, 200);
    let (_, page) = max.get("/account/security/?for=globex").await;
    assert!(!page.contains("requires two-factor"), "{page}");

    // A non-member learns nothing more than before.
    let gus = visitor(&app, Some("gus@globex.test")).await;
    let (status, body) = gus
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_error(status, &body, 404, "not_found");
    let (status, page) = gus.get("/account/security/?for=acme").await;
    assert_eq!(status, 200);
    assert!(!page.contains("Acme"), "{page}");

    // Setting up an app from the page it was sent to opens Acme to this sign-in.
    enrol(&max).await;
    let (status, body) = max
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["two_factor_required"], true);
    let (_, page) = max.get("/account/security/?for=acme").await;
    assert!(
        page.contains("This sign-in used your second factor"),
        "{page}"
    );
    assert!(page.contains("href=\"/go/acme/\""), "{page}");
    assert_eq!(
        entity::project::Entity::find()
            .count(app.conn())
            .await
            .unwrap(),
        2,
        "nothing was made while refused"
    );
}

#[tokio::test]
async fn a_superuser_without_a_second_factor_is_refused_too() {
    let app = TestApp::spawn().await;
    acme_requires_two_factor(&app).await;
    create_user(
        app.conn(),
        &app.state.hasher,
        "root@orgs.test",
        "Root",
        true,
    )
    .await;
    let root = visitor(&app, Some("root@orgs.test")).await;
    assert_refused(&root, "/o/acme/api/v1/organization/").await;
    let sent = root.send(Method::GET, "/o/acme/people/", None).await;
    assert_redirect_to(&sent, 303, "/account/security/?for=acme");
    let (status, _) = root
        .api(Method::GET, "/o/globex/api/v1/organization/", None)
        .await;
    assert_eq!(status, 200, "a superuser still reaches the others");

    let enrolled = enrol(&root).await;
    let (status, _) = root
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(status, 200);
    let again = signed_in_with(&app, "root@orgs.test", &enrolled.app.code()).await;
    let (status, _) = again
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_personal_token_counts_as_the_sign_in_it_was_made_from() {
    let app = TestApp::spawn().await;
    acme_requires_two_factor(&app).await;
    let max = visitor(&app, Some("max@acme.test")).await;
    let before = token_from_the_account_page(&max).await;
    let acme = "/o/acme/api/v1/organization/";
    let globex = "/o/globex/api/v1/organization/";
    assert_eq!(with_token(&app, Method::GET, acme, &before).await, 403);
    assert_eq!(with_token(&app, Method::GET, globex, &before).await, 200);

    let enrolled = enrol(&max).await;
    assert_eq!(
        with_token(&app, Method::GET, acme, &before).await,
        403,
        "a token made before enrolment stays one made without a second factor"
    );
    let response = reqwest::Client::new()
        .get(format!("{}{acme}", app.address))
        .bearer_auth(&before)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "two_factor_required", "{body}");

    // A token made from a sign-in completed with the code.
    let after = token_from_the_account_page(&max).await;
    assert_eq!(with_token(&app, Method::GET, acme, &after).await, 200);
    let fresh = signed_in_with(&app, "max@acme.test", &enrolled.app.code()).await;
    let from_fresh = token_from_the_account_page(&fresh).await;
    assert_eq!(with_token(&app, Method::GET, acme, &from_fresh).await, 200);
    assert_eq!(
        with_token(&app, Method::GET, globex, &from_fresh).await,
        200
    );
}

#[tokio::test]
async fn an_organization_api_key_is_not_a_person_and_is_unaffected() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (status, key) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let secret = key["secret"].as_str().unwrap().to_string();
    set_requirement(&app, "acme", true).await;
    assert_refused(&ada, "/o/acme/api/v1/projects/").await;
    assert_eq!(
        with_token(&app, Method::GET, "/api/v1/projects/", &secret).await,
        200
    );
    let created = reqwest::Client::new()
        .post(format!("{}/api/v1/projects/", app.address))
        .bearer_auth(&secret)
        .json(&json!({"name": "From CI"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
}

#[tokio::test]
async fn an_organization_api_key_cannot_change_the_requirement() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (status, key) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "ci", "permissions": ["organization.update", "security.manage"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let secret = key["secret"].as_str().unwrap().to_string();
    set_requirement(&app, "acme", true).await;
    // Sending back what GET answered changes nothing and is no switch; turning it off is.
    for (required, status) in [(false, 403), (true, 200)] {
        let response = reqwest::Client::new()
            .patch(format!("{}/api/v1/organization/", app.address))
            .bearer_auth(&secret)
            .json(&json!({ "two_factor_required": required }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "a key sending {required}");
    }
    let org = reqwest::Client::new()
        .get(format!("{}/api/v1/organization/", app.address))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(org["two_factor_required"], true, "unchanged");
}

#[tokio::test]
async fn a_token_made_with_a_second_factor_counts_as_without_once_the_last_factor_is_removed() {
    let app = TestApp::spawn().await;
    acme_requires_two_factor(&app).await;
    let max = visitor(&app, Some("max@acme.test")).await;
    let enrolled = enrol(&max).await;
    let token = token_from_the_account_page(&max).await;
    let acme = "/o/acme/api/v1/organization/";
    assert_eq!(with_token(&app, Method::GET, acme, &token).await, 200);
    let removed = max.post_form("/account/security/totp/delete/", &[]).await;
    assert_eq!(removed.status(), 303);
    assert_eq!(
        with_token(&app, Method::GET, acme, &token).await,
        403,
        "no factor is left for the token to stand for"
    );
    drop(enrolled);
}

#[tokio::test]
async fn a_sign_in_from_before_enrolment_does_not_count() {
    let app = TestApp::spawn().await;
    acme_requires_two_factor(&app).await;
    let laptop = visitor(&app, Some("max@acme.test")).await;
    let phone = visitor(&app, Some("max@acme.test")).await;
    assert_refused(&phone, "/o/acme/api/v1/organization/").await;

    let enrolled = enrol(&laptop).await;
    let (status, _) = laptop
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(
        status, 200,
        "the code typed on the laptop completed its sign-in"
    );
    let (status, _) = phone
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(status, 401, "the phone's older sign-in ended");

    // Signing in again on the phone asks for the code, and then Acme opens.
    let phone = half_signed_in(&app, "max@acme.test").await;
    let done = type_code(&phone, &enrolled.app.code()).await;
    assert_eq!(done.status(), 303);
    assert!(!location(&done).starts_with("/login/"));
    let (status, _) = phone
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(status, 200);
}

/// A request with a bearer token is the token's, whatever cookie it carries: Max (no factor)
/// cannot borrow Ada's token and her code to mark his own sign-in as completed with a second
/// factor, on the page or the API, nor have a token handed off as a browser sign-in.
#[tokio::test]
async fn a_token_beside_someone_elses_cookie_confirms_nothing_and_is_handed_nothing() {
    let app = crate::helpers::subdomain_app().await;
    acme_requires_two_factor(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let enrolled = enrol(&ada).await;
    let token = token_from_the_account_page(&ada).await;
    let max = visitor(&app, Some("max@acme.test")).await;
    let code = enrolled.app.code_in(1);
    let page = max
        .client
        .post(format!("{}/reauthenticate/", app.address))
        .bearer_auth(&token)
        .form(&[
            ("code", code.as_str()),
            ("next", "/"),
            ("csrf_token", &max.csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403, "the page refuses a token");
    let api = max
        .client
        .post(format!("{}/api/v1/account/reauthenticate/", app.address))
        .bearer_auth(&token)
        .header("x-csrf-token", &max.csrf)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 403, "the API refuses a token");
    assert_refused(&max, "/o/acme/api/v1/organization/").await;

    // /go/ with a token hands off nothing: the person signs in on the organization's host.
    let go = max
        .client
        .get(format!("{}/go/acme/", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(go.status(), 303);
    let to = location(&go);
    assert!(
        to.starts_with("http://acme.localhost:") && to.contains("/login/?next="),
        "{to}"
    );
}
