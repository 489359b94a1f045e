//! Signing in with a second factor: after the password the browser is half signed in (it holds
//! nothing but the question, for five minutes, in that browser only) until a code from the app
//! completes the sign-in. A code works once, one step of drift either way; codes of another app
//! never; five wrong codes for the account end every half-signed-in browser of it and the
//! password waits, longer each time.

use entity::{auth_challenge, security_event, user_session, user_two_factor};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};

use super::{
    Enrolled, another_secret, away_from_a_step_edge, enrol, half_signed_in, last_code_long_ago,
    password_typed, signed_in_with, totp_code, type_code, user_id,
};
use crate::helpers::{
    TestApp, Visitor, assert_redirect_to, browser, csrf_from, location, two_tenants, visitor,
};

/// Ada (owner of Acme) with an authenticator app set up in a browser of hers.
async fn ada_enrolled(app: &TestApp) -> (Visitor, Enrolled) {
    let ada = visitor(app, Some("ada@acme.test")).await;
    let enrolled = enrol(&ada).await;
    (ada, enrolled)
}

async fn sessions_of(app: &TestApp, email: &str) -> Vec<user_session::Model> {
    let id = user_id(app, email).await;
    user_session::Entity::find()
        .filter(user_session::Column::UserId.eq(id))
        .all(app.conn())
        .await
        .unwrap()
}

/// Whether `visitor` is signed in, asked of the API.
async fn signed_in(visitor: &Visitor) -> bool {
    let (status, _) = visitor.api(Method::GET, "/api/v1/account/", None).await;
    assert!(status == 200 || status == 401, "{status}");
    status == 200
}

#[tokio::test]
async fn after_the_password_a_person_with_an_app_is_asked_for_a_code_before_any_sign_in_exists() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    let (_, enrolled) = ada_enrolled(&app).await;
    assert_eq!(sessions_of(&app, "ada@acme.test").await.len(), 1);

    let (response, half) = password_typed(&app, "ada@acme.test").await;
    assert_redirect_to(&response, 303, "/login/two-factor/");
    assert_eq!(
        sessions_of(&app, "ada@acme.test").await.len(),
        1,
        "no sign-in exists yet"
    );
    let (status, page) = half.get("/login/two-factor/").await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"code\""), "{page}");
    let half = Visitor {
        csrf: csrf_from(&page),
        ..half
    };
    assert!(!signed_in(&half).await);

    let done = type_code(&half, &enrolled.app.code()).await;
    assert_redirect_to(&done, 303, "/go/acme/");
    assert!(signed_in(&half).await);
    let sessions = sessions_of(&app, "ada@acme.test").await;
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s.second_factor_at.is_some()));

    // `next` survives the step.
    let client = browser();
    let page = client
        .get(format!("{}/login/", app.address))
        .send()
        .await
        .unwrap();
    let csrf = csrf_from(&page.text().await.unwrap());
    let response = client
        .post(format!("{}/login/", app.address))
        .form(&[
            ("email", "ada@acme.test"),
            ("password", crate::helpers::PASSWORD),
            ("next", "/account/security/"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_redirect_to(&response, 303, "/login/two-factor/");
    let (_, page) = Visitor {
        client: client.clone(),
        csrf: String::new(),
        address: app.address.clone(),
    }
    .get("/login/two-factor/")
    .await;
    let going = Visitor {
        client,
        csrf: csrf_from(&page),
        address: app.address.clone(),
    };
    let done = type_code(&going, &enrolled.app.code_in(1)).await;
    assert_redirect_to(&done, 303, "/account/security/");
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let (_, enrolled) = ada_enrolled(&app).await;
    let code = enrolled.app.code();
    let first = signed_in_with(&app, "ada@acme.test", &code).await;
    assert!(signed_in(&first).await);

    // Someone who saw it over her shoulder, with her password, in the same 30 seconds.
    let attacker = half_signed_in(&app, "ada@acme.test").await;
    let replayed = type_code(&attacker, &code).await;
    assert_eq!(replayed.status(), 200, "the form again");
    let page = replayed.text().await.unwrap();
    assert!(page.contains("this code is not right"), "{page}");
    assert!(page.contains("work once"), "{page}");
    assert!(!signed_in(&attacker).await);
    // Nor as a confirmation of a signed-in browser.
    let (status, body) = super::reauthenticate(&first, serde_json::json!({ "code": code })).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["code"].is_array(), "{body}");
}

#[tokio::test]
async fn a_code_from_another_app_is_refused() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    ada_enrolled(&app).await;
    let half = half_signed_in(&app, "ada@acme.test").await;
    let wrong = type_code(&half, &totp_code(&another_secret(), None)).await;
    assert_eq!(wrong.status(), 200);
    let page = wrong.text().await.unwrap();
    assert!(page.contains("this code is not right"), "{page}");
    assert!(page.contains("4 tries left"), "{page}");
    assert!(!signed_in(&half).await);
    // Nothing that is not a code signs in either (four wrong in all: one short of the limit).
    for junk in ["", "12345", "1234567", "abcdef"] {
        let refused = type_code(&half, junk).await;
        assert_eq!(refused.status(), 200, "{junk:?}");
        assert!(!signed_in(&half).await, "{junk:?}");
    }
}

