//! The rest of issue 32's dangerous actions, which need a recent confirmation besides the factor
//! changes: deleting or transferring an organization, making API keys and personal tokens,
//! changing the password, and the organization's two-factor switch, which also needs
//! `security.manage` besides `organization.update` and a factor of one's own to turn on.

use reqwest::Method;
use serde_json::json;

use super::{assert_error, confirmed_long_ago, enrol, password_body, reauthenticate, user_id};
use crate::helpers::{PASSWORD, TestApp, Visitor, location, two_tenants, visitor};

/// Asserts a page's answer to an old confirmation: a 303 to `/reauthenticate/?next=`.
#[track_caller]
fn assert_sent_to_reauthenticate(response: &reqwest::Response, what: &str) {
    assert_eq!(response.status(), 303, "{what}");
    assert!(
        location(response).starts_with("/reauthenticate/?next="),
        "{what}: {}",
        location(response)
    );
}

async fn organization(visitor: &Visitor, slug: &str) -> serde_json::Value {
    let (status, body) = visitor
        .api(
            Method::GET,
            &format!("/o/{slug}/api/v1/organization/"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn deleting_or_transferring_an_organization_needs_a_recent_confirmation() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let max = user_id(&app, "max@acme.test").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    confirmed_long_ago(&app, "ada@acme.test").await;

    let (status, body) = ada
        .api(Method::DELETE, "/o/acme/api/v1/organization/", None)
        .await;
    assert_error(status, &body, 403, "reauthentication_required");
    let (status, body) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/transfer/",
            Some(json!({ "user_id": max })),
        )
        .await;
    assert_error(status, &body, 403, "reauthentication_required");
    let deleting = ada
        .post_form("/o/acme/delete/", &[("confirm", "acme")])
        .await;
    assert_sent_to_reauthenticate(&deleting, "the delete page");
    let transferring = ada
        .post_form(
            "/o/acme/transfer/",
            &[("user_id", &max.to_string()), ("confirm", "acme")],
        )
        .await;
    assert_sent_to_reauthenticate(&transferring, "the transfer page");
    organization(&ada, "acme").await;

    let (status, body) = reauthenticate(&ada, password_body()).await;
    assert_eq!(status, 200, "{body}");
    let deleted = ada
        .send(Method::DELETE, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn making_api_keys_and_personal_tokens_needs_a_recent_confirmation() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    confirmed_long_ago(&app, "ada@acme.test").await;

    let (status, body) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_error(status, &body, 403, "reauthentication_required");
    let page = ada
        .post_form("/o/acme/settings/api-keys/", &[("name", "ci")])
        .await;
    assert_sent_to_reauthenticate(&page, "the API keys page");
    let token = ada
        .post_form("/account/tokens/", &[("name", "laptop")])
        .await;
    assert_sent_to_reauthenticate(&token, "the account page's tokens");
    let (_, keys) = ada.api(Method::GET, "/o/acme/api/v1/api-keys/", None).await;
    assert_eq!(keys["items"].as_array().map(Vec::len), Some(0), "{keys}");
    let id = user_id(&app, "ada@acme.test").await;
    assert!(
        orgs::auth::api_tokens::list_active(app.conn(), entity::UserId(id))
            .await
            .unwrap()
            .is_empty()
    );

    let (status, _) = reauthenticate(&ada, password_body()).await;
    assert_eq!(status, 200);
    let (status, body) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let token = ada
        .post_form("/account/tokens/", &[("name", "laptop")])
        .await;
    assert_eq!(location(&token), "/account/");
}

/// The password form asks for the current password: typing it is the confirmation a password
/// change needs, however old the sign-in's last one (a wrong one changes nothing), and it counts
/// as a confirmation for the next dangerous action too.
#[tokio::test]
async fn changing_the_password_is_confirmed_by_the_current_password_on_its_form() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    confirmed_long_ago(&app, "ada@acme.test").await;
    let wrong = ada
        .post_form(
            "/account/",
            &[
                ("name", "Ada L."),
                ("current_password", "not the password at all"),
                ("new_password", "an entirely new one"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 200, "the form again, with its error");
    let (response, _) = super::password_typed(&app, "ada@acme.test").await;
    assert_eq!(response.status(), 303, "the password is unchanged");
    let key = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "before"})),
        )
        .await;
    assert_eq!(key.0, 403, "the old confirmation still stands: {}", key.1);
    let changing = ada
        .post_form(
            "/account/",
            &[
                ("name", "Ada L."),
                ("current_password", PASSWORD),
                ("new_password", "an entirely new one"),
            ],
        )
        .await;
    assert_eq!(location(&changing), "/account/", "changed");
    let key = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "after"})),
        )
        .await;
    assert_eq!(key.0, 201, "the current password confirmed it: {}", key.1);
}

