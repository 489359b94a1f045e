//! End to end in a real browser: Debian's headless Chromium, driven through chromedriver,
//! against `orgs serve` (the binary cargo built for the tests) on loopback with organizations on subdomains
//! (`{slug}.localhost:{port}`, which Chromium resolves to loopback itself) and mail written to
//! files. A person signs up, activates from the mail, lands on the organization's host, creates
//! a project and invites a colleague; the colleague, in a second browser profile, accepts,
//! chooses a password, and both see each other on the people page; the colleague cannot reach
//! another organization. Screenshots of every step go to `target/tmp/browser/`. Then the tour
//! (`browser/tour.rs`) opens every page in both colour schemes at two widths, with axe-core and,
//! on the phone, an overflow check, with the embedding example's pages (`browser/embedded.rs`:
//! its binary, signed up and given notes through its own forms); `browser/palette.rs` checks
//! the stylesheet's colours.
//!
//! Needs `chromium` and `chromium-driver` (`apt-get install chromium chromium-driver`; `.ci/run`
//! installs them when missing).

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

#[path = "browser/embedded.rs"]
mod embedded;
#[path = "browser/harness.rs"]
mod harness;
#[path = "browser/palette.rs"]
mod palette;
#[path = "browser/scim.rs"]
mod scim;
#[path = "browser/sso.rs"]
mod sso;
#[path = "browser/tour.rs"]
mod tour;
#[path = "browser/two_factor.rs"]
mod two_factor;
#[path = "browser/webhooks.rs"]
mod webhooks;

use fantoccini::{Client, Locator};

