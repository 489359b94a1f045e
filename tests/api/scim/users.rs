//! What a provisioned User does to the organization: a member at once at a verified domain, an
//! invitation elsewhere, an existing member adopted, suspended by `active: false` (no access,
//! no seat, keys revoked, nothing deleted), removed by DELETE (never the account), and never
//! the owner.

use reqwest::Method;
use serde_json::json;

use super::{acme_directory, acme_directory_with, roles_of};
use crate::helpers::visitor;

#[tokio::test]
async fn a_user_at_a_verified_domain_becomes_a_member_at_once_with_no_password() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let user = directory.user("e5b8c3d0-1", "Nia.Ndiaye@ACME.test").await;
    assert_eq!(directory.state(&user).await, "active", "{user}");
    assert_eq!(user["userName"], "e5b8c3d0-1");
    assert_eq!(user["meta"]["resourceType"], "User");
    assert!(
        user["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!(
                "/o/acme/scim/v2/Users/{}",
                user["id"].as_str().unwrap()
            )),
        "{user}"
    );
    let id = directory.account(&user).await;
    assert_eq!(roles_of(&ada, id).await, ["member"]);
    let hashes: Vec<Option<String>> = app
        .column(&format!("SELECT password_hash FROM users WHERE id = {id}"))
        .await;
    assert_eq!(hashes, [None], "no password: they sign on or reset one");
    let emails: Vec<String> = app
        .column(&format!("SELECT email FROM users WHERE id = {id}"))
        .await;
    assert_eq!(emails, ["nia.ndiaye@acme.test"]);
    // Audited as the directory, naming the token.
    let (status, events) = ada
        .api(
            Method::GET,
            "/o/acme/api/v1/audit-events/?actor_type=scim",
            None,
        )
        .await;
    assert_eq!(status, 200, "{events}");
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert!(actions.contains(&"member.added"), "{actions:?}");
    assert!(actions.contains(&"scim.user_created"), "{actions:?}");
}

#[tokio::test]
async fn a_user_elsewhere_is_invited_and_reports_pending_until_they_accept() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let user = directory.user("outsider", "omar@elsewhere.example").await;
    assert_eq!(directory.state(&user).await, "pending", "{user}");
    let mails = app.wait_for_mail("omar@elsewhere.example", 1).await;
    assert!(mails[0].subject.contains("Acme"), "{}", mails[0].subject);
    let members: Vec<i64> = app
        .column("SELECT COUNT(*) FROM users WHERE email = 'omar@elsewhere.example'")
        .await;
    assert_eq!(
        members,
        [0],
        "no account is made or linked before they accept"
    );
    let (_, pending) = ada
        .api(Method::GET, "/o/acme/api/v1/invitations/", None)
        .await;
    assert!(
        pending.to_string().contains("omar@elsewhere.example"),
        "{pending}"
    );
}

#[tokio::test]
async fn a_post_for_someone_already_a_member_adopts_their_membership() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let max_id: Vec<i64> = app
        .column("SELECT id FROM users WHERE email = 'max@acme.test'")
        .await;
    let user = directory.user("max", "max@acme.test").await;
    assert_eq!(directory.state(&user).await, "active");
    assert_eq!(directory.account(&user).await, max_id[0]);
    assert_eq!(roles_of(&ada, max_id[0]).await, ["member"]);
    // One directory User per person.
    let again = directory
        .post(
            "/Users",
            json!({"userName": "max-again", "emails": [{"value": "max@acme.test", "primary": true}]}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.body["scimType"], "uniqueness");
}

#[tokio::test]
async fn active_false_suspends_the_membership_and_true_restores_it() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let max = visitor(&app, Some("max@acme.test")).await;
    let (status, _) = max
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(status, 200);
    let user = directory.user("max", "max@acme.test").await;
    let id = user["id"].as_str().unwrap().to_string();
    let (_, before) = ada
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    let used = before["seats_used"].as_u64().unwrap();
    let off = directory
        .patch(
            &format!("/Users/{id}"),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["active"], false);
    assert_eq!(directory.state(&off.body).await, "suspended");
    let (status, _) = max
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(status, 404, "their session is refused here");
    let (_, theirs) = max.api(Method::GET, "/api/v1/organizations/", None).await;
    assert!(
        !theirs.to_string().contains("\"acme\""),
        "nor listed: {theirs}"
    );
    let (_, after) = ada
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(
        after["seats_used"].as_u64().unwrap(),
        used - 1,
        "the seat is free"
    );
    let (status, person) = ada
        .api(
            Method::GET,
            &format!(
                "/o/acme/api/v1/people/{}/",
                directory.account(&off.body).await
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "the membership is kept: {person}");
    let on = directory
        .patch(
            &format!("/Users/{id}"),
            json!({"Operations": [{"op": "replace", "value": {"active": true}}]}),
        )
        .await;
    assert_eq!(on.status, 200, "{}", on.body);
    assert_eq!(directory.state(&on.body).await, "active");
    let (status, _) = max
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(status, 200, "back in");
}

