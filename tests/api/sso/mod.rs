//! Email domains and single sign-on against a real OpenID Provider: npm's `oidc-provider`
//! (`tests/oidc/provider.mjs`, started once for the whole run), whose clients and accounts
//! each test sets, with a login page of our own so an account's `amr` reaches its ID token.
//! Domains are proved through the DNS server on loopback the custom-domain tests use. The
//! flow runs over HTTP with its real redirects: the app's browser and the provider's keep
//! their own cookies.

mod domains;
mod enforced;
mod join;
mod linking;
mod outbound;
mod sign_on;

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Visitor, browser, location, two_tenants, visitor};
use crate::keys_and_domains::{FakeDns, fake_dns};

/// The host of `server.public_url` in the tests (`http://localhost:8000`): where sign-on
/// starts and calls back. Requests for it are sent to the app's address with this `Host`.
pub(crate) const PUBLIC_HOST: &str = "localhost:8000";

/// The identity provider of the run.
pub(crate) struct Idp {
    /// `http://127.0.0.1:PORT`
    pub(crate) issuer: String,
    // Held for the run: the provider exits when its stdin closes (the test process ends).
    _child: Mutex<Child>,
    _stdin: Mutex<ChildStdin>,
}

/// The run's provider, started on first use.
pub(crate) fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(|| {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut child = Command::new("node")
            .arg(format!("{root}/tests/oidc/provider.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node tests/oidc/provider.mjs (see tests/oidc/README.md)");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the provider's first line");
        let started: Value = serde_json::from_str(&line).unwrap_or_else(|_| {
            panic!(
                "the test identity provider did not start ({line:?}): \
                 npm install --no-save --prefix target/npm \"$(cat tests/oidc/VERSION)\""
            )
        });
        Idp {
            issuer: started["issuer"].as_str().expect("issuer").to_string(),
            _child: Mutex::new(child),
            _stdin: Mutex::new(stdin),
        }
    })
}

