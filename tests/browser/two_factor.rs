//! Two-factor sign-in in the browser, with passkeys made and used by Chromium's virtual
//! authenticator (turned on through the W3C WebDriver command `POST
//! /session/{id}/webauthn/authenticator`, sent with fantoccini's `issue_cmd`): Ada signs up,
//! confirms it is her, sets up an authenticator app from the secret the page shows (the code
//! computed here), keeps her recovery codes, and adds a passkey through the page's script.
//! Then she signs in with her password and a code, with the passkey alone (on the base domain
//! and on her organization's subdomain: the relying party is the base domain), and with her
//! password and the passkey as the second step (the server runs on the base domain
//! `orgs.localhost`: see [`serve`]). She requires two-factor of her organization,
//! and Grace, a member without a factor, is sent to the setup page naming it. The new pages
//! go through the tour's checks (axe-core, both colour schemes, 1280 and 390 px).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, Locator};
use reqwest::{Method, Url};

use crate::harness::{
    Running, binary, browser, chromedriver, fill_and_submit, free_port, link_in_mail, page_text,
    shot, wait_for_host, wait_for_text, wait_until_answering,
};
use crate::{PASSWORD, tour};

/// The passkeys' relying party: the base domain of the server below.
const BASE_DOMAIN: &str = "orgs.localhost";

/// `orgs serve` as `harness::serve` runs it, but on the base domain `orgs.localhost`:
/// Chromium refuses `localhost` itself as the relying party of a page on a subdomain
/// (`acme.localhost`), as it refuses any name that is a registry of its own, and this test signs
/// in with a passkey on an organization's host too.
fn serve(binary: &std::path::Path, dir: &std::path::Path, port: u16) -> Running {
    let child = std::process::Command::new(binary)
        .arg("serve")
        .current_dir(dir)
        .env("ORGS_ENV", "development")
        .env(
            "ORGS_DATABASE__URL",
            format!("sqlite://{}/e2e.db", dir.display()),
        )
        .env("ORGS_SERVER__PORT", port.to_string())
        .env(
            "ORGS_SERVER__PUBLIC_URL",
            format!("http://{BASE_DOMAIN}:{port}"),
        )
        .env("ORGS_EMAIL__BACKEND", "file")
        .env("ORGS_EMAIL__FILE_DIR", dir.join("mail"))
        .env("ORGS_TENANT__BASE_DOMAIN", BASE_DOMAIN)
        .env("ORGS_TENANT__LINKS", "subdomain")
        .env("ORGS_LOG__FILTER", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("orgs serve");
    Running(child)
}

/// `POST /session/{id}/webauthn/authenticator`: a platform authenticator that keeps
/// discoverable credentials and verifies its user (as a fingerprint reader would), at once.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &Url,
        session_id: Option<&str>,
    ) -> Result<Url, <Url as std::str::FromStr>::Err> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/webauthn/authenticator"))
    }

    fn method_and_body(&self, _: &Url) -> (Method, Option<String>) {
        let body = serde_json::json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        });
        (Method::POST, Some(body.to_string()))
    }
}

/// TOTP codes for one secret, each from a later time step than the last (a code works once).
struct Authenticator {
    secret: Vec<u8>,
    last_step: Option<u64>,
}

impl Authenticator {
    fn new(base32: &str) -> Self {
        let secret = totp_rs::Secret::try_from_base32(base32)
            .expect("the page's secret is base32")
            .as_bytes()
            .to_vec();
        Self {
            secret,
            last_step: None,
        }
    }

    /// The code of the current step, or of the next one (the server accepts a step of drift)
    /// when the current one was used.
    fn code(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let step = match self.last_step {
            Some(last) => (now / 30).max(last + 1),
            None => now / 30,
        };
        self.last_step = Some(step);
        orgs::auth::totp::code_at(&self.secret, step * 30)
    }
}

