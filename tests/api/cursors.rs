//! List cursors are sealed: a `next` shows nothing of the row it stands for, one altered by a
//! character or carried to another list is a 422 naming `after`, and the caller's
//! organizations page by cursor like every other list.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, World, item_names, visitor};

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The first page of `path` with one row: its first item and its `next`.
async fn first_of(client: &crate::helpers::Visitor, path: &str) -> (Value, String) {
    let (status, page) = client.api(Method::GET, path, None).await;
    assert_eq!(status, 200, "{path}: {page}");
    let next = page["next"].as_str().expect("a next page").to_string();
    (page["items"][0].clone(), next)
}

fn refused_naming_after(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 422, "{what}: {body}");
    assert!(
        body["error"]["fields"]["after"].is_array(),
        "{what}: {body}"
    );
}

#[tokio::test]
async fn a_list_cursor_shows_nothing_of_the_row_it_stands_for() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (person, next) = first_of(&kurt, "/o/nirvana/api/v1/people/?per_page=1").await;
    let name = person["name"].as_str().unwrap();
    let id = person["user_id"].to_string();
    assert!(
        next.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{next}"
    );
    let bytes: Vec<u8> = (0..next.len() / 2)
        .map(|i| u8::from_str_radix(&next[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let decoded = String::from_utf8_lossy(&bytes).to_lowercase();
    for shown in [name.to_string(), name.to_lowercase()] {
        let hex = hex_of(&shown);
        assert!(!next.contains(&hex), "{next} holds the hex of {shown:?}");
        assert!(
            !next.to_lowercase().contains(&shown.to_lowercase()),
            "{next}"
        );
        assert!(
            !decoded.contains(&shown.to_lowercase()),
            "{next} decodes to {shown:?}"
        );
        assert!(
            !decoded.contains(&format!("{id}:")),
            "{next} decodes to its id"
        );
    }
}

#[tokio::test]
async fn a_cursor_with_any_one_character_changed_is_a_422_naming_after() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let path = "/o/nirvana/api/v1/people/?per_page=1";
    let (_, next) = first_of(&kurt, path).await;
    let (status, _) = kurt
        .api(Method::GET, &format!("{path}&after={next}"), None)
        .await;
    assert_eq!(status, 200, "the cursor as given");
    for i in 0..next.len() {
        let mut altered = next.clone().into_bytes();
        altered[i] = if altered[i] == b'0' { b'1' } else { b'0' };
        let altered = String::from_utf8(altered).unwrap();
        let (status, body) = kurt
            .api(Method::GET, &format!("{path}&after={altered}"), None)
            .await;
        refused_naming_after(status, &body, &format!("character {i}"));
    }
}

#[tokio::test]
async fn a_cursor_from_one_list_is_refused_by_another() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let (_, people) = first_of(&kurt, "/o/nirvana/api/v1/people/?per_page=1").await;
    let (_, mine) = first_of(&dave, "/api/v1/organizations/?per_page=1").await;
    for (client, path) in [
        (&kurt, format!("/o/nirvana/api/v1/projects/?after={people}")),
        (&dave, format!("/api/v1/organizations/?after={people}")),
        (&kurt, format!("/o/nirvana/api/v1/people/?after={mine}")),
    ] {
        let (status, body) = client.api(Method::GET, &path, None).await;
        refused_naming_after(status, &body, &path);
    }
}

#[tokio::test]
async fn my_organizations_page_by_cursor_in_the_envelope_of_every_list() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let path = "/api/v1/organizations/?per_page=1";
    let (status, first) = dave.api(Method::GET, path, None).await;
    assert_eq!(status, 200, "{first}");
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["items", "next", "page", "per_page", "total"],
        "{first}"
    );
    assert_eq!(first["total"], 2);
    let next = first["next"].as_str().unwrap();
    let (status, second) = dave
        .api(Method::GET, &format!("{path}&after={next}"), None)
        .await;
    assert_eq!(status, 200, "{second}");
    assert!(second["next"].is_null(), "{second}");
    let names: Vec<&str> = item_names(&first)
        .into_iter()
        .chain(item_names(&second))
        .collect();
    assert_eq!(names, ["Foo Fighters", "Nirvana"]);
    let (_, by_page) = dave.api(Method::GET, &format!("{path}&page=2"), None).await;
    assert_eq!(by_page["items"], second["items"], "?page= is still served");
    let document: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let operation = &document["paths"]["/api/v1/organizations/"]["get"];
    let parameters: Vec<&str> = operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(parameters, ["after", "page", "per_page"]);
    let schema = &operation["responses"]["200"]["content"]["application/json"]["schema"];
    let schema = match schema["$ref"].as_str() {
        Some(at) => &document["components"]["schemas"][at.rsplit('/').next().unwrap()],
        None => schema,
    };
    assert!(schema["properties"]["next"].is_object(), "{schema}");
}

#[tokio::test]
async fn a_list_paged_by_id_hides_the_id_and_refuses_a_bare_one() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        let body = serde_json::json!({ "email": email });
        let (status, _) = kurt
            .api(Method::POST, "/o/nirvana/api/v1/people/", Some(body))
            .await;
        assert_eq!(status, 201);
    }
    let path = "/o/nirvana/api/v1/invitations/?per_page=1";
    let (first, next) = first_of(&kurt, path).await;
    let id = first["id"].as_i64().unwrap();
    assert_ne!(next, id.to_string(), "the cursor is not the id");
    assert!(!next.contains(&hex_of(&id.to_string())), "{next}");
    let (status, page) = kurt
        .api(Method::GET, &format!("{path}&after={next}"), None)
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page["items"][0]["id"].as_i64().unwrap() < id);
    for (forged, what) in [
        (id.to_string(), "a bare id"),
        (hex_of(&format!("{id}:")), "the hex of the plain text"),
    ] {
        let (status, body) = kurt
            .api(Method::GET, &format!("{path}&after={forged}"), None)
            .await;
        refused_naming_after(status, &body, what);
    }
    let audit = format!("/o/nirvana/api/v1/audit-events/?per_page=1&after={next}");
    let (status, body) = kurt.api(Method::GET, &audit, None).await;
    refused_naming_after(status, &body, "an invitations cursor on the audit log");
}
