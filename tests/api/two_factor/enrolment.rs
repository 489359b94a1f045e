//! Setting up an authenticator app: on the account's security page (a QR code made here and the
//! secret as text, enabled only by a code from it, ten recovery codes shown once), through
//! `/api/v1/account/two-factor/`, and what it does besides: a mail, an entry in the person's own
//! security log, the person's other sign-ins ended, their personal tokens kept; the secret kept
//! sealed, never in clear, never in the server's log.

use std::collections::HashSet;

use entity::{recovery_code, user_session, user_two_factor};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::{
    App, another_secret, assert_error, code_from_url, password_body, raw_forms, recovery_codes_in,
    text_after, totp_code, with_token,
};
use crate::helpers::{TestApp, assert_redirect_to, visitor};

/// The letters of a recovery code: 32 of them, so each carries 5 bits.
const RECOVERY_ALPHABET: &str = "abcdefghijkmnpqrstuvwxyz23456789";

#[track_caller]
fn assert_recovery_codes(codes: &[String]) {
    assert_eq!(codes.len(), 10, "{codes:?}");
    let distinct: HashSet<&String> = codes.iter().collect();
    assert_eq!(distinct.len(), 10, "ten different codes: {codes:?}");
    for code in codes {
        let letters: String = code.chars().filter(|c| *c != '-').collect();
        assert!(
            letters.chars().all(|c| RECOVERY_ALPHABET.contains(c)),
            "{code}"
        );
        assert!(letters.len() * 5 >= 80, "at least 80 bits: {code}");
    }
}

#[track_caller]
fn assert_base32_secret(secret: &str) {
    assert!(
        secret.len() >= 32
            && secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
        "a base32 secret of 160 bits or more: {secret}"
    );
}

#[tokio::test]
async fn the_security_page_sets_up_an_app_from_its_qr_code_only_with_a_right_code_and_shows_ten_recovery_codes_once()
 {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@acme.test", "Ada").await;
    let (_, token) = orgs::auth::api_tokens::create(app.conn(), ada.id(), "laptop")
        .await
        .unwrap();
    let other_browser = visitor(&app, Some("ada@acme.test")).await;
    let browser = visitor(&app, Some("ada@acme.test")).await;

    let (status, page) = browser.get("/account/security/").await;
    assert_eq!(status, 200);
    assert!(page.contains("Set up an authenticator app"), "{page}");
    let started = browser.post_form("/account/security/totp/", &[]).await;
    assert_redirect_to(&started, 303, "/account/security/#totp");
    let (_, page) = browser.get("/account/security/").await;
    let figure = &page[page.find("<figure class=\"qr\">").expect("a QR code")..];
    assert!(
        figure.starts_with("<figure class=\"qr\"><svg xmlns=\"http://www.w3.org/2000/svg\""),
        "the QR code is an SVG in the page, made by the server: {figure}"
    );
    assert!(!page.contains("<img"), "no image from elsewhere: {page}");
    let secret = text_after(&page, "id=\"totp-secret\">");
    assert_base32_secret(&secret);
    let authenticator = App { secret };

    // A code from another app is refused; the enrolment stays, with the same secret.
    let wrong = totp_code(&another_secret(), None);
    let refused = browser
        .post_form("/account/security/totp/confirm/", &[("code", &wrong)])
        .await;
    assert_eq!(refused.status(), 200);
    let page = refused.text().await.unwrap();
    assert!(page.contains("this code is not right"), "{page}");
    assert_eq!(
        text_after(&page, "id=\"totp-secret\">"),
        authenticator.secret
    );
    let (_, factors) = browser
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(factors["totp"], false, "not on before a right code");

    let confirmed = browser
        .post_form(
            "/account/security/totp/confirm/",
            &[("code", &authenticator.code())],
        )
        .await;
    assert_redirect_to(&confirmed, 303, "/account/security/#recovery");
    let (_, page) = browser.get("/account/security/").await;
    let codes = recovery_codes_in(&page);
    assert_recovery_codes(&codes);
    assert!(page.contains("Remove the authenticator app"), "{page}");
    let (_, again) = browser.get("/account/security/").await;
    assert!(
        !again.contains("id=\"recovery-codes\"") && !again.contains(&codes[0]),
        "shown once"
    );
    assert!(again.contains("10 unused codes left"), "{again}");
    assert!(
        again.contains("Authenticator app set up"),
        "the log: {again}"
    );

    let mail = app.wait_for_mail("ada@acme.test", 1).await;
    assert!(
        mail[0].subject.contains("Authenticator app set up"),
        "{}",
        mail[0].subject
    );
    let (status, log) = browser
        .api(Method::GET, "/api/v1/account/security-events/", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(log[0]["action"], "totp.enabled", "{log}");

    let (status, factors) = browser
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        factors,
        json!({"totp": true, "passkeys": 0, "recovery_codes_left": 10})
    );
    let (status, _) = other_browser.get("/account/").await;
    assert_eq!(status, 302, "the person's other sign-in ended");
    let (status, _) = browser.get("/account/").await;
    assert_eq!(status, 200, "the browser that set it up stays signed in");
    assert_eq!(
        with_token(&app, Method::GET, "/api/v1/account/", &token).await,
        200,
        "personal tokens stay"
    );
    let sessions = user_session::Entity::find()
        .filter(user_session::Column::UserId.eq(ada.id))
        .all(app.conn())
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert!(
        sessions[0].second_factor_at.is_some(),
        "the code just typed is a second factor of this sign-in"
    );
}

