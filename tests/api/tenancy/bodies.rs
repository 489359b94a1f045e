//! A non-member's answer from every tenant write route, whatever the body and whether the
//! tenant exists: the body is not read before the requester's membership is settled.

use actix_web::http::Method;
use orgs::routes::TENANT_ROUTES;

use super::{Role, world};
use crate::helpers::TestApp;

/// Bodies a write route might read: malformed JSON, an empty object, a form of junk, and one
/// past the size limit.
const BODIES: [(&str, &str); 4] = [
    ("application/json", "{"),
    ("application/json", "{}"),
    ("application/x-www-form-urlencoded", "roles=%00&name=&x=%ZZ"),
    ("application/json", ""),
];

#[tokio::test]
async fn a_non_member_gets_the_same_answer_whatever_the_body_and_whether_the_tenant_exists() {
    let app = TestApp::spawn().await;
    let w = world(&app, 0).await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(300_000));
    let mut failures = Vec::new();
    for route in TENANT_ROUTES.iter().filter(|r| r.method != Method::GET) {
        let path = route
            .path
            .replace("{id}", &w.acme_project.to_string())
            .replace("{key}", "editor")
            .replace("{user_id}", &w.member_uid.to_string())
            .replace("{delivery_id}", "1");
        for role in [Role::OtherTenantMember, Role::Outsider, Role::Anonymous] {
            let visitor = &w.visitors.iter().find(|(r, _)| *r == role).unwrap().1;
            let api = route.path.starts_with("/api/");
            let want = match role {
                Role::Anonymous if api => 401,
                Role::Anonymous => 302,
                _ => 404,
            };
            let bodies = BODIES
                .iter()
                .map(|(t, b)| (*t, (*b).to_string()))
                .chain([("application/json", big.clone())]);
            for (content_type, body) in bodies {
                for slug in [w.acme_slug.as_str(), "no-such-organization"] {
                    let method =
                        reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
                    let response = visitor
                        .client
                        .request(method, format!("{}/o/{slug}{path}", app.address))
                        .header("x-csrf-token", &visitor.csrf)
                        .header("content-type", content_type)
                        .header("idempotency-key", "same-key")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    let status = response.status().as_u16();
                    // An unknown tenant is 404 for everyone, a known one as the role says.
                    let want = if slug == w.acme_slug { want } else { 404 };
                    if status != want {
                        failures.push(format!(
                            "{role:?} {} /o/{slug}{path} with {content_type} {:?}: {status}, expected {want}",
                            route.method,
                            body.chars().take(20).collect::<String>()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
