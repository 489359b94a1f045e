//! Input that reached a 500: page numbers, control and invisible characters, search
//! wildcards.

use super::*;

#[tokio::test]
async fn page_numbers_past_any_list_are_refused_not_500() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for list in [
        "/o/nirvana/people/",
        "/o/nirvana/api/v1/people/",
        "/o/nirvana/projects/",
        "/o/nirvana/api/v1/projects/",
    ] {
        for page in [
            "10000001",
            "9223372036854775807",
            "18446744073709551615",
            "99999999999999999999999",
            "-1",
        ] {
            let (status, body) = kurt.get(&format!("{list}?page={page}")).await;
            // A 422 about `page` since issue 17 (a 400 before; never a 500).
            assert_eq!(status, 422, "{list}?page={page}");
            if list.contains("/api/") {
                let json: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert!(json["error"]["fields"]["page"].is_array(), "{json}");
            }
        }
        let (status, _) = kurt
            .get(&format!("{list}?page=10000000&per_page=100"))
            .await;
        assert_eq!(
            status, 200,
            "{list}: the last page number served is empty, not an error"
        );
    }
}

/// Texts no stored field may hold: control characters (NUL first: PostgreSQL refuses it, SQLite
/// stored it) and, in names, characters that reorder or hide text.
const BAD_NAMES: &[&str] = &[
    "nul\u{0}name",
    "esc\u{1b}[31mname",
    "line\nbreak",
    "evil\u{202E}gpj.exe",
    "zero\u{200B}width",
    "\u{2066}isolate",
];

#[tokio::test]
async fn control_and_invisible_characters_are_refused_in_every_stored_name() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let fields: Vec<(reqwest::Method, &str, &str)> = vec![
        (reqwest::Method::POST, "/o/nirvana/api/v1/projects/", "name"),
        (reqwest::Method::PATCH, "/api/v1/account/", "name"),
        (
            reqwest::Method::PATCH,
            "/o/nirvana/api/v1/organization/",
            "name",
        ),
        (reqwest::Method::POST, "/api/v1/organizations/", "name"),
        (reqwest::Method::POST, "/o/nirvana/api/v1/api-keys/", "name"),
    ];
    for bad in BAD_NAMES {
        for (method, path, field) in &fields {
            let (status, _, body) = send(
                &kurt,
                method.clone(),
                path,
                Some(serde_json::json!({ *field: bad })),
            )
            .await;
            assert_eq!(status, 422, "{method} {path} {bad:?}: {body}");
            assert!(
                body["error"]["fields"][field].is_array(),
                "{method} {path} {bad:?}: {body}"
            );
        }
        let signup = sign_up_as(&app, "127.0.0.1", "fresh@example.com", bad).await;
        let page = signup.text().await.unwrap();
        assert!(!page.contains("Check your email"), "sign-up with {bad:?}");
    }
    let (status, _, _) = send(
        &kurt,
        reqwest::Method::POST,
        "/o/nirvana/api/v1/projects/",
        Some(serde_json::json!({"name": "Fine", "description": "a\u{0}b"})),
    )
    .await;
    assert_eq!(status, 422, "a NUL in a description");
    let (status, _, _) = send(
        &kurt,
        reqwest::Method::POST,
        "/o/nirvana/api/v1/projects/",
        Some(serde_json::json!({"name": "Fine", "description": "line one\nline\ttwo"})),
    )
    .await;
    assert_eq!(
        status, 201,
        "line breaks and tabs in a description are fine"
    );

    // Nothing of the refused input was stored.
    assert_eq!(project::Entity::find().count(app.conn()).await.unwrap(), 1);
    let kurt_row = user::Entity::find_by_id(world.kurt.id)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kurt_row.name, world.kurt.name);
    assert_eq!(
        user::Entity::find()
            .filter(user::Column::Email.eq("fresh@example.com"))
            .count(app.conn())
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_control_character_in_a_search_is_refused_not_500() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for path in [
        "/o/nirvana/api/v1/people/?q=%00",
        "/o/nirvana/people/?q=a%00b",
    ] {
        // Issue 17: a field error, 422 naming `q` (it was a 400), like every invalid parameter.
        let (status, _) = kurt.get(path).await;
        assert_eq!(status, 422, "{path}");
    }
}