/// Waits until the element `css` is shown (a passkey control waits for its script), then
/// clicks it.
async fn click_when_shown(client: &Client, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && element.is_displayed().await.unwrap_or(false)
        {
            element.click().await.unwrap();
            return;
        }
        assert!(Instant::now() < deadline, "{css} was never shown");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page is at `path` on any host; its text.
async fn wait_for_path(client: &Client, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = client.current_url().await.unwrap();
        if url.path() == path {
            return page_text(client).await;
        }
        assert!(Instant::now() < deadline, "still on {url}, not on {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Makes every sign-in's last confirmation an hour old, in the server's database (its cache
/// of sign-ins forgets them within a second): the next dangerous action asks to confirm.
async fn age_confirmations(work: &std::path::Path) {
    use sea_orm::{EntityTrait as _, sea_query::Expr};
    let url = format!("sqlite://{}/e2e.db", work.display());
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let hour_ago = entity::chrono_now() - chrono::Duration::hours(1);
    #[expect(
        clippy::disallowed_methods,
        reason = "the test reaches into the server's database"
    )]
    let update = entity::user_session::Entity::update_many();
    update
        .col_expr(
            entity::user_session::Column::ConfirmedAt,
            Expr::value(hour_ago),
        )
        .exec(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

async fn log_out(client: &Client) {
    let form = client
        .form(Locator::Css("nav.wide form[action='/logout/']"))
        .await
        .unwrap();
    form.submit().await.unwrap();
    wait_for_path(client, "/login/").await;
}

async fn type_password(client: &Client, origin: &str) {
    client.goto(&format!("{origin}/login/")).await.unwrap();
    fill_and_submit(
        client,
        "form[action='/login/']",
        &[("email", "ada@example.com"), ("password", PASSWORD)],
    )
    .await;
    wait_for_path(client, "/login/two-factor/").await;
}

#[tokio::test]
async fn two_factor_with_an_app_and_a_passkey_in_a_real_browser() {
    let binary = binary();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = serve(&binary, work.path(), port);
    let driver_port = free_port();
    let _driver = chromedriver(driver_port);
    wait_until_answering(&format!("http://127.0.0.1:{port}/healthz")).await;
    wait_until_answering(&format!("http://127.0.0.1:{driver_port}/status")).await;
    let mail = work.path().join("mail");
    let main = format!("http://{BASE_DOMAIN}:{port}");
    let org_host = "lovelace-labs.orgs.localhost";
    let org = format!("http://{org_host}:{port}");

    // Ada signs up and activates; her browser gets a virtual authenticator.
    let ada = browser(driver_port, &work.path().join("ada")).await;
    ada.issue_cmd(AddVirtualAuthenticator)
        .await
        .expect("Chromium's virtual authenticator");
    ada.goto(&format!("{main}/signup/")).await.unwrap();
    fill_and_submit(
        &ada,
        "main form",
        &[
            ("name", "Ada Lovelace"),
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("organization_name", "Lovelace Labs"),
        ],
    )
    .await;
    wait_for_text(&ada, "Check your email").await;
    let activation = link_in_mail(&mail, "ada@example.com", "/activate/").await;
    ada.goto(&activation).await.unwrap();
    wait_for_host(&ada, org_host).await;
    shot(&ada, 500, "2fa-activated").await;

    // Setting up an app needs a recent sign-in: her activation's is made ten minutes old.
    age_confirmations(work.path()).await;
    ada.goto(&format!("{main}/account/security/"))
        .await
        .unwrap();
    wait_for_text(&ada, "Your sign-in security").await;
    shot(&ada, 501, "2fa-security-page").await;
    ada.form(Locator::Css("form[action='/account/security/totp/']"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    wait_for_path(&ada, "/reauthenticate/").await;
    shot(&ada, 502, "2fa-reauthenticate").await;
    fill_and_submit(
        &ada,
        "form[action='/reauthenticate/']",
        &[("password", PASSWORD)],
    )
    .await;
    wait_for_text(&ada, "Thank you").await;
    ada.form(Locator::Css("form[action='/account/security/totp/']"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    wait_for_text(&ada, "Scan this code").await;
    shot(&ada, 503, "2fa-enrolment-qr").await;
    let secret = ada
        .find(Locator::Css("#totp-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut app = Authenticator::new(secret.trim());
    fill_and_submit(
        &ada,
        "form[action='/account/security/totp/confirm/']",
        &[("code", &app.code())],
    )
    .await;
    wait_for_text(&ada, "Your authenticator app is set up").await;
    let codes = ada
        .find(Locator::Css("#recovery-codes"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let recovery_codes: Vec<&str> = codes.split_whitespace().collect();
    assert_eq!(recovery_codes.len(), 10, "{codes}");
    shot(&ada, 504, "2fa-recovery-codes").await;

    // A passkey, made by the page's script and the virtual authenticator.
    let name = ada.find(Locator::Css("#passkey-name")).await.unwrap();
    name.send_keys("Ada's laptop").await.unwrap();
    shot(&ada, 505, "2fa-passkey-named").await;
    click_when_shown(&ada, "form[data-passkey-register] button[type=submit]").await;
    let page = wait_for_text(&ada, "Your passkey “Ada's laptop” is added").await;
    assert!(page.contains("Passkey added"), "the security log: {page}");
    shot(&ada, 506, "2fa-passkey-added").await;

    // Password, then a code from the app.
    log_out(&ada).await;
    type_password(&ada, &main).await;
    shot(&ada, 507, "2fa-step").await;
    fill_and_submit(
        &ada,
        "form[action='/login/two-factor/']",
        &[("code", &app.code())],
    )
    .await;
    wait_for_host(&ada, org_host).await;
    wait_for_text(&ada, "Lovelace Labs").await;
    shot(&ada, 508, "2fa-signed-in-with-a-code").await;

    // The passkey alone, from the login page's button: on the base domain, then on the
    // organization's own host (the same passkey: its relying party is the base domain).
    ada.goto(&format!("{main}/account/")).await.unwrap();
    log_out(&ada).await;
    shot(&ada, 509, "2fa-login-with-passkey-button").await;
    click_when_shown(&ada, "[data-passkey-sign-in]").await;
    wait_for_host(&ada, org_host).await;
    wait_for_text(&ada, "Lovelace Labs").await;
    shot(&ada, 510, "2fa-signed-in-with-a-passkey").await;
    ada.goto(&format!("{main}/account/")).await.unwrap();
    log_out(&ada).await;
    ada.goto(&format!("{org}/login/")).await.unwrap();
    click_when_shown(&ada, "[data-passkey-sign-in]").await;
    wait_for_path(&ada, "/").await;
    assert_eq!(
        ada.current_url().await.unwrap().host_str(),
        Some(org_host),
        "signed in on the organization's host"
    );
    wait_for_text(&ada, "Lovelace Labs").await;
    shot(&ada, 511, "2fa-passkey-on-the-subdomain").await;
    log_out(&ada).await;

    // Password, then the passkey as the second step.
    type_password(&ada, &main).await;
    click_when_shown(&ada, "[data-passkey-sign-in]").await;
    wait_for_host(&ada, org_host).await;
    wait_for_text(&ada, "Lovelace Labs").await;
    shot(&ada, 512, "2fa-second-step-with-the-passkey").await;
    ada.goto(&format!("{main}/account/security/"))
        .await
        .unwrap();
    let page = page_text(&ada).await;
    assert!(
        !page.contains("Not yet"),
        "the passkey's last use is shown: {page}"
    );

    // Grace joins; Ada, signed in with a second factor, requires it of the organization.
    ada.goto(&format!("{org}/people/add/")).await.unwrap();
    fill_and_submit(&ada, "main form", &[("email", "grace@example.com")]).await;
    wait_for_text(&ada, "grace@example.com").await;
    let grace = browser(driver_port, &work.path().join("grace")).await;
    let invitation = link_in_mail(&mail, "grace@example.com", "/invitations/").await;
    grace.goto(&invitation).await.unwrap();
    fill_and_submit(
        &grace,
        "form:has(input[name=password])",
        &[("name", "Grace Hopper"), ("password", PASSWORD)],
    )
    .await;
    wait_for_host(&grace, org_host).await;
    ada.goto(&format!("{org}/settings/security/"))
        .await
        .unwrap();
    ada.find(Locator::Css("#two_factor_required"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    ada.form(Locator::Css("form[action$='/settings/security/']"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    wait_for_text(&ada, "Required: every member").await;
    shot(&ada, 513, "2fa-required-by-the-organization").await;

    // Grace, without a factor, is sent to the setup page naming the organization, and starts
    // setting up an app there.
    grace.goto(&format!("{org}/people/")).await.unwrap();
    let page = wait_for_text(&grace, "Lovelace Labs requires two-factor sign-in").await;
    assert!(page.contains("set up a second factor below"), "{page}");
    let url = grace.current_url().await.unwrap();
    assert_eq!(url.path(), "/account/security/");
    assert_eq!(url.query(), Some("for=lovelace-labs"));
    shot(&grace, 514, "2fa-setup-page").await;
    grace
        .form(Locator::Css("form[action='/account/security/totp/']"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    wait_for_text(&grace, "Scan this code").await;
    shot(&grace, 515, "2fa-setup-enrolment").await;

    // A third browser typed Ada's password and waits at the second step.
    let halfway = browser(driver_port, &work.path().join("halfway")).await;
    type_password(&halfway, &main).await;

    // The new pages through the tour's checks.
    let pages = [
        (main.clone(), "/account/security/", "security"),
        (
            main.clone(),
            "/reauthenticate/?next=/account/security/",
            "reauthenticate",
        ),
        (org.clone(), "/account/security/", "security-enrolment"),
        (
            org.clone(),
            "/account/security/?for=lovelace-labs",
            "two-factor-setup",
        ),
        (main.clone(), "/login/two-factor/", "two-factor-step"),
    ];
    let browsers = [&ada, &grace, &grace, &grace, &halfway];
    let checked: Vec<tour::Page<'_>> = browsers.into_iter().zip(pages.iter()).collect();
    tour::check(&[&ada, &grace, &halfway], &checked, driver_port).await;
    let out = crate::harness::out_dir();
    std::fs::copy(out.join("axe.txt"), out.join("two-factor-axe.txt")).unwrap();

    // Her passkeys on a phone (the tour left the windows at 390 px).
    ada.goto(&format!("{main}/account/security/#passkeys"))
        .await
        .unwrap();
    wait_for_text(&ada, "Ada's laptop").await;
    shot(&ada, 517, "2fa-passkeys-on-a-phone").await;

    // A recovery code she kept stands in for the app, once.
    type_password(&halfway, &main).await;
    fill_and_submit(
        &halfway,
        "form[action='/login/two-factor/']",
        &[("code", recovery_codes[0])],
    )
    .await;
    wait_for_host(&halfway, org_host).await;
    halfway
        .goto(&format!("{main}/account/security/"))
        .await
        .unwrap();
    let page = wait_for_text(&halfway, "You signed in with a recovery code").await;
    assert!(page.contains("9 unused codes left"), "{page}");
    shot(&halfway, 516, "2fa-signed-in-with-a-recovery-code").await;
    ada.close().await.unwrap();
    grace.close().await.unwrap();
    halfway.close().await.unwrap();
}
