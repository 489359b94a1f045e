//! Groups map to roles: holders of `sso.manage` map a directory group to roles they could
//! grant (never `owner`); its members hold them while they are in it, and leaving takes away
//! only what no other source gives.

use reqwest::Method;
use serde_json::json;

use super::{acme_directory, roles_of};

#[tokio::test]
async fn a_group_mapped_to_a_role_gives_it_and_leaving_the_group_takes_it_away() {
    let (_app, ada, directory, _dns) = acme_directory().await;
    let nia = directory.user("nia", "nia@acme.test").await;
    let max = directory.user("max", "max@acme.test").await;
    let (nia_id, max_id) = (directory.account(&nia).await, directory.account(&max).await);
    let group = directory
        .post(
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                   "displayName": "Engineering",
                   "members": [{"value": nia["id"]}, {"value": max["id"]}]}),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let group_id = group.body["id"].as_str().unwrap().to_string();
    // Max also holds admin himself: the group's admin is not his only source.
    let (status, _) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{max_id}/"),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, mapped) = ada
        .api(
            Method::PUT,
            &format!("/o/acme/api/v1/scim-groups/{group_id}/roles/"),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, 200, "{mapped}");
    assert_eq!(mapped["roles"], json!(["admin"]));
    assert_eq!(mapped["members"], 2);
    assert_eq!(roles_of(&ada, nia_id).await, ["admin", "member"]);
    // Entra removes members with the path `members` and the ids as its value.
    let left = directory
        .patch(
            &format!("/Groups/{group_id}"),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "Remove", "path": "members",
                                   "value": [{"value": nia["id"]}, {"value": max["id"]}]}]}),
        )
        .await;
    assert_eq!(left.status, 200, "{}", left.body);
    assert_eq!(
        roles_of(&ada, nia_id).await,
        ["member"],
        "only the group gave it"
    );
    assert_eq!(
        roles_of(&ada, max_id).await,
        ["admin"],
        "he holds it himself"
    );
    let (_, groups) = ada
        .api(Method::GET, "/o/acme/api/v1/scim-groups/", None)
        .await;
    assert_eq!(groups[0]["display_name"], "Engineering", "{groups}");
    assert_eq!(groups[0]["members"], 0);
}

#[tokio::test]
async fn a_group_never_gives_owner_and_deleting_it_takes_back_its_roles() {
    let (_app, ada, directory, _dns) = acme_directory().await;
    let nia = directory.user("nia", "nia@acme.test").await;
    let group = directory
        .post(
            "/Groups",
            json!({"displayName": "Admins", "members": [{"value": nia["id"]}]}),
        )
        .await;
    let group_id = group.body["id"].as_str().unwrap().to_string();
    let path = format!("/o/acme/api/v1/scim-groups/{group_id}/roles/");
    let (status, body) = ada
        .api(Method::PUT, &path, Some(json!({"roles": ["owner"]})))
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = ada
        .api(Method::PUT, &path, Some(json!({"roles": ["no-such-role"]})))
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = ada
        .api(Method::PUT, &path, Some(json!({"roles": ["admin"]})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        roles_of(&ada, directory.account(&nia).await).await,
        ["admin", "member"]
    );
    let gone = directory.delete(&format!("/Groups/{group_id}")).await;
    assert_eq!(gone.status, 204);
    assert_eq!(
        roles_of(&ada, directory.account(&nia).await).await,
        ["member"]
    );
}

#[tokio::test]
async fn a_mapping_holds_only_while_its_setter_could_grant_it() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let max_id: Vec<i64> = app
        .column("SELECT id FROM users WHERE email = 'max@acme.test'")
        .await;
    // Max, an admin for now, maps a group to admin.
    let (status, _) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", max_id[0]),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, 200);
    let max = crate::helpers::visitor(&app, Some("max@acme.test")).await;
    let nia = directory.user("nia", "nia@acme.test").await;
    let group = directory
        .post(
            "/Groups",
            json!({"displayName": "Ops", "members": [{"value": nia["id"]}]}),
        )
        .await;
    let group_id = group.body["id"].as_str().unwrap().to_string();
    let (status, body) = max
        .api(
            Method::PUT,
            &format!("/o/acme/api/v1/scim-groups/{group_id}/roles/"),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        roles_of(&ada, directory.account(&nia).await).await,
        ["admin", "member"]
    );
    let out = directory
        .patch(
            &format!("/Groups/{group_id}"),
            json!({"Operations": [{"op": "remove", "path": "members"}]}),
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    // Max is no admin now: what he mapped is given no more.
    let (status, _) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", max_id[0]),
            Some(json!({"roles": ["member"]})),
        )
        .await;
    assert_eq!(status, 200);
    let back = directory
        .patch(
            &format!("/Groups/{group_id}"),
            json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": nia["id"]}]}]}),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(
        roles_of(&ada, directory.account(&nia).await).await,
        ["member"]
    );
}

