//! A database that does not answer: 503 with Retry-After at once, and recovery.

use super::*;

/// GETs `path` as `who`: it must answer 503 with `Retry-After: 5` within 3 s. Its body.
async fn unavailable_at_once(who: &Visitor, path: &str) -> String {
    let started = Instant::now();
    let response = who.send(reqwest::Method::GET, path, None).await;
    assert_eq!(response.status(), 503, "{path}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{path}: {:?}",
        started.elapsed()
    );
    assert_eq!(retry_after(&response), Some(5), "{path}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_pool_with_no_connection_to_give_answers_503_with_retry_after_at_once() {
    let app = TestApp::spawn_with(|s| {
        s.database.max_connections = 1;
        s.database.acquire_timeout_ms = 300;
    })
    .await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    // The pool's one connection, held: every request now waits for it.
    let held = sea_orm::TransactionTrait::begin(&app.state.db)
        .await
        .unwrap();
    for path in ["/o/nirvana/api/v1/people/", "/o/nirvana/people/"] {
        let body = unavailable_at_once(&kurt, path).await;
        assert!(body.contains("database"), "{path}: {body}");
    }
    drop(held);
    let (status, _) = kurt.get("/o/nirvana/api/v1/people/").await;
    assert_eq!(
        status, 200,
        "recovers on the first request once a connection is free"
    );
}

/// A TCP proxy to PostgreSQL that the test can cut (closing every connection through it and
/// refusing new ones) and restore: the database going away and coming back, as the app sees it.
struct Cable {
    address: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Cable {
    async fn to(target: String) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> =
            std::sync::Arc::default();
        let (is_up, all) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !is_up.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                all.lock().unwrap().push(link.abort_handle());
            }
        });
        Self { address, up, links }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn a_database_outage_answers_503_at_once_and_the_first_request_after_it_succeeds() {
    let url = crate::helpers::as_app_role(
        &std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL=postgres://..."),
    );
    // Where the app's connections go: PostgreSQL, or the pooler in front of it.
    let authority = std::env::var("TEST_POOLER").unwrap_or_else(|_| {
        url.split_once('@')
            .map(|(_, rest)| rest.split('/').next().unwrap().to_string())
            .unwrap()
    });
    let cable = Cable::to(authority.clone()).await;
    let through = cable.address.to_string();
    let app = TestApp::spawn_with(|s| {
        s.database.url = s.database.url.replacen(&authority, &through, 1);
        s.database.acquire_timeout_ms = 500;
        s.cache.ttl_ms = 0;
    })
    .await;
    assert!(app.is_postgres());
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, _) = kurt.get("/o/nirvana/api/v1/people/").await;
    assert_eq!(status, 200);

    cable.cut();
    for path in [
        "/o/nirvana/api/v1/people/",
        "/o/nirvana/people/",
        "/o/nirvana/api/v1/projects/",
        "/o/nirvana/projects/",
        "/api/v1/account/",
    ] {
        unavailable_at_once(&kurt, path).await;
    }

    cable.restore();
    let (status, _) = kurt.get("/o/nirvana/api/v1/people/").await;
    assert_eq!(status, 200, "the first request once the database is back");
}