#[tokio::test]
async fn a_search_treats_percent_and_underscore_as_letters() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for q in ["%25", "_", "%25%25", "\\"] {
        let (status, _, list) = send(
            &kurt,
            reqwest::Method::GET,
            &format!("/o/nirvana/api/v1/people/?q={q}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            list["items"].as_array().unwrap().len(),
            0,
            "q={q} matched {list}"
        );
        assert!(list["total"].is_null(), "a search is not counted: {list}");
    }
    let pure = app.user("pure@nirvana.com", "100% Pure_Joy").await;
    crate::rules::add_user(app.conn(), app.events(), world.nirvana.id, pure.id, false)
        .await
        .unwrap();
    for q in ["%25", "_", "0%25 P"] {
        let (_, _, list) = send(
            &kurt,
            reqwest::Method::GET,
            &format!("/o/nirvana/api/v1/people/?q={q}"),
            None,
        )
        .await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "q={q}: {list}");
        assert_eq!(
            list["items"][0]["email"], "pure@nirvana.com",
            "q={q}: {list}"
        );
    }
}

// --- Outage ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_nul_or_a_megabyte_in_a_login_or_a_slug_is_refused_not_500() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let long = format!("{}@example.com", "a".repeat(1_000_000));
    for email in ["kurt\u{0}@nirvana.com", "\u{0}", "a\u{1b}b@nirvana.com"] {
        let response = login_as(&app, "127.0.0.1", email, "wrong password!").await;
        // A NUL is refused where the request enters, before any handler (a 422 naming the
        // field, `web::input`); other control characters are a refused login.
        let (status, names) = match email.contains('\u{0}') {
            true => (422, "email: must not contain a NUL character"),
            false => (200, ""),
        };
        assert_eq!(
            response.status(),
            status,
            "{email:?}: a refused login, not an error"
        );
        assert!(response.text().await.unwrap().contains(names), "{email:?}");
    }
    let response = login_as(&app, "127.0.0.1", &long, "wrong password!").await;
    assert!(
        response.status().is_client_error(),
        "a megabyte of address: {}",
        response.status()
    );
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for path in ["/go/%00/", "/go/a%00b/", "/o/a%00b/people/"] {
        let (status, _) = kurt.get(path).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn a_new_person_accepting_an_invitation_gets_the_name_rules_of_every_account() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let invited = kurt
        .post_form("/o/nirvana/people/add/", &[("email", "newbie@example.com")])
        .await;
    assert_eq!(invited.status(), 303);
    let mail = app.wait_for_mail("newbie@example.com", 1).await;
    let link = path_of(&crate::helpers::link_in(&mail[0].text, "/invitations/"));
    for bad in BAD_NAMES {
        let answer = post_as(
            &app,
            "127.0.0.1",
            &link,
            &[
                ("action", "accept"),
                ("name", bad),
                ("password", "a long enough password"),
            ],
        )
        .await;
        // A NUL is refused where the request enters, naming the field (`web::input`).
        let (status, reason) = match bad.contains('\u{0}') {
            true => (422, "name: must not contain a NUL character"),
            false => (200, "errorlist"),
        };
        assert_eq!(
            answer.status(),
            status,
            "{bad:?}: the form again, not a 500"
        );
        assert!(
            answer.text().await.unwrap().contains(reason),
            "{bad:?}: the reason beside the field"
        );
    }
    assert_eq!(
        user::Entity::find()
            .filter(user::Column::Email.eq("newbie@example.com"))
            .count(app.conn())
            .await
            .unwrap(),
        0
    );
}

/// Names that are nothing but white space: each would be stored as `""`.
const BLANK_NAMES: &[&str] = &[" ", "   ", "\u{a0}", "\u{3000}"];

