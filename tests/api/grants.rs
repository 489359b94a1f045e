//! The grant rule on every path and every target, over real HTTP: nobody grants what they do not
//! hold (the default role of an invitation included, and an invitation's roles again when it is
//! sent again and when it is accepted), and nobody acts on a member who holds what they do not
//! (removing them, revoking their keys).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Visitor, link_in, path_of, two_tenants, visitor};

/// Acme (Ada owner, Max member, Alan admin) with people holding one custom role each.
struct Acme {
    id: i64,
    ada: Visitor,
    alan: Visitor,
    alan_id: i64,
    max_id: i64,
}

async fn acme(app: &TestApp) -> Acme {
    let (acme, _) = two_tenants(app).await;
    let alan = app.user("alan@acme.test", "Alan").await;
    crate::rules::add_user(app.conn(), app.events(), acme, alan.id, true)
        .await
        .unwrap();
    let max = orgs::auth::users::find_by_email(app.conn(), "max@acme.test")
        .await
        .unwrap()
        .unwrap();
    Acme {
        id: acme,
        ada: visitor(app, Some("ada@acme.test")).await,
        alan: visitor(app, Some("alan@acme.test")).await,
        alan_id: alan.id,
        max_id: max.id,
    }
}

/// A new member of Acme holding only the custom role `key` with `permissions`, signed in.
async fn holder(
    app: &TestApp,
    a: &Acme,
    email: &str,
    key: &str,
    permissions: Value,
) -> (Visitor, i64) {
    let (status, body) = a
        .ada
        .api(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({"key": key, "name": key, "permissions": permissions})),
        )
        .await;
    assert!(status == 201 || status == 422, "{body}");
    let user = app.user(email, "Holder").await;
    crate::rules::add_user(app.conn(), app.events(), a.id, user.id, false)
        .await
        .unwrap();
    let (status, body) = a
        .ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", user.id),
            Some(json!({"roles": [key]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (visitor(app, Some(email)).await, user.id)
}

fn refused_for(status: u16, body: &Value, permission: &str) {
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    assert_eq!(body["error"]["permission"], permission, "{body}");
}

async fn is_member(a: &Acme, user_id: i64) -> bool {
    let (status, _) = a
        .ada
        .api(
            Method::GET,
            &format!("/o/acme/api/v1/people/{user_id}/"),
            None,
        )
        .await;
    status == 200
}

#[tokio::test]
async fn an_invitation_without_roles_gives_the_default_role_only_to_an_inviter_who_holds_it() {
    let app = TestApp::spawn().await;
    let a = acme(&app).await;
    let (rita, _) = holder(
        &app,
        &a,
        "rita@acme.test",
        "recruiter",
        json!(["members.read", "members.invite"]),
    )
    .await;
    for body in [
        json!({"email": "new@acme.test"}),
        json!({"email": "new@acme.test", "roles": []}),
        json!({"email": "new@acme.test", "roles": ["member"]}),
    ] {
        let (status, answer) = rita
            .api(Method::POST, "/o/acme/api/v1/people/", Some(body))
            .await;
        refused_for(status, &answer, "projects.read");
    }
    // The form with nothing ticked is the same request.
    let page = rita
        .post_form("/o/acme/people/add/", &[("email", "new@acme.test")])
        .await;
    assert_eq!(page.status(), 403);
    assert!(
        app.mailbox()
            .messages()
            .iter()
            .all(|m| m.to != "new@acme.test"),
        "a refused invitation sends nothing"
    );
    // Someone who holds what `member` holds invites with no roles: the invitation says `member`.
    let (pam, _) = holder(
        &app,
        &a,
        "pam@acme.test",
        "people-manager",
        json!([
            "members.read",
            "members.invite",
            "projects.read",
            "projects.write"
        ]),
    )
    .await;
    let (status, invitation) = pam
        .api(
            Method::POST,
            "/o/acme/api/v1/people/",
            Some(json!({"email": "new@acme.test"})),
        )
        .await;
    assert_eq!(status, 201, "{invitation}");
    assert_eq!(invitation["roles"], json!(["member"]), "{invitation}");
}

#[tokio::test]
async fn a_narrow_permission_cannot_remove_a_member_who_holds_more() {
    let app = TestApp::spawn().await;
    let a = acme(&app).await;
    let (rex, _) = holder(
        &app,
        &a,
        "rex@acme.test",
        "remover",
        json!(["members.read", "members.remove"]),
    )
    .await;
    // An admin, and a plain member (who holds projects.*), are both beyond Rex.
    for target in [a.alan_id, a.max_id] {
        let (status, body) = rex
            .api(
                Method::DELETE,
                &format!("/o/acme/api/v1/people/{target}/"),
                None,
            )
            .await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "forbidden", "{body}");
        let page = rex
            .post_form(&format!("/o/acme/people/{target}/delete/"), &[])
            .await;
        assert_eq!(page.status(), 403);
        assert!(is_member(&a, target).await);
    }
    // Someone holding no more than Rex is removed; the owner removes anyone.
    let (_, nora_id) = holder(
        &app,
        &a,
        "nora@acme.test",
        "reader",
        json!(["members.read"]),
    )
    .await;
    let (status, body) = rex
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/people/{nora_id}/"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = a
        .ada
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/people/{}/", a.alan_id),
            None,
        )
        .await;
    assert_eq!(status, 204);
    // The owner still cannot be removed: 409, as before.
    let ada_id = orgs::auth::users::find_by_email(app.conn(), "ada@acme.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    let (status, _) = rex
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/people/{ada_id}/"),
            None,
        )
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_key_is_revoked_only_by_someone_holding_what_the_key_and_its_maker_hold() {
    let app = TestApp::spawn().await;
    let a = acme(&app).await;
    let (kim, _) = holder(
        &app,
        &a,
        "kim@acme.test",
        "keymaster",
        json!(["members.read", "api_keys.manage", "projects.read"]),
    )
    .await;
    let (status, alans) = a
        .alan
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "alan", "permissions": ["projects.read"]})),
        )
        .await;
    assert_eq!(status, 201, "{alans}");
    let alans = alans["id"].as_i64().unwrap();
    let (status, body) = kim
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/api-keys/{alans}/"),
            None,
        )
        .await;
    assert_eq!(status, 403, "Alan holds more than Kim: {body}");
    let page = kim
        .post_form(&format!("/o/acme/settings/api-keys/{alans}/revoke/"), &[])
        .await;
    assert_eq!(page.status(), 403);
    let (status, kims) = kim
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "kim"})),
        )
        .await;
    assert_eq!(status, 201, "{kims}");
    let kims = kims["id"].as_i64().unwrap();
    let (status, _) = kim
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/api-keys/{kims}/"),
            None,
        )
        .await;
    assert_eq!(status, 204, "her own key");
    let (status, _) = a
        .ada
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/api-keys/{alans}/"),
            None,
        )
        .await;
    assert_eq!(status, 204, "the owner revokes any key");
}

