//! The bodies Microsoft Entra ID and Okta send, verbatim from their published documentation
//! (Microsoft's "Tutorial: Develop and plan provisioning for a SCIM endpoint" and its SCIM
//! compatibility page; Okta's "SCIM 2.0 Protocol Reference"), and the 2025 Entra variant
//! (a lowercase string boolean, scimmy#86). Only the addresses are ours where a membership is
//! the point (Acme's verified `acme.test`).

use serde_json::{Value, json};

use super::{Directory, acme_directory};

async fn id_of(directory: &Directory, user_name: &str, email: &str) -> String {
    directory.user(user_name, email).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn entras_create_user_request_is_taken_with_its_read_only_meta_and_roles() {
    let (_app, _ada, directory, _dns) = acme_directory().await;
    let body = json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "active": true,
        "emails": [{
            "primary": true,
            "type": "work",
            "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
        }],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    });
    let created = directory.post("/Users", body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["externalId"],
        "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    );
    assert_eq!(created.body["name"]["formatted"], "givenName familyName");
    assert!(
        created.body.get("roles").is_none(),
        "not stored, not answered"
    );
    assert_eq!(
        directory.state(&created.body).await,
        "pending",
        "testuser.com is no verified domain"
    );
    // Entra's matching query.
    let found = directory
        .get("/Users?filter=userName+eq+%22Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee%22")
        .await;
    assert_eq!(found.status, 200);
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    // Its Test Connection: a user that does not exist is an empty list, not an error.
    let none = directory
        .get("/Users?filter=userName+eq+%2200000000-0000-0000-0000-000000000000%22")
        .await;
    assert_eq!(none.status, 200);
    assert_eq!(none.body["totalResults"], 0);
    assert_eq!(none.body["Resources"], json!([]));
}

#[tokio::test]
async fn entras_multi_valued_and_path_less_updates_apply() {
    let (_app, _ada, directory, _dns) = acme_directory().await;
    let id = id_of(&directory, "bjensen", "bjensen@acme.test").await;
    let path = format!("/Users/{id}");
    let updated = directory
        .patch(
            &path,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                    {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
                ]
            }),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        updated.body["emails"][0]["value"],
        "updatedEmail@microsoft.com"
    );
    assert_eq!(updated.body["name"]["familyName"], "updatedFamilyName");
    // With aadOptscim062020: one operation without a path, dotted and URN keys.
    let flagged = directory
        .patch(
            &path,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com"},
                    {"op": "replace", "value": {
                        "displayName": "Bjfe",
                        "name.givenName": "Kkom",
                        "name.familyName": "Unua",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
                    }}
                ]
            }),
        )
        .await;
    assert_eq!(flagged.status, 200, "{}", flagged.body);
    assert_eq!(flagged.body["displayName"], "Bjfe");
    assert_eq!(flagged.body["name"]["givenName"], "Kkom");
    assert_eq!(flagged.body["name"]["familyName"], "Unua");
    assert_eq!(
        flagged.body["emails"][0]["value"],
        "TestMhvaes@test.microsoft.com"
    );
    assert!(
        flagged.body.get("employeeNumber").is_none(),
        "{}",
        flagged.body
    );
    // Entra's replace of a work address a user has none of adds it.
    let bare = directory
        .post("/Users", json!({"userName": "no-address"}))
        .await;
    assert_eq!(bare.status, 201, "{}", bare.body);
    let added = directory
        .patch(
            &format!("/Users/{}", bare.body["id"].as_str().unwrap()),
            json!({"Operations": [{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "nobody@acme.test"}]}),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(
        added.body["emails"],
        json!([{"type": "work", "value": "nobody@acme.test"}])
    );
    assert_eq!(
        directory.state(&added.body).await,
        "active",
        "now linked by its new address"
    );
}

#[tokio::test]
async fn entras_string_booleans_disable_in_both_spellings() {
    let (_app, _ada, directory, _dns) = acme_directory().await;
    for (n, value) in ["False", "false"].into_iter().enumerate() {
        let id = id_of(&directory, &format!("u{n}"), &format!("u{n}@acme.test")).await;
        // The default (unflagged) request, and the 2025 one with a lowercase string.
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [{"op": "Replace", "path": "active", "value": value}]});
        let off = directory.patch(&format!("/Users/{id}"), body).await;
        assert_eq!(off.status, 200, "{value}: {}", off.body);
        assert_eq!(off.body["active"], false);
        assert_eq!(directory.state(&off.body).await, "suspended");
    }
}

