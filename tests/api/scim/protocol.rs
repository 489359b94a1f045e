//! The protocol around the resources: who may speak it (a SCIM token of this organization and
//! nothing else), discovery, lists with filters and paging, ETags, and errors in SCIM's shape
//! whoever answers.

use reqwest::Method;
use serde_json::json;

use super::{Directory, acme_directory, token};
use crate::helpers::visitor;

const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[tokio::test]
async fn acmes_token_is_refused_on_globex_and_scim_takes_nothing_but_its_token() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let on_globex = Directory::new(&app, "globex", &directory.token);
    let refused = on_globex.get("/Users").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.body["schemas"][0], ERROR);
    // Ada's session cookie is no SCIM token.
    let response = ada
        .client
        .get(format!("{}/o/acme/scim/v2/Users", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/scim+json",
        "the middleware's answers are SCIM's too"
    );
    // Nor is an API key, nor a personal token.
    let (status, key) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/api-keys/",
            Some(json!({"name": "a key", "permissions": ["members.read"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let as_key = Directory::new(&app, "acme", key["secret"].as_str().unwrap());
    assert_eq!(as_key.get("/Users").await.status, 401);
    let ada_id: Vec<i64> = app
        .column("SELECT id FROM users WHERE email = 'ada@acme.test'")
        .await;
    let (_, personal) =
        orgs::auth::api_tokens::create(app.conn(), entity::UserId(ada_id[0]), "script")
            .await
            .unwrap();
    assert_eq!(
        Directory::new(&app, "acme", &personal)
            .get("/Users")
            .await
            .status,
        401
    );
    // And a SCIM token opens nothing else.
    let response = reqwest::Client::new()
        .get(format!("{}/o/acme/api/v1/people/", app.address))
        .bearer_auth(&directory.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_token_dies_when_revoked_or_when_its_maker_loses_sso_manage() {
    let (app, ada, directory, _dns) = acme_directory().await;
    let max_id: Vec<i64> = app
        .column("SELECT id FROM users WHERE email = 'max@acme.test'")
        .await;
    let max_path = format!("/o/acme/api/v1/people/{}/", max_id[0]);
    let (status, _) = ada
        .api(Method::PATCH, &max_path, Some(json!({"roles": ["admin"]})))
        .await;
    assert_eq!(status, 200);
    let max = visitor(&app, Some("max@acme.test")).await;
    let maxs = Directory::new(&app, "acme", &token(&max, "acme").await);
    assert_eq!(maxs.get("/Users").await.status, 200);
    let (status, _) = ada
        .api(Method::PATCH, &max_path, Some(json!({"roles": ["member"]})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        maxs.get("/Users").await.status,
        401,
        "its maker lost sso.manage"
    );
    // Revoked: the token is listed no more and refused.
    let (_, listed) = ada
        .api(Method::GET, "/o/acme/api/v1/scim-tokens/", None)
        .await;
    let ada_id = ada_id(&app).await;
    let ours = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["created_by_id"] == ada_id)
        .cloned()
        .expect("Ada's token");
    assert!(ours.get("token").is_none() && ours.get("token_hash").is_none());
    let (status, _) = ada
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/scim-tokens/{}/", ours["id"]),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(directory.get("/Users").await.status, 401);
    let stored: Vec<i64> = app
        .column(&format!(
            "SELECT COUNT(*) FROM scim_tokens WHERE token_hash = '{}'",
            directory.token
        ))
        .await;
    assert_eq!(stored, [0], "stored hashed");
}

async fn ada_id(app: &crate::helpers::TestApp) -> serde_json::Value {
    let ids: Vec<i64> = app
        .column("SELECT id FROM users WHERE email = 'ada@acme.test'")
        .await;
    json!(ids[0])
}

#[tokio::test]
async fn discovery_describes_only_what_is_stored() {
    let (_app, _ada, directory, _dns) = acme_directory().await;
    let config = directory.get("/ServiceProviderConfig").await;
    assert_eq!(config.status, 200);
    assert_eq!(config.body["patch"]["supported"], true);
    assert_eq!(config.body["etag"]["supported"], true);
    let types = directory.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 2);
    assert_eq!(directory.get("/ResourceTypes/User").await.status, 200);
    assert_eq!(directory.get("/ResourceTypes/Nope").await.status, 404);
    let schemas = directory.get("/Schemas").await;
    assert_eq!(schemas.body["totalResults"], 3);
    let user = directory
        .get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await;
    assert_eq!(user.status, 200);
    let names: Vec<&str> = user.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["userName", "name", "displayName", "active", "emails"]
    );
    let not_allowed = directory
        .call(Method::POST, "/ServiceProviderConfig", None, &[])
        .await;
    assert_eq!(not_allowed.status, 405);
    assert_eq!(not_allowed.body["schemas"][0], ERROR);
}

#[tokio::test]
async fn lists_filter_by_the_attributes_directories_match_on_and_page() {
    let (app, _ada, directory, _dns) = acme_directory().await;
    for n in 0..5 {
        let created = directory
            .post(
                "/Users",
                json!({"userName": format!("user-{n}"), "externalId": format!("ext-{n}"),
                       "displayName": format!("User {n}"),
                       "emails": [{"value": format!("user{n}@acme.test"), "type": "work", "primary": true}]}),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
    }
    for (query, expected) in [
        ("filter=userName+eq+%22USER-3%22", 1),
        ("filter=externalId+eq+%22ext-2%22", 1),
        ("filter=externalId+eq+%22EXT-2%22", 0),
        ("filter=emails.value+eq+%22user4%40acme.test%22", 1),
        (
            "filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22user1%40acme.test%22",
            1,
        ),
        ("filter=displayName+sw+%22User%22", 5),
        (
            "filter=userName+eq+%22user-1%22+or+userName+eq+%22user-2%22",
            2,
        ),
    ] {
        let found = directory.get(&format!("/Users?{query}")).await;
        assert_eq!(found.status, 200, "{query}: {}", found.body);
        assert_eq!(
            found.body["totalResults"], expected,
            "{query}: {}",
            found.body
        );
    }
    let page = directory.get("/Users?startIndex=2&count=2").await;
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(page.body["Resources"][0]["userName"], "user-1");
    let projected = directory.get("/Users?attributes=userName&count=1").await;
    let first = &projected.body["Resources"][0];
    assert!(
        first.get("emails").is_none() && first.get("userName").is_some(),
        "{first}"
    );
    let searched = directory
        .post(
            "/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": "userName eq \"user-0\"", "attributes": ["externalId"]}),
        )
        .await;
    assert_eq!(searched.status, 200, "{}", searched.body);
    assert_eq!(searched.body["totalResults"], 1);
    assert_eq!(searched.body["Resources"][0]["externalId"], "ext-0");
    let group = directory
        .post("/Groups", json!({"displayName": "Sales"}))
        .await;
    assert_eq!(group.status, 201);
    let groups = directory
        .get("/Groups?filter=displayName+eq+%22Sales%22")
        .await;
    assert_eq!(groups.body["totalResults"], 1);
    let bad = directory.get("/Users?filter=userName+zz+%22x%22").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["scimType"], "invalidFilter");
    // Nesting that would exhaust a stack, and a name byte-slicing would split: 400, no harm.
    let deep = format!(
        "/Users?filter={}userName+pr{}",
        "%28".repeat(3000),
        "%29".repeat(3000)
    );
    let refused = directory.get(&deep).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["scimType"], "invalidFilter");
    let foreign = directory
        .get("/Users?filter=a%C3%A9%C3%A9+pr&attributes=a%C3%A9%C3%A9")
        .await;
    assert_eq!(foreign.status, 400, "{}", foreign.body);
    // Nothing of a request is judged before its token: a stranger's filter is a 401.
    let stranger = Directory::new(&app, "acme", "orgs_scim_not-a-token");
    assert_eq!(stranger.get(&deep).await.status, 401);
}

#[tokio::test]
async fn etags_guard_writes_and_errors_are_in_scims_shape() {
    let (app, _ada, directory, _dns) = acme_directory().await;
    let user = directory.user("etag", "etag@acme.test").await;
    let path = format!("/Users/{}", user["id"].as_str().unwrap());
    let read = directory.get(&path).await;
    let version = read.headers["etag"].to_str().unwrap().to_string();
    assert_eq!(read.body["meta"]["version"], version.as_str());
    let body = json!({"Operations": [{"op": "replace", "path": "displayName", "value": "One"}]});
    let first = directory
        .call(
            Method::PATCH,
            &path,
            Some(body.clone()),
            &[("if-match", &version)],
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_ne!(first.headers["etag"].to_str().unwrap(), version);
    let stale = directory
        .call(Method::PATCH, &path, Some(body), &[("if-match", &version)])
        .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.body["schemas"][0], ERROR);
    // The resolver's 404 for an unknown organization, the router's for an unknown path.
    let unknown = Directory::new(&app, "no-such-org", &directory.token)
        .get("/Users")
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["schemas"][0], ERROR);
    let nowhere = directory.get("/Widgets").await;
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.body["schemas"][0], ERROR);
    let duplicate = directory.post("/Users", json!({"userName": "ETAG"})).await;
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.body["scimType"], "uniqueness");
    let missing = directory.post("/Users", json!({"displayName": "x"})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["scimType"], "invalidValue");
    let text = directory
        .client
        .post(format!("{}/Users", directory.base))
        .bearer_auth(&directory.token)
        .header("content-type", "text/plain")
        .body("userName=x")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 415);
    let nul = directory
        .post("/Users", json!({"userName": "a\u{0}b"}))
        .await;
    assert_eq!(nul.status, 400, "{}", nul.body);
    let unknown_op = directory
        .patch(
            &path,
            json!({"Operations": [{"op": "move", "path": "userName"}]}),
        )
        .await;
    assert_eq!(unknown_op.status, 400);
    assert_eq!(unknown_op.body["scimType"], "invalidSyntax");
}