/// The invitation link mailed to `to` (the `nth` mail to them, from 1).
async fn invitation_link(app: &TestApp, to: &str, nth: usize) -> String {
    let mail = app.wait_for_mail(to, nth).await;
    path_of(&link_in(&mail[nth - 1].text, "/invitations/"))
}

#[tokio::test]
async fn an_invitation_is_refused_at_acceptance_once_its_inviter_no_longer_holds_its_roles() {
    let app = TestApp::spawn().await;
    let a = acme(&app).await;
    let mut ids = Vec::new();
    for email in ["one@acme.test", "two@acme.test"] {
        let (status, invitation) = a
            .alan
            .api(
                Method::POST,
                "/o/acme/api/v1/people/",
                Some(json!({"email": email, "roles": ["admin"]})),
            )
            .await;
        assert_eq!(status, 201, "{invitation}");
        ids.push(invitation["id"].as_i64().unwrap());
    }
    // The owner demotes, then removes, the admin who sent them.
    let alan = format!("/o/acme/api/v1/people/{}/", a.alan_id);
    let (status, _) = a
        .ada
        .api(Method::PATCH, &alan, Some(json!({"roles": ["member"]})))
        .await;
    assert_eq!(status, 200);
    let (status, _) = a.ada.api(Method::DELETE, &alan, None).await;
    assert_eq!(status, 204);
    // A new person and a signed-in one: both refused with a page that says why.
    let one = invitation_link(&app, "one@acme.test", 1).await;
    let browser = visitor(&app, None).await;
    let refused = browser
        .post_form(
            &one,
            &[
                ("action", "accept"),
                ("name", "One"),
                ("password", "correct horse battery staple"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 403);
    let page = refused.text().await.unwrap();
    assert!(page.contains("send it again"), "{page}");
    assert!(
        orgs::auth::users::find_by_email(app.conn(), "one@acme.test")
            .await
            .unwrap()
            .is_none(),
        "nothing of the refused acceptance is kept"
    );
    let two_user = app.user("two@acme.test", "Two").await;
    let two = visitor(&app, Some("two@acme.test")).await;
    let link = invitation_link(&app, "two@acme.test", 1).await;
    let refused = two.post_form(&link, &[("action", "accept")]).await;
    assert_eq!(refused.status(), 403);
    assert!(!is_member(&a, two_user.id).await);
    // Still pending: the owner sends it again, and then it carries the owner's authority.
    let (status, resent) = a
        .ada
        .api(
            Method::POST,
            &format!("/o/acme/api/v1/invitations/{}/resend/", ids[1]),
            None,
        )
        .await;
    assert_eq!(status, 200, "{resent}");
    let link = invitation_link(&app, "two@acme.test", 2).await;
    let accepted = two.post_form(&link, &[("action", "accept")]).await;
    assert!(accepted.status().is_redirection(), "{}", accepted.status());
    let (_, person) = a
        .ada
        .api(
            Method::GET,
            &format!("/o/acme/api/v1/people/{}/", two_user.id),
            None,
        )
        .await;
    assert_eq!(person["roles"], json!(["admin"]), "{person}");
    // The audit log says what the invitee was given.
    let (_, events) = a
        .ada
        .api(
            Method::GET,
            "/o/acme/api/v1/audit-events/?action=member.added",
            None,
        )
        .await;
    let added = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["target"]["id"] == json!(two_user.id.to_string())
                || e["target"]["id"] == json!(two_user.id)
        })
        .unwrap_or_else(|| panic!("{events}"))
        .clone();
    assert_eq!(added["changes"]["roles"], json!(["admin"]), "{added}");
}