impl Idp {
    async fn control(&self, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/__control/{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("the provider's control API");
        assert_eq!(response.status(), 201, "{path}: {body}");
        response.json().await.unwrap_or(Value::Null)
    }

    /// Registers a confidential client for the tests' callback; its id and secret.
    pub(crate) async fn client(&self) -> (String, String) {
        static N: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "client-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let secret = format!("secret-of-{id}-0123456789");
        self.control(
            "clients",
            json!({
                "client_id": id,
                "client_secret": secret,
                "redirect_uris": [format!("http://{PUBLIC_HOST}/sso/callback")],
            }),
        )
        .await;
        (id, secret)
    }

    /// Registers an account: its `sub` (unique to the test), its claims, its `amr`, and how its
    /// ID tokens misbehave (`{"aud": ..}`, `{"exp_offset_seconds": ..}`, `{"nonce": ..}`).
    pub(crate) async fn account(
        &self,
        sub: &str,
        claims: Value,
        amr: Option<&[&str]>,
        id_token: Option<Value>,
    ) {
        let mut body = json!({ "sub": sub, "claims": claims });
        if let Some(amr) = amr {
            body["amr"] = json!(amr);
        }
        if let Some(id_token) = id_token {
            body["id_token"] = id_token;
        }
        self.control("accounts", body).await;
    }

    /// A new signing key, used for the ID tokens from now on.
    pub(crate) async fn rotate_key(&self) -> String {
        self.control("rotate-key", json!({})).await["kid"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// A unique `sub` for a test's account.
pub(crate) fn sub(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An app whose domain lookups ask the test's DNS server.
pub(crate) async fn sso_app() -> (TestApp, FakeDns) {
    let dns = fake_dns().await;
    let address = dns.address.to_string();
    let app = TestApp::spawn_with(|s| s.tenant.dns_server = address).await;
    (app, dns)
}

/// Adds `domain` to Acme as Ada and proves it: its id.
pub(crate) async fn verified_domain(ada: &Visitor, dns: &FakeDns, domain: &str) -> i64 {
    let (status, added) = ada
        .api(
            Method::POST,
            "/o/acme/api/v1/email-domains/",
            Some(json!({ "domain": domain })),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    dns.records.lock().unwrap().insert(
        added["txt_name"].as_str().unwrap().to_string(),
        vec![added["txt_value"].as_str().unwrap().to_string()],
    );
    let id = added["id"].as_i64().unwrap();
    let (status, verified) = ada
        .api(
            Method::POST,
            &format!("/o/acme/api/v1/email-domains/{id}/verify/"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["state"], "verified");
    id
}

/// Acme (the suite's two tenants) with `acme.test` verified and a connection to the run's
/// provider answering for it: the app, Ada's browser and the DNS server.
pub(crate) async fn acme_with_sso(extra: Value) -> (TestApp, Visitor, FakeDns) {
    let (app, dns) = sso_app().await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    verified_domain(&ada, &dns, "acme.test").await;
    let (client_id, secret) = idp().client().await;
    let mut body = json!({
        "issuer": idp().issuer,
        "client_id": client_id,
        "client_secret": secret,
        "domains": ["acme.test"],
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            body.insert(key.clone(), value.clone());
        }
    }
    let (status, connection) = ada
        .api(Method::PUT, "/o/acme/api/v1/sso-connection/", Some(body))
        .await;
    assert_eq!(status, 201, "{connection}");
    (app, ada, dns)
}

/// A sign-on in a browser of its own.
pub(crate) struct SignOn {
    /// The app's browser (its cookies).
    pub(crate) browser: reqwest::Client,
    /// The provider's address the app sent the browser to.
    pub(crate) authorize: String,
    /// The callback the provider sent the browser back to (a path on the public host).
    pub(crate) callback: String,
    /// The app's answer to the callback.
    pub(crate) status: u16,
    /// Where it sent the browser next.
    pub(crate) location: String,
    /// Its body.
    pub(crate) body: String,
}

/// `GET path` on the public host with `browser`.
pub(crate) async fn on_public(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
) -> reqwest::Response {
    browser
        .get(format!("{}{path}", app.address))
        .header("host", PUBLIC_HOST)
        .send()
        .await
        .expect("request")
}

/// Starts a sign-on at `start` (a path on the public host, its query kept) in `browser`: its
/// page, then its button (a checked post); the answer that sends the browser on.
pub(crate) async fn start(
    app: &TestApp,
    browser: &reqwest::Client,
    start: &str,
) -> reqwest::Response {
    let page = on_public(app, browser, start).await;
    if page.status() != 200 {
        return page;
    }
    let csrf = crate::helpers::csrf_from(&page.text().await.expect("the start page"));
    let (path, query) = start.split_once('?').unwrap_or((start, ""));
    let mut fields: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    fields.push(("csrf_token".into(), csrf));
    browser
        .post(format!("{}{path}", app.address))
        .header("host", PUBLIC_HOST)
        .form(&fields)
        .send()
        .await
        .expect("the start")
}

/// Signs on to `slug` as the provider's account `sub` in a fresh browser: the start, the
/// provider's login page, the callback.
pub(crate) async fn sign_on(app: &TestApp, slug: &str, sub: &str) -> SignOn {
    sign_on_with(app, browser(), &format!("/sso/{slug}/start"), sub).await
}

/// [`sign_on`] from `start` (a path on the public host) with `browser`.
pub(crate) async fn sign_on_with(
    app: &TestApp,
    browser: reqwest::Client,
    start: &str,
    sub: &str,
) -> SignOn {
    let started = self::start(app, &browser, start).await;
    assert_eq!(
        started.status(),
        303,
        "the start sends the browser to the provider"
    );
    let authorize = location(&started);
    assert!(authorize.starts_with(&idp().issuer), "{authorize}");
    let callback = at_provider(&authorize, sub).await;
    let answer = on_public(app, &browser, &callback).await;
    let status = answer.status().as_u16();
    let location = answer
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = answer.text().await.unwrap_or_default();
    SignOn {
        browser,
        authorize,
        callback,
        status,
        location,
        body,
    }
}

/// At the provider, in a browser of its own: follows `authorize` to the login page, signs in
/// as `sub`, follows on to the callback; the callback's path and query.
pub(crate) async fn at_provider(authorize: &str, sub: &str) -> String {
    let provider = browser();
    let mut next = authorize.to_string();
    for _ in 0..10 {
        let url = absolute(&next);
        if let Some(path) = url.strip_prefix(&format!("http://{PUBLIC_HOST}")) {
            return path.to_string();
        }
        let response = provider.get(&url).send().await.expect("the provider");
        if response.status().is_redirection() {
            next = location(&response);
            continue;
        }
        assert_eq!(response.status(), 200, "the provider's login page at {url}");
        let login = format!("{}/login", url.split('?').next().unwrap_or_default());
        let answer = provider
            .post(&login)
            .form(&[("sub", sub)])
            .send()
            .await
            .expect("the provider's login");
        assert!(
            answer.status().is_redirection(),
            "signed in at the provider: {}",
            answer.status()
        );
        next = location(&answer);
    }
    panic!("the provider never sent the browser back");
}

fn absolute(url: &str) -> String {
    if url.starts_with('/') {
        format!("{}{url}", idp().issuer)
    } else {
        url.to_string()
    }
}

/// Acme's connection as `visitor` reads it, less what is only answered: a body to `PUT` back.
pub(crate) async fn connection_body(visitor: &Visitor) -> Value {
    let (_, mut shown) = visitor
        .api(Method::GET, "/o/acme/api/v1/sso-connection/", None)
        .await;
    if let Some(fields) = shown.as_object_mut() {
        for key in ["redirect_uri", "start_url"] {
            fields.remove(key);
        }
    }
    shown
}

/// The audit actions of Acme's log, newest first.
pub(crate) async fn audit_actions(ada: &Visitor) -> Vec<(String, Value)> {
    let (_, log) = ada
        .api(
            Method::GET,
            "/o/acme/api/v1/audit-events/?per_page=100",
            None,
        )
        .await;
    log["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e["action"].as_str().unwrap_or_default().to_string(), e))
        .collect()
}
