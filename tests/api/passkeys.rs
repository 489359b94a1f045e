//! Passkeys over HTTP: what the ceremonies' endpoints refuse (a token, a stale sign-in, bad
//! answers, a challenge used twice, someone else's passkey) and the shapes of what they answer.
//! A real ceremony needs an authenticator: the browser test (`tests/browser/two_factor.rs`)
//! registers and uses one with Chromium's virtual authenticator.

use base64::Engine as _;
use entity::{passkey, user_session};
use reqwest::Method;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, EntityTrait as _};
use sea_orm::{QueryFilter as _, sea_query::Expr};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Visitor, visitor};

const REGISTRATION: &str = "/api/v1/account/two-factor/passkeys/registration/";
const PASSKEYS: &str = "/api/v1/account/two-factor/passkeys/";

/// A passkey row for `user_id`, written as if registered (its credential is not a real one).
async fn stored_passkey(app: &TestApp, user_id: i64, name: &str) -> i64 {
    passkey::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.into()),
        credential_id: Set(format!("cred-{user_id}-{name}")),
        passkey: Set("{}".into()),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap()
    .id
}

/// Makes every sign-in of `user_id` confirmed an hour ago: past `auth.sudo_ttl_secs`.
async fn age_confirmation(app: &TestApp, user_id: i64) {
    let hour_ago = entity::chrono_now() - chrono::Duration::hours(1);
    user_session::Entity::update_many()
        .col_expr(user_session::Column::ConfirmedAt, Expr::value(hour_ago))
        .filter(user_session::Column::UserId.eq(user_id))
        .exec(app.conn())
        .await
        .unwrap();
    app.state.caches.invalidate();
}