#[tokio::test]
async fn an_invitation_is_sent_again_only_by_someone_holding_what_it_carries() {
    let app = TestApp::spawn().await;
    let a = acme(&app).await;
    let (ivan, _) = holder(
        &app,
        &a,
        "ivan@acme.test",
        "invitations",
        json!([
            "members.read",
            "members.invite",
            "invitations.manage",
            "projects.read",
            "projects.write"
        ]),
    )
    .await;
    let (status, invitation) = a
        .ada
        .api(
            Method::POST,
            "/o/acme/api/v1/people/",
            Some(json!({"email": "boss@acme.test", "roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, 201, "{invitation}");
    let id = invitation["id"].as_i64().unwrap();
    let (status, body) = ivan
        .api(
            Method::POST,
            &format!("/o/acme/api/v1/invitations/{id}/resend/"),
            None,
        )
        .await;
    refused_for(status, &body, "organization.update");
    let page = ivan
        .post_form(&format!("/o/acme/invitations/{id}/resend/"), &[])
        .await;
    assert_eq!(page.status(), 403);
    assert_eq!(app.wait_for_mail("boss@acme.test", 1).await.len(), 1);
    // The old link still works: a refused resend rotated nothing.
    let link = invitation_link(&app, "boss@acme.test", 1).await;
    let boss = app.user("boss@acme.test", "Boss").await;
    let accepted = visitor(&app, Some("boss@acme.test"))
        .await
        .post_form(&link, &[("action", "accept")])
        .await;
    assert!(accepted.status().is_redirection(), "{}", accepted.status());
    assert!(is_member(&a, boss.id).await);
}

#[tokio::test]
async fn an_invitation_a_key_sent_is_refused_once_the_key_is_revoked() {
    let app = TestApp::spawn().await;
    let a = acme(&app).await;
    let (status, key) = a
        .ada
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "hr", "permissions": ["members.read", "members.invite", "projects.read", "projects.write"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/people/", app.address))
        .bearer_auth(key["secret"].as_str().unwrap())
        .json(&json!({"email": "hire@acme.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let (status, _) = a
        .ada
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/api-keys/{}/", key["id"]),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let link = invitation_link(&app, "hire@acme.test", 1).await;
    let hire = app.user("hire@acme.test", "Hire").await;
    let refused = visitor(&app, Some("hire@acme.test"))
        .await
        .post_form(&link, &[("action", "accept")])
        .await;
    assert_eq!(refused.status(), 403);
    assert!(!is_member(&a, hire.id).await);
}
