//! Who a sign-on is, strictly: an address the provider calls unverified is refused; an account
//! that signs in on its own is linked only from a browser signed in to it, a superuser's never;
//! once linked, a changed email claim keeps the account, and a domain the organization no
//! longer holds ends the link's use; the provider's trusted second factor counts for its own
//! organization alone.

use reqwest::Method;
use sea_orm::ConnectionTrait as _;
use serde_json::json;

use super::sign_on::{account_email, people, require_two_factor};
use super::{acme_with_sso, idp, sign_on, sign_on_with, sub};
use crate::helpers::{location, visitor};

#[tokio::test]
async fn an_address_without_email_verified_signs_on_and_one_the_provider_calls_unverified_does_not()
{
    let (app, ada, _dns) = acme_with_sso(json!({})).await;
    // Entra sends no email_verified: the organization's proof of its domain vouches.
    let who = sub("entra-like");
    idp()
        .account(&who, json!({"email": "zoe@acme.test"}), None, None)
        .await;
    let done = sign_on(&app, "acme", &who).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        account_email(&app, &done.browser).await["email"],
        "zoe@acme.test"
    );
    // A provider that says the address is not verified is believed.
    let unverified = sub("unverified");
    idp()
        .account(
            &unverified,
            json!({"email": "yan@acme.test", "email_verified": false}),
            None,
            None,
        )
        .await;
    let done = sign_on(&app, "acme", &unverified).await;
    assert_eq!(done.status, 403, "{}", done.body);
    assert!(done.body.contains("not verified"), "{}", done.body);
    let emails: Vec<String> = people(&ada).await.into_iter().map(|(e, _)| e).collect();
    assert!(!emails.contains(&"yan@acme.test".to_string()));
}

#[tokio::test]
async fn once_linked_the_identity_keeps_its_account_when_the_email_claim_changes() {
    let (app, _ada, _dns) = acme_with_sso(json!({})).await;
    let who = sub("max");
    idp()
        .account(&who, json!({"email": "max@acme.test"}), None, None)
        .await;
    // Max links it from his own signed-in browser (his account has a password).
    let max = visitor(&app, Some("max@acme.test")).await;
    let first = sign_on_with(&app, max.client.clone(), "/sso/acme/start", &who).await;
    assert_eq!(first.status, 303, "{}", first.body);
    assert_eq!(
        account_email(&app, &first.browser).await["email"],
        "max@acme.test"
    );

    // The provider now says this identity is Ada.
    idp()
        .account(&who, json!({"email": "ada@acme.test"}), None, None)
        .await;
    let again = sign_on(&app, "acme", &who).await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(
        account_email(&app, &again.browser).await["email"],
        "max@acme.test",
        "the pair (issuer, sub) decides, never the changed email claim"
    );
}

#[tokio::test]
async fn an_account_that_signs_in_on_its_own_is_linked_only_from_a_browser_signed_in_to_it() {
    let (app, _ada, _dns) = acme_with_sso(json!({"trust_idp_mfa": true})).await;
    app.user("pam@acme.test", "Pam").await;
    let who = sub("pam");
    idp()
        .account(
            &who,
            json!({"email": "pam@acme.test"}),
            Some(&["mfa"]),
            None,
        )
        .await;
    // The organization's provider alone never takes over an account with a password.
    let refused = sign_on(&app, "acme", &who).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("sign in to it first"),
        "{}",
        refused.body
    );
    assert!(account_email(&app, &refused.browser).await["email"].is_null());
    // Signed in with her password, Pam links it; from then on the sign-on alone signs her in.
    let pam = visitor(&app, Some("pam@acme.test")).await;
    let linked = sign_on_with(&app, pam.client.clone(), "/sso/acme/start", &who).await;
    assert_eq!(linked.status, 303, "{}", linked.body);
    let later = sign_on(&app, "acme", &who).await;
    assert_eq!(later.status, 303, "{}", later.body);
    assert_eq!(
        account_email(&app, &later.browser).await["email"],
        "pam@acme.test"
    );
    assert_eq!(
        pam.get("/api/v1/account/").await.0,
        200,
        "her password still works"
    );

    // A superuser's account is never linked, even from its own browser.
    let root = app.user("root@acme.test", "Root").await;
    app.conn()
        .execute_unprepared(&format!(
            "UPDATE users SET is_superuser = TRUE WHERE id = {}",
            root.id
        ))
        .await
        .unwrap();
    let root_sub = sub("root");
    idp()
        .account(
            &root_sub,
            json!({"email": "root@acme.test"}),
            Some(&["mfa"]),
            None,
        )
        .await;
    let root_browser = visitor(&app, Some("root@acme.test")).await;
    let refused = sign_on_with(
        &app,
        root_browser.client.clone(),
        "/sso/acme/start",
        &root_sub,
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("superuser"), "{}", refused.body);
}

#[tokio::test]
async fn the_providers_second_factor_counts_for_its_organization_alone() {
    let (app, _ada, _dns) = acme_with_sso(json!({"trust_idp_mfa": true})).await;
    let who = sub("two-orgs");
    idp()
        .account(
            &who,
            json!({"email": "tia@acme.test"}),
            Some(&["otp"]),
            None,
        )
        .await;
    let done = sign_on(&app, "acme", &who).await;
    assert_eq!(done.status, 303, "{}", done.body);
    // Tia is a member of Globex too, and both require two-factor sign-in.
    let tia: Vec<i64> = app
        .column("SELECT id FROM users WHERE email = 'tia@acme.test'")
        .await;
    let globex: Vec<i64> = app
        .column("SELECT id FROM organizations WHERE slug = 'globex'")
        .await;
    crate::rules::add_user(app.conn(), app.events(), globex[0], tia[0], false)
        .await
        .unwrap();
    crate::two_factor::set_requirement(&app, "globex", true).await;
    require_two_factor(&app).await;
    let get = |path: &str| done.browser.get(format!("{}{path}", app.address)).send();
    assert_eq!(get("/o/acme/").await.unwrap().status(), 200);
    assert_eq!(
        location(&get("/o/globex/").await.unwrap()),
        "/account/security/?for=globex",
        "Acme's provider vouches for nothing at Globex"
    );
}

#[tokio::test]
async fn a_linked_identity_whose_domain_the_organization_no_longer_holds_is_refused() {
    let (app, ada, _dns) = acme_with_sso(json!({})).await;
    let who = sub("gone");
    idp()
        .account(&who, json!({"email": "gil@acme.test"}), None, None)
        .await;
    assert_eq!(sign_on(&app, "acme", &who).await.status, 303);
    let (_, domains) = ada
        .api(Method::GET, "/o/acme/api/v1/email-domains/", None)
        .await;
    let id = domains["items"][0]["id"].as_i64().unwrap();
    let (status, _) = ada
        .api(
            Method::DELETE,
            &format!("/o/acme/api/v1/email-domains/{id}/"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let again = sign_on(&app, "acme", &who).await;
    assert_eq!(again.status, 403, "{}", again.body);
}