#[tokio::test]
async fn saving_a_members_roles_on_the_page_leaves_a_group_role_the_groups() {
    let (_app, ada, directory, _dns) = acme_directory().await;
    let nia = directory.user("nia", "nia@acme.test").await;
    let nia_id = directory.account(&nia).await;
    let group = directory
        .post(
            "/Groups",
            json!({"displayName": "Admins", "members": [{"value": nia["id"]}]}),
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
    // The people form sends every role ticked, the group's among them.
    let (status, body) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{nia_id}/"),
            Some(json!({"roles": ["admin", "member"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let out = directory
        .patch(
            &format!("/Groups/{group_id}"),
            json!({"Operations": [{"op": "remove", "path": "members"}]}),
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(
        roles_of(&ada, nia_id).await,
        ["member"],
        "admin was the group's"
    );
}

#[tokio::test]
async fn a_token_cannot_put_its_maker_in_a_group_that_gives_more_than_they_hold() {
    let (app, ada, directory, _dns) = acme_directory().await;
    // An admin's group of admins.
    let group = directory
        .post("/Groups", json!({"displayName": "Admins"}))
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
    // Max holds a custom role with sso.manage alone, and makes a token.
    let (status, body) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({"key": "directory", "name": "Directory", "permissions": ["sso.manage"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let max_id: Vec<i64> = app
        .column("SELECT id FROM users WHERE email = 'max@acme.test'")
        .await;
    let (status, _) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", max_id[0]),
            Some(json!({"roles": ["member", "directory"]})),
        )
        .await;
    assert_eq!(status, 200);
    let max = crate::helpers::visitor(&app, Some("max@acme.test")).await;
    let maxs = super::Directory::new(&app, "acme", &super::token(&max, "acme").await);
    let himself = maxs.user("max", "max@acme.test").await;
    let joined = maxs
        .patch(
            &format!("/Groups/{group_id}"),
            json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": himself["id"]}]}]}),
        )
        .await;
    assert_eq!(joined.status, 403, "{}", joined.body);
    assert_eq!(
        joined.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(roles_of(&ada, max_id[0]).await, ["member", "directory"]);
}

#[tokio::test]
async fn leaving_a_group_revokes_the_keys_it_let_them_make_and_is_audited() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let max = directory.user("max", "max@acme.test").await;
    let max_id = directory.account(&max).await;
    let group = directory
        .post(
            "/Groups",
            json!({"displayName": "Admins", "members": [{"value": max["id"]}]}),
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
    let max_browser = crate::helpers::visitor(&app, Some("max@acme.test")).await;
    let (status, key) = max_browser
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "admin script", "permissions": ["members.invite"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let out = directory
        .patch(
            &format!("/Groups/{group_id}"),
            json!({"Operations": [{"op": "remove", "path": format!("members[value eq \"{}\"]", max["id"].as_str().unwrap())}]}),
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(roles_of(&ada, max_id).await, ["member"]);
    let revoked: Vec<i64> = app
        .column("SELECT COUNT(*) FROM organization_api_keys WHERE revoked_at IS NOT NULL")
        .await;
    assert_eq!(revoked, [1], "the key held what he no longer does");
    let (_, events) = ada
        .api(
            Method::GET,
            "/o/acme/api/v1/audit-events/?action=member.roles_changed",
            None,
        )
        .await;
    let via_group = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["changes"]["via"] == "group" || e.to_string().contains("\"via\":\"group\""))
        .count();
    assert!(
        via_group >= 2,
        "given and taken away, each audited: {events}"
    );
}
