//! Lists that say where they are ("51–100 of 120 people") with Previous and Next links that
//! work both ways, on people, projects, invitations and "my organizations", and a search that
//! says how many match. The links and the count are the shared partial `pagination.html`.

use orgs::seed::{SeedArgs, seed};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, Visitor, World, item_names, visitor};

/// The `href` of the page's link with `rel` (`next`, `prev`), `&amp;` read as `&`.
fn link(page: &str, rel: &str) -> Option<String> {
    let at = page.find(&format!("<a rel=\"{rel}\" href=\""))?;
    let rest = &page[at..];
    let start = rest.find("href=\"")? + "href=\"".len();
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].replace("&amp;", "&"))
}

/// The names in the page's first table, in order: the text of each row's first link.
fn names_listed(page: &str) -> Vec<String> {
    let table = &page[page.find("<tbody>").expect("a table")..];
    let table = &table[..table.find("</tbody>").expect("its end")];
    table
        .split("<tr>")
        .skip(1)
        .map(|row| {
            let link = &row[row.find("<a href=").expect("a link")..];
            let text = &link[link.find('>').unwrap() + 1..];
            text[..text.find("</a>").unwrap()].to_string()
        })
        .collect()
}

/// Follows the page's `rel` link from `path` (a list's address): the page it opens.
async fn follow(client: &Visitor, path: &str, page: &str, rel: &str) -> String {
    let href = link(page, rel).unwrap_or_else(|| panic!("a {rel} link on {path}: {page}"));
    assert!(href.starts_with('?'), "{href}");
    let (status, body) = client.get(&format!("{path}{href}")).await;
    assert_eq!(status, 200, "{path}{href}: {body}");
    body
}

/// An organization of 120 people (119 seeded, and Ada, its admin) and 60 projects: its slug
/// and Ada's browser.
async fn big_team(app: &TestApp) -> (String, Visitor) {
    let args = SeedArgs {
        orgs: 1,
        members: 119,
        projects: 60,
    };
    let report = seed(app.conn(), &app.state.hasher, &args).await.unwrap();
    let (slug, _) = report.example.unwrap();
    let organization = orgs::tenancy::org_rows::by_slug(app.conn(), &slug)
        .await
        .unwrap()
        .unwrap();
    let ada = app.user("ada@team.test", "Ada Zeta").await;
    crate::rules::add_user(app.conn(), app.events(), organization.id, ada.id, true)
        .await
        .unwrap();
    (slug, visitor(app, Some("ada@team.test")).await)
}

