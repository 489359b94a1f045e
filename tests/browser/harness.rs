//! What the browser test stands on: the `orgs` server and chromedriver as child processes,
//! Chromium sessions with their own profiles, mail read from the `.eml` files, screenshots, and
//! waits for a page to settle.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `orgs` binary cargo built for this test run (the debug profile, with argon2 and SQLite
/// optimised; building the release profile here cost several minutes of every clean CI run).
pub(crate) fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_orgs"))
}

pub(crate) async fn wait_until_answering(url: &str) {
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

pub(crate) fn serve(binary: &Path, dir: &Path, port: u16) -> Running {
    serve_with(binary, dir, port, &[])
}

/// [`serve`] with more settings (`ORGS_...` variables).
pub(crate) fn serve_with(
    binary: &Path,
    dir: &Path,
    port: u16,
    settings: &[(&str, &str)],
) -> Running {
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
        .envs(settings.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .expect("orgs serve");
    Running(child)
}

pub(crate) fn chromedriver(port: u16) -> Running {
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is missing: apt-get install chromium chromium-driver");
    Running(child)
}

/// A browser with its own profile (its own cookies).
pub(crate) async fn browser(driver: u16, profile: &Path) -> Client {
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

/// Where the screenshots and axe-core's findings go: `target/tmp/browser/`.
pub(crate) fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Saves a screenshot as `{n}-{name}.png` (`n` in three digits, so they sort in order) in
/// [`out_dir`].
pub(crate) async fn shot(client: &Client, n: u32, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(out_dir().join(format!("{n:03}-{name}.png")), png).unwrap();
}

/// The first link containing `path` in a mail to `to` written to `dir`.
pub(crate) async fn link_in_mail(dir: &Path, to: &str, path: &str) -> String {
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

pub(crate) async fn fill_and_submit(client: &Client, form: &str, fields: &[(&str, &str)]) {
    let form = client.form(Locator::Css(form)).await.unwrap();
    for (name, value) in fields {
        form.set_by_name(name, value).await.unwrap();
    }
    form.submit().await.unwrap();
}

/// Waits (a form submit may still be following redirects) until the page is on `host`.
pub(crate) async fn wait_for_host(client: &Client, host: &str) -> Option<u16> {
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
pub(crate) async fn wait_for_text(client: &Client, needle: &str) -> String {
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
pub(crate) async fn page_text(client: &Client) -> String {
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