#[tokio::test]
async fn the_two_factor_switch_needs_security_manage_a_factor_of_ones_own_and_a_recent_confirmation()
 {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let max_id = user_id(&app, "max@acme.test").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    assert_eq!(
        organization(&ada, "acme").await["two_factor_required"],
        false
    );

    // Max may edit the organization, not its sign-in security.
    let (status, role) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({
                "key": "editor",
                "name": "Editor",
                "permissions": ["members.read", "organization.update"]
            })),
        )
        .await;
    assert_eq!(status, 201, "{role}");
    let (status, body) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{max_id}/"),
            Some(json!({"roles": ["editor"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let max = visitor(&app, Some("max@acme.test")).await;
    enrol(&max).await;
    let (status, body) = max
        .api(
            Method::PATCH,
            "/o/acme/api/v1/organization/",
            Some(json!({"two_factor_required": true})),
        )
        .await;
    assert_error(status, &body, 403, "forbidden");
    assert_eq!(body["error"]["permission"], "security.manage", "{body}");
    let (status, body) = max
        .api(
            Method::PATCH,
            "/o/acme/api/v1/organization/",
            Some(json!({"name": "Acme Corp"})),
        )
        .await;
    assert_eq!(
        status, 200,
        "organization.update is enough for the rest: {body}"
    );

    // Ada holds security.manage, but has no factor of her own yet.
    let (status, body) = ada
        .api(
            Method::PATCH,
            "/o/acme/api/v1/organization/",
            Some(json!({"two_factor_required": true})),
        )
        .await;
    assert!(
        [409, 422].contains(&status),
        "only someone with a factor turns it on: {status} {body}"
    );
    assert_eq!(
        organization(&ada, "acme").await["two_factor_required"],
        false
    );

    enrol(&ada).await;
    let (status, body) = ada
        .api(
            Method::PATCH,
            "/o/acme/api/v1/organization/",
            Some(json!({"two_factor_required": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["two_factor_required"], true);

    confirmed_long_ago(&app, "ada@acme.test").await;
    let (status, body) = ada
        .api(
            Method::PATCH,
            "/o/acme/api/v1/organization/",
            Some(json!({"two_factor_required": false})),
        )
        .await;
    assert_error(status, &body, 403, "reauthentication_required");
    let (status, _) = reauthenticate(&ada, password_body()).await;
    assert_eq!(status, 200);
    let (status, body) = ada
        .api(
            Method::PATCH,
            "/o/acme/api/v1/organization/",
            Some(json!({"two_factor_required": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["two_factor_required"], false);
}

#[tokio::test]
async fn the_security_settings_page_names_who_the_requirement_would_stop_and_turns_it_on_for_someone_with_a_factor()
 {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let max = visitor(&app, Some("max@acme.test")).await;
    let (status, _) = max.get("/o/acme/settings/security/").await;
    assert_eq!(status, 403, "a member does not hold security.manage");

    let (status, page) = ada.get("/o/acme/settings/security/").await;
    assert_eq!(status, 200);
    assert!(page.contains("Not required"), "{page}");
    assert!(page.contains("2 members have no second factor"), "{page}");
    assert!(page.contains("max@acme.test") && page.contains("ada@acme.test"));
    assert!(page.contains("once your own sign-in uses a second factor"));
    let refused = ada
        .post_form(
            "/o/acme/settings/security/",
            &[("two_factor_required", "on")],
        )
        .await;
    assert_eq!(refused.status(), 200, "the form again, with why");
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("id=\"two_factor_required-errors\"")
    );
    assert_eq!(
        organization(&ada, "acme").await["two_factor_required"],
        false
    );

    enrol(&ada).await;
    confirmed_long_ago(&app, "ada@acme.test").await;
    let asked = ada
        .post_form(
            "/o/acme/settings/security/",
            &[("two_factor_required", "on")],
        )
        .await;
    assert_sent_to_reauthenticate(&asked, "the security settings");
    let (status, _) = reauthenticate(&ada, password_body()).await;
    assert_eq!(status, 200);
    let saved = ada
        .post_form(
            "/o/acme/settings/security/",
            &[("two_factor_required", "on")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(location(&saved), "/o/acme/settings/security/");
    let (_, page) = ada.get("/o/acme/settings/security/").await;
    assert!(page.contains("1 member has no second factor"), "{page}");
    let sent = max.send(Method::GET, "/o/acme/people/", None).await;
    assert_eq!(location(&sent), "/account/security/?for=acme");
}