#[tokio::test]
async fn a_list_of_120_people_shows_51_to_100_of_120_on_page_2_with_previous_and_next_that_work() {
    let app = TestApp::spawn().await;
    let (slug, ada) = big_team(&app).await;
    let path = format!("/o/{slug}/people/");
    let api = |page: u64| {
        let ada = ada.clone();
        let slug = slug.clone();
        async move {
            let (_, json) = ada
                .api(
                    Method::GET,
                    &format!("/o/{slug}/api/v1/people/?per_page=50&page={page}"),
                    None,
                )
                .await;
            item_names(&json)
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        }
    };
    let (status, first) = ada.get(&path).await;
    assert_eq!(status, 200);
    assert!(first.contains("1–50 of 120 people"), "{first}");
    assert!(
        link(&first, "prev").is_none(),
        "the first page has no Previous"
    );
    assert_eq!(names_listed(&first), api(1).await);

    let second = follow(&ada, &path, &first, "next").await;
    assert!(second.contains("51–100 of 120 people"), "{second}");
    assert_eq!(names_listed(&second), api(2).await);
    let back = follow(&ada, &path, &second, "prev").await;
    assert!(back.contains("1–50 of 120 people"), "{back}");
    assert_eq!(names_listed(&back), api(1).await);

    let third = follow(&ada, &path, &second, "next").await;
    assert!(third.contains("101–120 of 120 people"), "{third}");
    assert_eq!(names_listed(&third), api(3).await);
    assert!(link(&third, "next").is_none(), "the last page has no Next");
    // Previous from the third page pages backwards by cursor, to the same second page.
    let again = follow(&ada, &path, &third, "prev").await;
    assert!(again.contains("51–100 of 120 people"), "{again}");
    assert_eq!(names_listed(&again), api(2).await);
    assert!(link(&again, "prev").is_some() && link(&again, "next").is_some());

    // The same page by number, its links by number too.
    let (_, numbered) = ada.get(&format!("{path}?page=2")).await;
    assert!(numbered.contains("51–100 of 120 people"), "{numbered}");
    assert_eq!(names_listed(&numbered), api(2).await);
    assert_eq!(link(&numbered, "prev").unwrap(), "?page=1&per_page=50");
    assert_eq!(link(&numbered, "next").unwrap(), "?page=3&per_page=50");
    // A cursor this list did not seal is refused, as in the API.
    let (status, _) = ada.get(&format!("{path}?before=zz")).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn a_search_says_how_many_people_match_and_pages_through_them() {
    let app = TestApp::spawn().await;
    let (slug, ada) = big_team(&app).await;
    let path = format!("/o/{slug}/people/");
    let (_, everyone) = ada
        .api(
            Method::GET,
            &format!("/o/{slug}/api/v1/people/?q=ad&per_page=100"),
            None,
        )
        .await;
    let matching = everyone["items"].as_array().unwrap().len();
    assert!(matching > 10 && matching < 100, "{matching}");
    let (status, first) = ada.get(&format!("{path}?q=ad&per_page=10")).await;
    assert_eq!(status, 200);
    assert!(
        first.contains(&format!("1–10 of {matching} people match “ad”.")),
        "{first}"
    );
    let second = follow(&ada, &path, &first, "next").await;
    let to = matching.min(20);
    assert!(
        second.contains(&format!("11–{to} of {matching} people match “ad”.")),
        "{second}"
    );
    assert_eq!(
        link(&second, "prev").unwrap(),
        "?q=ad&per_page=10",
        "the search stays"
    );

    let (_, one) = ada.get(&format!("{path}?q=Ada+Zeta")).await;
    assert!(one.contains("1 person matches “Ada Zeta”."), "{one}");
    let (_, none) = ada.get(&format!("{path}?q=nobody-here")).await;
    assert!(none.contains("No one matches “nobody-here”."), "{none}");
}

#[tokio::test]
async fn projects_invitations_and_my_organizations_count_and_page_both_ways() {
    let app = TestApp::spawn_with(|s| s.auth.invitations_per_hour = 1000).await;
    let (slug, ada) = big_team(&app).await;
    let path = format!("/o/{slug}/projects/");
    let (_, first) = ada.get(&format!("{path}?per_page=25")).await;
    assert!(first.contains("1–25 of 60 projects"), "{first}");
    let second = follow(&ada, &path, &first, "next").await;
    assert!(second.contains("26–50 of 60 projects"), "{second}");
    let third = follow(&ada, &path, &second, "next").await;
    assert!(third.contains("51–60 of 60 projects"), "{third}");
    let back = follow(&ada, &path, &third, "prev").await;
    assert_eq!(names_listed(&back), names_listed(&second));

    for i in 0..5 {
        let (status, body) = ada
            .api(
                Method::POST,
                &format!("/o/{slug}/api/v1/people/"),
                Some(json!({"email": format!("guest{i}@new.test")})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let path = format!("/o/{slug}/invitations/");
    let (_, first) = ada.get(&format!("{path}?per_page=2")).await;
    assert!(first.contains("1–2 of 5 pending"), "{first}");
    assert!(first.contains("guest4@new.test") && first.contains("guest3@new.test"));
    let second = follow(&ada, &path, &first, "next").await;
    assert!(second.contains("3–4 of 5 pending"), "{second}");
    assert!(second.contains("guest2@new.test") && second.contains("guest1@new.test"));
    let third = follow(&ada, &path, &second, "next").await;
    assert!(third.contains("5 of 5 pending"), "{third}");
    let back = follow(&ada, &path, &third, "prev").await;
    assert!(back.contains("3–4 of 5 pending"), "{back}");
    assert!(back.contains("guest2@new.test") && !back.contains("guest4@new.test"));

    let w = World::build(&app).await;
    crate::rules::add_user(
        app.conn(),
        app.events(),
        w.foo_fighters.id,
        w.krist.id,
        false,
    )
    .await
    .unwrap();
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let quiet = orgs::events::Events::new();
    orgs::organizations::create_organization(app.conn(), &quiet, w.krist.id, "Krist Co")
        .await
        .unwrap();
    let (_, first) = krist.get("/organizations/?per_page=2").await;
    assert!(first.contains("1–2 of 3 organizations"), "{first}");
    assert_eq!(names_listed(&first), ["Foo Fighters", "Krist Co"]);
    let second = follow(&krist, "/organizations/", &first, "next").await;
    assert!(second.contains("3 of 3 organizations"), "{second}");
    assert_eq!(names_listed(&second), ["Nirvana"]);
    let back = follow(&krist, "/organizations/", &second, "prev").await;
    assert_eq!(names_listed(&back), ["Foo Fighters", "Krist Co"]);
}