#[tokio::test]
async fn entras_group_requests_create_add_remove_and_read_without_members() {
    let (_app, _ada, directory, _dns) = acme_directory().await;
    let member = id_of(&directory, "m", "m@acme.test").await;
    let created = directory
        .post(
            "/Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "displayName",
                "meta": {"resourceType": "Group"}
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["members"], json!([]));
    let path = format!("/Groups/{}", created.body["id"].as_str().unwrap());
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": member}]}]});
    let added = directory.patch(&path, add).await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(
        added.body["members"][0]["value"],
        Value::String(member.clone())
    );
    let found = directory
        .get("/Groups?excludedAttributes=members&filter=displayName+eq+%22displayName%22")
        .await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    assert!(found.body["Resources"][0].get("members").is_none());
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": member}]}]});
    let removed = directory.patch(&path, remove).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.body["members"], json!([]));
    let renamed = directory
        .patch(
            &path,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]}),
        )
        .await;
    assert_eq!(
        renamed.body["displayName"],
        "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    );
}

#[tokio::test]
async fn oktas_create_put_and_deactivate_requests() {
    let (_app, _ada, directory, _dns) = acme_directory().await;
    let created = directory
        .post(
            "/Users",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "test.user@acme.test",
                "name": {"givenName": "Test", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@acme.test", "type": "work"}],
                "displayName": "Test User",
                "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "groups": [],
                "password": "1mz050nq",
                "active": true
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.get("password").is_none());
    let id = created.body["id"].as_str().unwrap().to_string();
    // Okta's existence check.
    let found = directory
        .get("/Users?filter=userName%20eq%20%22test.user%40acme.test%22&startIndex=1&count=100")
        .await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    // A full replace, as Okta sends every update of an AIW app, deprovisioning included.
    let put = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": id,
        "userName": "test.user@acme.test",
        "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
        "emails": [{"primary": true, "value": "test.user@acme.test", "type": "work", "display": "test.user@acme.test"}],
        "active": false,
        "groups": [],
        "meta": {"resourceType": "User"}
    });
    let replaced = directory.put(&format!("/Users/{id}"), put).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["name"]["givenName"], "Another");
    assert!(
        replaced.body.get("displayName").is_none(),
        "a full replace drops what it leaves out"
    );
    assert_eq!(directory.state(&replaced.body).await, "suspended");
    let back = directory
        .put(
            &format!("/Users/{id}"),
            json!({"userName": "test.user@acme.test", "active": true,
                   "emails": [{"primary": true, "value": "test.user@acme.test", "type": "work"}]}),
        )
        .await;
    assert_eq!(directory.state(&back.body).await, "active");
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations": [{"op": "replace", "value": {"active": false}}]});
    let off = directory.patch(&format!("/Users/{id}"), deactivate).await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(directory.state(&off.body).await, "suspended");
}

#[tokio::test]
async fn oktas_group_push_requests() {
    let (_app, _ada, directory, _dns) = acme_directory().await;
    let first = id_of(&directory, "first", "first@acme.test").await;
    let second = id_of(&directory, "second", "second@acme.test").await;
    let created = directory
        .post(
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let path = format!("/Groups/{id}");
    let push = directory
        .patch(
            &path,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "path": "members", "value": [
                       {"value": first, "display": "first@acme.test"},
                       {"value": second, "display": "second@acme.test"}]}]}),
        )
        .await;
    assert_eq!(push.status, 200, "{}", push.body);
    assert_eq!(push.body["members"].as_array().unwrap().len(), 2);
    let swap = directory
        .patch(
            &path,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [
                       {"op": "remove", "path": format!("members[value eq \"{second}\"]")},
                       {"op": "add", "path": "members", "value": [{"value": first, "display": "first@acme.test"}]}]}),
        )
        .await;
    assert_eq!(swap.status, 200, "{}", swap.body);
    // `$ref` names the service's own address (server.public_url), whatever host was asked.
    assert_eq!(
        swap.body["members"],
        json!([{"value": first, "type": "User", "$ref": format!("http://localhost:8000/o/acme/scim/v2/Users/{first}")}])
    );
    let renamed = directory
        .patch(
            &path,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "value": {"id": id, "displayName": "Test SCIMv2 renamed"}}]}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["displayName"], "Test SCIMv2 renamed");
    assert_eq!(renamed.body["id"], Value::String(id.clone()));
    let gone = directory.delete(&path).await;
    assert_eq!(gone.status, 204);
}
