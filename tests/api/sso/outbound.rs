//! The SSRF-safe client the server's own requests go through: what it refuses (the address
//! connected to is what counts, a name resolving to loopback included), that an allowed
//! network is reached, that a redirect is answered and never followed, that a body over the
//! cap and a server that never answers are cut off; and the sign-on that it protects.

use std::time::Duration;

use orgs::net::addresses::Reach;
use orgs::net::client::{Limits, Outbound, OutboundError};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::{idp, verified_domain};
use crate::helpers::{TestApp, browser, two_tenants, visitor};

/// A server on loopback answering every connection with `answer` (or never, when `None`).
async fn server(answer: Option<Vec<u8>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                match answer {
                    Some(answer) => {
                        let _ = socket.write_all(&answer).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    port
}

fn get(url: &str) -> orgs::net::client::Request {
    http::Request::get(url).body(Vec::new()).unwrap()
}

#[tokio::test]
async fn the_outbound_client_refuses_the_machine_private_networks_and_their_disguises() {
    let port = server(Some(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
    ))
    .await;
    let client = Outbound::new(Reach::default(), Limits::default()).unwrap();
    let mut refused = Vec::new();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://0.0.0.0:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[fd00:ec2::254]/".to_string(),
        "http://10.0.0.1/".to_string(),
        "http://172.16.0.1/".to_string(),
        "http://192.168.1.1/".to_string(),
        "http://100.64.0.1/".to_string(),
        "http://[64:ff9b::7f00:1]/".to_string(),
        "http://[2002:7f00:1::]/".to_string(),
        "http://[fe80::1]/".to_string(),
        "http://224.0.0.1/".to_string(),
    ] {
        match client.send(get(&url)).await {
            Err(OutboundError::Refused(why)) => refused.push(format!("{url}: {why}")),
            other => panic!("{url} was not refused: {other:?}"),
        }
    }
    assert_eq!(refused.len(), 15);
    for url in ["ftp://example.com/", "/relative/only"] {
        assert!(client.send(get(url)).await.is_err(), "{url}");
    }
}

#[tokio::test]
async fn an_allowed_network_is_reached_and_a_redirect_is_answered_never_followed() {
    let target = server(Some(
        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecret".to_vec(),
    ))
    .await;
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{target}/\r\ncontent-length: 0\r\n\r\n"
    );
    let port = server(Some(redirect.into_bytes())).await;
    let allowed = Reach::allowing(vec!["127.0.0.0/8".parse().unwrap()]);
    let client = Outbound::new(allowed, Limits::default()).unwrap();
    let answer = client
        .send(get(&format!("http://127.0.0.1:{port}/")))
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    assert!(
        answer.body().is_empty(),
        "the redirect's target was not read"
    );
    // IPv6 loopback is not in the allowed IPv4 network.
    let v6 = client.send(get(&format!("http://[::1]:{port}/"))).await;
    assert!(matches!(v6, Err(OutboundError::Refused(_))), "{v6:?}");
}

#[tokio::test]
async fn a_body_over_the_cap_and_a_server_that_never_answers_are_cut_off() {
    let mut big = b"HTTP/1.1 200 OK\r\ncontent-length: 300000\r\n\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 300_000));
    let large = server(Some(big)).await;
    let silent = server(None).await;
    let allowed = Reach::allowing(vec!["127.0.0.0/8".parse().unwrap()]);
    let limits = Limits {
        connect: Duration::from_secs(1),
        total: Duration::from_millis(500),
        max_body: 100_000,
    };
    let client = Outbound::new(allowed, limits).unwrap();
    let too_large = client
        .send(get(&format!("http://127.0.0.1:{large}/")))
        .await;
    assert!(
        matches!(too_large, Err(OutboundError::TooLarge { .. })),
        "{too_large:?}"
    );
    let timed_out = client
        .send(get(&format!("http://127.0.0.1:{silent}/")))
        .await;
    assert!(
        matches!(timed_out, Err(OutboundError::Timeout { .. })),
        "{timed_out:?}"
    );
}

#[tokio::test]
async fn a_sign_on_through_a_provider_on_a_private_address_is_refused_unless_the_operator_allows_it()
 {
    let dns = crate::keys_and_domains::fake_dns().await;
    let address = dns.address.to_string();
    let app = TestApp::spawn_with(|s| {
        s.tenant.dns_server = address;
        s.sso.allow_private_networks = Vec::new();
    })
    .await;
    two_tenants(&app).await;
    let ada = visitor(&app, Some("ada@acme.test")).await;
    verified_domain(&ada, &dns, "acme.test").await;
    let (client_id, secret) = idp().client().await;
    let (status, body) = ada
        .api(
            reqwest::Method::PUT,
            "/o/acme/api/v1/sso-connection/",
            Some(json!({
                "issuer": idp().issuer, "client_id": client_id, "client_secret": secret,
                "domains": ["acme.test"],
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let started = super::start(&app, &browser(), "/sso/acme/start").await;
    assert_eq!(started.status(), 502);
    let said = started.text().await.unwrap();
    assert!(said.contains("may not reach"), "{said}");
    assert!(
        !said.contains("127.0.0.1:"),
        "the address itself is logged, not told: {said}"
    );
}

#[tokio::test]
async fn with_insecure_issuers_off_no_http_address_is_reached_whatever_discovery_names() {
    let port = server(Some(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
    ))
    .await;
    let allowed = Reach::allowing(vec!["127.0.0.0/8".parse().unwrap()]);
    let client = Outbound::new(allowed, Limits::default())
        .unwrap()
        .https_only(true);
    let refused = client
        .send(get(&format!("http://127.0.0.1:{port}/token")))
        .await;
    assert!(
        matches!(refused, Err(OutboundError::Address(_))),
        "{refused:?}"
    );
    let reached = client
        .https_only(false)
        .send(get(&format!("http://127.0.0.1:{port}/")))
        .await;
    assert_eq!(reached.unwrap().status(), 200);
}
