//! Redirects from `?next=` and the path form's slug stay on this site.

use super::*;
use crate::helpers::assert_redirect_to;
use crate::helpers::{port, subdomain_app};

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
        if target.contains('\u{0}') {
            // Refused where the request enters (`web::input`), naming the field: no redirect.
            assert_eq!(response.status(), 422, "{target:?}");
            assert_eq!(location(&response), "", "{target:?}");
            let page = response.text().await.unwrap();
            assert!(page.contains("next: must not contain a NUL"), "{page}");
            continue;
        }
        assert_eq!(response.status(), 303, "{target:?}");
        // Kurt is in no organization: he lands on making one (issue 18), never off-site.
        assert_eq!(location(&response), "/organizations/add/", "{target:?}");
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
    let app = subdomain_app().await;
    World::build(&app).await;
    let port = port(&app).to_string();
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let host = format!("nirvana.localhost:{port}");
    for target in FOREIGN_TARGETS {
        let go = kurt
            .get_on(&format!("localhost:{port}"), "/go/nirvana/")
            .await;
        let handoff = path_of(&location(&go));
        let token_path = handoff.split('?').next().unwrap();
        let query = serde_urlencoded::to_string([("next", target)]).unwrap();
        let arrived = get_on(&app, &browser(), &host, &format!("{token_path}?{query}")).await;
        if target.contains('\u{0}') {
            // Refused where the request enters (`web::input`), naming the field: no redirect.
            assert_eq!(arrived.status(), 422, "{target:?}");
            assert_eq!(location(&arrived), "", "{target:?}");
            let page = arrived.text().await.unwrap();
            assert!(page.contains("next: must not contain a NUL"), "{page}");
            continue;
        }
        assert_eq!(arrived.status(), 303, "{target:?}");
        assert_eq!(location(&arrived), "/", "{target:?}");
    }
}

#[tokio::test]
async fn the_path_form_redirect_echoes_only_a_well_formed_slug() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let ok = app.get("/o/nirvana").await;
    assert_redirect_to(&ok, 308, "/o/nirvana/");
    for bad in ["/o/%09evil.example", "/o/%5Cevil.example", "/o/Evil%20Corp"] {
        let response = app.get(bad).await;
        assert_eq!(response.status(), 404, "{bad}");
        assert!(location(&response).is_empty(), "{bad}");
    }
}
