//! Login throttling per (account, client), per client and per account, and which forwarding
//! headers count.

use super::*;
use crate::helpers::{port, subdomain_app};

#[tokio::test]
async fn failures_from_one_address_refuse_that_pair_only_with_retry_after() {
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.auth.login_max_failures = 3;
        s.auth.login_lockout_secs = 600;
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for _ in 0..3 {
        let failed = login_as(&app, "203.0.113.5", "kurt@nirvana.com", "wrong password!").await;
        assert_eq!(failed.status(), 200);
    }
    let refused = login_as(&app, "203.0.113.5", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(refused.status(), 429);
    let wait = retry_after(&refused).expect("a Retry-After header");
    assert!((1..=600).contains(&wait), "{wait}");
    assert!(refused.text().await.unwrap().contains("Too many attempts"));

    let owner = login_as(&app, "198.51.100.7", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(
        owner.status(),
        303,
        "the owner, from an address that has not been failing, is never refused"
    );
}

#[tokio::test]
async fn failures_from_many_addresses_slow_the_account_down_but_never_refuse_it() {
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.auth.login_max_failures = 3;
        s.auth.login_failure_delay_ms = 60;
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for i in 0..10 {
        let failed = login_as(
            &app,
            &format!("203.0.113.{}", 10 + i),
            "kurt@nirvana.com",
            "wrong password!",
        )
        .await;
        assert_eq!(failed.status(), 200, "attempt {i}");
    }
    let started = Instant::now();
    let owner = login_as(&app, "198.51.100.7", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(owner.status(), 303);
    // 10 failures: (10 - 2) x 60 ms of slow-down before the password is even checked.
    assert!(
        started.elapsed() >= Duration::from_millis(480),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_address_failing_across_accounts_is_refused_for_all_of_them() {
    let app = TestApp::spawn_with(|s| {
        behind_proxy(s);
        s.auth.login_max_failures = 2;
    })
    .await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for i in 0..8 {
        let failed = login_as(
            &app,
            "203.0.113.5",
            &format!("nobody{i}@nirvana.com"),
            "wrong password!",
        )
        .await;
        assert_eq!(failed.status(), 200, "attempt {i}");
    }
    let refused = login_as(&app, "203.0.113.5", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(
        refused.status(),
        429,
        "4 x login_max_failures from one address"
    );
    assert!(retry_after(&refused).is_some());
    let elsewhere = login_as(&app, "198.51.100.7", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(elsewhere.status(), 303);
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_does_not_choose_the_counted_address() {
    let app = TestApp::spawn_with(|s| s.auth.login_max_failures = 3).await;
    app.user("kurt@nirvana.com", "Kurt").await;
    for i in 0..3 {
        let failed = login_as(
            &app,
            &format!("203.0.113.{i}"),
            "kurt@nirvana.com",
            "wrong password!",
        )
        .await;
        assert_eq!(failed.status(), 200);
    }
    let refused = login_as(&app, "198.51.100.7", "kurt@nirvana.com", PASSWORD).await;
    assert_eq!(
        refused.status(),
        429,
        "every attempt came from 127.0.0.1 whatever X-Forwarded-For said"
    );
}

#[tokio::test]
async fn forwarded_host_chooses_the_tenant_only_from_a_trusted_proxy() {
    for (trusted, want) in [(false, 404), (true, 302)] {
        let app = TestApp::spawn_with(|s| {
            if trusted {
                behind_proxy(s);
            }
        })
        .await;
        World::build(&app).await;
        for (name, value) in [
            ("x-forwarded-host", "nirvana.localhost"),
            ("forwarded", "for=198.51.100.7;host=nirvana.localhost"),
        ] {
            let response = app
                .client
                .get(format!("{}/people/", app.address))
                .header(name, value)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), want, "{name} trusted={trusted}");
        }
    }
}

#[tokio::test]
async fn handoff_origins_ignore_forwarded_headers_from_an_untrusted_peer() {
    let app = subdomain_app().await;
    World::build(&app).await;
    let port = port(&app).to_string();
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let go = kurt
        .client
        .get(format!("{}/go/nirvana/", app.address))
        .header("host", format!("localhost:{port}"))
        .header("x-forwarded-host", "localhost:6666")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(
        location(&go).starts_with(&format!("http://nirvana.localhost:{port}/handoff/")),
        "{}",
        location(&go)
    );
}
