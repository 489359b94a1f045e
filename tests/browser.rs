//! End to end in a real browser: Debian's headless Chromium, driven through chromedriver,
//! against `orgs serve` (the binary cargo built for the tests) on loopback with organizations on subdomains
//! (`{slug}.localhost:{port}`, which Chromium resolves to loopback itself) and mail written to
//! files. A person signs up, activates from the mail, lands on the organization's host, creates
//! a project and invites a colleague; the colleague, in a second browser profile, accepts,
//! chooses a password, and both see each other on the people page; the colleague cannot reach
//! another organization. Screenshots of every step go to `target/tmp/browser/`.
//!
//! Needs `chromium` and `chromium-driver` (`apt-get install chromium chromium-driver`; `.ci/run`
//! installs them when missing).

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

#[path = "browser/palette.rs"]
mod palette;

const PASSWORD: &str = "correct horse battery staple";

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `orgs` binary cargo built for this test run (the debug profile, with argon2 and SQLite
/// optimised; building the release profile here cost several minutes of every clean CI run).
fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_orgs"))
}

async fn wait_until_answering(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = reqwest::Client::new();
    while Instant::now() < deadline {
        if client.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not answer within 30 s");
}

fn serve(binary: &Path, dir: &Path, port: u16) -> Running {
    let child = Command::new(binary)
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
            format!("http://localhost:{port}"),
        )
        .env("ORGS_EMAIL__BACKEND", "file")
        .env("ORGS_EMAIL__FILE_DIR", dir.join("mail"))
        .env("ORGS_TENANT__BASE_DOMAIN", "localhost")
        .env("ORGS_TENANT__LINKS", "subdomain")
        .env("ORGS_LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("orgs serve");
    Running(child)
}

fn chromedriver(port: u16) -> Running {
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is missing: apt-get install chromium chromium-driver");
    Running(child)
}

/// A browser with its own profile (its own cookies).
async fn browser(driver: u16, profile: &Path) -> Client {
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1200,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver}"))
        .await
        .expect("a Chromium session")
}

/// Saves a screenshot as `{n}-{name}.png` in the test's output folder.
async fn shot(client: &Client, n: u32, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{n:02}-{name}.png")), png).unwrap();
}

/// The first link containing `path` in a mail to `to` written to `dir`.
async fn link_in_mail(dir: &Path, to: &str, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            // The text part's links are whole on their lines (`mail::parts`): read as written.
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if !text.contains(&format!("To: {to}")) {
                continue;
            }
            if let Some(link) = text
                .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
                .find(|word| word.starts_with("http") && word.contains(path))
            {
                return link.to_string();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no mail to {to} with a {path} link in {}", dir.display());
}

async fn fill_and_submit(client: &Client, form: &str, fields: &[(&str, &str)]) {
    let form = client.form(Locator::Css(form)).await.unwrap();
    for (name, value) in fields {
        form.set_by_name(name, value).await.unwrap();
    }
    form.submit().await.unwrap();
}

/// Waits (a form submit may still be following redirects) until the page is on `host`.
async fn wait_for_host(client: &Client, host: &str) -> Option<u16> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = client.current_url().await.unwrap();
        if url.host_str() == Some(host) && client.find(Locator::Css("body")).await.is_ok() {
            return url.port();
        }
        assert!(Instant::now() < deadline, "still on {url}, not on {host}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page shows `needle`; returns its text.
async fn wait_for_text(client: &Client, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = page_text(client).await;
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} never appeared in {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of the page's body. A body found while a submitted form is still loading its next
/// page goes stale before its text is read (CI met that once); such a read is taken again.
async fn page_text(client: &Client) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let read = match client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await,
            Err(error) => Err(error),
        };
        match read {
            Ok(text) => return text,
            Err(error) => assert!(
                Instant::now() < deadline,
                "the page's text could not be read: {error}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

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

    let visitor = browser(driver_port, &work.path().join("visitor")).await;
    tour(&ada, &visitor, port).await;
    visitor.close().await.unwrap();

    ada.close().await.unwrap();
    grace.close().await.unwrap();
}

/// axe-core's script (`npm install --prefix target/npm axe-core`; `.ci/run` installs it).
fn axe_source() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/npm/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run `npm install --no-save --prefix target/npm axe-core`",
            path.display()
        )
    })
}

/// Runs axe-core on the page: its violations as (rule, impact, how many nodes).
async fn axe(client: &Client, source: &str) -> Vec<(String, String, u64)> {
    // WebDriver's scripts run outside the page's Content-Security-Policy.
    client.execute(source, vec![]).await.unwrap();
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
                .then(r => done(r.violations.map(v => [v.id, v.impact || 'none', v.nodes.length])))
                .catch(e => done([['axe-error: ' + e, 'critical', 0]]));",
            vec![],
        )
        .await
        .unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v[0].as_str().unwrap().to_string(),
                v[1].as_str().unwrap().to_string(),
                v[2].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// Every page Ada can open, at a desktop and a phone width: a screenshot of each, and axe-core
/// finding no violation of impact "serious" or "critical" on any. The summary goes to
/// `target/tmp/browser/axe.txt`.
async fn tour(ada: &Client, visitor: &Client, port: u16) {
    let source = axe_source();
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
        (org.clone(), "/settings/", "settings"),
        (org.clone(), "/audit/", "activity"),
        (org.clone(), "/edit/", "edit-organization"),
        (org.clone(), "/transfer/", "transfer"),
        (org.clone(), "/delete/", "delete"),
        (org.clone(), "/no-such-page/", "not-found"),
        (main.clone(), "/account/", "account"),
        (main.clone(), "/organizations/", "organizations"),
        (main.clone(), "/organizations/add/", "new-organization"),
    ];
    let mut summary = String::new();
    let mut serious = Vec::new();
    let mut n = 20;
    // And what a visitor sees, signed out.
    let visiting = [
        (main.clone(), "/login/", "login"),
        (main.clone(), "/signup/", "signup"),
        (main.clone(), "/password-reset/", "password-reset"),
        (main.clone(), "/", "start"),
    ];
    let everyone = pages
        .iter()
        .map(|page| (ada, page))
        .chain(visiting.iter().map(|page| (visitor, page)));
    let everyone: Vec<_> = everyone.collect();
    for (width, height, device) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        ada.set_window_size(width, height).await.unwrap();
        visitor.set_window_size(width, height).await.unwrap();
        for (client, (origin, path, name)) in &everyone {
            client.goto(&format!("{origin}{path}")).await.unwrap();
            client.find(Locator::Css("main")).await.unwrap();
            shot(client, n, &format!("{device}-{name}")).await;
            n += 1;
            let violations = axe(client, &source).await;
            summary.push_str(&format!("{device} {path}: {}\n", violations.len()));
            for (rule, impact, nodes) in violations {
                summary.push_str(&format!("  {impact} {rule} ({nodes} nodes)\n"));
                if impact == "serious" || impact == "critical" {
                    serious.push(format!("{device} {path}: {impact} {rule} ({nodes} nodes)"));
                }
            }
        }
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::write(dir.join("axe.txt"), &summary).unwrap();
    assert!(serious.is_empty(), "axe-core: {serious:#?}\n{summary}");
}