/// A page path's JSON request, as `/static/passkeys.js` sends it.
async fn script_post(who: &Visitor, path: &str, body: Value) -> (u16, Value) {
    let response = who
        .client
        .post(format!("{}{path}", who.address))
        .header("x-csrf-token", &who.csrf)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A registration answer that has the right shape but was made by no authenticator.
fn forged_registration(challenge: &str) -> Value {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let client_data = json!({
        "type": "webauthn.create",
        "challenge": b64(challenge.as_bytes()),
        "origin": "http://localhost:8000",
    });
    json!({
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {
            "attestationObject": b64(b"not cbor"),
            "clientDataJSON": b64(client_data.to_string().as_bytes()),
        },
    })
}

fn field_names(error: &Value) -> Vec<String> {
    error["error"]["fields"]
        .as_object()
        .map(|fields| fields.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn adding_a_passkey_takes_a_browser_session_confirmed_lately() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@passkeys.test", "Ada").await;
    let browser = visitor(&app, Some("ada@passkeys.test")).await;

    // An API token is refused, even for reading the list.
    let (_, token) = orgs::auth::api_tokens::create(app.conn(), ada.id(), "script")
        .await
        .unwrap();
    for (method, path, body) in [
        (Method::POST, REGISTRATION, Some(json!({"name": "Laptop"}))),
        (Method::GET, PASSKEYS, None),
    ] {
        let mut request = crate::helpers::browser()
            .request(method.clone(), format!("{}{path}", app.address))
            .bearer_auth(&token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{method} {path} with a token");
    }

    // A session that just typed its password gets the options: a discoverable credential
    // with user verification, for the base domain, naming the person.
    let (status, started) = browser
        .api(Method::POST, REGISTRATION, Some(json!({"name": "Laptop"})))
        .await;
    assert_eq!(status, 200, "{started}");
    assert!(started["challenge"].as_str().is_some_and(|c| c.len() > 20));
    let options = &started["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["user"]["name"], "ada@passkeys.test");
    let selection = &options["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "{options}");
    assert_eq!(selection["userVerification"], "required", "{options}");
    assert_eq!(options["excludeCredentials"], json!([]));

    // Past the confirmation's ten minutes: the API says so, a page goes to confirm.
    age_confirmation(&app, ada.id).await;
    let (status, refused) = browser
        .api(Method::POST, REGISTRATION, Some(json!({"name": "Laptop"})))
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "reauthentication_required");
    let response = browser
        .send(
            Method::POST,
            "/account/security/passkeys/options/",
            Some(json!({"name": "Laptop"})),
        )
        .await;
    assert_eq!(response.status(), 303);
    assert!(
        crate::helpers::location(&response).starts_with("/reauthenticate/?next="),
        "{}",
        crate::helpers::location(&response)
    );
    let (status, _) = browser
        .api(
            Method::POST,
            PASSKEYS,
            Some(
                json!({"challenge": started["challenge"], "credential": forged_registration("x")}),
            ),
        )
        .await;
    assert_eq!(status, 403, "finishing needs a recent sign-in too");
}

#[tokio::test]
async fn bad_answers_are_refused_naming_the_field_and_a_challenge_works_once() {
    let app = TestApp::spawn().await;
    app.user("ada@passkeys.test", "Ada").await;
    let browser = visitor(&app, Some("ada@passkeys.test")).await;

    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": "two\nlines"}), "name"),
        (json!({"name": "Laptop", "extra": 1}), "extra"),
    ] {
        let (status, error) = browser.api(Method::POST, REGISTRATION, Some(body)).await;
        assert_eq!(status, 422, "{error}");
        assert_eq!(field_names(&error), [field], "{error}");
    }

    let (_, started) = browser
        .api(Method::POST, REGISTRATION, Some(json!({"name": "Laptop"})))
        .await;
    let challenge = started["challenge"].as_str().unwrap();
    let mut broken_base64 = forged_registration(challenge);
    broken_base64["rawId"] = json!("not base64!");
    let mut no_response = forged_registration(challenge);
    no_response.as_object_mut().unwrap().remove("response");
    for (credential, field) in [
        (json!("a string"), "credential"),
        (json!({"id": "AAAA"}), "credential.rawId"),
        (broken_base64, "credential.rawId"),
        (no_response, "credential.response"),
    ] {
        let body = json!({"challenge": challenge, "credential": credential});
        let (status, error) = browser.api(Method::POST, PASSKEYS, Some(body)).await;
        assert_eq!(status, 422, "{error}");
        assert_eq!(field_names(&error), [field], "{error}");
    }

    // An answer no authenticator made: refused, and the challenge is spent with it.
    let forged = json!({"challenge": challenge, "credential": forged_registration(challenge)});
    let (status, error) = browser
        .api(Method::POST, PASSKEYS, Some(forged.clone()))
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(field_names(&error), ["credential"], "{error}");
    let (status, error) = browser.api(Method::POST, PASSKEYS, Some(forged)).await;
    assert_eq!(status, 409, "a challenge is finished once: {error}");
    let (status, error) = browser
        .api(
            Method::POST,
            PASSKEYS,
            Some(json!({"challenge": "no-such-challenge", "credential": forged_registration("x")})),
        )
        .await;
    assert_eq!(status, 409, "{error}");

    // Someone else's challenge is not theirs to finish.
    app.user("bob@passkeys.test", "Bob").await;
    let bob = visitor(&app, Some("bob@passkeys.test")).await;
    let (_, started) = browser
        .api(Method::POST, REGISTRATION, Some(json!({"name": "Laptop"})))
        .await;
    let body = json!({"challenge": started["challenge"], "credential": forged_registration("x")});
    let (status, _) = bob.api(Method::POST, PASSKEYS, Some(body.clone())).await;
    assert_eq!(status, 409);
    let (status, error) = browser.api(Method::POST, PASSKEYS, Some(body)).await;
    assert_eq!(
        status, 422,
        "Bob's attempt did not spend Ada's challenge: {error}"
    );

    let (_, list) = browser.api(Method::GET, PASSKEYS, None).await;
    assert_eq!(list, json!([]), "nothing was added");
}

#[tokio::test]
async fn signing_in_with_a_passkey_refuses_bad_answers_and_spends_its_challenge() {
    let app = TestApp::spawn().await;
    let anonymous = visitor(&app, None).await;
    let (status, started) = script_post(&anonymous, "/login/passkey/options/", json!({})).await;
    assert_eq!(status, 200, "{started}");
    let options = &started["options"]["publicKey"];
    assert_eq!(options["userVerification"], "required", "{options}");
    assert!(
        options
            .get("allowCredentials")
            .is_none_or(|a| a == &json!([]))
    );
    let challenge = started["challenge"].as_str().unwrap();

    let assertion = json!({
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {
            "authenticatorData": "AAAA",
            "clientDataJSON": "AAAA",
            "signature": "AAAA",
            "userHandle": null,
        },
    });
    let mut broken = assertion.clone();
    broken["response"]["signature"] = json!(12);
    let (status, error) = script_post(
        &anonymous,
        "/login/passkey/",
        json!({"challenge": challenge, "credential": broken}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(field_names(&error), ["credential.response.signature"]);

    let answer = json!({"challenge": challenge, "credential": assertion, "next": "/account/"});
    let (status, error) = script_post(&anonymous, "/login/passkey/", answer.clone()).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(field_names(&error), ["credential"], "{error}");
    let (status, error) = script_post(&anonymous, "/login/passkey/", answer).await;
    assert_eq!(status, 409, "{error}");
    let (status, _) = anonymous.get("/api/v1/account/").await;
    assert_eq!(status, 401, "nobody was signed in");

    // Without a password typed first there is no second step to complete.
    let (status, error) =
        script_post(&anonymous, "/login/two-factor/passkey/options/", json!({})).await;
    assert_eq!(status, 409, "{error}");
    let body = json!({"credential": answer_credential()});
    let (status, error) = script_post(&anonymous, "/login/two-factor/passkey/", body).await;
    assert_eq!(status, 409, "{error}");

    // Without the page's CSRF token, nothing starts.
    let response = anonymous
        .client
        .post(format!("{}/login/passkey/options/", app.address))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

fn answer_credential() -> Value {
    json!({
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA"},
    })
}

#[tokio::test]
async fn passkeys_are_listed_to_their_owner_and_removed_by_them_alone() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@passkeys.test", "Ada").await;
    let bob = app.user("bob@passkeys.test", "Bob").await;
    let ada_browser = visitor(&app, Some("ada@passkeys.test")).await;
    let bob_browser = visitor(&app, Some("bob@passkeys.test")).await;
    let bob_elsewhere = visitor(&app, Some("bob@passkeys.test")).await;
    stored_passkey(&app, ada.id, "Ada's phone").await;
    let bobs = stored_passkey(&app, bob.id, "Bob's laptop").await;
    orgs::auth::recovery::renew(app.conn(), bob.id())
        .await
        .unwrap();

    let (status, list) = bob_browser.api(Method::GET, PASSKEYS, None).await;
    assert_eq!(status, 200);
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let mut keys: Vec<&str> = items[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["created_at", "id", "last_used_at", "name"]);
    assert_eq!(items[0]["name"], "Bob's laptop");
    assert_eq!(items[0]["last_used_at"], Value::Null);
    let (_, factors) = bob_browser
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(factors["passkeys"], 1);
    let (_, page) = bob_browser.get("/account/security/").await;
    assert!(page.contains("laptop"), "{page}");
    assert!(!page.contains("Ada&#x27;s phone") && !page.contains("Ada's phone"));
    assert!(page.contains(r#"<script src="/static/passkeys.js" defer></script>"#));

    // Ada cannot remove Bob's, through the API or the page.
    let path = format!("{PASSKEYS}{bobs}/");
    let (status, _) = ada_browser.api(Method::DELETE, &path, None).await;
    assert_eq!(status, 404);
    let page_path = format!("/account/security/passkeys/{bobs}/delete/");
    let response = ada_browser.post_form(&page_path, &[]).await;
    assert_eq!(response.status(), 404);
    let (_, list) = bob_browser.api(Method::GET, PASSKEYS, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "still there");

    // Bob removes it: logged, mailed, his other sign-in ended, his recovery codes gone with
    // his last factor.
    let (status, body) = bob_browser.api(Method::DELETE, &path, None).await;
    assert_eq!(status, 204, "{body}");
    let (_, list) = bob_browser.api(Method::GET, PASSKEYS, None).await;
    assert_eq!(list, json!([]));
    let (status, _) = bob_browser.api(Method::DELETE, &path, None).await;
    assert_eq!(status, 404, "once");
    let (_, events) = bob_browser
        .api(Method::GET, "/api/v1/account/security-events/", None)
        .await;
    assert_eq!(events[0]["action"], "passkey.removed", "{events}");
    assert_eq!(events[0]["detail"], "Bob's laptop");
    let mail = app.wait_for_mail("bob@passkeys.test", 1).await;
    assert!(
        mail[0].subject.contains("Passkey removed"),
        "{}",
        mail[0].subject
    );
    let (status, _) = bob_elsewhere.get("/api/v1/account/").await;
    assert_eq!(status, 401, "the other sign-in ended");
    let (_, factors) = bob_browser
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(factors["recovery_codes_left"], 0, "{factors}");

    // Through the page form: Ada's own goes, and she is sent back to the list.
    let (_, list) = ada_browser.api(Method::GET, PASSKEYS, None).await;
    let id = list[0]["id"].as_i64().unwrap();
    let response = ada_browser
        .post_form(&format!("/account/security/passkeys/{id}/delete/"), &[])
        .await;
    crate::helpers::assert_redirect_to(&response, 303, "/account/security/#passkeys");
    let (_, list) = ada_browser.api(Method::GET, PASSKEYS, None).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn the_script_is_served_from_the_binary_and_the_pages_load_it() {
    let app = TestApp::spawn().await;
    let response = app.get("/static/passkeys.js").await;
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(kind.starts_with("text/javascript"), "{kind}");
    let script = response.text().await.unwrap();
    assert!(script.contains("navigator.credentials.create"));
    let (_, login) = app.page("/login/").await;
    assert!(login.contains("data-passkey-sign-in"), "{login}");
    assert!(login.contains(r#"<script src="/static/passkeys.js" defer></script>"#));
}

#[tokio::test]
async fn the_reauthenticate_page_takes_its_form_with_the_csrf_token_before_adding_one() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@passkeys.test", "Ada").await;
    let browser = visitor(&app, Some("ada@passkeys.test")).await;
    age_confirmation(&app, ada.id).await;
    let next = "/account/security/";
    let response = browser
        .post_form(
            "/reauthenticate/",
            &[("password", crate::helpers::PASSWORD), ("next", next)],
        )
        .await;
    crate::helpers::assert_redirect_to(&response, 303, next);
    let (status, started) = browser
        .api(Method::POST, REGISTRATION, Some(json!({"name": "Laptop"})))
        .await;
    assert_eq!(status, 200, "confirmed again: {started}");
}