#[tokio::test]
async fn one_step_of_clock_drift_either_way_is_accepted_and_two_are_not() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let (_, enrolled) = ada_enrolled(&app).await;
    // The step the enrolment's code came from is long past.
    last_code_long_ago(&app, "ada@acme.test").await;
    away_from_a_step_edge(6).await;
    let behind = half_signed_in(&app, "ada@acme.test").await;
    for steps in [-2, 2] {
        let refused = type_code(&behind, &enrolled.app.code_in(steps)).await;
        assert_eq!(refused.status(), 200, "{steps} steps away");
        assert!(!signed_in(&behind).await, "{steps} steps away");
    }
    let accepted = type_code(&behind, &enrolled.app.code_in(-1)).await;
    assert_eq!(accepted.status(), 303, "a clock 30 seconds behind");
    assert!(signed_in(&behind).await);
    let ahead = signed_in_with(&app, "ada@acme.test", &enrolled.app.code_in(1)).await;
    assert!(signed_in(&ahead).await, "a clock 30 seconds ahead");
}

#[tokio::test]
async fn five_wrong_codes_end_the_half_signed_in_state_and_the_password_waits_longer_each_time() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let (_, enrolled) = ada_enrolled(&app).await;
    let attacker = half_signed_in(&app, "ada@acme.test").await;
    let wrong_app = another_secret();
    for left in [4, 3, 2] {
        let wrong = type_code(&attacker, &totp_code(&wrong_app, None)).await;
        assert_eq!(wrong.status(), 200);
        let page = wrong.text().await.unwrap();
        assert!(page.contains(&format!("{left} tries left")), "{page}");
    }
    let wrong = type_code(&attacker, "111111").await;
    assert!(wrong.text().await.unwrap().contains("1 try left"));
    let fifth = type_code(&attacker, "222222").await;
    assert_redirect_to(&fifth, 303, "/login/");
    let (_, login) = attacker.get("/login/").await;
    assert!(login.contains("Too many wrong codes"), "{login}");
    // The right code now finds nothing to complete.
    let late = type_code(&attacker, &enrolled.app.code()).await;
    assert_redirect_to(&late, 303, "/login/");
    assert!(!signed_in(&attacker).await);

    // The right password is refused for a while, and says so.
    let (again, _) = password_typed(&app, "ada@acme.test").await;
    assert_eq!(again.status(), 200, "the login form again");
    let page = again.text().await.unwrap();
    assert!(
        page.contains(
            "Too many wrong codes were typed for this account. Sign in again in 1 minute."
        ),
        "{page}"
    );
    let id = user_id(&app, "ada@acme.test").await;
    let locked = security_event::Entity::find()
        .filter(security_event::Column::UserId.eq(id))
        .filter(security_event::Column::Action.eq("sign_in.locked"))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(locked, 1, "in her security log");

    // A minute later, five more wrong codes lock it for two.
    user_two_factor::Entity::update_many()
        .col_expr(
            user_two_factor::Column::LockedUntil,
            Expr::value(entity::chrono_now() - chrono::Duration::seconds(1)),
        )
        .filter(user_two_factor::Column::UserId.eq(id))
        .exec(app.conn())
        .await
        .unwrap();
    let attacker = half_signed_in(&app, "ada@acme.test").await;
    for _ in 0..4 {
        assert_eq!(type_code(&attacker, "333333").await.status(), 200);
    }
    assert_redirect_to(&type_code(&attacker, "444444").await, 303, "/login/");
    let (again, _) = password_typed(&app, "ada@acme.test").await;
    let page = again.text().await.unwrap();
    assert!(page.contains("Sign in again in 2 minutes."), "{page}");
}

