//! A new password ends every other way in: the sign-ins of other browsers and the personal API
//! tokens, in the same transaction as the password itself.

use crate::helpers::{PASSWORD, TestApp, assert_redirect_to, link_in, path_of, visitor};
use entity::UserId;

/// `GET /api/v1/account/` with `token`: the status.
async fn with_token(app: &TestApp, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/api/v1/account/", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Kurt, with two personal tokens (the account page's and the command line's are the same
/// kind of row).
async fn kurt_with_tokens(app: &TestApp) -> (i64, Vec<String>) {
    let kurt = app.user("kurt@nirvana.com", "Kurt").await;
    let mut secrets = Vec::new();
    for name in ["laptop", "cli"] {
        let (_, secret) = orgs::auth::api_tokens::create(app.conn(), kurt.id(), name)
            .await
            .unwrap();
        assert_eq!(with_token(app, &secret).await, 200);
        secrets.push(secret);
    }
    (kurt.id, secrets)
}

#[tokio::test]
async fn changing_the_password_ends_the_personal_api_tokens_too() {
    let app = TestApp::spawn().await;
    let (kurt_id, tokens) = kurt_with_tokens(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let renamed = kurt.post_form("/account/", &[("name", "Kurt C.")]).await;
    assert_eq!(renamed.status(), 303);
    for token in &tokens {
        assert_eq!(with_token(&app, token).await, 200, "a new name keeps them");
    }
    let changed = kurt
        .post_form(
            "/account/",
            &[
                ("name", "Kurt C."),
                ("current_password", PASSWORD),
                ("new_password", "entirely new pass"),
            ],
        )
        .await;
    assert_eq!(changed.status(), 303);
    for token in &tokens {
        assert_eq!(
            with_token(&app, token).await,
            401,
            "a new password ends them"
        );
    }
    let (status, _) = kurt.get("/account/").await;
    assert_eq!(status, 200, "the browser that changed it stays signed in");
    assert!(
        orgs::auth::api_tokens::list_active(app.conn(), UserId(kurt_id))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_password_reset_ends_the_personal_api_tokens_too() {
    let app = TestApp::spawn().await;
    let (_, tokens) = kurt_with_tokens(&app).await;
    let response = app
        .post_form("/password-reset/", &[("email", "kurt@nirvana.com")])
        .await;
    assert_eq!(response.status(), 200);
    let mail = app.wait_for_mail("kurt@nirvana.com", 1).await;
    let link = path_of(&link_in(&mail[0].text, "/password-reset/"));
    for token in &tokens {
        assert_eq!(
            with_token(&app, token).await,
            200,
            "asking for a link ends nothing"
        );
    }
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
    for token in &tokens {
        assert_eq!(with_token(&app, token).await, 401, "a reset ends them");
    }
}
