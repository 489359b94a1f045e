//! Email domains: proved by a TXT record under `_orgs-email.` (never by a custom domain's
//! `_orgs-challenge.`, nor the reverse), one organization's once verified, public mail services
//! refused, failed after 30 days, unverified again (audited) when the record goes; and the
//! connection's settings refused where they would trust what was never proved.

use reqwest::Method;
use sea_orm::ConnectionTrait as _;
use serde_json::json;

use super::{acme_with_sso, audit_actions, idp, sso_app, verified_domain};
use crate::helpers::{TestApp, two_tenants, visitor};

#[tokio::test]
async fn an_email_domain_is_verified_by_its_own_txt_record_and_never_by_a_custom_domains() {
    let (app, dns) = sso_app().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (status, added) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/email-domains/",
            Some(json!({"domain": "Acme.TEST."})),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    for key in ["id", "domain", "state", "txt_name", "txt_value", "join"] {
        assert!(added.get(key).is_some(), "{key} in {added}");
    }
    assert_eq!(added["domain"], "acme.test");
    assert_eq!(added["state"], "pending");
    assert_eq!(added["join"], "off");
    assert_eq!(added["txt_name"], "_orgs-email.acme.test");
    let id = added["id"].as_i64().unwrap();
    let value = added["txt_value"].as_str().unwrap().to_string();
    let verify = format!("/o/acme/api/v1/email-domains/{id}/verify/");

    // The right value under a custom domain's name proves nothing.
    dns.records
        .lock()
        .unwrap()
        .insert("_orgs-challenge.acme.test".into(), vec![value.clone()]);
    let (status, refused) = ada.api(Method::POST, &verify, None).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused.to_string().contains("_orgs-email.acme.test"),
        "{refused}"
    );

    dns.records.lock().unwrap().insert(
        "_orgs-email.acme.test".into(),
        vec!["v=spf1 -all".into(), value],
    );
    let (status, verified) = ada.api(Method::POST, &verify, None).await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["state"], "verified");

    // A verified email domain is no custom domain: the organization does not answer there.
    let at = ada.get_on("acme.test", "/projects/").await;
    assert_eq!(at.status(), 404);
    let actions: Vec<String> = audit_actions(&ada)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(
        actions.contains(&"email_domain.verified".into()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn public_mail_services_and_malformed_domains_are_refused_naming_the_field() {
    let (app, _dns) = sso_app().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    for domain in [
        "gmail.com",
        "Outlook.com",
        "mailinator.com",
        "not a domain",
        "localhost",
        "",
    ] {
        let (status, body) = ada
            .api(
                Method::POST,
                "/o/acme/api/v1/email-domains/",
                Some(json!({ "domain": domain })),
            )
            .await;
        assert_eq!(status, 422, "{domain}: {body}");
        assert!(
            body["error"]["fields"]["domain"].is_array(),
            "{domain}: {body}"
        );
    }
    let max = visitor(&app, Some("max@acme.test")).await;
    let (status, _) = max
        .api(
            Method::POST,
            "/o/acme/api/v1/email-domains/",
            Some(json!({"domain": "acme.test"})),
        )
        .await;
    assert_eq!(status, 403, "a member without sso.manage");
}

#[tokio::test]
async fn a_domain_verified_by_one_organization_cannot_be_claimed_or_verified_by_another() {
    let (app, dns) = sso_app().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let gus = visitor(&app, Some("gus@globex.test")).await;
    // Globex claims it first, Acme proves it first.
    let (_, claim) = gus
        .api(
            Method::POST,
            "/o/globex/api/v1/email-domains/",
            Some(json!({"domain": "acme.test"})),
        )
        .await;
    verified_domain(&ada, &dns, "acme.test").await;
    dns.records.lock().unwrap().insert(
        claim["txt_name"].as_str().unwrap().into(),
        vec![claim["txt_value"].as_str().unwrap().into()],
    );
    let id = claim["id"].as_i64().unwrap();
    let (status, body) = gus
        .api(
            Method::POST,
            &format!("/o/globex/api/v1/email-domains/{id}/verify/"),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = gus
        .api(
            Method::POST,
            "/o/globex/api/v1/email-domains/",
            Some(json!({"domain": "acme.test"})),
        )
        .await;
    assert_eq!(status, 409, "a new claim is refused too");
    let verified: Vec<i64> = app
        .column(
            "SELECT COUNT(*) FROM email_domains WHERE domain = 'acme.test' AND state = 'verified'",
        )
        .await;
    assert_eq!(verified, [1]);
}

#[tokio::test]
async fn a_claim_fails_after_thirty_days_and_a_lost_record_makes_the_domain_pending_again() {
    let (app, dns) = sso_app().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, stale) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/email-domains/",
            Some(json!({"domain": "old.test"})),
        )
        .await;
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(31)).to_rfc3339();
    app.conn()
        .execute_unprepared(&format!(
            "UPDATE email_domains SET pending_since = '{long_ago}' WHERE domain = 'old.test'"
        ))
        .await
        .unwrap();
    let id = stale["id"].as_i64().unwrap();
    let (status, _) = ada
        .api(
            Method::POST,
            &format!("/o/acme/api/v1/email-domains/{id}/verify/"),
            None,
        )
        .await;
    assert_eq!(status, 409);
    let (_, row) = ada
        .api(
            Method::GET,
            &format!("/o/acme/api/v1/email-domains/{id}/"),
            None,
        )
        .await;
    assert_eq!(row["state"], "failed");

    verified_domain(&ada, &dns, "acme.test").await;
    dns.records.lock().unwrap().clear();
    // The weekly lookup is due.
    app.conn()
        .execute_unprepared(&format!(
            "UPDATE email_domains SET checked_at = '{long_ago}' WHERE domain = 'acme.test'"
        ))
        .await
        .unwrap();
    let done = orgs::organizations::domain_checks::recheck_due(app.conn(), app.state.dns.as_ref())
        .await
        .unwrap();
    assert!(done.checked >= 1, "{done:?}");
    let states: Vec<String> = app
        .column("SELECT state FROM email_domains WHERE domain = 'acme.test'")
        .await;
    assert_eq!(states, ["pending"]);
    let actions: Vec<String> = audit_actions(&ada)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(
        actions.contains(&"email_domain.unverified".into()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"email_domain.failed".into()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn joining_by_a_domain_needs_it_verified_and_a_role_its_setter_could_grant() {
    let (app, dns) = sso_app().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, pending) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/email-domains/",
            Some(json!({"domain": "acme.test"})),
        )
        .await;
    let path = format!("/o/acme/api/v1/email-domains/{}/", pending["id"]);
    let (status, body) = ada
        .api(Method::PATCH, &path, Some(json!({"join": "suggest"})))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["join"].is_array(), "{body}");
    dns.records.lock().unwrap().insert(
        pending["txt_name"].as_str().unwrap().into(),
        vec![pending["txt_value"].as_str().unwrap().into()],
    );
    let (status, _) = ada.api(Method::POST, &format!("{path}verify/"), None).await;
    assert_eq!(status, 200);
    let (status, body) = ada
        .api(
            Method::PATCH,
            &path,
            Some(json!({"join": "automatic", "role": "admin"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["join"], "automatic");
    assert_eq!(body["role"], "admin");
    for bad in [json!({"join": "always"}), json!({"role": "owner"})] {
        let (status, body) = ada.api(Method::PATCH, &path, Some(bad.clone())).await;
        assert!(status == 422 || status == 400, "{bad}: {status} {body}");
    }
    let (status, body) = ada
        .api(Method::PATCH, &path, Some(json!({"role": "nope"})))
        .await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn a_connection_is_refused_for_a_multi_tenant_issuer_an_unproved_domain_or_no_secret() {
    let (_app, ada, _dns) = acme_with_sso(json!({})).await;
    let base = json!({
        "issuer": idp().issuer, "client_id": "x", "client_secret": "s", "domains": ["acme.test"],
    });
    for (change, field) in [
        (
            json!({"issuer": "https://login.microsoftonline.com/common/v2.0"}),
            "issuer",
        ),
        (
            json!({"issuer": "https://login.microsoftonline.com/organizations/v2.0"}),
            "issuer",
        ),
        (json!({"issuer": "ftp://idp.example"}), "issuer"),
        (json!({"domains": ["globex.test"]}), "domains"),
        (json!({"domains": []}), "domains"),
        (json!({"client_id": " "}), "client_id"),
        (json!({"client_secret": ""}), "client_secret"),
    ] {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = ada
            .api(Method::PUT, "/o/acme/api/v1/sso-connection/", Some(body))
            .await;
        assert_eq!(status, 422, "{change}: {answer}");
        assert!(
            answer["error"]["fields"][field].is_array(),
            "{change}: {answer}"
        );
    }
}

#[tokio::test]
async fn the_connection_never_answers_its_secret_and_stores_it_sealed() {
    let (app, ada, _dns) = acme_with_sso(json!({"role": "admin", "enforced": false})).await;
    let (status, shown) = ada
        .api(Method::GET, "/o/acme/api/v1/sso-connection/", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(shown["role"], "admin");
    assert_eq!(shown["domains"], json!(["acme.test"]));
    assert!(shown.get("client_secret").is_none(), "{shown}");
    assert!(
        shown["redirect_uri"]
            .as_str()
            .unwrap()
            .ends_with("/sso/callback")
    );
    let stored: Vec<String> = app
        .column("SELECT client_secret FROM sso_connections")
        .await;
    assert!(!stored[0].contains("secret-of-"), "sealed: {}", stored[0]);
    // A new issuer or client id never gets the stored secret.
    for (key, value) in [
        ("issuer", json!("https://elsewhere.example")),
        ("client_id", json!("another")),
    ] {
        let mut moved = super::connection_body(&ada).await;
        moved[key] = value;
        let (status, body) = ada
            .api(Method::PUT, "/o/acme/api/v1/sso-connection/", Some(moved))
            .await;
        assert_eq!(status, 422, "{key}: {body}");
        assert!(
            body["error"]["fields"]["client_secret"].is_array(),
            "{body}"
        );
    }
    // Replacing it without a secret keeps the old one.
    let mut again = super::connection_body(&ada).await;
    again["role"] = json!("member");
    let (status, body) = ada
        .api(Method::PUT, "/o/acme/api/v1/sso-connection/", Some(again))
        .await;
    assert_eq!(status, 200, "{body}");
    let kept: Vec<String> = app
        .column("SELECT client_secret FROM sso_connections")
        .await;
    assert_eq!(kept, stored);
}

#[tokio::test]
async fn a_plan_without_sso_refuses_the_connection_and_the_sign_on_with_402() {
    let (app, ada, _dns) = acme_with_sso(json!({})).await;
    app.conn()
        .execute_unprepared(
            "UPDATE organizations SET plan = 'free', entitlements = '{}' WHERE slug = 'acme'",
        )
        .await
        .unwrap();
    app.state.caches.invalidate();
    let (status, body) = ada
        .api(Method::GET, "/o/acme/api/v1/sso-connection/", None)
        .await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["error"]["code"], "plan_required");
    let started = super::on_public(&app, &crate::helpers::browser(), "/sso/acme/start").await;
    assert_eq!(started.status(), 402);
}

/// Ada's app and a member who holds only `sso.manage` (a custom role).
async fn sso_manager(app: &TestApp, ada: &crate::helpers::Visitor) -> crate::helpers::Visitor {
    let (status, role) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/roles/",
            Some(json!({"key": "sso-admin", "name": "SSO admin", "permissions": ["sso.manage", "members.read"]})),
        )
        .await;
    assert_eq!(status, 201, "{role}");
    let max_id: Vec<i64> = app
        .column("SELECT id FROM users WHERE email = 'max@acme.test'")
        .await;
    let (status, body) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", max_id[0]),
            Some(json!({"roles": ["sso-admin"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    visitor(app, Some("max@acme.test")).await
}

#[tokio::test]
async fn an_sso_manager_cannot_hand_out_a_role_stronger_than_their_own() {
    let (app, ada, _dns) = acme_with_sso(json!({})).await;
    let max = sso_manager(&app, &ada).await;
    let mut body = super::connection_body(&max).await;
    body["role"] = json!("admin");
    let (status, answer) = max
        .api(
            Method::PUT,
            "/o/acme/api/v1/sso-connection/",
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 403, "{answer}");
    // Trusting the provider's second factor is sign-in security: it needs security.manage.
    body["role"] = json!("sso-admin");
    body["trust_idp_mfa"] = json!(true);
    let (status, answer) = max
        .api(Method::PUT, "/o/acme/api/v1/sso-connection/", Some(body))
        .await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["error"]["permission"], "security.manage", "{answer}");
    let (_, domains) = max
        .api(Method::GET, "/o/acme/api/v1/email-domains/", None)
        .await;
    let id = domains["items"][0]["id"].as_i64().unwrap();
    let (status, answer) = max
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/email-domains/{id}/"),
            Some(json!({"join": "automatic", "role": "admin"})),
        )
        .await;
    assert_eq!(status, 403, "{answer}");
}

#[tokio::test]
async fn a_connections_role_stops_being_given_once_whoever_saved_it_no_longer_could() {
    let (app, ada, _dns) = acme_with_sso(json!({})).await;
    let max = sso_manager(&app, &ada).await;
    let mut body = super::connection_body(&max).await;
    body["role"] = json!("sso-admin");
    let (status, answer) = max
        .api(
            Method::PUT,
            "/o/acme/api/v1/sso-connection/",
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    // Max loses the role he handed out.
    let max_id: Vec<i64> = app
        .column("SELECT id FROM users WHERE email = 'max@acme.test'")
        .await;
    let (status, _) = ada
        .api(
            Method::PATCH,
            &format!("/o/acme/api/v1/people/{}/", max_id[0]),
            Some(json!({"roles": ["member"]})),
        )
        .await;
    assert_eq!(status, 200);
    let who = super::sub("after-demotion");
    idp()
        .account(&who, json!({"email": "dee@acme.test"}), None, None)
        .await;
    let refused = super::sign_on(&app, "acme", &who).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("save it again"), "{}", refused.body);
    // Saved again by Ada, who holds it, the role is given again.
    let (status, _) = ada
        .api(Method::PUT, "/o/acme/api/v1/sso-connection/", Some(body))
        .await;
    assert_eq!(status, 200);
    assert_eq!(super::sign_on(&app, "acme", &who).await.status, 303);
}
