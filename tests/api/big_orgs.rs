//! Big organizations (issue 20): lists read by keyset cursor in a stable order, counts kept per
//! organization in the transaction that changes them, and search through the trigram indexes,
//! all over HTTP on a real database.

use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Visitor, World, item_names, visitor};

/// Adds people named `names` to Nirvana (emails from their first names).
async fn join_nirvana(app: &TestApp, world: &World, names: &[&str]) {
    for (i, name) in names.iter().enumerate() {
        let email = format!(
            "{}{i}@bands.test",
            name.split(' ')
                .next()
                .unwrap()
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "u")
        );
        let user = app.user(&email, name).await;
        crate::rules::add_user(app.conn(), app.events(), world.nirvana.id, user.id, false)
            .await
            .unwrap();
    }
}

/// Every page of a JSON list from `path` (which has its `?...&per_page=`) followed by `next`:
/// the pages' bodies.
async fn walk(client: &Visitor, path: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut url = path.to_string();
    loop {
        let (status, page) = client.api(Method::GET, &url, None).await;
        assert_eq!(status, 200, "{url}: {page}");
        let next = page["next"].as_str().map(str::to_string);
        pages.push(page);
        match next {
            Some(next) => url = format!("{path}&after={next}"),
            None => return pages,
        }
        assert!(pages.len() < 100, "the cursor goes round in circles");
    }
}

fn names_of(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| item_names(p).into_iter().map(str::to_string))
        .collect()
}

/// The display names of the people, lowercased, as the list orders them (ties by user id).
const BAND: &[&str] = &[
    "zed zulu",
    "Amy Alpha",
    "bob beta",
    "Bob Beta",
    "Carla Gamma",
    "Dmitri Delta",
    "Eve Epsilon",
    "Ünal Umlaut",
    "Frank Phi",
];

#[tokio::test]
async fn people_pages_by_cursor_list_everyone_once_in_name_order_with_the_kept_count() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    join_nirvana(&app, &world, BAND).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let pages = walk(&kurt, "/o/nirvana/api/v1/people/?per_page=4").await;
    let mut expected: Vec<String> = BAND
        .iter()
        .map(|s| s.to_string())
        .chain(["Kurt Cobain", "Krist Novoselic", "Dave Grohl"].map(String::from))
        .collect();
    // By lowercased name; the two "bob beta" by user id, the earlier made first.
    expected.sort_by_key(|name| name.to_lowercase());
    assert_eq!(names_of(&pages), expected);
    assert_eq!(pages.len(), 3, "12 people, 4 a page");
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(page["total"], 12, "page {i}: {page}");
        assert_eq!(page["per_page"], 4);
        // The first page is page 1; the ones after a cursor have no number.
        assert_eq!(
            page.get("page").cloned(),
            (i == 0).then(|| json!(1)),
            "{page}"
        );
    }
    assert!(pages[2]["next"].is_null());

    // A page by number is the slower path, and it hands out a cursor too.
    let (_, second) = kurt
        .api(
            Method::GET,
            "/o/nirvana/api/v1/people/?per_page=4&page=2",
            None,
        )
        .await;
    assert_eq!(second["items"], pages[1]["items"]);
    assert_eq!(second["page"], 2);
    assert_eq!(second["next"], pages[1]["next"]);
    let (_, last) = kurt
        .api(
            Method::GET,
            "/o/nirvana/api/v1/people/?per_page=4&page=3",
            None,
        )
        .await;
    assert_eq!(last["items"], pages[2]["items"]);
    assert!(last["next"].is_null(), "{last}");
    let (_, beyond) = kurt
        .api(
            Method::GET,
            "/o/nirvana/api/v1/people/?per_page=4&page=4",
            None,
        )
        .await;
    assert_eq!(beyond["items"], json!([]));
    assert_eq!(beyond["total"], 12);
}