#[tokio::test]
async fn the_api_sets_up_and_removes_an_app_with_the_shapes_of_the_issue() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let other_browser = visitor(&app, Some("ada@acme.test")).await;

    let (status, factors) = ada
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        factors,
        json!({"totp": false, "passkeys": 0, "recovery_codes_left": 0})
    );
    let (status, body) = ada
        .api(
            Method::POST,
            "/api/v1/account/two-factor/totp/confirm/",
            Some(json!({"code": "123456"})),
        )
        .await;
    assert_error(status, &body, 409, "conflict");

    let (status, enrolment) = ada
        .api(Method::POST, "/api/v1/account/two-factor/totp/", None)
        .await;
    assert_eq!(status, 201, "{enrolment}");
    let keys: Vec<&String> = enrolment.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["otpauth_url", "secret"]);
    let secret = enrolment["secret"].as_str().unwrap();
    assert_base32_secret(secret);
    let url = enrolment["otpauth_url"].as_str().unwrap();
    assert!(url.starts_with("otpauth://totp/"), "{url}");
    assert!(url.contains(&format!("secret={secret}")), "{url}");

    let wrong = totp_code(&another_secret(), None);
    let (status, body) = ada
        .api(
            Method::POST,
            "/api/v1/account/two-factor/totp/confirm/",
            Some(json!({ "code": wrong })),
        )
        .await;
    assert_error(status, &body, 422, "invalid");
    assert!(body["error"]["fields"]["code"].is_array(), "{body}");

    // The app takes the address from the QR code.
    let (status, body) = ada
        .api(
            Method::POST,
            "/api/v1/account/two-factor/totp/confirm/",
            Some(json!({ "code": code_from_url(url) })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_recovery_codes(&codes);
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let (_, factors) = ada
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(
        factors,
        json!({"totp": true, "passkeys": 0, "recovery_codes_left": 10})
    );
    let (status, _) = other_browser.get("/account/").await;
    assert_eq!(status, 302, "an app added ends the other sign-ins");
    let (status, body) = ada
        .api(Method::POST, "/api/v1/account/two-factor/totp/", None)
        .await;
    assert_error(status, &body, 409, "conflict");

    // Removing it: the same again.
    let other_browser = super::signed_in_with(
        &app,
        "ada@acme.test",
        &App {
            secret: secret.to_string(),
        }
        .code_in(1),
    )
    .await;
    let deleted = ada
        .send(Method::DELETE, "/api/v1/account/two-factor/totp/", None)
        .await;
    assert_eq!(deleted.status(), 204);
    let (_, factors) = ada
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(
        factors,
        json!({"totp": false, "passkeys": 0, "recovery_codes_left": 0}),
        "the recovery codes went with the only factor"
    );
    let (status, _) = other_browser.get("/account/").await;
    assert_eq!(status, 302, "an app removed ends the other sign-ins");
    let (status, body) = ada
        .api(Method::DELETE, "/api/v1/account/two-factor/totp/", None)
        .await;
    assert_error(status, &body, 404, "not_found");
    let mail = app.wait_for_mail("ada@acme.test", 2).await;
    assert!(
        mail[1].subject.contains("Authenticator app removed"),
        "{}",
        mail[1].subject
    );
    let (_, log) = ada
        .api(Method::GET, "/api/v1/account/security-events/", None)
        .await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["totp.disabled", "totp.enabled"], "{log}");
    // With nothing to sign in with but the password, the password alone signs in again.
    let (response, _) = super::password_typed(&app, "ada@acme.test").await;
    assert_eq!(response.status(), 303);
    assert_ne!(crate::helpers::location(&response), "/login/two-factor/");
}

