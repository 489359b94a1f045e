//! Roles and permissions over real HTTP: built-in and custom roles, the one grant rule at every
//! grant (role writes, assignments, invitations, API keys), the owner's protections, keys that
//! do not outlive their maker's trust, and permissions resolved per organization.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Visitor, link_in, path_of, two_tenants, visitor};

/// Acme (Ada owner, Max member) and Globex (Gus), with Pam holding `people-manager` (what a
/// member holds, and `members.update`, `members.invite`) and Alan an admin of Acme.
struct Team {
    acme: i64,
    ada: Visitor,
    pam: Visitor,
    pam_id: i64,
    max_id: i64,
    alan_id: i64,
    ada_id: i64,
}

async fn team(app: &TestApp) -> Team {
    let (acme, _) = two_tenants(app).await;
    let pam = app.user("pam@acme.test", "Pam").await;
    let alan = app.user("alan@acme.test", "Alan").await;
    crate::rules::add_user(app.conn(), app.events(), acme, pam.id, false)
        .await
        .unwrap();
    crate::rules::add_user(app.conn(), app.events(), acme, alan.id, true)
        .await
        .unwrap();
    let ada = visitor(app, Some("ada@acme.test")).await;
    let (status, role) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({
                "key": "people-manager",
                "name": "People manager",
                "permissions": ["members.read", "projects.read", "projects.write", "members.update", "members.invite"]
            })),
        )
        .await;
    assert_eq!(status, 201, "{role}");
    let (status, body) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", pam.id),
            Some(json!({"roles": ["people-manager"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["roles"], json!(["people-manager"]));
    let ids = |email: &str| {
        let email = email.to_string();
        async move {
            orgs::auth::users::find_by_email(app.conn(), &email)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    Team {
        acme,
        pam: visitor(app, Some("pam@acme.test")).await,
        pam_id: pam.id,
        max_id: ids("max@acme.test").await,
        alan_id: alan.id,
        ada_id: ids("ada@acme.test").await,
        ada,
    }
}

fn refused_for(body: &Value, permission: &str) {
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    assert_eq!(body["error"]["permission"], permission, "{body}");
}

#[tokio::test]
async fn builtin_roles_are_listed_and_can_be_neither_changed_nor_deleted() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (status, list) = t.ada.api(Method::GET, "/o/acme/api/v1/roles/", None).await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["owner", "admin", "member", "people-manager"]);
    assert_eq!(list["items"][0]["builtin"], true);
    assert_eq!(list["items"][3]["builtin"], false);
    let admin = &list["items"][1]["permissions"];
    assert!(
        !admin
            .as_array()
            .unwrap()
            .contains(&json!("organization.delete"))
    );
    assert!(
        !admin
            .as_array()
            .unwrap()
            .contains(&json!("ownership.transfer"))
    );
    assert_eq!(
        list["items"][2]["permissions"],
        json!(["members.read", "projects.read", "projects.write"])
    );
    for key in ["owner", "admin", "member"] {
        let path = format!("/o/acme/api/v1/roles/{key}/");
        let (status, _) = t
            .ada
            .api(Method::PATCH, &path, Some(json!({"name": "Mine now"})))
            .await;
        assert_eq!(status, 409, "{key}");
        let (status, _) = t.ada.api(Method::DELETE, &path, None).await;
        assert_eq!(status, 409, "{key}");
        let (status, body) = t
            .ada
            .api(
                Method::POST,
                "/o/acme/api/v1/roles/",
                Some(json!({"key": key, "name": "Again"})),
            )
            .await;
        assert_eq!(status, 422, "{key}");
        assert!(body["error"]["fields"]["key"].is_array(), "{body}");
    }
}

#[tokio::test]
async fn a_custom_role_is_made_read_edited_and_deleted_and_bad_input_names_the_field() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let created = t
        .ada
        .send(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({"key": "billing", "name": "Billing", "description": "Pays", "permissions": ["projects.read"]})),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.headers()["location"],
        "/o/acme/api/v1/roles/billing/"
    );
    let (status, role) = t
        .ada
        .api(Method::GET, "/o/acme/api/v1/roles/billing/", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        role,
        json!({"key": "billing", "name": "Billing", "description": "Pays", "permissions": ["projects.read"], "builtin": false})
    );
    let (status, role) = t
        .ada
        .api(
            Method::PATCH,
            "/o/acme/api/v1/roles/billing/",
            Some(json!({"permissions": ["projects.write", "projects.read"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        role["permissions"],
        json!(["projects.read", "projects.write"])
    );
    for (body, field) in [
        (json!({"key": "billing", "name": "Again"}), "key"),
        (json!({"key": "Bad Key", "name": "x"}), "key"),
        (json!({"key": &"k".repeat(41), "name": "x"}), "key"),
        (json!({"key": "ok", "name": ""}), "name"),
        (
            json!({"key": "ok", "name": "x", "permissions": ["nope.never"]}),
            "permissions",
        ),
        (
            json!({"key": "ok", "name": "x", "permissions": ["organization.delete"]}),
            "permissions",
        ),
    ] {
        let (status, answer) = t
            .ada
            .api(Method::POST, "/o/acme/api/v1/roles/", Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(
            answer["error"]["fields"][field].is_array(),
            "{body}: {answer}"
        );
    }
    let (status, _) = t
        .ada
        .api(Method::DELETE, "/o/acme/api/v1/roles/billing/", None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = t
        .ada
        .api(Method::GET, "/o/acme/api/v1/roles/billing/", None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn deleting_a_role_that_members_or_pending_invitations_hold_is_refused_with_a_message() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (status, body) = t
        .ada
        .api(Method::DELETE, "/o/acme/api/v1/roles/people-manager/", None)
        .await;
    assert_eq!(status, 409);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("held by 1 member(s) and 0 pending invitation(s)"),
        "{message}"
    );
    // Pam gets another role; an invitation still carries it.
    t.ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", t.pam_id),
            Some(json!({"roles": ["member"]})),
        )
        .await;
    let (status, _) = t
        .ada
        .api(
            Method::POST,
            "/o/acme/api/v1/people/",
            Some(json!({"email": "new@acme.test", "roles": ["people-manager"]})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = t
        .ada
        .api(Method::DELETE, "/o/acme/api/v1/roles/people-manager/", None)
        .await;
    assert_eq!(status, 409);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("0 member(s) and 1 pending invitation(s)"),
        "{body}"
    );
}

#[tokio::test]
async fn a_holder_of_members_update_cannot_give_itself_or_anyone_admin_or_roles_manage() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (status, _) = t
        .ada
        .api(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({"key": "role-keeper", "name": "Role keeper", "permissions": ["roles.manage"]})),
        )
        .await;
    assert_eq!(status, 201);
    for (who, roles, missing) in [
        (t.pam_id, json!(["admin"]), "organization.update"),
        (t.max_id, json!(["admin"]), "organization.update"),
        (
            t.pam_id,
            json!(["people-manager", "role-keeper"]),
            "roles.manage",
        ),
        (t.max_id, json!(["role-keeper"]), "roles.manage"),
    ] {
        let (status, body) = t
            .pam
            .api(
                Method::PATCH,
                &format!("/o/acme/api/v1/people/{who}/"),
                Some(json!({ "roles": roles })),
            )
            .await;
        assert_eq!(status, 403, "{roles}: {body}");
        refused_for(&body, missing);
    }
    // The deprecated shorthand obeys the same rule, on the page too.
    let (status, body) = t
        .pam
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", t.pam_id),
            Some(json!({"is_admin": true})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let page = t
        .pam
        .post_form(
            &format!("/o/acme/people/{}/edit/", t.max_id),
            &[("roles_form", "1"), ("roles", "admin")],
        )
        .await;
    assert_eq!(page.status(), 403);
    // Nobody changes the roles of someone above them: Alan is an admin.
    let (status, body) = t
        .pam
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", t.alan_id),
            Some(json!({"roles": ["member"]})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // And writing roles is not hers at all.
    let (status, body) = t
        .pam
        .api(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({"key": "mine", "name": "Mine", "permissions": ["roles.manage"]})),
        )
        .await;
    assert_eq!(status, 403);
    refused_for(&body, "roles.manage");
    // What she holds she may give.
    let (status, body) = t
        .pam
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", t.max_id),
            Some(json!({"roles": ["member", "people-manager"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["roles"], json!(["member", "people-manager"]));
    // Nothing she was refused changed anything.
    let (_, pam) = t
        .ada
        .api(
            Method::GET,
            &format!("/o/acme/api/v1/people/{}/", t.pam_id),
            None,
        )
        .await;
    assert_eq!(pam["roles"], json!(["people-manager"]));
    assert_eq!(pam["is_admin"], false);
}

#[tokio::test]
async fn a_role_manager_cannot_write_a_role_with_more_than_it_holds() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    t.ada
        .api(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({"key": "role-keeper", "name": "Role keeper", "permissions": ["roles.manage", "projects.read"]})),
        )
        .await;
    t.ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", t.max_id),
            Some(json!({"roles": ["role-keeper"]})),
        )
        .await;
    let max = visitor(&app, Some("max@acme.test")).await;
    let (status, body) = max
        .api(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({"key": "bigger", "name": "Bigger", "permissions": ["members.remove"]})),
        )
        .await;
    assert_eq!(status, 403);
    refused_for(&body, "members.remove");
    // Nor widen its own role, nor touch a role above it.
    let (status, body) = max
        .api(
            Method::PATCH,
            "/o/acme/api/v1/roles/role-keeper/",
            Some(json!({"permissions": ["roles.manage", "projects.read", "api_keys.manage"]})),
        )
        .await;
    assert_eq!(status, 403);
    refused_for(&body, "api_keys.manage");
    let (status, body) = max
        .api(Method::DELETE, "/o/acme/api/v1/roles/people-manager/", None)
        .await;
    assert_eq!(status, 403);
    refused_for(&body, "members.read");
    let (status, _) = max
        .api(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({"key": "smaller", "name": "Smaller", "permissions": ["projects.read"]})),
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn an_invitation_carries_only_roles_the_inviter_holds_and_gives_them_on_accepting() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (status, body) = t
        .pam
        .api(
            Method::POST,
            "/o/acme/api/v1/people/",
            Some(json!({"email": "boss@acme.test", "roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    refused_for(&body, "organization.update");
    assert!(
        app.mailbox()
            .messages()
            .iter()
            .all(|m| m.to != "boss@acme.test"),
        "a refused invitation sends nothing"
    );
    let (status, body) = t
        .pam
        .api(
            Method::POST,
            "/o/acme/api/v1/people/",
            Some(json!({"email": "helper@acme.test", "roles": ["owner"]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["roles"].is_array(), "{body}");
    let (status, body) = t
        .pam
        .api(
            Method::POST,
            "/o/acme/api/v1/people/",
            Some(json!({"email": "helper@acme.test", "roles": ["no-such-role"]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = t
        .pam
        .api(
            Method::POST,
            "/o/acme/api/v1/people/",
            Some(json!({"email": "helper@acme.test", "roles": ["people-manager"]})),
        )
        .await;
    assert_eq!(status, 201);
    let mail = app.wait_for_mail("helper@acme.test", 1).await;
    let link = path_of(&link_in(&mail[0].text, "/invitations/"));
    let helper = app.user("helper@acme.test", "Helper").await;
    let browser = visitor(&app, Some("helper@acme.test")).await;
    let accepted = browser.post_form(&link, &[("action", "accept")]).await;
    assert!(accepted.status().is_redirection(), "{}", accepted.status());
    let (_, person) = t
        .ada
        .api(
            Method::GET,
            &format!("/o/acme/api/v1/people/{}/", helper.id),
            None,
        )
        .await;
    assert_eq!(person["roles"], json!(["people-manager"]), "{person}");
}

#[tokio::test]
async fn the_owner_is_never_demoted_or_removed_and_no_path_makes_a_second_owner() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let alan = visitor(&app, Some("alan@acme.test")).await;
    let owner = format!("/o/acme/api/v1/people/{}/", t.ada_id);
    let (status, _) = alan
        .api(Method::PATCH, &owner, Some(json!({"roles": ["member"]})))
        .await;
    assert_eq!(status, 409);
    let (status, body) = alan
        .api(Method::PATCH, &owner, Some(json!({"is_admin": false})))
        .await;
    assert_eq!(status, 422);
    assert!(body["error"]["fields"]["is_admin"].is_array(), "{body}");
    let (status, _) = alan.api(Method::DELETE, &owner, None).await;
    assert_eq!(status, 409);
    for who in [t.alan_id, t.max_id] {
        let (status, body) = alan
            .api(
                Method::PATCH,
                &format!("/o/acme/api/v1/people/{who}/"),
                Some(json!({"roles": ["owner"]})),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body["error"]["fields"]["roles"].is_array(), "{body}");
    }
    // Transfer is the owner's alone; an admin is refused, naming it.
    let (status, body) = alan
        .api(
            Method::POST,
            "/o/acme/api/v1/transfer/",
            Some(json!({"user_id": t.alan_id})),
        )
        .await;
    assert_eq!(status, 403);
    refused_for(&body, "ownership.transfer");
    let (_, people) = t.ada.api(Method::GET, "/o/acme/api/v1/people/", None).await;
    let owners = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["is_owner"] == true)
        .count();
    assert_eq!(owners, 1);
    let _ = t.acme;
}

#[tokio::test]
async fn a_missing_permission_is_a_403_that_names_it_and_people_list_their_roles() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let max = visitor(&app, Some("max@acme.test")).await;
    let (_, projects) = max.api(Method::GET, "/o/acme/api/v1/projects/", None).await;
    let id = projects["items"][0]["id"].as_i64().unwrap();
    let (status, body) = max
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/projects/{id}/"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    refused_for(&body, "projects.delete");
    let (status, page) = max.get("/o/acme/settings/api-keys/").await;
    assert_eq!(status, 403);
    assert!(
        page.contains("You need the permission “Manage API keys”"),
        "the page names the permission in words: {page}"
    );
    assert!(
        page.contains(">Back to Acme</a>") && page.contains("aria-label=\"Main\""),
        "and keeps the organization's navigation: {page}"
    );
    let (_, people) = t.ada.api(Method::GET, "/o/acme/api/v1/people/", None).await;
    let by_email = |email: &str| {
        people["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["email"] == email)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_email("ada@acme.test")["roles"],
        json!(["owner", "admin"])
    );
    assert_eq!(by_email("ada@acme.test")["is_admin"], true);
    assert_eq!(by_email("max@acme.test")["roles"], json!(["member"]));
    assert_eq!(by_email("max@acme.test")["is_admin"], false);
    // The shorthand adds and takes away `admin`.
    let path = format!("/o/acme/api/v1/people/{}/", t.max_id);
    let (_, max_now) = t
        .ada
        .api(Method::PATCH, &path, Some(json!({"is_admin": true})))
        .await;
    assert_eq!(max_now["roles"], json!(["admin", "member"]));
    assert_eq!(max_now["is_admin"], true);
    let (_, max_now) = t
        .ada
        .api(Method::PATCH, &path, Some(json!({"is_admin": false})))
        .await;
    assert_eq!(max_now["roles"], json!(["member"]));
    let (status, body) = t
        .ada
        .api(Method::PATCH, &path, Some(json!({"roles": []})))
        .await;
    assert_eq!(status, 422, "{body}");
}

/// A key made by `maker` (signed in) with `permissions` (`None`: all the maker may give).
async fn key_of(maker: &Visitor, permissions: Option<Value>) -> (i64, String) {
    let mut body = json!({"name": "ci"});
    if let Some(permissions) = permissions {
        body["permissions"] = permissions;
    }
    let (status, key) = maker
        .api(Method::POST, "/o/acme/api/v1/api-keys/", Some(body))
        .await;
    assert_eq!(status, 201, "{key}");
    (
        key["id"].as_i64().unwrap(),
        key["secret"].as_str().unwrap().to_string(),
    )
}

async fn with_key(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_api_key_holds_only_its_permissions_and_cannot_make_keys_with_more() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (_, reader) = key_of(&t.ada, Some(json!(["projects.read"]))).await;
    let (status, _) = with_key(&app, &reader, Method::GET, "/api/v1/projects/", None).await;
    assert_eq!(status, 200);
    let (status, body) = with_key(
        &app,
        &reader,
        Method::POST,
        "/api/v1/projects/",
        Some(json!({"name": "No"})),
    )
    .await;
    assert_eq!(status, 403);
    refused_for(&body, "projects.write");
    let (status, body) = with_key(
        &app,
        &reader,
        Method::POST,
        "/api/v1/api-keys/",
        Some(json!({"name": "more", "permissions": ["projects.read", "projects.write"]})),
    )
    .await;
    assert_eq!(status, 403);
    refused_for(&body, "api_keys.manage");
    let (status, body) = with_key(
        &app,
        &reader,
        Method::PATCH,
        &format!("/api/v1/people/{}/", t.max_id),
        Some(json!({"roles": ["admin"]})),
    )
    .await;
    assert_eq!(status, 403);
    refused_for(&body, "members.update");
    // Even a key with every admin permission mints no keys: keys are made by people.
    let (_, full) = key_of(&t.ada, None).await;
    let (status, _) = with_key(
        &app,
        &full,
        Method::POST,
        "/api/v1/api-keys/",
        Some(json!({"name": "child"})),
    )
    .await;
    assert_eq!(status, 403);
    // A person grants a key only what they hold; never the owner's own permissions.
    let (status, body) = t
        .pam
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "pam", "permissions": ["members.read"]})),
        )
        .await;
    assert_eq!(status, 403, "pam lacks api_keys.manage: {body}");
    let (status, body) = t
        .ada
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "doom", "permissions": ["organization.delete"]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["permissions"].is_array(), "{body}");
}

#[tokio::test]
async fn a_key_is_revoked_when_its_maker_leaves_is_removed_or_loses_a_permission_it_holds() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let alan = visitor(&app, Some("alan@acme.test")).await;
    let (_, full) = key_of(&alan, None).await;
    let (_, reader) = key_of(&alan, Some(json!(["projects.read"]))).await;
    let (status, _) = with_key(&app, &full, Method::GET, "/api/v1/people/", None).await;
    assert_eq!(status, 200);
    // The settings page says who made each key.
    let (_, settings) = t.ada.get("/o/acme/settings/api-keys/").await;
    assert!(
        settings.contains("<td data-label=\"Made by\">Alan</td>"),
        "{settings}"
    );
    // Alan becomes a plain member: the full key goes, the reader (a member reads projects)
    // stays.
    let (status, _) = t
        .ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", t.alan_id),
            Some(json!({"roles": ["member"]})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = with_key(&app, &full, Method::GET, "/api/v1/people/", None).await;
    assert_eq!(status, 401, "the key of a demoted maker is revoked");
    let (status, _) = with_key(&app, &reader, Method::GET, "/api/v1/projects/", None).await;
    assert_eq!(status, 200);
    // Removed: every key they made goes.
    let (status, _) = t
        .ada
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/people/{}/", t.alan_id),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = with_key(&app, &reader, Method::GET, "/api/v1/projects/", None).await;
    assert_eq!(status, 401);
    let (_, events) = t
        .ada
        .api(
            Method::GET,
            "/o/acme/api/v1/audit-events/?action=api_key.revoked",
            None,
        )
        .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 2, "{events}");
    // A maker who leaves takes their keys too; so does editing the role that gave them.
    let (status, _) = t
        .ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", t.max_id),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, 200);
    let max = visitor(&app, Some("max@acme.test")).await;
    let (_, leaver) = key_of(&max, Some(json!(["projects.read"]))).await;
    assert_eq!(
        max.api(Method::POST, "/o/acme/api/v1/leave/", None).await.0,
        204
    );
    assert_eq!(
        with_key(&app, &leaver, Method::GET, "/api/v1/projects/", None)
            .await
            .0,
        401
    );
    let (_, by_role) = {
        t.ada
            .api(
                Method::PATCH,
                &format!("/o/acme/api/v1/people/{}/", t.pam_id),
                Some(json!({"roles": ["people-manager", "admin"]})),
            )
            .await;
        key_of(&t.pam, Some(json!(["members.update"]))).await
    };
    // Pam keeps members.update through people-manager when admin goes; the role losing it
    // ends the key.
    t.ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", t.pam_id),
            Some(json!({"roles": ["people-manager"]})),
        )
        .await;
    assert_eq!(
        with_key(&app, &by_role, Method::GET, "/api/v1/people/", None)
            .await
            .0,
        403,
        "alive, but members.update alone does not read people"
    );
    t.ada
        .api(
            Method::PATCH,
            "/o/acme/api/v1/roles/people-manager/",
            Some(json!({"permissions": ["members.read", "projects.read", "projects.write", "members.invite"]})),
        )
        .await;
    assert_eq!(
        with_key(&app, &by_role, Method::GET, "/api/v1/people/", None)
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn permissions_are_resolved_for_the_organization_in_the_url() {
    let app = TestApp::spawn().await;
    let (_, globex) = two_tenants(&app).await;
    // Max is a member of Acme and becomes an admin of Globex.
    let max = orgs::auth::users::find_by_email(app.conn(), "max@acme.test")
        .await
        .unwrap()
        .unwrap();
    crate::rules::add_user(app.conn(), app.events(), globex, max.id, true)
        .await
        .unwrap();
    let browser = visitor(&app, Some("max@acme.test")).await;
    for _ in 0..2 {
        assert_eq!(browser.get("/o/globex/settings/").await.0, 200);
        assert_eq!(browser.get("/o/acme/settings/").await.0, 403);
        assert_eq!(browser.get("/o/globex/roles/").await.0, 200);
        assert_eq!(browser.get("/o/acme/roles/").await.0, 403);
    }
}

#[tokio::test]
async fn the_role_pages_make_edit_and_delete_a_role_and_the_picker_assigns_it() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (status, list) = t.ada.get("/o/acme/roles/").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("People manager") && list.contains("Built in"),
        "{list}"
    );
    let (status, form) = t.ada.get("/o/acme/roles/new/").await;
    assert_eq!(status, 200);
    assert!(form.contains("value=\"projects.delete\""), "{form}");
    assert!(
        !form.contains("value=\"organization.delete\""),
        "owner-only is not offered"
    );
    let made = t
        .ada
        .post_form(
            "/o/acme/roles/new/",
            &[
                ("key", "reviewer"),
                ("name", "Reviewer"),
                ("description", "Reads"),
                ("permissions", "projects.read"),
                ("permissions", "members.read"),
            ],
        )
        .await;
    assert_eq!(made.status(), 303);
    let bad = t
        .ada
        .post_form("/o/acme/roles/new/", &[("key", "Bad"), ("name", "Bad")])
        .await;
    assert_eq!(bad.status(), 200);
    assert!(bad.text().await.unwrap().contains("a-z, 0-9 and -"));
    let (status, edit) = t.ada.get("/o/acme/roles/reviewer/edit/").await;
    assert_eq!(status, 200);
    assert!(edit.contains("value=\"projects.read\" checked"), "{edit}");
    assert_eq!(t.ada.get("/o/acme/roles/admin/edit/").await.0, 409);
    let saved = t
        .ada
        .post_form(
            "/o/acme/roles/reviewer/edit/",
            &[("name", "Reviewer"), ("permissions", "projects.read")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    // The person page's picker gives Max the role.
    let (status, person) = t
        .ada
        .get(&format!("/o/acme/people/{}/edit/", t.max_id))
        .await;
    assert_eq!(status, 200);
    assert!(person.contains("value=\"reviewer\""), "{person}");
    let assigned = t
        .ada
        .post_form(
            &format!("/o/acme/people/{}/edit/", t.max_id),
            &[("roles_form", "1"), ("roles", "reviewer")],
        )
        .await;
    assert_eq!(assigned.status(), 303);
    let (_, max) = t
        .ada
        .api(
            Method::GET,
            &format!("/o/acme/api/v1/people/{}/", t.max_id),
            None,
        )
        .await;
    assert_eq!(max["roles"], json!(["reviewer"]));
    // Held, it cannot go: its confirmation page says by whom and offers no button, and a
    // post anyway answers that page again with 409; freed, it goes.
    let (status, ask) = t.ada.get("/o/acme/roles/reviewer/delete/").await;
    assert_eq!(status, 200);
    assert!(ask.contains("1 member holds it"), "{ask}");
    assert!(!ask.contains(">Delete the role</button>"), "{ask}");
    let refused = t.ada.post_form("/o/acme/roles/reviewer/delete/", &[]).await;
    assert_eq!(refused.status(), 409);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("1 member holds it") && page.contains("aria-label=\"Settings\""),
        "refused in context, not on a bare Conflict page: {page}"
    );
    t.ada
        .post_form(
            &format!("/o/acme/people/{}/edit/", t.max_id),
            &[("roles_form", "1"), ("roles", "member")],
        )
        .await;
    let (status, ask) = t.ada.get("/o/acme/roles/reviewer/delete/").await;
    assert_eq!(status, 200);
    assert!(ask.contains(">Delete the role</button>"), "{ask}");
    assert_eq!(
        t.ada
            .post_form("/o/acme/roles/reviewer/delete/", &[])
            .await
            .status(),
        303
    );
    // The invite form offers the roles, and marks what the inviter cannot give.
    let (_, invite) = t.pam.get("/o/acme/people/add/").await;
    assert!(invite.contains("value=\"people-manager\""), "{invite}");
    assert!(invite.contains("you cannot grant it"), "{invite}");
}