#[tokio::test]
async fn a_renamed_person_moves_in_the_order_in_every_organization_they_belong_to() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    join_nirvana(&app, &world, &["Amy Alpha"]).await;
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let (status, _) = dave
        .api(
            Method::PATCH,
            "/api/v1/account/",
            Some(json!({"name": "Aaron Aardvark"})),
        )
        .await;
    assert_eq!(status, 200);
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (_, nirvana) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/people/", None)
        .await;
    assert_eq!(
        item_names(&nirvana),
        [
            "Aaron Aardvark",
            "Amy Alpha",
            "Krist Novoselic",
            "Kurt Cobain"
        ]
    );
    // Foo Fighters too (Dave owns it): the change crosses organizations.
    let (_, foo) = dave
        .api(Method::GET, "/o/foo-fighters/api/v1/people/", None)
        .await;
    assert_eq!(item_names(&foo), ["Aaron Aardvark"]);
    // Without a name (the account page may clear it) the email stands in, in the order as on
    // the page.
    let cleared = dave.post_form("/account/", &[("name", "")]).await;
    assert!(cleared.status().is_redirection(), "{}", cleared.status());
    let (_, nirvana) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/people/", None)
        .await;
    let emails: Vec<&str> = nirvana["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        [
            "amy0@bands.test",
            "dave@foo.com",
            "krist@nirvana.com",
            "kurt@nirvana.com"
        ]
    );
}

#[tokio::test]
async fn a_cursor_that_no_page_gave_is_a_422_naming_after_and_page_with_after_too() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (_, first) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/people/?per_page=1", None)
        .await;
    let next = first["next"].as_str().unwrap().to_string();
    for (query, field) in [
        ("after=zz".to_string(), "after"),
        ("after=".to_string(), "after"),
        (format!("after={}", hex_of("0:x")), "after"),
        (format!("after={}", hex_of("no id")), "after"),
        // PostgreSQL refuses a NUL in text: a 422, not its error as a 500.
        (format!("after={}", hex_of("1:a\u{0}b")), "after"),
        (format!("after={next}&page=2"), "page"),
    ] {
        for list in ["people", "projects"] {
            let (status, body) = kurt
                .api(
                    Method::GET,
                    &format!("/o/nirvana/api/v1/{list}/?{query}"),
                    None,
                )
                .await;
            assert_eq!(status, 422, "{list}?{query}: {body}");
            assert!(
                body["error"]["fields"][field].is_array(),
                "{list}?{query}: {body}"
            );
        }
    }
    // A page's form submits its empty fields: there an empty cursor is the first page.
    let (status, _) = kurt.get("/o/nirvana/people/?q=&after=").await;
    assert_eq!(status, 200);
    let (status, _) = kurt.get("/o/nirvana/people/?after=zz").await;
    assert_eq!(status, 422);
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn projects_pages_by_cursor_list_each_once_by_name_then_id_with_the_kept_count() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let names = ["Beta", "Alpha", "Beta", "Gamma", "Alpha", "Delta", "Beta"];
    let mut ids = Vec::new();
    for name in names {
        let (status, body) = kurt
            .api(
                Method::POST,
                "/o/nirvana/api/v1/projects/",
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push((name, body["id"].as_i64().unwrap()));
    }
    let pages = walk(&kurt, "/o/nirvana/api/v1/projects/?per_page=3").await;
    let listed: Vec<(String, i64)> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().clone())
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut expected: Vec<(String, i64)> = ids.iter().map(|(n, id)| (n.to_string(), *id)).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(pages.iter().all(|p| p["total"] == 7), "{pages:?}");

    let (status, _) = kurt
        .api(
            Method::DELETE,
            &format!("/o/nirvana/api/v1/projects/{}/", ids[0].1),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, list) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/projects/", None)
        .await;
    assert_eq!(list["total"], 6);
    // The page shows the count and a Next link by cursor.
    let (_, page) = kurt.get("/o/nirvana/projects/?per_page=4").await;
    assert!(page.contains("6 projects."), "{page}");
    assert!(
        page.contains("&amp;per_page=4\">Next</a>") && page.contains("?after="),
        "{page}"
    );
}

