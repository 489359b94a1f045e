//! The outgoing HTTP client against real sockets on this machine: a name or an address literal
//! that reaches loopback, the metadata service or a private network is refused before any
//! connection is made; an allowed network is reached; a redirect comes back unfollowed; a body
//! over the cap and a server that never answers end in errors, not in a hang.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use orgs::net::addresses::{Reach, Refusal};
use orgs::net::client::{Limits, Outbound, OutboundError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server on 127.0.0.1 answering every request with `answer` (after `delay`); how many
/// connections it accepted.
async fn server(answer: Vec<u8>, delay: Duration) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                tokio::time::sleep(delay).await;
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (port, accepted)
}

fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn loopback_allowed() -> Reach {
    Reach::allowing(vec!["127.0.0.0/8".parse().unwrap()])
}

#[track_caller]
fn assert_refused<T: std::fmt::Debug>(result: Result<T, OutboundError>, why: Refusal) {
    match result {
        Err(OutboundError::Refused(refused)) => assert_eq!(refused.why, why, "{refused}"),
        other => panic!("expected a refusal ({why:?}), got {other:?}"),
    }
}

#[tokio::test]
async fn loopback_by_name_or_by_address_is_refused_before_any_connection() {
    let (port, accepted) = server(ok("secret"), Duration::ZERO).await;
    let client = Outbound::new(Reach::default(), Limits::default()).unwrap();
    for url in [
        format!("http://localhost:{port}/"),
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        // 2130706433 is 127.0.0.1 written as one number.
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
    ] {
        assert_refused(client.get(&url).await, Refusal::Loopback);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "no connection was made");
}

#[tokio::test]
async fn the_metadata_service_private_networks_and_their_disguises_are_refused() {
    let client = Outbound::new(loopback_allowed(), Limits::default()).unwrap();
    for (url, why) in [
        (
            "http://169.254.169.254/latest/meta-data/",
            Refusal::LinkLocal,
        ),
        ("http://[fd00:ec2::254]/latest/meta-data/", Refusal::Private),
        ("http://[64:ff9b::a9fe:a9fe]/", Refusal::LinkLocal),
        ("http://[2002:a9fe:a9fe::1]/", Refusal::LinkLocal),
        ("http://10.0.0.1/", Refusal::Private),
        ("http://100.64.0.1/", Refusal::SharedAddressSpace),
        ("http://0.0.0.0/", Refusal::Unspecified),
        ("http://[::]/", Refusal::Unspecified),
        ("http://[::1]/", Refusal::Loopback),
    ] {
        assert_refused(client.get(url).await, why);
    }
    for url in ["file:///etc/passwd", "ftp://example.com/", "not a url"] {
        assert!(
            matches!(client.get(url).await, Err(OutboundError::Url(_))),
            "{url}"
        );
    }
}

#[tokio::test]
async fn an_allowed_network_is_reached_and_a_redirect_comes_back_unfollowed() {
    let client = Outbound::new(loopback_allowed(), Limits::default()).unwrap();
    let (port, _) = server(ok("hello"), Duration::ZERO).await;
    let answer = client
        .get(&format!("http://localhost:{port}/"))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.body(), b"hello");
    let moved = b"HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec();
    let (port, _) = server(moved, Duration::ZERO).await;
    let answer = client
        .get(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap();
    assert_eq!(answer.status(), 302, "returned, not followed");
    assert_eq!(answer.headers()["location"], "http://169.254.169.254/");
}

#[tokio::test]
async fn a_body_over_the_cap_and_a_silent_server_end_in_errors() {
    let limits = Limits {
        max_body: 64 * 1024,
        total: Duration::from_millis(500),
        ..Limits::default()
    };
    let client = Outbound::new(loopback_allowed(), limits).unwrap();
    let (port, _) = server(ok(&"x".repeat(200 * 1024)), Duration::ZERO).await;
    let result = client.get(&format!("http://127.0.0.1:{port}/")).await;
    assert!(
        matches!(result, Err(OutboundError::TooLarge(65536))),
        "{result:?}"
    );
    let (port, _) = server(ok("late"), Duration::from_secs(30)).await;
    let result = client.get(&format!("http://127.0.0.1:{port}/")).await;
    assert!(matches!(result, Err(OutboundError::Timeout)), "{result:?}");
}