#[tokio::test]
async fn the_secret_is_kept_sealed_and_the_recovery_codes_hashed() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@acme.test", "Ada").await;
    let browser = visitor(&app, Some("ada@acme.test")).await;
    let (_, enrolment) = browser
        .api(Method::POST, "/api/v1/account/two-factor/totp/", None)
        .await;
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let (hex, b64) = raw_forms(&secret);
    let forms = [
        secret.clone(),
        secret.to_ascii_lowercase(),
        hex.clone(),
        hex.to_ascii_uppercase(),
        b64.clone(),
        b64.trim_end_matches('=').to_string(),
    ];
    let stored = |row: &user_two_factor::Model| {
        [row.totp_secret.clone(), row.totp_pending.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<String>>()
    };
    let row = user_two_factor::Entity::find_by_id(ada.id)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored(&row).len(), 1, "the enrolment under way is kept");
    for kept in stored(&row) {
        for form in &forms {
            assert!(!kept.contains(form.as_str()), "{form} in {kept}");
        }
    }
    let (status, body) = browser
        .api(
            Method::POST,
            "/api/v1/account/two-factor/totp/confirm/",
            Some(json!({ "code": totp_code(&secret, None) })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let row = user_two_factor::Entity::find_by_id(ada.id)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(row.totp_secret.is_some() && row.totp_pending.is_none());
    for kept in stored(&row) {
        for form in &forms {
            assert!(!kept.contains(form.as_str()), "{form} in {kept}");
        }
    }
    let hashes: Vec<String> = recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(ada.id))
        .all(app.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.code_hash)
        .collect();
    assert_eq!(hashes.len(), 10);
    for code in body["recovery_codes"].as_array().unwrap() {
        let code = code.as_str().unwrap();
        let bare = code.replace('-', "");
        assert!(
            hashes
                .iter()
                .all(|hash| !hash.contains(code) && !hash.contains(&bare)),
            "{code} is stored hashed"
        );
    }
}

#[tokio::test]
async fn a_personal_token_reaches_none_of_the_two_factor_endpoints() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@acme.test", "Ada").await;
    let (_, token) = orgs::auth::api_tokens::create(app.conn(), ada.id(), "laptop")
        .await
        .unwrap();
    let client = reqwest::Client::new();
    for (method, path, body) in [
        (Method::GET, "/api/v1/account/two-factor/", None),
        (Method::POST, "/api/v1/account/two-factor/totp/", None),
        (
            Method::POST,
            "/api/v1/account/two-factor/totp/confirm/",
            Some(json!({"code": "123456"})),
        ),
        (Method::DELETE, "/api/v1/account/two-factor/totp/", None),
        (
            Method::POST,
            "/api/v1/account/two-factor/recovery-codes/",
            None,
        ),
        (
            Method::POST,
            "/api/v1/account/reauthenticate/",
            Some(password_body()),
        ),
    ] {
        let mut request = client
            .request(method.clone(), format!("{}{path}", app.address))
            .bearer_auth(&token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_error(status, &body, 403, "forbidden");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("session"),
            "{method} {path}: {body}"
        );
    }
    assert!(
        user_two_factor::Entity::find_by_id(ada.id)
            .one(app.conn())
            .await
            .unwrap()
            .is_none_or(|row| row.totp_pending.is_none() && row.totp_secret.is_none()),
        "nothing was started"
    );
}
