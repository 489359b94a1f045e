//! Accounts over real HTTP: sign-up and activation, login and logout, sessions, CSRF, throttling,
//! password reset, the account page and personal API tokens.

use entity::{user, user_token};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};

use crate::helpers::{PASSWORD, TestApp, assert_redirect_to, browser, link_in, location, path_of};

fn set_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("orgs_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

async fn user_named(app: &TestApp, email: &str) -> Option<user::Model> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(app.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn signup_mails_an_activation_link_that_signs_in_once() {
    let app = TestApp::spawn().await;
    let (status, body) = app.page("/signup/").await;
    assert_eq!(status, 200);
    assert!(body.contains("name=\"csrf_token\""));

    let response = app
        .post_form(
            "/signup/",
            &[
                ("name", "Grace Hopper"),
                ("email", "Grace@Navy.mil"),
                ("password", "cobol forever 1959"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("grace@navy.mil"));
    let created = user_named(&app, "grace@navy.mil").await.unwrap();
    assert!(!created.is_active, "inactive until the email is confirmed");

    let mail = app.wait_for_mail("grace@navy.mil", 1).await;
    assert_eq!(mail[0].subject, "Confirm your email address");
    let link = link_in(&mail[0].text, "/activate/");
    let html = mail[0].html.as_deref().unwrap();
    assert!(html.contains(&link), "{html}");

    // Before activation the password does not open the account.
    let (_, body) = {
        let response = app.login("grace@navy.mil", "cobol forever 1959").await;
        (response.status(), response.text().await.unwrap())
    };
    assert!(body.contains("not active yet"), "{body}");

    let response = app.get(&path_of(&link)).await;
    assert_eq!(response.status(), 303);
    let (_, home) = app.page("/").await;
    assert!(home.contains("Welcome, Grace Hopper"), "{home}");
    let activated = user_named(&app, "grace@navy.mil").await.unwrap();
    assert!(activated.is_active);
    assert!(activated.email_verified_at.is_some());

    let (status, body) = app.page(&path_of(&link)).await;
    assert_eq!(status, 410);
    assert!(body.contains("already been used"), "{body}");
}

#[tokio::test]
async fn signup_with_a_registered_email_answers_the_same_and_mails_a_notice() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    let response = app
        .post_form(
            "/signup/",
            &[
                ("name", "Impostor"),
                ("email", "KURT@nirvana.com"),
                ("password", "a different password"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Check your email"));
    let mail = app.wait_for_mail("kurt@nirvana.com", 1).await;
    assert_eq!(mail[0].subject, "You already have an orgs account");
    let users = user::Entity::find().count(app.conn()).await.unwrap();
    assert_eq!(users, 1);
    let kurt = user_named(&app, "kurt@nirvana.com").await.unwrap();
    assert_eq!(kurt.name, "Kurt", "the existing account is untouched");
}

#[tokio::test]
async fn an_invalid_signup_shows_field_errors_and_keeps_the_input() {
    let app = TestApp::spawn().await;
    let response = app
        .post_form(
            "/signup/",
            &[
                ("name", "Ada"),
                ("email", "not-an-email"),
                ("password", "secret-pw-value"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("enter a valid email address"), "{body}");
    assert!(body.contains("value=\"Ada\""));
    assert!(body.contains("value=\"not-an-email\""));
    assert!(
        !body.contains("secret-pw-value"),
        "passwords are never echoed"
    );

    let response = app
        .post_form(
            "/signup/",
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", "short"),
            ],
        )
        .await;
    let body = response.text().await.unwrap();
    assert!(
        body.contains("must be at least 10 characters long"),
        "{body}"
    );
    assert_eq!(user::Entity::find().count(app.conn()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_signup_shows_every_problem_at_once_each_on_its_field_and_says_the_rules_before() {
    let app = TestApp::spawn().await;
    let (_, form) = app.page("/signup/").await;
    assert!(
        form.contains("At least 10 characters."),
        "the password's minimum is said before typing: {form}"
    );
    let response = app
        .post_form(
            "/signup/",
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", "short"),
                ("organization_name", "Analytical Engines"),
                ("slug", "-Not A Slug-"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    for field in ["password", "slug"] {
        assert!(
            body.contains(&format!("id=\"{field}-errors\"")),
            "{field} has its message on the first submit: {body}"
        );
        assert!(
            body.contains(&format!("<a href=\"#{field}\">")),
            "and the summary links to it: {body}"
        );
    }
    assert!(
        body.contains("aria-describedby=\"slug-hint slug-errors\" ")
            || body.contains("aria-describedby=\"slug-hint slug-errors\">"),
        "{body}"
    );
    assert!(body.contains("2 things need fixing"), "{body}");
    assert!(body.contains("value=\"Analytical Engines\""));
    assert_eq!(user::Entity::find().count(app.conn()).await.unwrap(), 0);
}

#[tokio::test]
async fn login_follows_a_local_next_and_ignores_an_offsite_one() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    let response = app
        .post_form(
            "/login/",
            &[
                ("email", "kurt@nirvana.com"),
                ("password", PASSWORD),
                ("next", "/account/"),
            ],
        )
        .await;
    assert_redirect_to(&response, 303, "/account/");

    let other = TestApp::spawn().await;
    other.user("kurt@nirvana.com", "Kurt").await;
    let response = other
        .post_form(
            "/login/",
            &[
                ("email", "kurt@nirvana.com"),
                ("password", PASSWORD),
                ("next", "https://evil.example/steal"),
            ],
        )
        .await;
    // The landing of someone in no organization (issue 18), not the foreign site.
    assert_redirect_to(&response, 303, "/organizations/add/");
}

#[tokio::test]
async fn a_page_that_needs_login_redirects_there_with_next() {
    let app = TestApp::spawn().await;
    let response = app.get("/account/?tab=tokens").await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        location(&response),
        "/login/?next=%2Faccount%2F%3Ftab%3Dtokens"
    );
    let (status, body) = app.page("/login/?next=%2Faccount%2F").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("name=\"next\" value=\"/account/\""),
        "the next path is kept: {body}"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    let wrong = app.login("kurt@nirvana.com", "not the password").await;
    let wrong_status = wrong.status();
    let wrong_body = wrong.text().await.unwrap();
    let unknown = app.login("nobody@nirvana.com", "not the password").await;
    assert_eq!(wrong_status, 200);
    assert_eq!(unknown.status(), wrong_status);
    let unknown_body = unknown.text().await.unwrap();
    assert!(wrong_body.contains("the email or password is not correct"));
    assert!(unknown_body.contains("the email or password is not correct"));
}

#[tokio::test]
async fn the_session_cookie_changes_on_login() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    let anonymous = app.get("/login/").await;
    let before = set_cookie(&anonymous).expect("an anonymous session with a CSRF token");
    let login = app.login("kurt@nirvana.com", PASSWORD).await;
    let after = set_cookie(&login).expect("a new cookie on login");
    assert_ne!(before, after);
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site_lax() {
    let app = TestApp::spawn().await;
    let response = app.get("/login/").await;
    let header = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("orgs_session="))
        .unwrap()
        .to_string();
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Lax"), "{header}");
    assert!(
        !header.contains("Secure"),
        "the test config serves plain http"
    );

    let secure = TestApp::spawn_with(|s| s.session.cookie_secure = true).await;
    let response = secure.get("/login/").await;
    let header = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(header.contains("Secure"), "{header}");
}

#[tokio::test]
async fn logout_makes_the_old_cookie_useless() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    let login = app.login("kurt@nirvana.com", PASSWORD).await;
    let cookie = set_cookie(&login).unwrap();
    assert_eq!(app.get("/account/").await.status(), 200);

    let response = app.post_form("/logout/", &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.get("/account/").await.status(), 302);

    // Someone who copied the cookie before the logout gets nothing with it.
    let thief = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let replay = thief
        .get(format!("{}/account/", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 302);
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let kurt = app.user("kurt@nirvana.com", "Kurt").await;
    app.login("kurt@nirvana.com", PASSWORD).await;

    let missing = app
        .client
        .post(format!("{}/account/", app.address))
        .form(&[("name", "Hacked")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 403);
    assert!(missing.text().await.unwrap().contains("CSRF"));
    let wrong = app
        .client
        .post(format!("{}/account/", app.address))
        .form(&[("name", "Hacked"), ("csrf_token", "0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let unchanged = user::Entity::find_by_id(kurt.id)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.name, "Kurt");

    // The header works as well as the form field.
    let token = app.csrf_token().await;
    let ok = app
        .client
        .post(format!("{}/account/", app.address))
        .header("x-csrf-token", token)
        .form(&[("name", "Kurt Donald Cobain")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    let changed = user::Entity::find_by_id(kurt.id)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.name, "Kurt Donald Cobain");
}

#[tokio::test]
async fn a_login_post_without_the_csrf_token_is_refused() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    let response = browser()
        .post(format!("{}/login/", app.address))
        .form(&[("email", "kurt@nirvana.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_429_for_known_and_unknown_emails() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for _ in 0..5 {
        assert_eq!(
            app.login("kurt@nirvana.com", "wrong password!")
                .await
                .status(),
            200
        );
        assert_eq!(
            app.login("ghost@nirvana.com", "wrong password!")
                .await
                .status(),
            200
        );
    }
    let locked = app.login("kurt@nirvana.com", PASSWORD).await;
    assert_eq!(
        locked.status(),
        429,
        "even the right password waits out the lockout"
    );
    assert!(locked.text().await.unwrap().contains("Too many attempts"));
    assert_eq!(
        app.login("ghost@nirvana.com", "wrong password!")
            .await
            .status(),
        429
    );
    // Another email from the same address still gets through (the address limit is higher).
    app.user("dave@foo.com", "Dave").await;
    assert_eq!(app.login("dave@foo.com", PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn a_password_reset_link_works_once_and_signs_out_everywhere() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    let elsewhere = browser();
    let token_page = elsewhere
        .get(format!("{}/", app.address))
        .send()
        .await
        .unwrap();
    let token = crate::helpers::csrf_from(&token_page.text().await.unwrap());
    let signed_in = elsewhere
        .post(format!("{}/login/", app.address))
        .form(&[
            ("email", "kurt@nirvana.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);

    let response = app
        .post_form("/password-reset/", &[("email", "Kurt@Nirvana.com")])
        .await;
    assert_eq!(response.status(), 200);
    let mail = app.wait_for_mail("kurt@nirvana.com", 1).await;
    let link = path_of(&link_in(&mail[0].text, "/password-reset/"));
    assert_eq!(app.get(&link).await.status(), 200);

    let mismatch = app
        .post_form(
            &link,
            &[
                ("password", "new password 1"),
                ("password_confirm", "new password 2"),
            ],
        )
        .await;
    assert!(mismatch.text().await.unwrap().contains("do not match"));
    let done = app
        .post_form(
            &link,
            &[
                ("password", "a brand new password"),
                ("password_confirm", "a brand new password"),
            ],
        )
        .await;
    assert_redirect_to(&done, 303, "/login/");

    let reused = app
        .post_form(
            &link,
            &[
                ("password", "yet another password"),
                ("password_confirm", "yet another password"),
            ],
        )
        .await;
    assert_eq!(reused.status(), 410);
    let still_signed_in = elsewhere
        .get(format!("{}/account/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        still_signed_in.status(),
        302,
        "the reset signed the other browser out"
    );
    assert_eq!(app.login("kurt@nirvana.com", PASSWORD).await.status(), 200);
    assert_eq!(
        app.login("kurt@nirvana.com", "a brand new password")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn an_expired_password_reset_link_is_refused() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    app.post_form("/password-reset/", &[("email", "kurt@nirvana.com")])
        .await;
    let mail = app.wait_for_mail("kurt@nirvana.com", 1).await;
    let link = path_of(&link_in(&mail[0].text, "/password-reset/"));
    user_token::Entity::update_many()
        .col_expr(
            user_token::Column::ExpiresAt,
            Expr::value(entity::chrono_now() - chrono::Duration::minutes(1)),
        )
        .exec(app.conn())
        .await
        .unwrap();
    let (status, body) = app.page(&link).await;
    assert_eq!(status, 410);
    assert!(body.contains("expired"), "{body}");
    let attempt = app
        .post_form(
            &link,
            &[
                ("password", "a brand new password"),
                ("password_confirm", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(attempt.status(), 410);
    assert_eq!(app.login("kurt@nirvana.com", PASSWORD).await.status(), 303);
    let (status, _) = app.page("/password-reset/0123/").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_reset_for_an_unknown_email_answers_the_same_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let response = app
        .post_form("/password-reset/", &[("email", "nobody@nowhere.com")])
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("If an account uses")
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mailbox().messages().is_empty());
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_other_browsers() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    app.login("kurt@nirvana.com", PASSWORD).await;
    let other = browser();
    let page = other.get(format!("{}/", app.address)).send().await.unwrap();
    let token = crate::helpers::csrf_from(&page.text().await.unwrap());
    other
        .post(format!("{}/login/", app.address))
        .form(&[
            ("email", "kurt@nirvana.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();

    let wrong = app
        .post_form(
            "/account/",
            &[
                ("name", "Kurt"),
                ("current_password", "nope nope nope"),
                ("new_password", "entirely new pass"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 200);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("this is not your current password")
    );

    let ok = app
        .post_form(
            "/account/",
            &[
                ("name", "Kurt"),
                ("current_password", PASSWORD),
                ("new_password", "entirely new pass"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
    assert_eq!(
        app.get("/account/").await.status(),
        200,
        "this browser stays signed in"
    );
    let other_now = other
        .get(format!("{}/account/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(other_now.status(), 302);
}

#[tokio::test]
async fn api_tokens_are_shown_once_work_without_csrf_and_stop_when_revoked() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    app.login("kurt@nirvana.com", PASSWORD).await;
    let created = app
        .post_form("/account/tokens/", &[("name", "laptop")])
        .await;
    assert_eq!(created.status(), 303);
    let (_, body) = app.page("/account/").await;
    let start = body
        .find("id=\"new-token\">")
        .expect("the new token is shown")
        + "id=\"new-token\">".len();
    let secret = body[start..].split('<').next().unwrap().to_string();
    assert!(secret.starts_with("orgs_"), "{secret}");
    let (_, again) = app.page("/account/").await;
    assert!(!again.contains(&secret), "shown once only");

    let api = reqwest::Client::new();
    let me = api
        .get(format!("{}/api/v1/account/", app.address))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let json: serde_json::Value = me.json().await.unwrap();
    assert_eq!(json["email"], "kurt@nirvana.com");
    assert!(json.get("password_hash").is_none());

    let patched = api
        .patch(format!("{}/api/v1/account/", app.address))
        .bearer_auth(&secret)
        .json(&serde_json::json!({"name": "Kurt C."}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        patched.status(),
        200,
        "a bearer request needs no CSRF token"
    );
    let json: serde_json::Value = patched.json().await.unwrap();
    assert_eq!(json["name"], "Kurt C.");

    let invalid = api
        .patch(format!("{}/api/v1/account/", app.address))
        .bearer_auth(&secret)
        .json(&serde_json::json!({"name": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);
    let json: serde_json::Value = invalid.json().await.unwrap();
    assert_eq!(json["error"]["code"], "invalid");
    assert!(
        json["error"]["fields"]["name"][0]
            .as_str()
            .unwrap()
            .contains("1 to 200")
    );

    let malformed = api
        .patch(format!("{}/api/v1/account/", app.address))
        .bearer_auth(&secret)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);

    let token_id = entity::api_token::Entity::find()
        .one(app.conn())
        .await
        .unwrap()
        .unwrap()
        .id;
    let revoked = app
        .post_form(&format!("/account/tokens/{token_id}/revoke/"), &[])
        .await;
    assert_eq!(revoked.status(), 303);
    let after = api
        .get(format!("{}/api/v1/account/", app.address))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn the_api_with_a_session_cookie_still_needs_the_csrf_header() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    app.login("kurt@nirvana.com", PASSWORD).await;
    let without = app
        .client
        .patch(format!("{}/api/v1/account/", app.address))
        .json(&serde_json::json!({"name": "Changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 403);
    let json: serde_json::Value = without.json().await.unwrap();
    assert_eq!(json["error"]["code"], "forbidden");
    let token = app.csrf_token().await;
    let with = app
        .client
        .patch(format!("{}/api/v1/account/", app.address))
        .header("x-csrf-token", token)
        .json(&serde_json::json!({"name": "Changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 200);
}

#[tokio::test]
async fn the_api_without_credentials_answers_401_in_json() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/account/").await;
    assert_eq!(response.status(), 401);
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["error"]["code"], "unauthorized");
    let bad = reqwest::Client::new()
        .get(format!("{}/api/v1/account/", app.address))
        .bearer_auth("orgs_not-a-real-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
}

#[tokio::test]
async fn error_pages_are_html_for_pages_and_json_for_the_api() {
    let app = TestApp::spawn().await;
    let (status, body) = app.page("/no/such/page/").await;
    assert_eq!(status, 404);
    assert!(body.contains("<title>Page not found"), "{body}");
    let api = app.get("/api/v1/no-such-thing/").await;
    assert_eq!(api.status(), 404);
    let json: serde_json::Value = api.json().await.unwrap();
    assert_eq!(json["error"]["code"], "not_found");
}

#[tokio::test]
async fn user_supplied_names_are_escaped_in_pages() {
    let app = TestApp::spawn().await;
    app.user("x@example.com", "<script>alert(1)</script>").await;
    app.login("x@example.com", PASSWORD).await;
    let (_, body) = app.page("/").await;
    assert!(!body.contains("<script>alert(1)</script>"));
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );
}

#[tokio::test]
async fn sessions_work_the_same_in_redis() {
    let app = TestApp::spawn_with(|s| {
        s.session.store = orgs::config::SessionStore::Redis;
        s.session.redis_url = "redis://127.0.0.1:6379".into();
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    let keys_before = redis_dbsize();
    let login = app.login("kurt@nirvana.com", PASSWORD).await;
    assert_eq!(login.status(), 303);
    let cookie = set_cookie(&login).unwrap();
    assert!(
        redis_dbsize() > keys_before,
        "the session was written to Redis"
    );
    // The cookie store carries the whole session; the Redis store only a key.
    let cookie_app = TestApp::spawn().await;
    cookie_app.user("kurt@nirvana.com", "Kurt").await;
    let cookie_login = cookie_app.login("kurt@nirvana.com", PASSWORD).await;
    assert!(cookie.len() < set_cookie(&cookie_login).unwrap().len());
    assert_eq!(app.get("/account/").await.status(), 200);
    app.post_form("/logout/", &[]).await;
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/account/", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 302);
}

/// `DBSIZE` of the local Redis, spoken in RESP over a plain socket.
fn redis_dbsize() -> i64 {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect("127.0.0.1:6379").expect("Redis on 127.0.0.1:6379");
    stream.write_all(b"*1\r\n$6\r\nDBSIZE\r\n").unwrap();
    let mut reply = [0u8; 64];
    let n = stream.read(&mut reply).unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]);
    reply
        .trim()
        .trim_start_matches(':')
        .parse()
        .expect("an integer reply")
}

#[tokio::test]
async fn a_page_view_that_changes_nothing_does_not_resend_the_session_cookie() {
    let app = TestApp::spawn().await;
    app.user("kurt@nirvana.com", "Kurt").await;
    app.login("kurt@nirvana.com", PASSWORD).await;
    // The first view may still carry the sign-in's flash message; the next ones change nothing.
    app.get("/account/").await;
    let quiet = app.get("/account/").await;
    assert_eq!(quiet.status(), 200);
    assert!(
        quiet.headers().get("set-cookie").is_none(),
        "an unchanged session was sent again"
    );
}