#[tokio::test]
async fn a_name_of_only_white_space_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for (n, blank) in BLANK_NAMES.iter().enumerate() {
        for (method, path, body) in [
            (
                reqwest::Method::POST,
                "/o/nirvana/api/v1/projects/",
                serde_json::json!({"name": blank}),
            ),
            (
                reqwest::Method::PATCH,
                "/api/v1/account/",
                serde_json::json!({"name": blank}),
            ),
            (
                reqwest::Method::PATCH,
                "/o/nirvana/api/v1/organization/",
                serde_json::json!({"name": blank}),
            ),
            (
                reqwest::Method::POST,
                "/api/v1/organizations/",
                serde_json::json!({"name": blank}),
            ),
            (
                reqwest::Method::POST,
                "/o/nirvana/api/v1/api-keys/",
                serde_json::json!({"name": blank}),
            ),
            (
                reqwest::Method::POST,
                "/o/nirvana/api/v1/roles/",
                serde_json::json!({"key": format!("blank-{n}"), "name": blank}),
            ),
        ] {
            let (status, _, answer) = send(&kurt, method.clone(), path, Some(body)).await;
            assert_eq!(status, 422, "{method} {path} {blank:?}: {answer}");
            assert!(
                answer["error"]["fields"]["name"].is_array(),
                "{method} {path} {blank:?}: {answer}"
            );
        }
        // The forms show the reason beside the field.
        for (path, fields) in [
            ("/account/", vec![("name", *blank)]),
            ("/account/tokens/", vec![("name", *blank)]),
            ("/o/nirvana/projects/new/", vec![("name", *blank)]),
        ] {
            let answer = kurt.post_form(path, &fields).await;
            assert_eq!(answer.status(), 200, "{path} {blank:?}");
            assert!(
                answer.text().await.unwrap().contains("errorlist"),
                "{path} {blank:?}"
            );
        }
        let signup = sign_up_as(&app, "127.0.0.1", "fresh@example.com", blank).await;
        let page = signup.text().await.unwrap();
        assert!(!page.contains("Check your email"), "sign-up with {blank:?}");
    }
    // Nothing was stored under an empty name.
    assert_eq!(project::Entity::find().count(app.conn()).await.unwrap(), 0);
    assert_eq!(
        entity::api_token::Entity::find()
            .count(app.conn())
            .await
            .unwrap(),
        0
    );
    let kurt_row = user::Entity::find_by_id(world.kurt.id)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kurt_row.name, world.kurt.name);
}

#[tokio::test]
async fn descriptions_refuse_the_invisible_characters_names_refuse() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let invisible = [
        "evil\u{202E}gpj.exe",
        "a\u{202A}b",
        "\u{2066}isolate\u{2069}",
        "zero\u{200B}width",
        "word\u{2060}joiner",
        "\u{FEFF}bom",
        "\u{200D}edge joiner",
    ];
    for (n, bad) in invisible.iter().enumerate() {
        for (path, body) in [
            (
                "/o/nirvana/api/v1/projects/",
                serde_json::json!({"name": format!("Project {n}"), "description": bad}),
            ),
            (
                "/o/nirvana/api/v1/roles/",
                serde_json::json!({"key": format!("role-{n}"), "name": "Role", "description": bad}),
            ),
        ] {
            let (status, _, answer) = send(&kurt, reqwest::Method::POST, path, Some(body)).await;
            assert_eq!(status, 422, "{path} {bad:?}: {answer}");
            assert!(
                answer["error"]["fields"]["description"].is_array(),
                "{path} {bad:?}: {answer}"
            );
        }
    }
    // Lines, tabs and joiners inside words stay allowed.
    for (n, fine) in [
        "line one\nline\ttwo",
        "دانش\u{200C}گاه",
        "👩\u{200D}💻 team",
    ]
    .iter()
    .enumerate()
    {
        for (path, body) in [
            (
                "/o/nirvana/api/v1/projects/",
                serde_json::json!({"name": format!("Fine {n}"), "description": fine}),
            ),
            (
                "/o/nirvana/api/v1/roles/",
                serde_json::json!({"key": format!("fine-{n}"), "name": "Fine", "description": fine}),
            ),
        ] {
            let (status, _, answer) = send(&kurt, reqwest::Method::POST, path, Some(body)).await;
            assert_eq!(status, 201, "{path} {fine:?}: {answer}");
        }
    }
}
