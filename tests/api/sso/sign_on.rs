//! Signing on through an organization's identity provider: who the person is decided strictly
//! (a verified, listed domain; then the pair issuer and `sub`), the checks of the ID token,
//! one use of each sign-on, invitations and seats, the provider's second factor, a rotated
//! key, and the login page that asks for the address first.

use reqwest::Method;
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use super::{
    PUBLIC_HOST, acme_with_sso, at_provider, audit_actions, idp, on_public, sign_on, sign_on_with,
    sub,
};
use crate::helpers::{TestApp, Visitor, browser, location, visitor};

/// The people of Acme by address: their roles.
pub(super) async fn people(ada: &Visitor) -> Vec<(String, Vec<String>)> {
    let (_, list) = ada
        .api(Method::GET, "/o/acme/api/v1/people/?per_page=100", None)
        .await;
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let roles = p["roles"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|k| k.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            (p["email"].as_str().unwrap_or_default().to_string(), roles)
        })
        .collect()
}

pub(super) async fn account_email(app: &TestApp, browser: &reqwest::Client) -> Value {
    let answer = browser
        .get(format!("{}/api/v1/account/", app.address))
        .send()
        .await
        .unwrap();
    answer.json().await.unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_person_at_a_verified_domain_signs_on_and_joins_with_the_connections_role() {
    let (app, ada, _dns) = acme_with_sso(json!({})).await;
    let who = sub("nia");
    idp()
        .account(
            &who,
            json!({"email": "Nia@Acme.test", "email_verified": true, "name": "Nia"}),
            None,
            None,
        )
        .await;

    let done = sign_on(&app, "acme", &who).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location, "/o/acme/",
        "on to the organization's page it started for"
    );
    let authorize = url_query(&done.authorize);
    for key in ["state", "nonce", "code_challenge"] {
        assert!(
            authorize.iter().any(|(k, v)| k == key && v.len() >= 20),
            "{key} in {authorize:?}"
        );
    }
    assert!(authorize.contains(&("code_challenge_method".into(), "S256".into())));
    let account = account_email(&app, &done.browser).await;
    assert_eq!(account["email"], "nia@acme.test");
    let page = done
        .browser
        .get(format!("{}/o/acme/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    assert!(
        people(&ada)
            .await
            .contains(&("nia@acme.test".into(), vec!["member".into()]))
    );
    let actions: Vec<String> = audit_actions(&ada)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(
        actions.contains(&"sso.identity_linked".into()),
        "{actions:?}"
    );
    assert!(actions.contains(&"member.added".into()), "{actions:?}");
    let password: Vec<Option<String>> = app
        .column("SELECT password_hash FROM users WHERE email = 'nia@acme.test'")
        .await;
    assert_eq!(
        password,
        [None],
        "an account made by sign-on has no password"
    );
}

fn url_query(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn an_address_outside_the_connection_or_unverified_by_it_is_refused_and_audited_whatever_the_provider_says()
 {
    let (app, ada, _dns) = acme_with_sso(json!({})).await;
    // Gus's own address, asserted verified by the provider: still not Acme's to vouch for.
    let intruder = sub("intruder");
    idp()
        .account(
            &intruder,
            json!({"email": "gus@globex.test", "email_verified": true}),
            None,
            None,
        )
        .await;
    let no_mail = sub("no-mail");
    idp()
        .account(&no_mail, json!({"name": "Nobody"}), None, None)
        .await;

    for who in [&intruder, &no_mail] {
        let done = sign_on(&app, "acme", who).await;
        assert_eq!(done.status, 403, "{who}: {}", done.body);
        assert!(done.body.contains("acme.test"), "{}", done.body);
        assert!(
            account_email(&app, &done.browser).await["email"].is_null(),
            "not signed in"
        );
    }
    let refused: Vec<Value> = audit_actions(&ada)
        .await
        .into_iter()
        .filter(|(a, _)| a == "sso.claim_refused")
        .map(|(_, e)| e)
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    let emails: Vec<String> = people(&ada).await.into_iter().map(|(e, _)| e).collect();
    assert!(
        !emails.contains(&"gus@globex.test".to_string()),
        "{emails:?}"
    );
    let identities: Vec<i64> = app.column("SELECT COUNT(*) FROM sso_identities").await;
    assert_eq!(identities, [0]);
}

#[tokio::test]
async fn an_account_whose_address_was_never_verified_loses_its_password_to_the_sign_on() {
    let (app, _ada, _dns) = acme_with_sso(json!({})).await;
    // Someone signed up with Ivy's address and never proved it.
    app.conn()
        .execute_unprepared(
            "INSERT INTO users (email, name, password_hash, is_active, is_superuser, created_at, updated_at) \
             SELECT 'ivy@acme.test', 'Squatter', password_hash, FALSE, FALSE, created_at, updated_at \
             FROM users WHERE email = 'ada@acme.test'",
        )
        .await
        .unwrap();
    let who = sub("ivy");
    idp()
        .account(&who, json!({"email": "ivy@acme.test"}), None, None)
        .await;
    let done = sign_on(&app, "acme", &who).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let password: Vec<Option<String>> = app
        .column("SELECT password_hash FROM users WHERE email = 'ivy@acme.test'")
        .await;
    assert_eq!(password, [None], "the squatter's password is gone");
    let login = app.login("ivy@acme.test", crate::helpers::PASSWORD).await;
    assert_eq!(login.status(), 200, "the old password signs nobody in");
}

#[tokio::test]
async fn a_token_for_another_audience_an_expired_token_and_a_wrong_nonce_are_refused() {
    let (app, ada, _dns) = acme_with_sso(json!({})).await;
    for (name, misbehaviour, said) in [
        ("aud", json!({"aud": "someone-else"}), "audience"),
        ("exp", json!({"exp_offset_seconds": -3600}), "expired"),
        ("nonce", json!({"nonce": "not-the-one-sent"}), "nonce"),
    ] {
        let who = sub(name);
        let email = format!("{name}@acme.test");
        idp()
            .account(&who, json!({ "email": email }), None, Some(misbehaviour))
            .await;
        let done = sign_on(&app, "acme", &who).await;
        assert_eq!(done.status, 403, "{name}: {}", done.body);
        assert!(
            done.body.to_lowercase().contains(said),
            "{name}: {}",
            done.body
        );
        let emails: Vec<String> = people(&ada).await.into_iter().map(|(e, _)| e).collect();
        assert!(!emails.contains(&email), "{name}");
    }
}

#[tokio::test]
async fn a_callback_is_used_once_and_only_in_the_browser_that_started_it() {
    let (app, _ada, _dns) = acme_with_sso(json!({})).await;
    let who = sub("once");
    idp()
        .account(&who, json!({"email": "once@acme.test"}), None, None)
        .await;
    let done = sign_on(&app, "acme", &who).await;
    assert_eq!(done.status, 303, "{}", done.body);

    let replayed = on_public(&app, &done.browser, &done.callback).await;
    assert_eq!(
        replayed.status(),
        403,
        "the same browser cannot use it twice"
    );
    let elsewhere = on_public(&app, &browser(), &done.callback).await;
    assert_eq!(
        elsewhere.status(),
        403,
        "another browser cannot use it at all"
    );

    // A started sign-on whose state is tampered with.
    let victim = browser();
    let started = super::start(&app, &victim, "/sso/acme/start").await;
    let callback = at_provider(&location(&started), &who).await;
    let forged = callback.replace("state=", "state=x");
    let answer = on_public(&app, &victim, &forged).await;
    assert_eq!(answer.status(), 403);
    assert!(answer.text().await.unwrap().contains("state"));
}

#[tokio::test]
async fn a_pending_invitation_is_honoured_with_its_roles_and_ends() {
    let (app, ada, _dns) = acme_with_sso(json!({})).await;
    let (status, invited) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/people/",
            Some(json!({"email": "ora@acme.test", "roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, 201, "{invited}");
    let who = sub("ora");
    idp()
        .account(&who, json!({"email": "ora@acme.test"}), None, None)
        .await;
    let done = sign_on(&app, "acme", &who).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        people(&ada)
            .await
            .contains(&("ora@acme.test".into(), vec!["admin".into()]))
    );
    let pending: Vec<i64> = app
        .column("SELECT COUNT(*) FROM organization_invitations WHERE email = 'ora@acme.test' AND accepted_at IS NULL")
        .await;
    assert_eq!(pending, [0], "the invitation is used");
}

#[tokio::test]
async fn a_full_organization_refuses_a_new_person_by_sign_on() {
    let (app, ada, _dns) = acme_with_sso(json!({})).await;
    app.conn()
        .execute_unprepared("UPDATE organizations SET seat_limit = 2 WHERE slug = 'acme'")
        .await
        .unwrap();
    app.state.caches.invalidate();
    let who = sub("late");
    idp()
        .account(&who, json!({"email": "late@acme.test"}), None, None)
        .await;
    let done = sign_on(&app, "acme", &who).await;
    assert_eq!(done.status, 403, "{}", done.body);
    assert!(done.body.contains("seat"), "{}", done.body);
    let emails: Vec<String> = people(&ada).await.into_iter().map(|(e, _)| e).collect();
    assert!(!emails.contains(&"late@acme.test".to_string()));
}

/// Acme requires two-factor sign-in.
pub(super) async fn require_two_factor(app: &TestApp) {
    crate::two_factor::set_requirement(app, "acme", true).await;
}

#[tokio::test]
async fn the_providers_second_factor_satisfies_the_requirement_only_when_trusted_and_named() {
    let (app, _ada, _dns) = acme_with_sso(json!({"trust_idp_mfa": true})).await;
    require_two_factor(&app).await;
    let with_otp = sub("otp");
    idp()
        .account(
            &with_otp,
            json!({"email": "otp@acme.test"}),
            Some(&["pwd", "otp"]),
            None,
        )
        .await;
    let password_only = sub("pwd");
    idp()
        .account(
            &password_only,
            json!({"email": "pwd@acme.test"}),
            Some(&["pwd"]),
            None,
        )
        .await;
    let no_amr = sub("none");
    idp()
        .account(&no_amr, json!({"email": "none@acme.test"}), None, None)
        .await;

    let done = sign_on(&app, "acme", &with_otp).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = done
        .browser
        .get(format!("{}/o/acme/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the provider's otp counts");

    for who in [&password_only, &no_amr] {
        let done = sign_on(&app, "acme", who).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let page = done
            .browser
            .get(format!("{}/o/acme/", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(
            location(&page),
            "/account/security/?for=acme",
            "{who}: sent to add a factor"
        );
    }
}

#[tokio::test]
async fn an_untrusted_providers_second_factor_does_not_count() {
    let (app, _ada, _dns) = acme_with_sso(json!({"trust_idp_mfa": false})).await;
    require_two_factor(&app).await;
    let who = sub("otp-untrusted");
    idp()
        .account(
            &who,
            json!({"email": "otpu@acme.test"}),
            Some(&["mfa", "otp"]),
            None,
        )
        .await;
    let done = sign_on(&app, "acme", &who).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = done
        .browser
        .get(format!("{}/o/acme/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&page), "/account/security/?for=acme");
}

#[tokio::test]
async fn a_token_signed_with_a_rotated_key_is_verified_after_the_keys_are_fetched_again() {
    let (app, _ada, _dns) = acme_with_sso(json!({})).await;
    let before = sub("before");
    idp()
        .account(&before, json!({"email": "before@acme.test"}), None, None)
        .await;
    assert_eq!(
        sign_on(&app, "acme", &before).await.status,
        303,
        "the keys are cached now"
    );
    let kid = idp().rotate_key().await;
    assert!(!kid.is_empty());
    let after = sub("after");
    idp()
        .account(&after, json!({"email": "after@acme.test"}), None, None)
        .await;
    let done = sign_on(&app, "acme", &after).await;
    assert_eq!(done.status, 303, "{}", done.body);
}

#[tokio::test]
async fn the_login_page_sends_an_address_at_a_sso_domain_to_its_provider_and_keeps_passwords_working()
 {
    let (app, _ada, _dns) = acme_with_sso(json!({})).await;
    let post = |email: &'static str| {
        let app = &app;
        async move {
            crate::helpers::post_from_new_browser(
                app,
                "/login/",
                &[("email", email), ("password", ""), ("sso", "1")],
                &[("host", PUBLIC_HOST)],
            )
            .await
        }
    };
    let known = post("max@acme.test").await;
    let unknown = post("nobody-here@acme.test").await;
    assert_eq!(known.status(), 303);
    assert_eq!(
        unknown.status(),
        303,
        "an unknown address gets the same answer"
    );
    // On the public host the checked form starts the sign-on at once: straight to the provider.
    for (answer, email) in [
        (&known, "max@acme.test"),
        (&unknown, "nobody-here@acme.test"),
    ] {
        let to = location(answer);
        assert!(to.starts_with(&idp().issuer), "{to}");
        assert!(
            url_query(&to).contains(&("login_hint".into(), email.into())),
            "{to}"
        );
    }
    // On an organization's host it goes to the start page on the public host.
    let on_acme = crate::helpers::post_from_new_browser(
        &app,
        "/login/",
        &[("email", "max@acme.test"), ("password", ""), ("sso", "1")],
        &[("host", "acme.localhost:8000")],
    )
    .await;
    assert_eq!(on_acme.status(), 303);
    assert!(
        location(&on_acme)
            .starts_with("http://localhost:8000/sso/acme/start?login_hint=max%40acme.test"),
        "{}",
        location(&on_acme)
    );
    let elsewhere = post("someone@example.org").await;
    assert_eq!(elsewhere.status(), 200);
    assert!(
        elsewhere
            .text()
            .await
            .unwrap()
            .contains("enter your password")
    );

    // The login hint reaches the provider; email and password together still sign in.
    let who = sub("hinted");
    idp()
        .account(&who, json!({"email": "hinted@acme.test"}), None, None)
        .await;
    let done = sign_on_with(
        &app,
        browser(),
        "/sso/acme/start?login_hint=hinted%40acme.test",
        &who,
    )
    .await;
    assert!(url_query(&done.authorize).contains(&("login_hint".into(), "hinted@acme.test".into())));
    assert_eq!(
        visitor(&app, Some("max@acme.test"))
            .await
            .get("/api/v1/account/")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn a_link_alone_never_starts_a_sign_on_only_the_pages_checked_button_does() {
    let (app, _ada, _dns) = acme_with_sso(json!({})).await;
    let browser = browser();
    let page = on_public(&app, &browser, "/sso/acme/start?next=%2Fprojects%2F").await;
    assert_eq!(page.status(), 200, "a page, not a redirect to the provider");
    assert!(page.text().await.unwrap().contains("Continue to Acme"));
    let forged = browser
        .post(format!("{}/sso/acme/start", app.address))
        .header("host", PUBLIC_HOST)
        .form(&[("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "another site's form has no token");
}
