//! Recent sign-in for dangerous actions (sudo mode): adding or removing a factor and making new
//! recovery codes need a password or a second-factor confirmation within `auth.sudo_ttl_secs`.
//! Pages send the person to `/reauthenticate/` and back; the API answers 403
//! `reauthentication_required`, and `POST /api/v1/account/reauthenticate/` opens it again.

use entity::user_session;
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use super::{assert_error, confirmed_long_ago, enrol, password_body, reauthenticate, user_id};
use crate::helpers::{PASSWORD, TestApp, Visitor, assert_redirect_to, csrf_from, visitor};

/// Where a page sends an old confirmation: `/reauthenticate/?next=` back to `back`.
fn reauthenticate_and_back(back: &str) -> String {
    let query = serde_urlencoded::to_string([("next", back)]).unwrap();
    format!("/reauthenticate/?{query}")
}

#[tokio::test]
async fn an_old_confirmation_is_asked_again_on_the_api_and_the_password_opens_it() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    confirmed_long_ago(&app, "ada@acme.test").await;

    let (status, body) = ada
        .api(Method::POST, "/api/v1/account/two-factor/totp/", None)
        .await;
    assert_error(status, &body, 403, "reauthentication_required");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/account/reauthenticate/"),
        "{body}"
    );

    let (status, body) = reauthenticate(&ada, json!({"password": "not her password"})).await;
    assert_error(status, &body, 422, "invalid");
    assert!(body["error"]["fields"]["password"].is_array(), "{body}");
    let (status, body) = reauthenticate(&ada, json!({})).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = ada
        .api(Method::POST, "/api/v1/account/two-factor/totp/", None)
        .await;
    assert_error(status, &body, 403, "reauthentication_required");

    let before = entity::chrono_now();
    let (status, body) = reauthenticate(&ada, password_body()).await;
    assert_eq!(status, 200, "{body}");
    let until: chrono::DateTime<chrono::Utc> =
        body["confirmed_until"].as_str().unwrap().parse().unwrap();
    let ttl = (until - before).num_seconds();
    assert!((595..=605).contains(&ttl), "ten minutes: {ttl}");
    let (status, body) = ada
        .api(Method::POST, "/api/v1/account/two-factor/totp/", None)
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn pages_send_an_old_confirmation_to_reauthenticate_and_back() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    confirmed_long_ago(&app, "ada@acme.test").await;

    let asked = ada.post_form("/account/security/totp/", &[]).await;
    let to = reauthenticate_and_back("/account/security/");
    assert_redirect_to(&asked, 303, &to);
    let (status, page) = ada.get(&to).await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"password\""), "{page}");
    assert!(
        page.contains("name=\"next\" value=\"/account/security/\""),
        "{page}"
    );
    let wrong = ada
        .post_form(
            "/reauthenticate/",
            &[
                ("password", "nope nope nope"),
                ("next", "/account/security/"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 200, "the form again");
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("this is not your password")
    );
    let confirmed = ada
        .post_form(
            "/reauthenticate/",
            &[("password", PASSWORD), ("next", "/account/security/")],
        )
        .await;
    assert_redirect_to(&confirmed, 303, "/account/security/");
    let started = ada.post_form("/account/security/totp/", &[]).await;
    assert_redirect_to(&started, 303, "/account/security/#totp");

    // `next` stays on this site.
    confirmed_long_ago(&app, "ada@acme.test").await;
    let elsewhere = ada
        .post_form(
            "/reauthenticate/",
            &[("password", PASSWORD), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(elsewhere.status(), 303);
    let location = crate::helpers::location(&elsewhere);
    assert!(
        location.starts_with('/') && !location.starts_with("//"),
        "{location}"
    );
}

#[tokio::test]
async fn every_factor_change_needs_a_recent_confirmation() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let enrolled = enrol(&ada).await;
    confirmed_long_ago(&app, "ada@acme.test").await;
    for (method, path, body) in [
        (Method::POST, "/api/v1/account/two-factor/totp/", None),
        (
            Method::POST,
            "/api/v1/account/two-factor/totp/confirm/",
            Some(json!({"code": enrolled.app.code()})),
        ),
        (Method::DELETE, "/api/v1/account/two-factor/totp/", None),
        (
            Method::POST,
            "/api/v1/account/two-factor/recovery-codes/",
            None,
        ),
    ] {
        let (status, answer) = ada.api(method.clone(), path, body).await;
        assert_eq!(status, 403, "{method} {path}: {answer}");
        assert_eq!(
            answer["error"]["code"], "reauthentication_required",
            "{method} {path}"
        );
    }
    for path in [
        "/account/security/totp/",
        "/account/security/totp/confirm/",
        "/account/security/totp/delete/",
        "/account/security/recovery-codes/",
    ] {
        let asked = ada.post_form(path, &[("code", "123456")]).await;
        assert_redirect_to(&asked, 303, &reauthenticate_and_back("/account/security/"));
    }
    let (_, factors) = ada
        .api(Method::GET, "/api/v1/account/two-factor/", None)
        .await;
    assert_eq!(
        factors,
        json!({"totp": true, "passkeys": 0, "recovery_codes_left": 10}),
        "nothing changed"
    );
}

#[tokio::test]
async fn a_code_confirms_and_marks_the_sign_in_as_completed_with_a_second_factor() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let enrolled = enrol(&ada).await;
    let id = user_id(&app, "ada@acme.test").await;
    // As a sign-in that has not used the factor yet would be.
    user_session::Entity::update_many()
        .col_expr(
            user_session::Column::SecondFactorAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(user_session::Column::UserId.eq(id))
        .exec(app.conn())
        .await
        .unwrap();
    confirmed_long_ago(&app, "ada@acme.test").await;

    let (status, body) = reauthenticate(&ada, json!({"code": "000000"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["code"].is_array(), "{body}");
    let (status, body) = reauthenticate(&ada, json!({ "code": enrolled.app.code() })).await;
    assert_eq!(status, 200, "{body}");
    let session = user_session::Entity::find()
        .filter(user_session::Column::UserId.eq(id))
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(session.second_factor_at.is_some());
    let (status, body) = ada
        .api(
            Method::POST,
            "/api/v1/account/two-factor/recovery-codes/",
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_confirmation_lasts_as_long_as_auth_sudo_ttl_secs_says() {
    let app = TestApp::spawn_with(|s| s.auth.sudo_ttl_secs = 60).await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let id = user_id(&app, "ada@acme.test").await;
    let confirmed = |secs_ago: i64| {
        let app = &app;
        async move {
            user_session::Entity::update_many()
                .col_expr(
                    user_session::Column::ConfirmedAt,
                    Expr::value(entity::chrono_now() - chrono::Duration::seconds(secs_ago)),
                )
                .filter(user_session::Column::UserId.eq(id))
                .exec(app.conn())
                .await
                .unwrap();
            app.state.caches.invalidate();
        }
    };
    confirmed(90).await;
    let (status, body) = ada
        .api(Method::POST, "/api/v1/account/two-factor/totp/", None)
        .await;
    assert_error(status, &body, 403, "reauthentication_required");
    confirmed(30).await;
    let (status, body) = ada
        .api(Method::POST, "/api/v1/account/two-factor/totp/", None)
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn the_reauthenticate_page_offers_a_code_to_someone_with_an_app() {
    let app = TestApp::spawn().await;
    app.user("ada@acme.test", "Ada").await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    let (_, page) = ada.get("/reauthenticate/?next=/account/security/").await;
    assert!(!page.contains("name=\"code\""), "no code to offer yet");
    let enrolled = enrol(&ada).await;
    confirmed_long_ago(&app, "ada@acme.test").await;
    let (status, page) = ada.get("/reauthenticate/?next=/account/security/").await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"code\""), "{page}");
    let ada = Visitor {
        csrf: csrf_from(&page),
        ..ada
    };
    let confirmed = ada
        .post_form(
            "/reauthenticate/",
            &[
                ("code", &enrolled.app.code()),
                ("next", "/account/security/"),
            ],
        )
        .await;
    assert_redirect_to(&confirmed, 303, "/account/security/");
    let (_, page) = ada.get("/account/security/").await;
    assert!(
        page.contains("you can go on for the next few minutes"),
        "{page}"
    );
}
