//! The pages a team ships (issue 31), over real HTTP as a person meets them: people with faces,
//! badges and "you" (`people.rs`), what an invitation says of its roles and its sender
//! (`invitations.rs`), lists that count and page both ways (`lists.rs`), and tables that fit a
//! phone (`tables.rs`).

mod invitations;
mod lists;
mod people;
mod tables;

use reqwest::Method;
use serde_json::json;

use crate::helpers::Visitor;

/// Makes the custom role `billing` ("Billing") in `slug` as `admin`.
pub async fn billing_role(admin: &Visitor, slug: &str) {
    let (status, body) = admin
        .api(
            Method::POST,
            &format!("/o/{slug}/api/v1/roles/"),
            Some(json!({"key": "billing", "name": "Billing", "permissions": ["projects.read"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// Gives `user_id` exactly `roles` in `slug`, as `admin`.
pub async fn give_roles(admin: &Visitor, slug: &str, user_id: i64, roles: &[&str]) {
    let (status, body) = admin
        .api(
            Method::PATCH,
            &format!("/o/{slug}/api/v1/people/{user_id}/"),
            Some(json!({ "roles": roles })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The HTML of the first element of `page` that starts with `start`, up to and including `end`.
pub fn piece<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} in {page}"));
    let rest = &page[from..];
    let to = rest
        .find(end)
        .unwrap_or_else(|| panic!("{end:?} after {start:?} in {page}"));
    &rest[..to + end.len()]
}

/// The first table row of `page` that holds `text` (the header's links may hold it too).
pub fn row_with<'a>(page: &'a str, text: &str) -> &'a str {
    let table = page
        .find("<table")
        .unwrap_or_else(|| panic!("a table in {page}"));
    let at = table
        + page[table..]
            .find(text)
            .unwrap_or_else(|| panic!("{text:?} in a table of {page}"));
    let start = page[..at].rfind("<tr").expect("a row around it");
    let end = at + page[at..].find("</tr>").expect("the row's end");
    &page[start..end]
}
