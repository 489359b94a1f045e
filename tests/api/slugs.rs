//! Slugs in the database: de-duplication, reserved words, concurrency, and the check constraint
//! that refuses a slug that is not a DNS label (django-organizations `tests/test_fields.py`
//! tests a configurable slug field; ours is fixed, so its rules are tested instead).

use entity::organization;
use orgs::organizations as orgs_service;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::helpers::TestApp;

#[tokio::test]
async fn organizations_with_the_same_name_get_numbered_slugs() {
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    let mut slugs = Vec::new();
    for _ in 0..3 {
        let created = orgs_service::create_organization(app.conn(), app.events(), dave.id, "Acme")
            .await
            .unwrap();
        slugs.push(created.organization.slug);
    }
    assert_eq!(slugs, ["acme", "acme-2", "acme-3"]);
}

#[tokio::test]
async fn a_name_that_slugifies_to_a_reserved_word_gets_a_number() {
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    let created = orgs_service::create_organization(app.conn(), app.events(), dave.id, "Admin")
        .await
        .unwrap();
    assert_eq!(created.organization.slug, "admin-2");
    let created = orgs_service::create_organization(app.conn(), app.events(), dave.id, "東京")
        .await
        .unwrap();
    assert_eq!(created.organization.slug, "org");
}

#[tokio::test]
async fn renaming_does_not_change_the_slug() {
    // Parity: django-organizations issue #182.
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    let created = orgs_service::create_organization(app.conn(), app.events(), dave.id, "Acme")
        .await
        .unwrap();
    let mut row: organization::ActiveModel = created.organization.into();
    row.name = Set("Acme Corporation".into());
    let renamed = row.update(app.conn()).await.unwrap();
    assert_eq!(renamed.slug, "acme");
    assert!(renamed.updated_at >= renamed.created_at);
}

#[tokio::test]
async fn concurrent_creates_of_one_name_all_succeed_with_distinct_slugs() {
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = app.conn().clone();
        let events = app.events().clone();
        tasks.push(tokio::spawn(async move {
            orgs_service::create_organization(&db, &events, dave.id, "Stampede").await
        }));
    }
    let mut slugs = Vec::new();
    for task in tasks {
        slugs.push(task.await.unwrap().unwrap().organization.slug);
    }
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 8, "{slugs:?}");
}

#[tokio::test]
async fn the_database_refuses_a_slug_that_is_not_a_dns_label() {
    let app = TestApp::spawn().await;
    for bad in [
        "Upper",
        "under_score",
        "-lead",
        "trail-",
        "",
        "dot.ted",
        &"a".repeat(64),
    ] {
        let result = organization::ActiveModel {
            name: Set("Raw".into()),
            slug: Set(bad.to_string()),
            is_active: Set(true),
            ..Default::default()
        }
        .insert(app.conn())
        .await;
        assert!(result.is_err(), "{bad:?} was stored");
    }
    let ok = organization::ActiveModel {
        name: Set("Raw".into()),
        slug: Set("a-1".into()),
        is_active: Set(true),
        ..Default::default()
    }
    .insert(app.conn())
    .await;
    assert!(ok.is_ok());
}
