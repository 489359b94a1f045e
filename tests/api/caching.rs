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