#[tokio::test]
async fn a_suspended_member_loses_the_api_keys_they_made() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let max_id: Vec<i64> = app
        .column("SELECT id FROM users WHERE email = 'max@acme.test'")
        .await;
    let (status, _) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", max_id[0]),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, 200);
    let max = visitor(&app, Some("max@acme.test")).await;
    let (status, key) = max
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "max's script", "permissions": ["projects.read"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let user = directory.user("max", "max@acme.test").await;
    let off = directory
        .patch(
            &format!("/Users/{}", user["id"].as_str().unwrap()),
            json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    let revoked: Vec<i64> = app
        .column("SELECT COUNT(*) FROM organization_api_keys WHERE revoked_at IS NOT NULL")
        .await;
    assert_eq!(revoked, [1]);
}

#[tokio::test]
async fn delete_removes_the_membership_and_keeps_the_account() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let user = directory.user("max", "max@acme.test").await;
    let max_id = directory.account(&user).await;
    let gone = directory
        .delete(&format!("/Users/{}", user["id"].as_str().unwrap()))
        .await;
    assert_eq!(gone.status, 204);
    let (status, _) = ada
        .api(
            Method::GET,
            &format!("/o/acme/api/v1/people/{max_id}/"),
            None,
        )
        .await;
    assert_eq!(status, 404, "no longer a member");
    let accounts: Vec<i64> = app
        .column(&format!("SELECT COUNT(*) FROM users WHERE id = {max_id}"))
        .await;
    assert_eq!(
        accounts,
        [1],
        "the account stays (it may be in other organizations)"
    );
    let again = directory
        .get(&format!("/Users/{}", user["id"].as_str().unwrap()))
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(
        again.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
}

#[tokio::test]
async fn the_owner_can_be_neither_suspended_nor_deprovisioned() {
    let (_app, ada, directory, _dns) = acme_directory().await;
    let user = directory.user("ada", "ada@acme.test").await;
    let id = user["id"].as_str().unwrap();
    let off = directory
        .patch(
            &format!("/Users/{id}"),
            json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
        )
        .await;
    assert_eq!(off.status, 409, "{}", off.body);
    assert_eq!(off.body["scimType"], "mutability");
    let gone = directory.delete(&format!("/Users/{id}")).await;
    assert_eq!(gone.status, 409, "{}", gone.body);
    let (status, _) = ada
        .api(Method::GET, "/o/acme/api/v1/organization/", None)
        .await;
    assert_eq!(status, 200, "the owner is untouched");
    // Still an active member as the directory reads it.
    let user = directory.get(&format!("/Users/{id}")).await;
    assert_eq!(directory.state(&user.body).await, "active");
}

#[tokio::test]
async fn a_scim_write_racing_a_page_write_on_the_same_member_leaves_both() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let user = directory.user("max", "max@acme.test").await;
    let max_id = directory.account(&user).await;
    let path = format!("/Users/{}", user["id"].as_str().unwrap());
    let person = format!("/o/acme/api/v1/people/{max_id}/");
    let suspend = directory.patch(
        &path,
        json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
    );
    let promote = ada.api(Method::PATCH, &person, Some(json!({"roles": ["admin"]})));
    let (suspended, (promoted, body)) = tokio::join!(suspend, promote);
    assert_eq!(suspended.status, 200, "{}", suspended.body);
    assert_eq!(promoted, 200, "{body}");
    let suspended_at: Vec<i64> = app
        .column(&format!(
            "SELECT COUNT(*) FROM organization_users WHERE user_id = {max_id} AND suspended_at IS NOT NULL"
        ))
        .await;
    assert_eq!(suspended_at, [1], "the directory's suspension holds");
    assert_eq!(
        roles_of(&ada, max_id).await,
        ["admin"],
        "and the page's roles"
    );
}

#[tokio::test]
async fn a_changed_address_never_moves_the_account() {
    let (app, _ada, directory, _dns) = acme_directory().await;
    let user = directory.user("max", "max@acme.test").await;
    let max_id = directory.account(&user).await;
    let moved = directory
        .patch(
            &format!("/Users/{}", user["id"].as_str().unwrap()),
            json!({"Operations": [
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "maxwell@acme.test"},
                {"op": "Replace", "path": "userName", "value": "maxwell"}
            ]}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["emails"][0]["value"], "maxwell@acme.test");
    assert_eq!(directory.account(&moved.body).await, max_id);
    let emails: Vec<String> = app
        .column(&format!("SELECT email FROM users WHERE id = {max_id}"))
        .await;
    assert_eq!(emails, ["max@acme.test"], "the sign-in address stays");
}

