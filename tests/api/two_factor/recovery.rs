//! Recovery codes: each works once, in place of a code from the app, and says how many remain;
//! two browsers racing with one code cannot both sign in; new codes end the old ones.

use entity::security_event;
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use super::{
    confirmed_long_ago, enrol, half_signed_in, reauthenticate, recovery_codes_in, type_code,
    user_id,
};
use crate::helpers::{TestApp, assert_redirect_to, location, visitor};

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_says_how_many_are_left() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let enrolled = enrol(&ada).await;
    let code = &enrolled.recovery_codes[0];

    let lost_phone = half_signed_in(&app, "ada@acme.test").await;
    // Typed as people type: upper case, spaces for dashes.
    let typed = code.to_uppercase().replace('-', " ");
    let done = type_code(&lost_phone, &typed).await;
    assert_eq!(done.status(), 303);
    let landing = location(&done);
    assert!(!landing.starts_with("/login/"), "{landing}");
    let (_, page) = lost_phone.get(&landing).await;
    assert!(
        page.contains("You signed in with a recovery code; 9 are left."),
        "{page}"
    );
    let (status, factors) = lost_phone
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(status, 200, "signed in");
    assert_eq!(factors["recovery_codes_left"], 9);

    let again = half_signed_in(&app, "ada@acme.test").await;
    let refused = type_code(&again, code).await;
    assert_eq!(refused.status(), 200, "used up");
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("this code is not right")
    );
    let (status, _) = again.api(Method::GET, "/api/v1/account/", None).await;
    assert_eq!(status, 401);

    let id = user_id(&app, "ada@acme.test").await;
    let used = security_event::Entity::find()
        .filter(security_event::Column::UserId.eq(id))
        .filter(security_event::Column::Action.eq("recovery_code.used"))
        .order_by_desc(security_event::Column::Id)
        .all(app.conn())
        .await
        .unwrap();
    assert_eq!(used.len(), 1);
    assert_eq!(used[0].detail.as_deref(), Some("9 left"));
}

#[tokio::test]
async fn two_browsers_racing_with_one_recovery_code_sign_in_only_one() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let enrolled = enrol(&ada).await;
    for code in &enrolled.recovery_codes[..3] {
        let one = half_signed_in(&app, "ada@acme.test").await;
        let two = half_signed_in(&app, "ada@acme.test").await;
        let (first, second) = tokio::join!(type_code(&one, code), type_code(&two, code));
        let completed = [&first, &second]
            .iter()
            .filter(|r| r.status() == 303 && !location(r).starts_with("/login/"))
            .count();
        assert_eq!(
            completed,
            1,
            "{code}: {} {} / {} {}",
            first.status(),
            location(&first),
            second.status(),
            location(&second)
        );
        let mut signed_in = 0;
        for browser in [&one, &two] {
            let (status, _) = browser.api(Method::GET, "/api/v1/account/", None).await;
            signed_in += usize::from(status == 200);
        }
        assert_eq!(signed_in, 1, "{code}");
    }
    let (_, factors) = ada
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(factors["recovery_codes_left"], 7);
}

#[tokio::test]
async fn new_recovery_codes_end_the_old_ones() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let enrolled = enrol(&ada).await;
    let old = enrolled.recovery_codes;

    let renewed = ada
        .post_form("/account/security/recovery-codes/", &[])
        .await;
    assert_redirect_to(&renewed, 303, "/account/security/#recovery");
    let (_, page) = ada.get("/account/security/").await;
    let from_page = recovery_codes_in(&page);
    assert_eq!(from_page.len(), 10);
    assert!(from_page.iter().all(|c| !old.contains(c)), "all new");
    assert!(page.contains("New recovery codes made"), "the log: {page}");

    let (status, body) = ada
        .api(
            Method::POST,
            "/api/v1/account/two-factor/recovery-codes/",
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let from_api: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(from_api.len(), 10);
    assert!(
        from_api
            .iter()
            .all(|c| !old.contains(c) && !from_page.contains(c))
    );

    for stale in [&old[0], &from_page[0]] {
        let half = half_signed_in(&app, "ada@acme.test").await;
        let refused = type_code(&half, stale).await;
        assert_eq!(refused.status(), 200, "{stale} no longer works");
    }
    let half = half_signed_in(&app, "ada@acme.test").await;
    let done = type_code(&half, &from_api[0]).await;
    assert_eq!(done.status(), 303);
    assert!(!location(&done).starts_with("/login/"));
}

#[tokio::test]
async fn recovery_codes_are_made_only_for_someone_with_a_factor() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (status, body) = ada
        .api(
            Method::POST,
            "/api/v1/account/two-factor/recovery-codes/",
            None,
        )
        .await;
    super::assert_error(status, &body, 409, "conflict");
    let (_, factors) = ada
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(factors["recovery_codes_left"], 0);
}

#[tokio::test]
async fn a_recovery_code_confirms_a_dangerous_action_once() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let enrolled = enrol(&ada).await;
    let code = &enrolled.recovery_codes[3];
    confirmed_long_ago(&app, "ada@acme.test").await;
    let (status, body) = reauthenticate(&ada, json!({ "code": code })).await;
    assert_eq!(status, 200, "{body}");
    confirmed_long_ago(&app, "ada@acme.test").await;
    let (status, body) = reauthenticate(&ada, json!({ "code": code })).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["code"].is_array(), "{body}");
}

/// Lost phone and lost codes: an operator's `orgs user reset-two-factor` removes every factor,
/// ends the person's sign-ins, logs and mails it; the password alone then signs in, and a
/// wrong address is refused with a message and exit 1.
#[tokio::test]
async fn an_operator_resets_the_factors_of_someone_who_lost_them() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    enrol(&ada).await;
    let run = |email: &str| {
        let app = &app;
        let email = email.to_string();
        async move {
            app.orgs(&["user", "reset-two-factor", "--email", &email])
                .await
        }
    };
    let out = run("ADA@acme.test").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed 1 second factor"));
    app.state.caches.invalidate();
    let (status, _) = ada.api(Method::GET, "/api/v1/account/", None).await;
    assert_eq!(status, 401, "the sign-in ended");
    let again = visitor(&app, Some("ada@acme.test")).await;
    let (_, factors) = again
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(
        factors,
        json!({"totp": false, "passkeys": 0, "recovery_codes_left": 0})
    );
    let ada_id = user_id(&app, "ada@acme.test").await;
    let newest = security_event::Entity::find()
        .filter(security_event::Column::UserId.eq(ada_id))
        .order_by_desc(security_event::Column::Id)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newest.action, "factors.reset");
    // Queued by the CLI, sent by the server's sender: the app's set-up, then this.
    let mail = app.wait_for_mail("ada@acme.test", 2).await;
    assert!(
        mail.iter()
            .any(|m| m.subject.contains("Every second factor removed")),
        "{:?}",
        mail.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let unknown = run("nobody@acme.test").await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user with email"));
}