#[tokio::test]
async fn the_wrong_code_limit_is_the_accounts_whatever_the_browser() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let (_, enrolled) = ada_enrolled(&app).await;
    let one = half_signed_in(&app, "ada@acme.test").await;
    let two = half_signed_in(&app, "ada@acme.test").await;
    for _ in 0..3 {
        assert_eq!(type_code(&one, "123123").await.status(), 200);
    }
    assert_eq!(type_code(&two, "456456").await.status(), 200);
    assert_redirect_to(&type_code(&two, "789789").await, 303, "/login/");
    let late = type_code(&one, &enrolled.app.code()).await;
    assert_redirect_to(&late, 303, "/login/");
    assert!(!signed_in(&one).await && !signed_in(&two).await);
}

#[tokio::test]
async fn a_half_signed_in_browser_is_granted_nothing() {
    let app = TestApp::spawn().await;
    two_tenants(&app).await;
    ada_enrolled(&app).await;
    let half = half_signed_in(&app, "ada@acme.test").await;
    for path in ["/api/v1/account/", "/o/acme/api/v1/organization/"] {
        let (status, body) = half.api(Method::GET, path, None).await;
        assert_eq!(status, 401, "{path}: {body}");
    }
    for path in [
        "/account/",
        "/account/security/",
        "/o/acme/",
        "/organizations/",
    ] {
        let response = half.send(Method::GET, path, None).await;
        assert_eq!(response.status(), 302, "{path}");
        assert!(location(&response).starts_with("/login/"), "{path}");
    }
    let (status, _) = half
        .api(
            Method::POST,
            "/api/v1/account/reauthenticate/",
            Some(super::password_body()),
        )
        .await;
    assert_eq!(status, 401, "the password again is not a sign-in");
    // Personal tokens come only from a complete sign-in.
    let refused = half
        .post_form("/account/tokens/", &[("name", "stolen")])
        .await;
    assert_eq!(refused.status(), 302);
    assert!(location(&refused).starts_with("/login/"));
    assert_eq!(
        entity::api_token::Entity::find()
            .count(app.conn())
            .await
            .unwrap(),
        0
    );
    let go = half.send(Method::GET, "/go/acme/", None).await;
    assert_eq!(go.status(), 302, "no way into the organization");
    assert!(location(&go).starts_with("/login/"));
}

#[tokio::test]
async fn the_half_signed_in_state_is_bound_to_its_browser_and_lasts_five_minutes() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let (_, enrolled) = ada_enrolled(&app).await;
    let half = half_signed_in(&app, "ada@acme.test").await;

    // Another browser, with the code, but not past the password.
    let other = visitor(&app, None).await;
    let refused = type_code(&other, &enrolled.app.code()).await;
    assert_redirect_to(&refused, 303, "/login/");
    assert!(!signed_in(&other).await);

    let id = user_id(&app, "ada@acme.test").await;
    let step = auth_challenge::Entity::find()
        .filter(auth_challenge::Column::UserId.eq(id))
        .one(app.conn())
        .await
        .unwrap()
        .expect("the pending step");
    let lasts = (step.expires_at - step.created_at).num_seconds();
    assert!((299..=300).contains(&lasts), "five minutes: {lasts} s");
    auth_challenge::Entity::update_many()
        .col_expr(
            auth_challenge::Column::ExpiresAt,
            Expr::value(entity::chrono_now() - chrono::Duration::seconds(1)),
        )
        .filter(auth_challenge::Column::Id.eq(step.id))
        .exec(app.conn())
        .await
        .unwrap();
    let late = type_code(&half, &enrolled.app.code()).await;
    assert_redirect_to(&late, 303, "/login/");
    let (_, login) = half.get("/login/").await;
    assert!(login.contains("took too long"), "{login}");
    assert!(!signed_in(&half).await);
    // The code was not spent by either: it still signs in.
    let ada = signed_in_with(&app, "ada@acme.test", &enrolled.app.code()).await;
    assert!(signed_in(&ada).await);
}
