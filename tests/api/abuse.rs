//! Abuse resistance over real HTTP, each case from an outside probe of the release server:
//! redirects that stay on this site, throttling that cannot lock the right person out, mail that
//! cannot be used as a weapon, rules that hold under races, input that cannot reach a 500, and
//! a database outage that answers 503 at once.

use std::time::{Duration, Instant};

use entity::{organization, project, user};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{
    PASSWORD, TestApp, Visitor, World, browser, csrf_from, get_on, location, path_of, visitor,
};

/// A JSON request as `who`: the status, the `Retry-After` header and the body.
async fn send(
    app: &TestApp,
    who: &Visitor,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, Option<u64>, serde_json::Value) {
    let mut request = who
        .client
        .request(method, format!("{}{path}", app.address))
        .header("x-csrf-token", &who.csrf);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry = retry_after(&response);
    let text = response.text().await.unwrap();
    (
        status,
        retry,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// A fresh browser that posts `fields` to the form at `path` as a client at `ip` (the header is
/// believed only when the app trusts 127.0.0.1 as a proxy).
async fn post_as(
    app: &TestApp,
    ip: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let client = browser();
    let page = client
        .get(format!("{}{path}", app.address))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    let csrf = csrf_from(&page.text().await.unwrap());
    let mut fields = fields.to_vec();
    fields.push(("csrf_token", &csrf));
    client
        .post(format!("{}{path}", app.address))
        .header("x-forwarded-for", ip)
        .form(&fields)
        .send()
        .await
        .unwrap()
}

async fn login_as(app: &TestApp, ip: &str, email: &str, password: &str) -> reqwest::Response {
    post_as(
        app,
        ip,
        "/login/",
        &[("email", email), ("password", password)],
    )
    .await
}

fn behind_proxy(settings: &mut orgs::Settings) {
    settings.server.trusted_proxies =
        orgs::config::TrustedProxies::try_from(vec!["127.0.0.1".to_string()]).unwrap();
}

// --- Redirects --------------------------------------------------------------------------------

/// Targets a browser would follow to another host (it drops tabs and line breaks and reads a
/// backslash as a slash), or that are not a plain path.
const FOREIGN_TARGETS: &[&str] = &[
    "/\t/evil.example",
    "/\n/evil.example",
    "\t//evil.example",
    "//evil.example",
    "/\\evil.example",
    "/x\\..\\\\evil.example",
    " //evil.example",
    "/\u{3000}/evil.example",
    "/\u{a0}/evil.example",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "/\u{0}/evil.example",
];

#[tokio::test]
async fn sign_in_redirects_only_to_paths_on_this_site() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for target in FOREIGN_TARGETS {
        let response = post_as(
            &app,
            "127.0.0.1",
            "/login/",
            &[
                ("email", "kurt@nirvana.com"),
                ("password", PASSWORD),
                ("next", target),
            ],
        )
        .await;
        assert_eq!(response.status(), 303, "{target:?}");
        assert_eq!(location(&response), "/", "{target:?}");
    }
    let kept = post_as(
        &app,
        "127.0.0.1",
        "/login/",
        &[
            ("email", "kurt@nirvana.com"),
            ("password", PASSWORD),
            ("next", "/account/?tab=tokens&q=a%20b"),
        ],
    )
    .await;
    assert_eq!(location(&kept), "/account/?tab=tokens&q=a%20b");
}

#[tokio::test]
async fn a_handoff_link_redirects_only_to_paths_on_this_site() {
    let app = TestApp::spawn_with(|s| {
        s.tenant.links = orgs::config::TenantLinks::Subdomain;
        s.tenant.base_domain = "localhost".into();
    })
    .await;
    World::build(&app).await;
    let port = app.address.rsplit(':').next().unwrap().to_string();
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let host = format!("nirvana.localhost:{port}");
    for target in FOREIGN_TARGETS {
        let go = get_on(
            &app,
            &kurt.client,
            &format!("localhost:{port}"),
            "/go/nirvana/",
        )
        .await;
        let handoff = path_of(&location(&go));
        let token_path = handoff.split('?').next().unwrap();
        let query = serde_urlencoded::to_string([("next", target)]).unwrap();
        let arrived = get_on(&app, &browser(), &host, &format!("{token_path}?{query}")).await;
        assert_eq!(arrived.status(), 303, "{target:?}");
        assert_eq!(location(&arrived), "/", "{target:?}");
    }
}

#[tokio::test]
async fn the_path_form_redirect_echoes_only_a_well_formed_slug() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let ok = app.get("/o/nirvana").await;
    assert_eq!(ok.status(), 308);
    assert_eq!(location(&ok), "/o/nirvana/");
    for bad in ["/o/%09evil.example", "/o/%5Cevil.example", "/o/Evil%20Corp"] {
        let response = app.get(bad).await;
        assert_eq!(response.status(), 404, "{bad}");
        assert!(location(&response).is_empty(), "{bad}");
    }
}

