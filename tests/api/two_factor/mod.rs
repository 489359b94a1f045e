//! Two-factor sign-in (issue 32) as a person and an attacker meet it, over real HTTP: codes made
//! by Python's `pyotp` from the secret the page shows, as an authenticator app would make them.
//! A code is accepted once per 30-second step, with one step of drift either way, so a test that
//! needs two codes in a row uses the next step's code for the second, never a sleep.

mod dangerous_actions;
mod enrolment;
mod handoff;
mod logs;
mod recovery;
mod requirement;
mod sign_in;
mod sudo;

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use entity::{organization, user_session, user_two_factor};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use crate::helpers::{
    PASSWORD, TestApp, Visitor, assert_redirect_to, browser, csrf_from, location,
};

/// Runs `python3 -c script args...`: its standard output, trimmed.
fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 (with pyotp: `python3 -m pip install pyotp`)");
    assert!(
        out.status.success(),
        "python3 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The TOTP code of the base32 `secret` now, or at the Unix time `at`, as pyotp makes it.
pub fn totp_code(secret: &str, at: Option<u64>) -> String {
    let at = at.map(|t| t.to_string());
    let mut args = vec![secret];
    args.extend(at.as_deref());
    python(
        "import pyotp, sys\n\
         t = pyotp.TOTP(sys.argv[1])\n\
         print(t.now() if len(sys.argv) < 3 else t.at(int(sys.argv[2])))",
        &args,
    )
}

/// The current code of the app an `otpauth://` address sets up (as scanning the QR code would).
pub fn code_from_url(url: &str) -> String {
    python(
        "import pyotp, sys\nprint(pyotp.parse_uri(sys.argv[1]).now())",
        &[url],
    )
}

/// A secret of another app: its codes are wrong for everyone here.
pub fn another_secret() -> String {
    python("import pyotp\nprint(pyotp.random_base32())", &[])
}

/// The raw bytes of a base32 secret, as hex and as base64 (how a careless store might keep
/// them).
pub fn raw_forms(secret: &str) -> (String, String) {
    let out = python(
        "import base64, sys\n\
         s = sys.argv[1]\n\
         b = base64.b32decode(s + '=' * (-len(s) % 8))\n\
         print(b.hex())\n\
         print(base64.b64encode(b).decode())",
        &[secret],
    );
    let (hex, b64) = out.split_once('\n').expect("two lines");
    (hex.to_string(), b64.to_string())
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Waits, when the current 30-second step ends in less than `margin_secs`, for the next one: a
/// code one step away from now stays one step away until the server reads it.
pub async fn away_from_a_step_edge(margin_secs: u64) {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
        % 30_000;
    let left = 30_000 - u64::try_from(elapsed).unwrap_or(0);
    if left < margin_secs * 1000 {
        tokio::time::sleep(Duration::from_millis(left + 200)).await;
    }
}

/// Someone's authenticator app: the secret the page showed.
#[derive(Clone, Debug)]
pub struct App {
    pub secret: String,
}

impl App {
    /// The code it shows now.
    pub fn code(&self) -> String {
        totp_code(&self.secret, None)
    }

    /// The code it shows `steps` steps from now (a clock ahead or behind).
    pub fn code_in(&self, steps: i64) -> String {
        let at = now().saturating_add_signed(steps * 30);
        totp_code(&self.secret, Some(at))
    }
}

/// What enrolment gave: the app and the recovery codes shown once.
pub struct Enrolled {
    pub app: App,
    pub recovery_codes: Vec<String>,
}

/// The text of the element whose opening tag ends with `marker` (`id="totp-secret">`).
pub fn text_after(body: &str, marker: &str) -> String {
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {body}"))
        + marker.len();
    body[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The recovery codes the security page shows once (`<ul id="recovery-codes">`).
pub fn recovery_codes_in(body: &str) -> Vec<String> {
    let start = body
        .find("id=\"recovery-codes\">")
        .unwrap_or_else(|| panic!("the recovery codes in {body}"));
    let list = &body[start..];
    let list = &list[..list.find("</ul>").expect("the end of the list")];
    list.split("<code>")
        .skip(1)
        .map(|item| item.split('<').next().unwrap_or_default().to_string())
        .collect()
}

/// Reads the browser's CSRF token again (it rotates at sign-in).
pub async fn refreshed(mut visitor: Visitor) -> Visitor {
    let (_, body) = visitor.get("/").await;
    visitor.csrf = csrf_from(&body);
    visitor
}

/// Sets up an authenticator app through the account's security page, as a person does: the
/// page's secret into the app, then a code from it. The code confirmed is the previous step's
/// (one step of drift, accepted), which leaves the current and the next step's codes for the
/// test.
pub async fn enrol(visitor: &Visitor) -> Enrolled {
    let started = visitor.post_form("/account/security/totp/", &[]).await;
    assert_redirect_to(&started, 303, "/account/security/#totp");
    let (status, page) = visitor.get("/account/security/").await;
    assert_eq!(status, 200);
    let app = App {
        secret: text_after(&page, "id=\"totp-secret\">"),
    };
    away_from_a_step_edge(3).await;
    let confirmed = visitor
        .post_form(
            "/account/security/totp/confirm/",
            &[("code", &app.code_in(-1))],
        )
        .await;
    assert_redirect_to(&confirmed, 303, "/account/security/#recovery");
    let (_, page) = visitor.get("/account/security/").await;
    Enrolled {
        app,
        recovery_codes: recovery_codes_in(&page),
    }
}

/// A new browser that typed `email`'s password: the response to `POST /login/`, and the browser.
pub async fn password_typed(app: &TestApp, email: &str) -> (reqwest::Response, Visitor) {
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
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let visitor = Visitor {
        client,
        csrf,
        address: app.address.clone(),
    };
    (response, visitor)
}

/// A new browser half signed in as `email`: past the password, at `/login/two-factor/`.
pub async fn half_signed_in(app: &TestApp, email: &str) -> Visitor {
    let (response, mut visitor) = password_typed(app, email).await;
    assert_redirect_to(&response, 303, "/login/two-factor/");
    let (status, page) = visitor.get("/login/two-factor/").await;
    assert_eq!(status, 200, "{page}");
    visitor.csrf = csrf_from(&page);
    visitor
}

/// `POST /login/two-factor/` with `code`.
pub async fn type_code(visitor: &Visitor, code: &str) -> reqwest::Response {
    visitor
        .post_form("/login/two-factor/", &[("code", code)])
        .await
}

/// A new browser signed in as `email` with the password and then `code`.
pub async fn signed_in_with(app: &TestApp, email: &str, code: &str) -> Visitor {
    let visitor = half_signed_in(app, email).await;
    let done = type_code(&visitor, code).await;
    assert_eq!(done.status(), 303, "{code} completes the sign-in");
    assert!(
        !location(&done).starts_with("/login/"),
        "{}",
        location(&done)
    );
    refreshed(visitor).await
}

/// `GET /api/v1/account/` with a personal token: the status.
pub async fn with_token(app: &TestApp, method: Method, path: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The id of the user with `email`.
pub async fn user_id(app: &TestApp, email: &str) -> i64 {
    orgs::auth::users::find_by_email(app.conn(), email)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{email} exists"))
        .id
}

/// Makes every sign-in of `email` last confirmed eleven minutes ago (the default
/// `auth.sudo_ttl_secs` is ten), as if the person had walked away.
pub async fn confirmed_long_ago(app: &TestApp, email: &str) {
    let user_id = user_id(app, email).await;
    let then = entity::chrono_now() - chrono::Duration::minutes(11);
    user_session::Entity::update_many()
        .col_expr(user_session::Column::ConfirmedAt, Expr::value(then))
        .filter(user_session::Column::UserId.eq(user_id))
        .exec(app.conn())
        .await
        .unwrap();
    // The app keeps resolved sign-ins for a moment: a write from outside forgets them.
    app.state.caches.invalidate();
}

/// Forgets which step `email`'s last accepted code was from (as if it were long past), so a
/// test can use the current codes once more.
pub async fn last_code_long_ago(app: &TestApp, email: &str) {
    let user_id = user_id(app, email).await;
    user_two_factor::Entity::update_many()
        .col_expr(
            user_two_factor::Column::TotpLastStep,
            Expr::value(Option::<i64>::None),
        )
        .filter(user_two_factor::Column::UserId.eq(user_id))
        .exec(app.conn())
        .await
        .unwrap();
}

/// Turns `slug`'s two-factor requirement on or off in the database (the API's switch is tested
/// on its own).
pub async fn set_requirement(app: &TestApp, slug: &str, required: bool) {
    organization::Entity::update_many()
        .col_expr(
            organization::Column::TwoFactorRequired,
            Expr::value(required),
        )
        .filter(organization::Column::Slug.eq(slug))
        .exec(app.conn())
        .await
        .unwrap();
    app.state.caches.invalidate();
}

/// Asserts a JSON error with `status` and `code`.
#[track_caller]
pub fn assert_error(status: u16, body: &serde_json::Value, want: u16, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
}

/// `POST /api/v1/account/reauthenticate/` with `body`: the status and the body.
pub async fn reauthenticate(
    visitor: &Visitor,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    visitor
        .api(Method::POST, "/api/v1/account/reauthenticate/", Some(body))
        .await
}

/// The password, as `POST /api/v1/account/reauthenticate/` takes it.
pub fn password_body() -> serde_json::Value {
    json!({ "password": PASSWORD })
}
