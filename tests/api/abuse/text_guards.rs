//! A NUL character or bytes that are not UTF-8, wherever input enters: every route of the route
//! tables with them in each path parameter, in a query parameter, in a form field and in a JSON
//! string. PostgreSQL refuses a NUL in text, and an outside probe found 14 paths that answered
//! its error as a 500 (`roles: ["\u0000"]`, `/roles/%00/`, the roles field of the forms); the
//! same requests must answer 404 or 422 on both backends.

use super::*;
use orgs::routes::{GLOBAL_API_ROUTES, TENANT_ROUTES};

/// What goes where a path parameter, a query value or a form value is.
const BAD: &[&str] = &["%00", "a%00b", "%FF", "caf%C3"];

/// The routes outside the tables that take a path parameter, with a method each.
const GLOBAL_PAGES: &[(&str, &str)] = &[
    ("GET", "/activate/{token}/"),
    ("GET", "/handoff/{token}/"),
    ("GET", "/go/{slug}/"),
    ("GET", "/invitations/{token}/"),
    ("POST", "/invitations/{token}/"),
    ("GET", "/password-reset/{token}/"),
    ("POST", "/password-reset/{token}/"),
    ("POST", "/account/tokens/{id}/revoke/"),
];

/// `path` with each `{parameter}` replaced by `value`.
fn with_parameters(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push_str(value);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Sends `method path` as `who` with the CSRF header and `body` of its content type: the status
/// and the body.
async fn raw(
    who: &Visitor,
    method: &str,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = who
        .client
        .request(method, format!("{}{path}", who.address))
        .header("x-csrf-token", &who.csrf);
    if let Some((content_type, body)) = body {
        request = request.header("content-type", content_type).body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_nul_or_broken_utf8_anywhere_a_request_carries_text_is_a_404_or_422_never_a_500() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let mut wrong = Vec::new();
    let mut expect = |what: String, (status, body): (u16, String), wanted: u16, names: &str| {
        if status != wanted || !body.contains(names) {
            wrong.push(format!(
                "{what}: {status}, wanted {wanted} naming {names:?}: {body:.200}"
            ));
        }
    };
    // Every path parameter of every tenant route, and the tenant's slug.
    for route in TENANT_ROUTES {
        for bad in BAD {
            let method = route.method.as_str();
            if route.path.contains('{') {
                let path = format!("/o/nirvana{}", with_parameters(route.path, bad));
                let answer = raw(&kurt, method, &path, None).await;
                expect(format!("{method} {path}"), answer, 404, "");
            }
            let path = format!("/o/{bad}{}", with_parameters(route.path, "1"));
            let answer = raw(&kurt, method, &path, None).await;
            expect(format!("{method} {path}"), answer, 404, "");
        }
    }
    for (method, path) in GLOBAL_PAGES {
        for bad in BAD {
            let path = with_parameters(path, bad);
            let answer = raw(&kurt, method, &path, None).await;
            expect(format!("{method} {path}"), answer, 404, "");
        }
    }
    // A query parameter of every GET route.
    let gets = TENANT_ROUTES
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .map(|r| format!("/o/nirvana{}", with_parameters(r.path, "1")))
        .chain(
            GLOBAL_API_ROUTES
                .iter()
                .filter(|r| r.method.as_str() == "GET")
                .map(|r| r.path.to_string()),
        )
        .chain(["/", "/login/", "/signup/", "/account/", "/organizations/"].map(String::from));
    for path in gets {
        for bad in BAD {
            let path = format!("{path}?per_page=10&next={bad}");
            let answer = raw(&kurt, "GET", &path, None).await;
            expect(format!("GET {path}"), answer, 422, "next");
        }
    }
    // A form field of every form a page posts (the roles field first, as the probe sent it).
    let forms = TENANT_ROUTES
        .iter()
        .filter(|r| r.method.as_str() == "POST" && !r.path.starts_with("/api/"))
        .map(|r| {
            (
                r.path,
                format!("/o/nirvana{}", with_parameters(r.path, "1")),
            )
        })
        .chain(
            [
                "/login/",
                "/signup/",
                "/password-reset/",
                "/account/",
                "/account/tokens/",
                "/organizations/add/",
                "/logout/",
            ]
            .map(|path| (path, path.to_string())),
        );
    // A body is read only once the requester and the row the path names are settled, so where
    // the path names a row (`1`, of no row of Nirvana's) a 404 is right too; the pages that read
    // no form (leaving, removing, revoking, signing out: a button and its CSRF token) must only
    // not fail.
    let reads_no_form = [
        "/leave/",
        "/people/{user_id}/delete/",
        "/projects/{id}/delete/",
        "/settings/api-keys/{id}/revoke/",
        "/settings/domains/{id}/verify/",
        "/settings/domains/{id}/delete/",
        "/settings/sso/connection/delete/",
        "/logout/",
    ];
    for (route, path) in forms {
        for bad in BAD {
            let body = format!("name=Fine&roles={bad}&roles=member").into_bytes();
            let form = Some(("application/x-www-form-urlencoded", body));
            let answer = raw(&kurt, "POST", &path, form).await;
            let what = format!("POST {path} roles={bad}");
            let fine = reads_no_form.contains(&route) && answer.0 < 500
                || route.contains('{') && answer.0 == 404;
            if !fine {
                expect(what, answer, 422, "roles");
            }
        }
    }
    // A JSON string of every API route that takes a body: never a 5xx; a 422 naming the string
    // where the route reads the body.
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let writes = TENANT_ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/api/") && matches!(r.method.as_str(), "POST" | "PATCH"))
        .map(|r| {
            (
                r.method.as_str(),
                format!("/o/nirvana{}", with_parameters(r.path, "1")),
            )
        })
        .chain(
            GLOBAL_API_ROUTES
                .iter()
                .filter(|r| matches!(r.method.as_str(), "POST" | "PATCH"))
                .map(|r| (r.method.as_str(), r.path.to_string())),
        );
    for (method, path) in writes {
        for body in [
            br#"{"roles": ["\u0000"]}"#.to_vec(),
            br#"{"name": "a\u0000b", "email": "x@example.com", "key": "k"}"#.to_vec(),
            b"{\"name\": \"caf\xff\", \"email\": \"x@example.com\"}".to_vec(),
        ] {
            let shown = String::from_utf8_lossy(&body).into_owned();
            let json = Some(("application/json", body));
            let (status, text) = raw(&kurt, method, &path, json).await;
            if status >= 500 {
                wrong.push(format!("{method} {path} {shown}: {status} {text:.200}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[tokio::test]
async fn a_nul_in_the_roles_of_a_person_is_a_422_naming_the_role_on_the_api_and_the_form() {
    let app = TestApp::spawn().await;
    let world = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let krist = world.krist.id;
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            "/o/nirvana/api/v1/people/".to_string(),
            serde_json::json!({"email": "new@example.com", "roles": ["\u{0}"]}),
        ),
        (
            reqwest::Method::PATCH,
            format!("/o/nirvana/api/v1/people/{krist}/"),
            serde_json::json!({"roles": ["member", "\u{0}"]}),
        ),
        (
            reqwest::Method::POST,
            "/o/nirvana/api/v1/roles/".to_string(),
            serde_json::json!({"key": "ok", "name": "Ok", "permissions": ["\u{0}"]}),
        ),
    ] {
        let (status, _, answer) = send(&kurt, method.clone(), &path, Some(body)).await;
        assert_eq!(status, 422, "{method} {path}: {answer}");
        let fields = answer["error"]["fields"].as_object().unwrap();
        assert!(
            fields
                .keys()
                .any(|k| k.starts_with("roles") || k.starts_with("permissions")),
            "{method} {path}: {answer}"
        );
    }
    for path in ["/o/nirvana/roles/%00/edit/", "/o/nirvana/api/v1/roles/%00/"] {
        let (status, _) = kurt.get(path).await;
        assert_eq!(status, 404, "{path}");
    }
    let form = kurt
        .post_form(
            &format!("/o/nirvana/people/{krist}/edit/"),
            &[("roles", "\u{0}")],
        )
        .await;
    assert_eq!(form.status(), 422);
    assert!(
        form.text()
            .await
            .unwrap()
            .contains("roles: must not contain a NUL character")
    );
    // Nothing changed: Krist is still an admin.
    let (status, _, detail) = send(
        &kurt,
        reqwest::Method::GET,
        &format!("/o/nirvana/api/v1/people/{krist}/"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    assert!(detail.to_string().contains("admin"), "{detail}");
}
