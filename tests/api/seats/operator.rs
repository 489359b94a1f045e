//! Who sets seats and plans: the operator's API (off without `billing.operator_token`, 401 for
//! a wrong one, fields named on a 422), the CLI, the audit log and the event that record each
//! change with who made it, and the 402 of a route whose plan feature is off.

use actix_web::http::Method as ActixMethod;
use actix_web::{HttpResponse, web};
use orgs::events::OrgEvent;
use orgs::organizations::billing;
use orgs::routes::{Needs, TenantRoute};
use reqwest::Method;
use serde_json::json;

use super::{OPERATOR_TOKEN, billing_app, operator};
use crate::helpers::{TestApp, World, visitor};

#[tokio::test]
async fn the_operator_api_is_off_without_a_token_and_refuses_a_wrong_one() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (status, _) = operator(&app, Method::GET, w.nirvana.id, Some(OPERATOR_TOKEN), None).await;
    assert_eq!(status, 404, "no token configured: the API is off");
    let app = billing_app().await;
    let w = World::build(&app).await;
    for token in [None, Some("wrong"), Some("orgs_not-an-operator")] {
        let (status, body) = operator(&app, Method::GET, w.nirvana.id, token, None).await;
        assert_eq!(status, 401, "{token:?}: {body}");
    }
    // A member's own session or token is no operator either.
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, _) = kurt
        .api(
            Method::PATCH,
            &format!("/api/v1/system/organizations/{}/", w.nirvana.id),
            Some(json!({ "seat_limit": 1000 })),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = operator(&app, Method::GET, 999_999, Some(OPERATOR_TOKEN), None).await;
    assert_eq!(status, 404);
    // Only at the service's own address, never under an organization's, where the global
    // routes match too.
    let under_a_tenant = reqwest::Client::new()
        .get(format!(
            "{}/o/foo-fighters/api/v1/system/organizations/{}/",
            app.address, w.nirvana.id
        ))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(under_a_tenant.status(), 404);
}

#[tokio::test]
async fn billing_sets_seats_plan_and_entitlements_and_the_audit_log_says_who() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let mut events = app.events().channel();
    let (status, body) =
        operator(&app, Method::GET, w.nirvana.id, Some(OPERATOR_TOKEN), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "id": w.nirvana.id, "slug": "nirvana", "name": "Nirvana",
            "seat_limit": null, "seats_used": 3, "plan": null, "entitlements": {},
        })
    );
    let change = json!({
        "plan": "team",
        "entitlements": { "seat_limit": 10, "sso": true, "scim": false },
    });
    let (status, body) = operator(
        &app,
        Method::PATCH,
        w.nirvana.id,
        Some(OPERATOR_TOKEN),
        Some(change),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["seat_limit"], 10);
    assert_eq!(body["plan"], "team");
    assert_eq!(body["entitlements"], json!({ "scim": false, "sso": true }));
    let fired: Vec<OrgEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert_eq!(
        fired,
        [OrgEvent::BillingChanged {
            organization_id: w.nirvana.id,
            seat_limit: Some(10),
            plan: Some("team".into()),
            by: "billing (operator token)".into(),
        }]
    );
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (_, audit) = kurt
        .api(
            Method::GET,
            "/o/nirvana/api/v1/audit-events/?action=billing.seat_limit_changed",
            None,
        )
        .await;
    let event = &audit["items"][0];
    assert_eq!(
        event["actor"]["name"], "billing (operator token)",
        "{audit}"
    );
    assert_eq!(
        event["changes"]["seat_limit"],
        json!({ "from": null, "to": 10 })
    );
    let (_, audit) = kurt
        .api(
            Method::GET,
            "/o/nirvana/api/v1/audit-events/?action=billing.plan_changed",
            None,
        )
        .await;
    assert_eq!(
        audit["items"][0]["changes"]["plan"],
        json!({ "from": null, "to": "team" })
    );
    // Sending back what it says changes nothing and records nothing.
    let (status, _) = operator(
        &app,
        Method::PATCH,
        w.nirvana.id,
        Some(OPERATOR_TOKEN),
        Some(json!({ "seat_limit": 10, "plan": "team" })),
    )
    .await;
    assert_eq!(status, 200);
    assert!(events.try_recv().is_err());
}

