//! The lookup caches (session, slug, membership) never outlive a change made through the
//! server, and outlive one made behind its back by at most `cache.ttl_ms`.

use std::time::{Duration, Instant};

use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};

use crate::helpers::{TestApp, World, visitor};

async fn status(who: &crate::helpers::Visitor, path: &str) -> u16 {
    who.get(path).await.0
}

/// Polls until `path` answers `want`, for at most `limit`; returns how long it took.
async fn until_status(
    who: &crate::helpers::Visitor,
    path: &str,
    want: u16,
    limit: Duration,
) -> Duration {
    let start = Instant::now();
    loop {
        let got = status(who, path).await;
        if got == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{path} still answers {got} after {limit:?}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_member_removed_through_the_server_is_refused_on_the_next_request() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    // Krist's session, the slug and his membership are now cached.
    assert_eq!(status(&krist, "/o/nirvana/people/").await, 200);
    assert_eq!(status(&krist, "/o/nirvana/people/").await, 200);

    let removed = kurt
        .post_form(&format!("/o/nirvana/people/{}/delete/", w.krist.id), &[])
        .await;
    assert_eq!(removed.status(), 303);
    assert_eq!(status(&krist, "/o/nirvana/people/").await, 404);
}

#[tokio::test]
async fn a_renamed_slug_stops_answering_on_the_next_request() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    assert_eq!(status(&kurt, "/o/nirvana/").await, 200);
    let saved = kurt
        .post_form(
            "/o/nirvana/edit/",
            &[("name", "Nirvana"), ("slug", "nevermind")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(status(&kurt, "/o/nirvana/").await, 404);
    assert_eq!(status(&kurt, "/o/nevermind/").await, 200);
}

#[tokio::test]
async fn a_removal_made_behind_the_servers_back_is_seen_within_the_cache_ttl() {
    let app = TestApp::spawn_with(|s| s.cache.ttl_ms = 300).await;
    let w = World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    assert_eq!(status(&krist, "/o/nirvana/people/").await, 200);

    // As another server process or the CLI would: straight to the database.
    crate::rules::remove_user(app.conn(), &orgs::Events::new(), w.nirvana.id, w.krist.id)
        .await
        .unwrap();
    let waited = until_status(&krist, "/o/nirvana/people/", 404, Duration::from_secs(3)).await;
    assert!(waited < Duration::from_secs(3));
}

#[tokio::test]
async fn a_user_deactivated_behind_the_servers_back_is_signed_out_within_the_cache_ttl() {
    let app = TestApp::spawn_with(|s| s.cache.ttl_ms = 300).await;
    let w = World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    assert_eq!(status(&krist, "/account/").await, 200);

    let user = entity::user::Entity::find_by_id(w.krist.id)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    let mut user = user.into_active_model();
    user.is_active = Set(false);
    user.update(app.conn()).await.unwrap();
    until_status(&krist, "/account/", 302, Duration::from_secs(3)).await;
}

#[tokio::test]
async fn with_the_cache_off_a_change_behind_the_servers_back_is_seen_at_once() {
    let app = TestApp::spawn_with(|s| s.cache.ttl_ms = 0).await;
    let w = World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    assert_eq!(status(&krist, "/o/nirvana/people/").await, 200);
    crate::rules::remove_user(app.conn(), &orgs::Events::new(), w.nirvana.id, w.krist.id)
        .await
        .unwrap();
    assert_eq!(status(&krist, "/o/nirvana/people/").await, 404);
}

// Several instances over one database: with `cache.notify`, a change made through one is seen
// by the other at once, though their caches would trust a lookup for a minute.

/// Two instances over one fresh database, their caches kept a minute and told of each other's
/// writes through `notify`.
async fn two_instances(notify: orgs::config::CacheNotify) -> (TestApp, TestApp) {
    let minute = |s: &mut orgs::config::Settings| {
        s.cache.ttl_ms = 60_000;
        s.cache.notify = notify;
        s.session.redis_url = "redis://127.0.0.1:6379".into();
    };
    let one = TestApp::spawn_with(minute).await;
    let two = one.restart_with(minute).await;
    (one, two)
}

/// The same browser (cookies and all) pointed at another instance.
fn on(app: &TestApp, who: &crate::helpers::Visitor) -> crate::helpers::Visitor {
    crate::helpers::Visitor {
        address: app.address.clone(),
        ..who.clone()
    }
}

/// Waits until both instances' caches are on (their channel is up).
async fn until_listening(apps: &[&TestApp]) {
    let start = Instant::now();
    while !apps.iter().all(|a| a.state.caches.enabled()) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the cache bus did not connect"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn a_removal_through_one_instance_is_refused_by_the_other_at_once(
    notify: orgs::config::CacheNotify,
) {
    let (one, two) = two_instances(notify).await;
    let w = World::build(&one).await;
    until_listening(&[&one, &two]).await;
    let krist = visitor(&one, Some("krist@nirvana.com")).await;
    let krist_on_two = on(&two, &krist);
    for _ in 0..2 {
        assert_eq!(status(&krist_on_two, "/o/nirvana/people/").await, 200);
    }
    assert!(
        two.state
            .caches
            .hits
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );

    let kurt = visitor(&one, Some("kurt@nirvana.com")).await;
    let removed = kurt
        .post_form(&format!("/o/nirvana/people/{}/delete/", w.krist.id), &[])
        .await;
    assert_eq!(removed.status(), 303);
    // Within a second, not the minute the cache would keep it.
    until_status(
        &krist_on_two,
        "/o/nirvana/people/",
        404,
        Duration::from_secs(1),
    )
    .await;
}

async fn a_password_change_on_one_instance_signs_out_on_the_other_at_once(
    notify: orgs::config::CacheNotify,
) {
    let (one, two) = two_instances(notify).await;
    World::build(&one).await;
    until_listening(&[&one, &two]).await;
    // Two browsers of Krist's: one on each instance.
    let here = visitor(&one, Some("krist@nirvana.com")).await;
    let there = on(&two, &visitor(&one, Some("krist@nirvana.com")).await);
    assert_eq!(status(&there, "/account/").await, 200);
    assert_eq!(status(&there, "/account/").await, 200);
    let changed = here
        .post_form(
            "/account/",
            &[
                ("name", "Krist"),
                ("current_password", crate::helpers::PASSWORD),
                ("new_password", "another horse battery staple"),
            ],
        )
        .await;
    assert_eq!(changed.status(), 303);
    // The other browser's session ended; its instance had it cached for a minute.
    until_status(&there, "/account/", 302, Duration::from_secs(1)).await;
}

#[tokio::test]
async fn over_redis_a_removal_through_one_instance_is_refused_by_the_other_at_once() {
    a_removal_through_one_instance_is_refused_by_the_other_at_once(
        orgs::config::CacheNotify::Redis,
    )
    .await;
}

#[tokio::test]
async fn over_redis_a_password_change_on_one_instance_signs_out_on_the_other_at_once() {
    a_password_change_on_one_instance_signs_out_on_the_other_at_once(
        orgs::config::CacheNotify::Redis,
    )
    .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn over_postgres_a_removal_through_one_instance_is_refused_by_the_other_at_once() {
    a_removal_through_one_instance_is_refused_by_the_other_at_once(
        orgs::config::CacheNotify::Postgres,
    )
    .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn over_postgres_a_password_change_on_one_instance_signs_out_on_the_other_at_once() {
    a_password_change_on_one_instance_signs_out_on_the_other_at_once(
        orgs::config::CacheNotify::Postgres,
    )
    .await;
}

#[tokio::test]
async fn while_the_channel_cannot_connect_the_caches_are_off() {
    let app = TestApp::spawn_with(|s| {
        s.cache.ttl_ms = 60_000;
        s.cache.notify = orgs::config::CacheNotify::Redis;
        // Nothing listens there: the bus never connects.
        s.session.redis_url = "redis://127.0.0.1:9".into();
    })
    .await;
    let w = World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    assert_eq!(status(&krist, "/o/nirvana/people/").await, 200);
    assert!(!app.state.caches.enabled());
    crate::rules::remove_user(app.conn(), &orgs::Events::new(), w.nirvana.id, w.krist.id)
        .await
        .unwrap();
    assert_eq!(
        status(&krist, "/o/nirvana/people/").await,
        404,
        "not cached"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn when_the_listener_is_cut_the_caches_start_empty_once_it_is_back() {
    let (one, two) = two_instances(orgs::config::CacheNotify::Postgres).await;
    let w = World::build(&one).await;
    until_listening(&[&one, &two]).await;
    let krist = visitor(&one, Some("krist@nirvana.com")).await;
    assert_eq!(status(&krist, "/o/nirvana/people/").await, 200);
    assert_eq!(status(&krist, "/o/nirvana/people/").await, 200);

    // The listeners' connections die (a restart of PostgreSQL, a network cut) and a change
    // made meanwhile behind the servers' backs is published to nobody.
    use sea_orm::ConnectionTrait as _;
    let cut = one
        .conn()
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE query LIKE 'LISTEN%' AND datname = current_database()",
        )
        .await
        .unwrap();
    assert!(cut.rows_affected() >= 1, "no listener was found to cut");
    crate::rules::remove_user(one.conn(), &orgs::Events::new(), w.nirvana.id, w.krist.id)
        .await
        .unwrap();
    // Seen within a second: the caches went off, and came back empty.
    until_status(&krist, "/o/nirvana/people/", 404, Duration::from_secs(1)).await;
    until_listening(&[&one, &two]).await;
}