#[tokio::test]
async fn scim_invitations_skip_the_organizations_hourly_quota_but_not_the_addresss_mail_limit() {
    let (_app, _ada, directory, _dns) = acme_directory_with(|s| {
        s.auth.invitations_per_hour = 1;
        s.auth.mail_per_address_per_hour = 1;
    })
    .await;
    for n in 0..3 {
        let invited = directory
            .post(
                "/Users",
                json!({"userName": format!("outside-{n}"),
                       "emails": [{"value": format!("outside{n}@elsewhere.example"), "primary": true}]}),
            )
            .await;
        assert_eq!(
            invited.status, 201,
            "a directory provisions everyone at once: {}",
            invited.body
        );
    }
    // The same address again, once its invitation is gone: its own limit holds.
    let first = directory
        .get("/Users?filter=userName+eq+%22outside-0%22")
        .await;
    let id = first.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(directory.delete(&format!("/Users/{id}")).await.status, 204);
    let again = directory
        .post(
            "/Users",
            json!({"userName": "outside-0-again",
                   "emails": [{"value": "outside0@elsewhere.example", "primary": true}]}),
        )
        .await;
    assert_eq!(again.status, 429, "{}", again.body);
    assert!(again.headers.get("retry-after").is_some());
    assert_eq!(
        again.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
}

#[tokio::test]
async fn an_invited_user_who_accepts_is_linked_with_their_groups_roles_and_only_once() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let omar = app.user("omar@elsewhere.example", "Omar").await;
    let user = directory.user("omar", "omar@elsewhere.example").await;
    assert_eq!(directory.state(&user).await, "pending");
    let group = directory
        .post(
            "/Groups",
            json!({"displayName": "Admins", "members": [{"value": user["id"]}]}),
        )
        .await;
    let group_id = group.body["id"].as_str().unwrap().to_string();
    let (status, _) = ada
        .api(
            Method::PUT,
            &format!("/o/acme/api/v1/scim-groups/{group_id}/roles/"),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, 200);
    let mail = app.wait_for_mail("omar@elsewhere.example", 1).await;
    let link = crate::helpers::path_of(&crate::helpers::link_in(&mail[0].text, "/invitations/"));
    let browser = visitor(&app, Some("omar@elsewhere.example")).await;
    let accepted = browser.post_form(&link, &[("action", "accept")]).await;
    assert!(accepted.status().is_redirection(), "{}", accepted.status());
    assert_eq!(directory.state(&user).await, "active");
    assert_eq!(directory.account(&user).await, omar.id);
    assert_eq!(
        roles_of(&ada, omar.id).await,
        ["admin", "member"],
        "the group's, at once"
    );
    let again = directory
        .post(
            "/Users",
            json!({"userName": "omar-again", "emails": [{"value": "omar@elsewhere.example", "primary": true}]}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
}

#[tokio::test]
async fn a_pending_users_new_address_ends_the_old_invitation_and_one_address_is_one_user() {
    let (app, _ada, directory, _dns) = acme_directory().await;
    let user = directory.user("pat", "pat.old@elsewhere.example").await;
    let old = app.wait_for_mail("pat.old@elsewhere.example", 1).await;
    let old_link = crate::helpers::path_of(&crate::helpers::link_in(&old[0].text, "/invitations/"));
    let moved = directory
        .patch(
            &format!("/Users/{}", user["id"].as_str().unwrap()),
            json!({"Operations": [{"op": "replace", "path": "emails",
                                   "value": [{"value": "pat.new@elsewhere.example", "primary": true}]}]}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(directory.state(&moved.body).await, "pending");
    app.wait_for_mail("pat.new@elsewhere.example", 1).await;
    let (status, _) = visitor(&app, None).await.get(&old_link).await;
    assert_ne!(status, 200, "the old address's link lets nobody in");
    // A second User for an address another one waits with: refused, not a shared invitation.
    let twin = directory
        .post(
            "/Users",
            json!({"userName": "pat-twin", "emails": [{"value": "PAT.NEW@elsewhere.example", "primary": true}]}),
        )
        .await;
    assert_eq!(twin.status, 409, "{}", twin.body);
    assert_eq!(twin.body["scimType"], "uniqueness");
    // And a User holds a bounded list of addresses.
    let many: Vec<serde_json::Value> = (0..101)
        .map(|n| json!({"value": format!("a{n}@elsewhere.example")}))
        .collect();
    let refused = directory
        .post("/Users", json!({"userName": "many", "emails": many}))
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["scimType"], "tooMany");
}