/// The counts the dashboard shows, read from its page: members, pending invitations, projects.
async fn dashboard_counts(client: &Visitor) -> String {
    let (status, page) = client.get("/o/nirvana/").await;
    assert_eq!(status, 200);
    let strong: Vec<&str> = page
        .split("<strong>")
        .skip(1)
        .map(|s| s.split("</strong>").next().unwrap())
        .take(3)
        .collect();
    strong.join(" ")
}

async fn totals(client: &Visitor) -> (Value, Value, Value) {
    let get = |path: &'static str| async move {
        let (status, list) = client.api(Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {list}");
        list["total"].clone()
    };
    (
        get("/o/nirvana/api/v1/people/").await,
        get("/o/nirvana/api/v1/invitations/").await,
        get("/o/nirvana/api/v1/projects/").await,
    )
}

async fn execute(app: &TestApp, sql: &str) {
    let backend = app.conn().get_database_backend();
    app.conn()
        .execute_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_counts_follow_every_change_and_an_invitation_past_its_time_stops_counting_at_once() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    assert_eq!(totals(&kurt).await, (json!(3), json!(0), json!(0)));
    let mut invited = Vec::new();
    for who in ["a", "b", "c"] {
        let (status, body) = kurt
            .api(
                Method::POST,
                "/o/nirvana/api/v1/people/",
                Some(json!({"email": format!("{who}@new.test")})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        invited.push(body["id"].as_i64().unwrap());
    }
    kurt.api(
        Method::POST,
        "/o/nirvana/api/v1/projects/",
        Some(json!({"name": "Nevermind"})),
    )
    .await;
    assert_eq!(totals(&kurt).await, (json!(3), json!(3), json!(1)));
    assert_eq!(dashboard_counts(&kurt).await, "3 3 1");

    // Revoked: gone from the count.
    let (status, _) = kurt
        .api(
            Method::POST,
            &format!("/o/nirvana/api/v1/invitations/{}/revoke/", invited[0]),
            None,
        )
        .await;
    assert!(status == 200 || status == 204, "{status}");
    assert_eq!(totals(&kurt).await.1, json!(2));

    // Accepted: one invitation fewer, one member more.
    app.user("b@new.test", "Bea New").await;
    let mail = app.wait_for_mail("b@new.test", 1).await;
    let link = crate::helpers::path_of(&crate::helpers::link_in(&mail[0].text, "/invitations/"));
    let bea = visitor(&app, Some("b@new.test")).await;
    let response = bea.post_form(&link, &[("action", "accept")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(totals(&kurt).await, (json!(4), json!(1), json!(1)));

    // Past its time: not pending any more, before and after the sweep marks it.
    execute(
        &app,
        &format!(
            "UPDATE organization_invitations SET expires_at = created_at WHERE id = {}",
            invited[2]
        ),
    )
    .await;
    assert_eq!(totals(&kurt).await.1, json!(0));
    let (_, expired) = kurt
        .api(
            Method::GET,
            "/o/nirvana/api/v1/invitations/?status=expired",
            None,
        )
        .await;
    assert_eq!(expired["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        orgs::invitations::sweep_lapsed(app.conn()).await.unwrap(),
        1
    );
    assert_eq!(
        orgs::invitations::sweep_lapsed(app.conn()).await.unwrap(),
        0
    );
    assert_eq!(totals(&kurt).await.1, json!(0));
    // Sent again, it is pending again and counted again.
    let (status, body) = kurt
        .api(
            Method::POST,
            &format!("/o/nirvana/api/v1/invitations/{}/resend/", invited[2]),
            None,
        )
        .await;
    assert!(status < 300, "{status} {body}");
    assert_eq!(totals(&kurt).await.1, json!(1));

    // A member leaves: one fewer.
    let response = kurt
        .send(
            Method::DELETE,
            &format!("/o/nirvana/api/v1/people/{}/", bea_id(&app).await),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(totals(&kurt).await, (json!(3), json!(1), json!(1)));

    // The kept counts agree with counting the rows.
    let counted = app.column::<i64>(
        "SELECT (SELECT count(*) FROM organization_users WHERE organization_id = c.organization_id) \
         - c.members + (SELECT count(*) FROM projects WHERE organization_id = c.organization_id) \
         - c.projects FROM organization_counts AS c",
    )
    .await;
    assert!(counted.iter().all(|d| *d == 0), "{counted:?}");
    assert_eq!(
        app.column::<i64>("SELECT count(*) FROM organizations")
            .await,
        app.column::<i64>("SELECT count(*) FROM organization_counts")
            .await,
        "every organization has its row"
    );
}

async fn bea_id(app: &TestApp) -> i64 {
    app.column::<i64>("SELECT id FROM users WHERE email = 'b@new.test'")
        .await[0]
}

#[tokio::test]
async fn search_finds_a_substring_of_a_name_or_email_in_any_case_and_pages_by_cursor() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    join_nirvana(&app, &world, BAND).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let search = |q: &str| {
        let kurt = kurt.clone();
        let q = q.to_string();
        async move {
            let (status, list) = kurt
                .api(
                    Method::GET,
                    &format!("/o/nirvana/api/v1/people/?q={q}"),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{q}: {list}");
            assert!(list["total"].is_null(), "{q}: {list}");
            item_names(&list)
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        }
    };
    // Inside a word, any case, three characters and more (the trigram index) and fewer (the
    // scan), in the name or in the email.
    assert_eq!(search("ETA").await, ["bob beta", "Bob Beta"]);
    assert_eq!(search("ELT").await, ["Dmitri Delta"]);
    assert_eq!(search("psil").await, ["Eve Epsilon"]);
    assert_eq!(search("ph").await, ["Amy Alpha", "Frank Phi"]);
    assert_eq!(search("Hi").await, ["Frank Phi"]);
    assert_eq!(
        search("@nirvana.c").await,
        ["Krist Novoselic", "Kurt Cobain"]
    );
    assert_eq!(search("bands.test").await.len(), BAND.len());
    assert_eq!(search("ünal").await, ["Ünal Umlaut"]);
    assert_eq!(
        search("a%20Gam").await,
        ["Carla Gamma"],
        "spaces are letters too"
    );
    // Characters that mean something to the indexes' query languages are letters.
    for q in [
        "%22",
        "a%22b",
        "%22%22%22",
        "*",
        "bet*",
        "NEAR(a",
        "a%20OR%20b",
        "%25%25%25",
        "___",
    ] {
        assert!(search(q).await.is_empty(), "{q}");
    }
    // Other organizations' people never match.
    assert!(search("dave@foo").await.len() == 1, "Dave is in Nirvana");
    assert!(search("duder").await.is_empty());
    // Through the pages of a search by cursor.
    let pages = walk(&kurt, "/o/nirvana/api/v1/people/?q=bands&per_page=2").await;
    assert_eq!(names_of(&pages).len(), BAND.len());
    assert!(pages.iter().all(|p| p["total"].is_null()));
}

#[tokio::test]
async fn the_invitations_page_reads_a_page_at_a_time_newest_first_with_the_count() {
    let app = TestApp::spawn_with(|s| s.auth.invitations_per_hour = 1000).await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for i in 0..5 {
        let (status, body) = kurt
            .api(
                Method::POST,
                "/o/nirvana/api/v1/people/",
                Some(json!({"email": format!("guest{i}@new.test")})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, first) = kurt.get("/o/nirvana/invitations/?per_page=2").await;
    assert_eq!(status, 200);
    assert!(first.contains("5 pending."), "{first}");
    assert!(first.contains("guest4@new.test") && first.contains("guest3@new.test"));
    assert!(!first.contains("guest2@new.test"), "{first}");
    let after = first
        .split("?after=")
        .nth(1)
        .and_then(|s| s.split("&amp;").next())
        .expect("an Older link");
    let (_, second) = kurt
        .get(&format!("/o/nirvana/invitations/?after={after}&per_page=2"))
        .await;
    assert!(second.contains("guest2@new.test") && second.contains("guest1@new.test"));
    assert!(!second.contains("guest4@new.test"), "{second}");
    let pages = walk(&kurt, "/o/nirvana/api/v1/invitations/?per_page=2").await;
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|p| p["total"] == 5), "{pages:?}");
}
