//! Outgoing webhooks against a real receiver: `tests/webhooks/receiver.py`, started once per
//! run on 127.0.0.2, verifies every delivery with PyPI's `standardwebhooks` (the reference
//! verifier, not orgs' code). The app may reach 127.0.0.2/32 alone, so 127.0.0.1 stays refused
//! in the same tests; names resolve through a DNS server the test runs on loopback.

mod delivery;
mod safety;

use std::collections::HashMap;
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, Visitor, two_tenants, visitor};

/// The receiver process, shared by every test of the run.
struct Receiver {
    port: u16,
    _child: Child,
}

fn receiver() -> &'static Receiver {
    static RECEIVER: OnceLock<Receiver> = OnceLock::new();
    RECEIVER.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/webhooks/receiver.py");
        let mut child = Command::new("python3")
            .args([script, "127.0.0.2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs tests/webhooks/receiver.py (pip install standardwebhooks)");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("its stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("the receiver's port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!("the receiver did not start: {line:?} (is standardwebhooks installed?)")
        });
        Receiver {
            port,
            _child: child,
        }
    })
}

/// The port the receiver listens on (127.0.0.2).
pub(crate) fn receiver_port() -> u16 {
    receiver().port
}

/// The receiver's address for deliveries to `name` answered as `behaviour`.
pub(crate) fn hook_url(name: &str, behaviour: &str) -> String {
    format!("http://127.0.0.2:{}/r/{name}/{behaviour}", receiver_port())
}

/// Tells the receiver which secrets deliveries to `name` are signed with.
pub(crate) async fn register(name: &str, secrets: &[&str]) {
    let answer = reqwest::Client::new()
        .put(format!(
            "http://127.0.0.2:{}/secrets/{name}",
            receiver_port()
        ))
        .body(json!({ "secrets": secrets }).to_string())
        .send()
        .await
        .expect("the receiver");
    assert_eq!(answer.status(), 204);
}

/// Every request the receiver got for `name`, in the order they arrived.
pub(crate) async fn received(name: &str) -> Vec<Value> {
    reqwest::Client::new()
        .get(format!(
            "http://127.0.0.2:{}/received/{name}",
            receiver_port()
        ))
        .send()
        .await
        .expect("the receiver")
        .json()
        .await
        .expect("json")
}

/// Waits (up to `secs`) until the requests for `name` satisfy `done`; them.
pub(crate) async fn wait_for(name: &str, secs: u64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let got = received(name).await;
        if done(&got) || tokio::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The event types of the requests, in order.
pub(crate) fn types(got: &[Value]) -> Vec<String> {
    got.iter()
        .map(|r| r["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A DNS server on loopback answering A and AAAA questions from a table the test fills.
pub(crate) struct IpDns {
    pub(crate) address: std::net::SocketAddr,
    pub(crate) names: Arc<Mutex<HashMap<String, Vec<IpAddr>>>>,
}

pub(crate) async fn ip_dns() -> IpDns {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    let names: Arc<Mutex<HashMap<String, Vec<IpAddr>>>> = Arc::default();
    let table = Arc::clone(&names);
    tokio::spawn(async move {
        let mut buffer = [0u8; 512];
        while let Ok((n, peer)) = socket.recv_from(&mut buffer).await {
            let query = &buffer[..n];
            let ips = table
                .lock()
                .unwrap()
                .get(&crate::keys_and_domains::question_name(query))
                .cloned()
                .unwrap_or_default();
            let answer = orgs::tenancy::dns::encode_ip_answer(query, &ips);
            let _ = socket.send_to(&answer, peer).await;
        }
    });
    IpDns { address, names }
}

/// An app whose deliveries may reach the receiver (127.0.0.2/32 and its port, over http) and
/// resolve names through `dns`, with `change` applied after.
pub(crate) async fn hooks_app_with(
    dns: Option<&IpDns>,
    change: impl FnOnce(&mut orgs::config::Settings),
) -> TestApp {
    let port = receiver_port();
    let dns = dns.map(|d| d.address.to_string());
    TestApp::spawn_with(move |s| {
        s.webhooks.allow_insecure_urls = true;
        s.webhooks.allow_private_networks = vec!["127.0.0.2/32".parse().unwrap()];
        s.webhooks.allowed_ports = vec![port, 443];
        if let Some(dns) = dns {
            s.tenant.dns_server = dns;
        }
        change(s);
    })
    .await
}

/// [`hooks_app_with`], nothing changed and no DNS server.
pub(crate) async fn hooks_app() -> TestApp {
    hooks_app_with(None, |_| {}).await
}

/// Acme and Globex, and Ada (Acme's owner) signed in.
pub(crate) async fn acme(app: &TestApp) -> Visitor {
    two_tenants(app).await;
    visitor(app, Some("ada@acme.test")).await
}

/// Registers an endpoint at `url` for `types` through the API; its id and secret.
pub(crate) async fn endpoint(ada: &Visitor, url: &str, types: &[&str]) -> (i64, String) {
    let answer = ada
        .send(
            reqwest::Method::POST,
            "/o/acme/api/v1/webhook-endpoints/",
            Some(json!({ "url": url, "description": "tests", "event_types": types })),
        )
        .await;
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    (
        body["id"].as_i64().unwrap(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

/// Makes a project through the API (a `project.created` event); its id.
pub(crate) async fn project(ada: &Visitor, name: &str) -> i64 {
    let answer = ada
        .send(
            reqwest::Method::POST,
            "/o/acme/api/v1/projects/",
            Some(json!({ "name": name })),
        )
        .await;
    assert_eq!(answer.status(), 201);
    answer.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// The endpoint's deliveries as the API lists them, newest first.
pub(crate) async fn deliveries(ada: &Visitor, id: i64) -> Vec<Value> {
    let answer = ada
        .send(
            reqwest::Method::GET,
            &format!("/o/acme/api/v1/webhook-endpoints/{id}/deliveries/"),
            None,
        )
        .await;
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

/// Waits (up to `secs`) until the endpoint's deliveries satisfy `done`; them.
pub(crate) async fn wait_log(
    ada: &Visitor,
    id: i64,
    secs: u64,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let log = deliveries(ada, id).await;
        if done(&log) || tokio::time::Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}