use harness::{
    binary, browser, chromedriver, fill_and_submit, free_port, link_in_mail, page_text, serve,
    shot, wait_for_host, wait_for_text, wait_until_answering,
};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn a_team_signs_up_invites_and_works_together_in_a_real_browser() {
    let binary = binary();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = serve(&binary, work.path(), port);
    let driver_port = free_port();
    let _driver = chromedriver(driver_port);
    wait_until_answering(&format!("http://127.0.0.1:{port}/healthz")).await;
    wait_until_answering(&format!("http://127.0.0.1:{driver_port}/status")).await;
    let mail = work.path().join("mail");
    let main = format!("http://localhost:{port}");
    let team = format!("http://analytical-engines.localhost:{port}");

    // Ada signs up.
    let ada = browser(driver_port, &work.path().join("ada")).await;
    ada.goto(&format!("{main}/signup/")).await.unwrap();
    fill_and_submit(
        &ada,
        "main form",
        &[
            ("name", "Ada Lovelace"),
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("organization_name", "Analytical Engines"),
        ],
    )
    .await;
    wait_for_text(&ada, "Check your email").await;
    shot(&ada, 1, "signed-up").await;

    // She activates from the mail and lands on her organization's own host, signed in.
    let activation = link_in_mail(&mail, "ada@example.com", "/activate/").await;
    ada.goto(&activation).await.unwrap();
    let landed_port = wait_for_host(&ada, "analytical-engines.localhost").await;
    assert_eq!(landed_port, Some(port));
    wait_for_text(&ada, "Welcome to Analytical Engines.").await;
    shot(&ada, 2, "activated-on-the-subdomain").await;

    // A project.
    ada.goto(&format!("{team}/projects/new/")).await.unwrap();
    fill_and_submit(&ada, "main form", &[("name", "Difference Engine")]).await;
    wait_for_text(&ada, "Difference Engine").await;
    shot(&ada, 3, "project-created").await;

    // A form refused by the server keeps its input and says why: inviting a member.
    ada.goto(&format!("{team}/people/add/")).await.unwrap();
    fill_and_submit(&ada, "main form", &[("email", "ada@example.com")]).await;
    wait_for_text(&ada, "already an organization member").await;
    let email = ada.find(Locator::Css("#email")).await.unwrap();
    assert_eq!(
        email.prop("value").await.unwrap().as_deref(),
        Some("ada@example.com")
    );
    shot(&ada, 4, "invite-form-error").await;
    fill_and_submit(&ada, "main form", &[("email", "grace@example.com")]).await;
    wait_for_text(&ada, "grace@example.com").await;
    shot(&ada, 5, "colleague-invited").await;

    // Grace, in another profile, accepts and chooses a password.
    let grace = browser(driver_port, &work.path().join("grace")).await;
    let invitation = link_in_mail(&mail, "grace@example.com", "/invitations/").await;
    grace.goto(&invitation).await.unwrap();
    shot(&grace, 6, "invitation").await;
    fill_and_submit(
        &grace,
        "form:has(input[name=password])",
        &[("name", "Grace Hopper"), ("password", PASSWORD)],
    )
    .await;
    wait_for_host(&grace, "analytical-engines.localhost").await;
    shot(&grace, 7, "joined").await;

    // Both see each other on the people page (Grace on a phone-sized window).
    grace.set_window_size(390, 844).await.unwrap();
    grace.goto(&format!("{team}/people/")).await.unwrap();
    let people = page_text(&grace).await;
    assert!(
        people.contains("Ada Lovelace") && people.contains("Grace Hopper"),
        "{people}"
    );
    shot(&grace, 8, "people-on-a-phone").await;
    ada.goto(&format!("{team}/people/")).await.unwrap();
    let people = page_text(&ada).await;
    assert!(
        people.contains("Ada Lovelace") && people.contains("Grace Hopper"),
        "{people}"
    );
    shot(&ada, 9, "people").await;

    // Ada starts a second organization; Grace is not in it and cannot reach it.
    ada.goto(&format!("{main}/organizations/add/"))
        .await
        .unwrap();
    fill_and_submit(&ada, "main form", &[("name", "Babbage Labs")]).await;
    wait_for_host(&ada, "babbage-labs.localhost").await;
    shot(&ada, 10, "second-organization").await;
    // The header's switcher lists both of her organizations.
    ada.find(Locator::Css("details.switcher summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let menu = ada
        .find(Locator::Css("details.switcher ul"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        menu.contains("Analytical Engines") && menu.contains("Babbage Labs"),
        "{menu}"
    );
    shot(&ada, 11, "switcher").await;
    ada.goto(&format!("{main}/organizations/")).await.unwrap();
    let list = page_text(&ada).await;
    assert!(list.contains("Analytical Engines") && list.contains("Babbage Labs"));

    grace
        .goto(&format!("{main}/o/babbage-labs/people/"))
        .await
        .unwrap();
    let refused = page_text(&grace).await;
    assert!(refused.contains("Page not found"), "{refused}");
    assert!(!refused.contains("Ada Lovelace"));
    shot(&grace, 12, "other-organization-refused").await;
    grace
        .goto(&format!("{main}/go/babbage-labs/"))
        .await
        .unwrap();
    assert!(!page_text(&grace).await.contains("Ada Lovelace"));
    grace
        .goto(&format!("http://babbage-labs.localhost:{port}/people/"))
        .await
        .unwrap();
    assert_eq!(
        grace.current_url().await.unwrap().path(),
        "/login/",
        "no session on another organization's host"
    );

    // What fills the tables the tour measures: an API key, a domain, a role of her own, a
    // personal token.
    ada.goto(&format!("{team}/settings/api-keys/"))
        .await
        .unwrap();
    fill_and_submit(
        &ada,
        "form[action$='/settings/api-keys/']",
        &[("name", "Nightly export to the analytics warehouse")],
    )
    .await;
    wait_for_text(&ada, "Copy the new key now").await;
    shot(&ada, 13, "api-key-created").await;
    ada.goto(&format!("{team}/settings/domains/"))
        .await
        .unwrap();
    fill_and_submit(
        &ada,
        "form[action$='/settings/domains/']",
        &[("domain", "difference-engines.analytical.example")],
    )
    .await;
    wait_for_text(&ada, "Publish its TXT record").await;
    ada.goto(&format!("{team}/roles/new/")).await.unwrap();
    fill_and_submit(
        &ada,
        "main form",
        &[
            ("key", "release-managers"),
            ("name", "Release managers"),
            (
                "description",
                "Ship the engines and tell the people who use them",
            ),
        ],
    )
    .await;
    wait_for_text(&ada, "Release managers").await;
    shot(&ada, 14, "role-created").await;
    ada.goto(&format!("{main}/account/")).await.unwrap();
    fill_and_submit(
        &ada,
        "form[action='/account/tokens/']",
        &[("name", "Laptop scripts")],
    )
    .await;
    wait_for_text(&ada, "Copy your new token now").await;
    shot(&ada, 15, "token-created").await;

    // Billing gives Analytical Engines (organization 1) ten seats, as an operator would: the
    // overview, the people page and the invite form then show them.
    let seats = std::process::Command::new(&binary)
        .args(["org", "set-seats", "--organization", "1", "--limit", "10"])
        .env("ORGS_ENV", "development")
        .env(
            "ORGS_DATABASE__URL",
            format!("sqlite://{}/e2e.db", work.path().display()),
        )
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        seats.status.success(),
        "{}",
        String::from_utf8_lossy(&seats.stderr)
    );

    let (_embed, ann, embed_origin) = embedded::notes_with_ann(driver_port, work.path()).await;
    let visitor = browser(driver_port, &work.path().join("visitor")).await;
    tour(&ada, &visitor, (&ann, &embed_origin), port, driver_port).await;
    ann.close().await.unwrap();
    // A page that echoes a long address wraps it on a phone (the tour left it at 390 px).
    visitor
        .goto(&format!("{main}/password-reset/"))
        .await
        .unwrap();
    fill_and_submit(
        &visitor,
        "main form",
        &[(
            "email",
            "augusta.ada.king.noel.countess.of.lovelace@analyticalengines.example.org",
        )],
    )
    .await;
    wait_for_text(&visitor, "Check your email").await;
    shot(&visitor, 16, "phone-password-reset-sent").await;
    tour::assert_fits(&visitor, "the password reset's answer").await;
    visitor.close().await.unwrap();

    ada.close().await.unwrap();
    grace.close().await.unwrap();
}

/// Every page Ada and a visitor can open, each checked at two widths in both colour schemes
/// (`browser/tour.rs`): screenshots, axe-core (findings in `target/tmp/browser/axe.txt`) and,
/// on the phone, the overflow check (`overflow.txt`).
async fn tour(
    ada: &Client,
    visitor: &Client,
    (ann, embed_origin): (&Client, &str),
    port: u16,
    driver: u16,
) {
    let org = format!("http://analytical-engines.localhost:{port}");
    let main = format!("http://localhost:{port}");
    let pages = [
        (org.clone(), "/", "overview"),
        (org.clone(), "/people/", "people"),
        (org.clone(), "/people/add/", "invite"),
        // Grace (user 2) and the Difference Engine (project 1), made by the steps above.
        (org.clone(), "/people/2/", "person"),
        (org.clone(), "/people/2/edit/", "person-roles"),
        (org.clone(), "/people/2/delete/", "remove-person"),
        (org.clone(), "/projects/1/", "project"),
        (org.clone(), "/projects/1/edit/", "edit-project"),
        (org.clone(), "/projects/1/delete/", "delete-project"),
        (org.clone(), "/invitations/", "invitations"),
        (org.clone(), "/projects/", "projects"),
        (org.clone(), "/projects/new/", "new-project"),
        (org.clone(), "/roles/", "roles"),
        (org.clone(), "/roles/new/", "new-role"),
        (org.clone(), "/roles/release-managers/edit/", "edit-role"),
        (
            org.clone(),
            "/roles/release-managers/delete/",
            "delete-role",
        ),
        (org.clone(), "/settings/", "settings-general"),
        (org.clone(), "/settings/api-keys/", "settings-api-keys"),
        (org.clone(), "/settings/domains/", "settings-domains"),
        (org.clone(), "/settings/danger/", "settings-danger"),
        (org.clone(), "/audit/", "audit-log"),
        (
            org.clone(),
            "/audit/?since=yesterday",
            "audit-log-refused-filter",
        ),
        (org.clone(), "/transfer/", "transfer"),
        (org.clone(), "/delete/", "delete"),
        (org.clone(), "/no-such-page/", "not-found"),
        (main.clone(), "/account/", "account"),
        (main.clone(), "/organizations/", "organizations"),
        (main.clone(), "/organizations/add/", "new-organization"),
    ];
    // And what a visitor sees, signed out.
    let visiting = [
        (main.clone(), "/login/", "login"),
        (main.clone(), "/signup/", "signup"),
        (main.clone(), "/password-reset/", "password-reset"),
        (main.clone(), "/", "start"),
        (
            format!("http://no-such-organization.localhost:{port}"),
            "/",
            "unknown-organization",
        ),
    ];
    // And the embedding example's pages, as Ann, its organization's owner, sees them.
    let embedded = embedded::pages(embed_origin);
    let everyone: Vec<tour::Page<'_>> = pages
        .iter()
        .map(|page| (ada, page))
        .chain(visiting.iter().map(|page| (visitor, page)))
        .chain(embedded.iter().map(|page| (ann, page)))
        .collect();
    tour::check(&[ada, visitor, ann], &everyone, driver).await;
}