#[tokio::test]
async fn a_bad_change_is_refused_naming_its_field_and_changes_nothing() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    for (body, field) in [
        (json!({ "seat_limit": -1 }), "seat_limit"),
        (json!({ "seat_limit": "ten" }), "seat_limit"),
        (json!({ "plan": "Pro Plan" }), "plan"),
        (
            json!({ "entitlements": { "SSO": true } }),
            "entitlements.SSO",
        ),
        (
            json!({ "entitlements": { "sso": "yes" } }),
            "entitlements.sso",
        ),
        (
            json!({ "entitlements": { "seat_limit": -2 } }),
            "entitlements.seat_limit",
        ),
        (
            json!({ "seat_limit": 5, "entitlements": { "seat_limit": 6 } }),
            "entitlements.seat_limit",
        ),
        (json!({ "seats": 5 }), "seats"),
        (json!({ "entitlements": null }), "entitlements"),
    ] {
        let (status, answer) = operator(
            &app,
            Method::PATCH,
            w.nirvana.id,
            Some(OPERATOR_TOKEN),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(
            answer["error"]["fields"][field].is_array()
                || answer["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(field),
            "{body}: {answer}"
        );
    }
    // A key given twice is refused, whichever it is.
    for body in [
        r#"{"entitlements": {"sso": true, "sso": false}}"#,
        r#"{"seat_limit": 8, "entitlements": {"seat_limit": 7, "seat_limit": 8}}"#,
    ] {
        let answer = reqwest::Client::new()
            .patch(format!(
                "{}/api/v1/system/organizations/{}/",
                app.address, w.nirvana.id
            ))
            .bearer_auth(OPERATOR_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 422, "{body}");
        let text = answer.text().await.unwrap();
        assert!(text.contains("duplicate key"), "{body}: {text}");
    }
    let (_, now) = operator(&app, Method::GET, w.nirvana.id, Some(OPERATOR_TOKEN), None).await;
    assert_eq!(now["seat_limit"], json!(null));
    assert_eq!(now["plan"], json!(null));
}

async fn report() -> HttpResponse {
    HttpResponse::Ok().body("the report")
}

#[tokio::test]
async fn a_route_of_a_feature_the_plan_lacks_answers_402_to_members_and_404_to_others() {
    let app = TestApp::spawn_with_state(|state| {
        let routes = vec![
            TenantRoute::new(ActixMethod::GET, "/api/v1/reports/", Needs::Member, || {
                web::get().to(report)
            })
            .feature("reports"),
        ];
        *state = state.clone().with_tenant_routes(routes, Default::default());
    })
    .await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let duder = visitor(&app, Some("duder@testing.com")).await;
    let path = "/o/nirvana/api/v1/reports/";
    let status = kurt.send(Method::GET, path, None).await.status();
    assert_eq!(status, 200, "no plan: every feature is on");
    let set = |entitlements: serde_json::Value| {
        let app = &app;
        async move {
            billing::change(
                app.conn(),
                app.events(),
                entity::OrganizationId(w.nirvana.id),
                orgs::tenancy::Actor::system("test billing"),
                billing::Change {
                    plan: Some(Some("starter".into())),
                    entitlements: Some(serde_json::from_value(entitlements).unwrap()),
                    ..billing::Change::default()
                },
            )
            .await
            .unwrap();
            app.state.caches.invalidate();
        }
    };
    set(json!({ "reports": false })).await;
    let (status, body) = kurt.api(Method::GET, path, None).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["error"]["code"], "plan_required");
    assert_eq!(body["error"]["feature"], "reports");
    let (status, _) = duder.api(Method::GET, path, None).await;
    assert_eq!(status, 404, "a non-member learns nothing of the plan");
    set(json!({})).await;
    let (status, _) = kurt.api(Method::GET, path, None).await;
    assert_eq!(status, 402, "a plan that does not name it leaves it off");
    set(json!({ "reports": true })).await;
    let status = kurt.send(Method::GET, path, None).await.status();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn orgs_org_set_seats_sets_the_limit_and_refuses_a_bad_one_with_exit_1() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let run = |args: Vec<String>| {
        let app = &app;
        async move {
            let mut all = vec!["org", "set-seats"];
            all.extend(args.iter().map(String::as_str));
            app.orgs(&all).await
        }
    };
    let id = w.nirvana.id.to_string();
    let out = run(vec![
        "--organization".into(),
        id.clone(),
        "--limit".into(),
        "25".into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Nirvana (nirvana): seat limit 25, 3 used"
    );
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (_, audit) = kurt
        .api(
            Method::GET,
            "/o/nirvana/api/v1/audit-events/?action=billing.seat_limit_changed",
            None,
        )
        .await;
    assert_eq!(
        audit["items"][0]["actor"]["name"], "orgs org set-seats",
        "{audit}"
    );
    let out = run(vec![
        "--organization".into(),
        id.clone(),
        "--limit".into(),
        "-3".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit:"));
    let out = run(vec![
        "--organization".into(),
        "999999".into(),
        "--limit".into(),
        "none".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no organization with id 999999"));
    let out = run(vec![
        "--organization".into(),
        id,
        "--limit".into(),
        "none".into(),
    ])
    .await;
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Nirvana (nirvana): no seat limit, 3 used"
    );
}
