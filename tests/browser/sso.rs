//! Single sign-on in the browser, against the real OpenID Provider of the API tests (npm's
//! `oidc-provider`, `tests/oidc/provider.mjs`): Ada proves her organization's email domain with
//! its TXT record (answered by a DNS server on loopback here) and connects the provider on the
//! settings page; Kim, new to orgs, types her address on the login page, presses "Use single
//! sign-on", signs in at the provider and lands on the organization's own host as its member.
//! The settings section goes through the tour's checks.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use fantoccini::{Client, Locator};

use crate::harness::{
    Running, browser, chromedriver, fill_and_submit, free_port, link_in_mail, shot, wait_for_host,
    wait_for_text, wait_until_answering,
};
use crate::{PASSWORD, tour};

/// The provider, started for this test: its issuer and process.
fn provider() -> (String, Running) {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new("node")
        .arg(format!("{root}/tests/oidc/provider.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node tests/oidc/provider.mjs (see tests/oidc/README.md)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let started: serde_json::Value = serde_json::from_str(&line).expect("the provider's issuer");
    // The pipe stays open as long as the child is held: the provider exits when it closes.
    std::mem::forget(child.stdin.take());
    (
        started["issuer"].as_str().unwrap().to_string(),
        Running(child),
    )
}

/// A DNS server on loopback answering TXT questions from `records`.
async fn dns(records: Arc<Mutex<HashMap<String, String>>>) -> std::net::SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buffer = [0u8; 512];
        while let Ok((n, peer)) = socket.recv_from(&mut buffer).await {
            let query = &buffer[..n];
            let mut labels = Vec::new();
            let mut at = 12;
            while let Some(&len) = query.get(at).filter(|l| **l > 0) {
                let end = (at + 1 + usize::from(len)).min(query.len());
                labels.push(String::from_utf8_lossy(&query[at + 1..end]).into_owned());
                at = end;
            }
            let value = records.lock().unwrap().get(&labels.join(".")).cloned();
            let answers: Vec<&str> = value.iter().map(String::as_str).collect();
            let answer = orgs::tenancy::dns::encode_txt_answer(query, &answers);
            let _ = socket.send_to(&answer, peer).await;
        }
    });
    address
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_colleague_signs_on_through_the_organizations_identity_provider_in_a_real_browser() {
    let (issuer, _provider) = provider();
    let records: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let dns = dns(Arc::clone(&records)).await;
    let binary = crate::harness::binary();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let dns = dns.to_string();
    let _server = crate::harness::serve_with(
        &binary,
        work.path(),
        port,
        &[
            ("ORGS_TENANT__DNS_SERVER", dns.as_str()),
            ("ORGS_SSO__ALLOW_PRIVATE_NETWORKS", "[\"127.0.0.0/8\"]"),
            ("ORGS_SSO__ALLOW_INSECURE_ISSUERS", "true"),
        ],
    );
    let driver_port = free_port();
    let _driver = chromedriver(driver_port);
    wait_until_answering(&format!("http://127.0.0.1:{port}/healthz")).await;
    wait_until_answering(&format!("http://127.0.0.1:{driver_port}/status")).await;
    let main = format!("http://localhost:{port}");
    let org_host = "rocket-works.localhost";
    let org = format!("http://{org_host}:{port}");

    // Ada signs up with her organization.
    let ada = browser(driver_port, &work.path().join("ada")).await;
    ada.goto(&format!("{main}/signup/")).await.unwrap();
    fill_and_submit(
        &ada,
        "main form",
        &[
            ("name", "Ada Rocket"),
            ("email", "ada@rocket.test"),
            ("password", PASSWORD),
            ("organization_name", "Rocket Works"),
        ],
    )
    .await;
    wait_for_text(&ada, "Check your email").await;
    let activation = link_in_mail(&work.path().join("mail"), "ada@rocket.test", "/activate/").await;
    ada.goto(&activation).await.unwrap();
    wait_for_host(&ada, org_host).await;

    // She adds rocket.test and publishes the record the page shows.
    ada.goto(&format!("{org}/settings/sso/")).await.unwrap();
    fill_and_submit(
        &ada,
        "form[action$='/settings/sso/domains/']",
        &[("domain", "rocket.test")],
    )
    .await;
    wait_for_text(&ada, "_orgs-email.rocket.test").await;
    shot(&ada, 600, "sso-domain-added").await;
    let value = text_of(&ada, "dl.record dd:last-of-type code").await;
    records
        .lock()
        .unwrap()
        .insert("_orgs-email.rocket.test".into(), value);
    ada.find(Locator::Css("form[action$='/verify/'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&ada, "rocket.test is verified").await;

    // The provider knows orgs as a client, and Kim.
    let control = reqwest::Client::new();
    let answer = control
        .post(format!("{issuer}/__control/clients"))
        .json(&serde_json::json!({
            "client_id": "rocket-works", "client_secret": "rocket-works-secret-0123456789",
            "redirect_uris": [format!("{main}/sso/callback")],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let answer = control
        .post(format!("{issuer}/__control/accounts"))
        .json(&serde_json::json!({
            "sub": "kim-0001", "claims": {"email": "kim@rocket.test", "name": "Kim Rocket"},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);

    // Ada connects it.
    let form = ada
        .form(Locator::Css("form[action$='/settings/sso/connection/']"))
        .await
        .unwrap();
    form.set_by_name("issuer", &issuer).await.unwrap();
    form.set_by_name("client_id", "rocket-works").await.unwrap();
    form.set_by_name("client_secret", "rocket-works-secret-0123456789")
        .await
        .unwrap();
    ada.find(Locator::Css("input[name=domains][value='rocket.test']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    form.submit().await.unwrap();
    wait_for_text(&ada, "Single sign-on saved.").await;
    shot(&ada, 601, "sso-connected").await;

    // Kim types her address and chooses single sign-on.
    let kim = browser(driver_port, &work.path().join("kim")).await;
    kim.goto(&format!("{main}/login/")).await.unwrap();
    kim.form(Locator::Css("main form"))
        .await
        .unwrap()
        .set_by_name("email", "kim@rocket.test")
        .await
        .unwrap();
    kim.find(Locator::Css("button[name=sso]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let provider_host = issuer
        .trim_start_matches("http://")
        .split(':')
        .next()
        .unwrap()
        .to_string();
    wait_for_host(&kim, &provider_host).await;
    shot(&kim, 602, "sso-at-the-provider").await;
    let hint = text_of(&kim, "body").await;
    assert!(
        hint.contains("kim@rocket.test"),
        "the login hint reached the provider: {hint}"
    );
    fill_and_submit(&kim, "form", &[("sub", "kim-0001")]).await;
    wait_for_host(&kim, org_host).await;
    wait_for_text(&kim, "Rocket Works").await;
    shot(&kim, 603, "sso-signed-on").await;
    kim.goto(&format!("{org}/people/")).await.unwrap();
    let _ = wait_for_text(&kim, "kim@rocket.test").await;

    // The section and the start page through the tour's checks.
    let pages = [
        (org.clone(), "/settings/sso/", "settings-sso"),
        (
            main.clone(),
            "/sso/rocket-works/start?login_hint=kim%40rocket.test",
            "sso-start",
        ),
    ];
    let checked: Vec<tour::Page<'_>> = [&ada, &kim].into_iter().zip(pages.iter()).collect();
    tour::check(&[&ada, &kim], &checked, driver_port).await;
    let out = crate::harness::out_dir();
    std::fs::copy(out.join("axe.txt"), out.join("sso-axe.txt")).unwrap();
    ada.close().await.unwrap();
    kim.close().await.unwrap();
}
