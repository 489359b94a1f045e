//! Tables that fit a phone: on these pages every table stacks (`class="stack"`), every cell
//! says what it holds (`data-label`, which the phone layout shows beside it) or holds the row's
//! buttons, and a cell's badges wrap as one block rather than push the row wider than the
//! screen.

use reqwest::Method;
use serde_json::json;

use super::billing_role;
use crate::helpers::{TestApp, World, visitor};

/// Each `<table ...>...</table>` of `page`.
fn tables(page: &str) -> Vec<&str> {
    page.split("<table")
        .skip(1)
        .map(|rest| &rest[..rest.find("</table>").expect("a table's end")])
        .collect()
}

#[tokio::test]
async fn every_table_on_these_pages_stacks_on_a_phone_with_each_cell_labelled() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    billing_role(&kurt, "nirvana").await;
    for (path, body) in [
        (
            "/o/nirvana/api/v1/people/",
            json!({"email": "roadie@yahoo.com", "roles": ["member", "billing"]}),
        ),
        ("/o/nirvana/api/v1/projects/", json!({"name": "Nevermind"})),
    ] {
        let (status, body) = kurt.api(Method::POST, path, Some(body)).await;
        assert_eq!(status, 201, "{body}");
    }
    let pages = [
        "/o/nirvana/people/".to_string(),
        "/o/nirvana/invitations/".to_string(),
        "/o/nirvana/projects/".to_string(),
        "/organizations/".to_string(),
        format!("/o/nirvana/people/{}/", w.dave.id),
    ];
    let mut seen = 0;
    for path in &pages {
        let (status, page) = kurt.get(path).await;
        assert_eq!(status, 200, "{path}");
        for table in tables(&page) {
            seen += 1;
            assert!(
                table.starts_with(" class=\"stack\""),
                "{path}: <table{table}"
            );
            for cell in table.split("<td").skip(1) {
                assert!(
                    cell.starts_with(" data-label=\"") || cell.starts_with(" class=\"actions\""),
                    "{path}: a cell without a label: <td{cell}"
                );
                let cell = &cell[..cell.find("</td>").expect("a cell's end")];
                if cell.contains("class=\"badge ") {
                    assert!(
                        cell.contains("><span class=\"badges\">"),
                        "{path}: badges wrap as one block: <td{cell}"
                    );
                }
            }
        }
    }
    assert_eq!(
        seen, 5,
        "people and pending, invitations, projects, organizations"
    );
}