// --- Throttling ---------------------------------------------------------------------------------

#[tokio::test]
async fn failures_from_one_address_refuse_that_pair_only_with_retry_after() {
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.auth.login_max_failures = 3;
        s.auth.login_lockout_secs = 600;
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for _ in 0..3 {
        let failed = login_as(&app, "203.0.113.5", "kurt@nirvana.com", "wrong password!").await;
        assert_eq!(failed.status(), 200);
    }
    let refused = login_as(&app, "203.0.113.5", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(refused.status(), 429);
    let wait = retry_after(&refused).expect("a Retry-After header");
    assert!((1..=600).contains(&wait), "{wait}");
    assert!(refused.text().await.unwrap().contains("Too many attempts"));

    let owner = login_as(&app, "198.51.100.7", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(
        owner.status(),
        303,
        "the owner, from an address that has not been failing, is never refused"
    );
}

#[tokio::test]
async fn failures_from_many_addresses_slow_the_account_down_but_never_refuse_it() {
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.auth.login_max_failures = 3;
        s.auth.login_failure_delay_ms = 60;
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for i in 0..10 {
        let failed = login_as(
            &app,
            &format!("203.0.113.{}", 10 + i),
            "kurt@nirvana.com",
            "wrong password!",
        )
        .await;
        assert_eq!(failed.status(), 200, "attempt {i}");
    }
    let started = Instant::now();
    let owner = login_as(&app, "198.51.100.7", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(owner.status(), 303);
    // 10 failures: (10 - 2) x 60 ms of slow-down before the password is even checked.
    assert!(
        started.elapsed() >= Duration::from_millis(480),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_address_failing_across_accounts_is_refused_for_all_of_them() {
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.auth.login_max_failures = 2;
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for i in 0..8 {
        let failed = login_as(
            &app,
            "203.0.113.5",
            &format!("nobody{i}@nirvana.com"),
            "wrong password!",
        )
        .await;
        assert_eq!(failed.status(), 200, "attempt {i}");
    }
    let refused = login_as(&app, "203.0.113.5", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(
        refused.status(),
        429,
        "4 x login_max_failures from one address"
    );
    assert!(retry_after(&refused).is_some());
    let elsewhere = login_as(&app, "198.51.100.7", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(elsewhere.status(), 303);
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_does_not_choose_the_counted_address() {
    let app = TestApp::spawn_with(|s| s.auth.login_max_failures = 3).await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for i in 0..3 {
        let failed = login_as(
            &app,
            &format!("203.0.113.{i}"),
            "kurt@nirvana.com",
            "wrong password!",
        )
        .await;
        assert_eq!(failed.status(), 200);
    }
    let refused = login_as(&app, "198.51.100.7", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(
        refused.status(),
        429,
        "every attempt came from 127.0.0.1 whatever X-Forwarded-For said"
    );
}

#[tokio::test]
async fn forwarded_host_chooses_the_tenant_only_from_a_trusted_proxy() {
    for (trusted, want) in [(false, 404), (true, 302)] {
        let app = TestApp::spawn_with(|s| {
            if trusted {
                behind_proxy(s);
            }
        })
        .await;
        World::build(&app).await;
        for (name, value) in [
            ("x-forwarded-host", "nirvana.localhost"),
            ("forwarded", "for=198.51.100.7;host=nirvana.localhost"),
        ] {
            let response = app
                .client
                .get(format!("{}/people/", app.address))
                .header(name, value)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), want, "{name} trusted={trusted}");
        }
    }
}

#[tokio::test]
async fn handoff_origins_ignore_forwarded_headers_from_an_untrusted_peer() {
    let app = TestApp::spawn_with(|s| {
        s.tenant.links = orgs::config::TenantLinks::Subdomain;
        s.tenant.base_domain = "localhost".into();
    })
    .await;
    World::build(&app).await;
    let port = app.address.rsplit(':').next().unwrap().to_string();
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let go = kurt
        .client
        .get(format!("{}/go/nirvana/", app.address))
        .header("host", format!("localhost:{port}"))
        .header("x-forwarded-host", "localhost:6666")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(
        location(&go).starts_with(&format!("http://nirvana.localhost:{port}/handoff/")),
        "{}",
        location(&go)
    );
}

// --- Mail ---------------------------------------------------------------------------------------

async fn reset_as(app: &TestApp, ip: &str, email: &str) -> reqwest::Response {
    post_as(app, ip, "/password-reset/", &[("email", email)]).await
}

async fn sign_up_as(app: &TestApp, ip: &str, email: &str, name: &str) -> reqwest::Response {
    post_as(
        app,
        ip,
        "/signup/",
        &[
            ("name", name),
            ("email", email),
            ("password", "a long enough password"),
        ],
    )
    .await
}

#[tokio::test]
async fn reset_mail_is_limited_per_address_whether_or_not_it_has_an_account() {
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.auth.mail_per_address_per_hour = 2;
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for address in ["kurt@nirvana.com", "ghost@nirvana.com"] {
        for i in 0..2 {
            let asked = reset_as(&app, &format!("203.0.113.{i}"), address).await;
            assert_eq!(asked.status(), 200, "{address} {i}");
        }
        let refused = reset_as(&app, "198.51.100.7", address).await;
        assert_eq!(refused.status(), 429, "{address}");
        let wait = retry_after(&refused).expect("Retry-After");
        assert!((1..=3_600).contains(&wait), "{wait}");
    }
    app.wait_for_mail("kurt@nirvana.com", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.mailbox().to("kurt@nirvana.com").len(), 2);
    assert!(app.mailbox().to("ghost@nirvana.com").is_empty());
}

#[tokio::test]
async fn sign_up_and_reset_count_against_the_same_address() {
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.auth.mail_per_address_per_hour = 3;
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    assert_eq!(
        sign_up_as(&app, "203.0.113.1", "kurt@nirvana.com", "Kurt")
            .await
            .status(),
        200
    );
    assert_eq!(
        sign_up_as(&app, "203.0.113.2", "kurt@nirvana.com", "Kurt")
            .await
            .status(),
        200
    );
    assert_eq!(
        reset_as(&app, "203.0.113.3", "kurt@nirvana.com")
            .await
            .status(),
        200
    );
    let refused = sign_up_as(&app, "203.0.113.4", "kurt@nirvana.com", "Kurt").await;
    assert_eq!(refused.status(), 429);
    assert_eq!(app.wait_for_mail("kurt@nirvana.com", 3).await.len(), 3);
}

#[tokio::test]
async fn mail_is_limited_per_client_address() {
    let app = TestApp::spawn_with(|s| s.auth.mail_per_client_per_hour = 3).await;
    for i in 0..3 {
        let asked = reset_as(&app, "127.0.0.1", &format!("someone{i}@example.com")).await;
        assert_eq!(asked.status(), 200);
    }
    let refused = reset_as(&app, "127.0.0.1", "someone-else@example.com").await;
    assert_eq!(refused.status(), 429);
    let refused = sign_up_as(&app, "127.0.0.1", "another@example.com", "Another").await;
    assert_eq!(
        refused.status(),
        429,
        "sign-up counts against the same client"
    );
    assert_eq!(
        user::Entity::find().count(app.conn()).await.unwrap(),
        0,
        "a refused sign-up creates nothing"
    );
}

#[tokio::test]
async fn invitations_count_against_their_address_across_organizations() {
    let app = TestApp::spawn_with(|s| s.auth.mail_per_address_per_hour = 2).await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let invite = |who: &Visitor, slug: &str| {
        let path = format!("/o/{slug}/api/v1/people/");
        let who = Visitor {
            client: who.client.clone(),
            csrf: who.csrf.clone(),
        };
        let app = &app;
        async move {
            send(
                app,
                &who,
                reqwest::Method::POST,
                &path,
                Some(serde_json::json!({"email": "target@example.com"})),
            )
            .await
        }
    };
    assert_eq!(invite(&kurt, "nirvana").await.0, 201);
    assert_eq!(invite(&dave, "foo-fighters").await.0, 201);
    let (status, retry, _) = invite(&kurt, "nirvana").await;
    assert_eq!(status, 429, "a third mail to the address this hour");
    assert!(retry.is_some());
    assert_eq!(app.wait_for_mail("target@example.com", 2).await.len(), 2);
}

#[tokio::test]
async fn an_activation_mail_carries_nothing_the_requester_typed() {
    let app = TestApp::spawn().await;
    let response = post_as(
        &app,
        "127.0.0.1",
        "/signup/",
        &[
            ("name", "Cheap pills at evil.example"),
            ("email", "victim@example.com"),
            ("password", "a long enough password"),
            ("organization_name", "Visit evil.example now"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let mail = app.wait_for_mail("victim@example.com", 1).await;
    let text = format!("{} {:?} {:?}", mail[0].subject, mail[0].text, mail[0].html);
    assert!(!text.contains("evil.example"), "{text}");
}

#[tokio::test]
async fn signing_up_again_before_confirming_mails_a_fresh_activation_link() {
    let app = TestApp::spawn().await;
    for _ in 0..2 {
        let response = sign_up_as(&app, "127.0.0.1", "new@example.com", "New").await;
        assert_eq!(response.status(), 200);
    }
    let mail = app.wait_for_mail("new@example.com", 2).await;
    assert!(
        mail.iter()
            .all(|m| m.subject == "Confirm your email address")
    );
    let link = crate::helpers::link_in(&mail[1].text, "/activate/");
    let activated = app.get(&path_of(&link)).await;
    assert_eq!(activated.status(), 303, "the newer link works");
}

// --- Races --------------------------------------------------------------------------------------

#[tokio::test]
async fn parallel_sign_ups_of_one_address_never_answer_500() {
    let app = TestApp::spawn().await;
    // Ten rounds of twenty browsers on the sign-up page, then all their forms at once (one
    // round in twenty answered 500 before: the loser of the race hit the unique email).
    for round in 0..10 {
        let email = format!("race{round}@example.com");
        let mut browsers = Vec::new();
        for _ in 0..20 {
            let client = browser();
            let page = client
                .get(format!("{}/signup/", app.address))
                .send()
                .await
                .unwrap();
            let csrf = csrf_from(&page.text().await.unwrap());
            browsers.push((client, csrf));
        }
        let attempts = browsers.iter().enumerate().map(|(i, (client, csrf))| {
            let name = format!("Racer {i}");
            let request = client
                .post(format!("{}/signup/", app.address))
                .form(&[
                    ("name", name.as_str()),
                    ("email", email.as_str()),
                    ("password", "a long enough password"),
                    ("csrf_token", csrf.as_str()),
                ])
                .send();
            async move { request.await.unwrap().status().as_u16() }
        });
        let statuses = join_all(attempts).await;
        assert!(
            statuses.iter().all(|s| *s == 200),
            "round {round}: {statuses:?}"
        );
        let accounts = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .count(app.conn())
            .await
            .unwrap();
        assert_eq!(accounts, 1, "round {round}");
    }
}

#[tokio::test]
async fn parallel_creations_of_one_organization_name_never_answer_500() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for round in 0..10 {
        let name = format!("Race Org {round}");
        let attempts = (0..10).map(|_| {
            send(
                &app,
                &kurt,
                reqwest::Method::POST,
                "/api/v1/organizations/",
                Some(serde_json::json!({ "name": name })),
            )
        });
        let answers = join_all(attempts).await;
        let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
        assert!(
            statuses.iter().all(|s| *s == 201),
            "round {round}: {statuses:?}"
        );
        let created = organization::Entity::find()
            .filter(organization::Column::Name.eq(name.as_str()))
            .count(app.conn())
            .await
            .unwrap();
        assert_eq!(created, 10, "round {round}: each got a slug of its own");
    }
}

#[tokio::test]
async fn an_owner_check_made_before_a_transfer_committed_does_not_outlive_it() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let ana = app.user("ana@nirvana.com", "Ana").await;
    crate::rules::add_user(app.conn(), app.events(), world.nirvana.id, ana.id, true)
        .await
        .unwrap();
    let mut both_won = 0;
    for _ in 0..8 {
        // Kurt owns Nirvana again at the start of each trial.
        crate::rules::change_owner_to(app.conn(), app.events(), world.nirvana.id, world.kurt.id)
            .await
            .unwrap();
        let to = |user_id: i64| {
            send(
                &app,
                &kurt,
                reqwest::Method::POST,
                "/o/nirvana/api/v1/transfer/",
                Some(serde_json::json!({ "user_id": user_id })),
            )
        };
        let (a, b) = tokio::join!(to(world.krist.id), to(ana.id));
        assert!(
            [a.0, b.0].iter().all(|s| [204, 403].contains(s)),
            "{a:?} {b:?}"
        );
        assert!(a.0 == 204 || b.0 == 204, "one transfer goes through");
        if a.0 == 204 && b.0 == 204 {
            both_won += 1;
        }
    }
    assert_eq!(
        both_won, 0,
        "once the first transfer commits, Kurt is no longer the owner and cannot transfer again"
    );
}

#[tokio::test]
async fn a_transfer_racing_demotions_leaves_the_new_owner_an_admin() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    let ana = app.user("ana@nirvana.com", "Ana").await;
    crate::rules::add_user(app.conn(), app.events(), world.nirvana.id, ana.id, true)
        .await
        .unwrap();
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let ana_browser = visitor(&app, Some("ana@nirvana.com")).await;
    for trial in 0..10 {
        crate::rules::change_owner_to(app.conn(), app.events(), world.nirvana.id, world.kurt.id)
            .await
            .unwrap();
        crate::rules::set_admin(
            app.conn(),
            app.events(),
            world.nirvana.id,
            world.krist.id,
            true,
        )
        .await
        .unwrap();
        let transfer = send(
            &app,
            &kurt,
            reqwest::Method::POST,
            "/o/nirvana/api/v1/transfer/",
            Some(serde_json::json!({ "user_id": world.krist.id })),
        );
        let path = format!("/o/nirvana/api/v1/people/{}/", world.krist.id);
        let demotions = (0..3).map(|_| {
            send(
                &app,
                &ana_browser,
                reqwest::Method::PATCH,
                &path,
                Some(serde_json::json!({"is_admin": false})),
            )
        });
        let (transferred, demoted) = tokio::join!(transfer, join_all(demotions));
        assert_eq!(transferred.0, 204, "trial {trial}");
        for answer in &demoted {
            assert!([200, 422].contains(&answer.0), "trial {trial}: {answer:?}");
        }
        let owner = crate::rules::owner_membership(app.conn(), world.nirvana.id).await;
        assert_eq!(owner.user_id, world.krist.id);
        assert!(
            owner.is_admin,
            "trial {trial}: the owner lost its admin flag"
        );
    }
}

// --- Input --------------------------------------------------------------------------------------

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
            let (status, _) =
                crate::helpers::get(&app, &kurt, &format!("{list}?page={page}")).await;
            assert_eq!(status, 400, "{list}?page={page}");
        }
        let (status, _) =
            crate::helpers::get(&app, &kurt, &format!("{list}?page=10000000&per_page=100")).await;
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
                &app,
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
        &app,
        &kurt,
        reqwest::Method::POST,
        "/o/nirvana/api/v1/projects/",
        Some(serde_json::json!({"name": "Fine", "description": "a\u{0}b"})),
    )
    .await;
    assert_eq!(status, 422, "a NUL in a description");
    let (status, _, _) = send(
        &app,
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
        let (status, _) = crate::helpers::get(&app, &kurt, path).await;
        assert_eq!(status, 400, "{path}");
    }
}

#[tokio::test]
async fn a_search_treats_percent_and_underscore_as_letters() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for q in ["%25", "_", "%25%25", "\\"] {
        let (status, _, list) = send(
            &app,
            &kurt,
            reqwest::Method::GET,
            &format!("/o/nirvana/api/v1/people/?q={q}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(list["total"], 0, "q={q} matched {list}");
    }
    let pure = app.user("pure@nirvana.com", "100% Pure_Joy").await;
    crate::rules::add_user(app.conn(), app.events(), world.nirvana.id, pure.id, false)
        .await
        .unwrap();
    for q in ["%25", "_", "0%25 P"] {
        let (_, _, list) = send(
            &app,
            &kurt,
            reqwest::Method::GET,
            &format!("/o/nirvana/api/v1/people/?q={q}"),
            None,
        )
        .await;
        assert_eq!(list["total"], 1, "q={q}: {list}");
    }
}

// --- Outage ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_pool_with_no_connection_to_give_answers_503_with_retry_after_at_once() {
    let app = TestApp::spawn_with(|s| {
        s.database.max_connections = 1;
        s.database.acquire_timeout_ms = 300;
    })
    .await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    // The pool's one connection, held: every request now waits for it.
    let held = sea_orm::TransactionTrait::begin(&app.state.db)
        .await
        .unwrap();
    for path in ["/o/nirvana/api/v1/people/", "/o/nirvana/people/"] {
        let started = Instant::now();
        let response = kurt
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503, "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(retry_after(&response), Some(5), "{path}");
        let body = response.text().await.unwrap();
        assert!(body.contains("database"), "{path}: {body}");
    }
    drop(held);
    let (status, _) = crate::helpers::get(&app, &kurt, "/o/nirvana/api/v1/people/").await;
    assert_eq!(
        status, 200,
        "recovers on the first request once a connection is free"
    );
}

/// A TCP proxy to PostgreSQL that the test can cut (closing every connection through it and
/// refusing new ones) and restore: the database going away and coming back, as the app sees it.
struct Cable {
    address: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Cable {
    async fn to(target: String) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> =
            std::sync::Arc::default();
        let (is_up, all) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !is_up.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                all.lock().unwrap().push(link.abort_handle());
            }
        });
        Self { address, up, links }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn a_database_outage_answers_503_at_once_and_the_first_request_after_it_succeeds() {
    let url = crate::helpers::as_app_role(
        &std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL=postgres://..."),
    );
    let authority = url
        .split_once('@')
        .map(|(_, rest)| rest.split('/').next().unwrap().to_string())
        .unwrap();
    let cable = Cable::to(authority.clone()).await;
    let through = cable.address.to_string();
    let app = TestApp::spawn_with(|s| {
        s.database.url = s.database.url.replacen(&authority, &through, 1);
        s.database.acquire_timeout_ms = 500;
        s.cache.ttl_ms = 0;
    })
    .await;
    assert!(app.is_postgres());
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, _) = crate::helpers::get(&app, &kurt, "/o/nirvana/api/v1/people/").await;
    assert_eq!(status, 200);

    cable.cut();
    for path in [
        "/o/nirvana/api/v1/people/",
        "/o/nirvana/people/",
        "/o/nirvana/api/v1/projects/",
        "/o/nirvana/projects/",
        "/api/v1/account/",
    ] {
        let started = Instant::now();
        let response = kurt
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503, "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{path}: {:?}",
            started.elapsed()
        );
        assert_eq!(retry_after(&response), Some(5), "{path}");
    }

    cable.restore();
    let (status, _) = crate::helpers::get(&app, &kurt, "/o/nirvana/api/v1/people/").await;
    assert_eq!(status, 200, "the first request once the database is back");
}

#[tokio::test]
async fn a_nul_or_a_megabyte_in_a_login_or_a_slug_is_refused_not_500() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let long = format!("{}@example.com", "a".repeat(1_000_000));
    for email in ["kurt\u{0}@nirvana.com", "\u{0}", "a\u{1b}b@nirvana.com"] {
        let response = login_as(&app, "127.0.0.1", email, "wrong password!").await;
        assert_eq!(
            response.status(),
            200,
            "{email:?}: a refused login, not an error"
        );
    }
    let response = login_as(&app, "127.0.0.1", &long, "wrong password!").await;
    assert!(
        response.status().is_client_error(),
        "a megabyte of address: {}",
        response.status()
    );
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    for path in ["/go/%00/", "/go/a%00b/", "/o/a%00b/people/"] {
        let (status, _) = crate::helpers::get(&app, &kurt, path).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn a_new_person_accepting_an_invitation_gets_the_name_rules_of_every_account() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let invited = crate::helpers::post_form(
        &app,
        &kurt,
        "/o/nirvana/people/add/",
        &[("email", "newbie@example.com")],
    )
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
        assert_eq!(answer.status(), 200, "{bad:?}: the form again, not a 500");
        assert!(
            answer.text().await.unwrap().contains("errorlist"),
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
