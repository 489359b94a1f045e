//! django-organizations `tests/test_utils.py` (`create_organization`), ported, plus the checks a
//! typed slug and name go through.

use entity::{organization, organization_owner, organization_user};
use orgs::error::FieldError as _;
use orgs::organizations::{self as orgs_service, NewOrganization, OrgError};
use orgs::slug::SlugError;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{TestApp, World};

async fn counts(app: &TestApp) -> (u64, u64, u64) {
    (
        organization::Entity::find()
            .count(app.conn())
            .await
            .unwrap(),
        organization_user::Entity::find()
            .count(app.conn())
            .await
            .unwrap(),
        organization_owner::Entity::find()
            .count(app.conn())
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn create_organization_makes_the_creator_its_admin_owner() {
    // test_create_organization
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    let created =
        orgs_service::create_organization(app.conn(), app.events(), dave.id, "Foo Fighters")
            .await
            .unwrap();
    assert_eq!(created.organization.name, "Foo Fighters");
    assert_eq!(created.organization.slug, "foo-fighters");
    assert!(created.organization.is_active);
    assert_eq!(created.membership.user_id, dave.id);
    assert!(
        crate::rules::is_admin(app.conn(), created.organization.id, dave.id)
            .await
            .unwrap()
    );
    assert_eq!(created.owner.organization_user_id, created.membership.id);
    assert!(
        crate::rules::is_owner(app.conn(), created.organization.id, dave.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn defaults_can_make_an_inactive_organization_with_a_non_admin_owner() {
    // test_defaults
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    let created = orgs_service::create_organization_with(
        app.conn(),
        app.events(),
        dave.id,
        NewOrganization {
            is_active: false,
            owner_is_admin: false,
            ..NewOrganization::named("Quiet Club")
        },
    )
    .await
    .unwrap();
    assert!(!created.organization.is_active);
    assert!(
        crate::rules::is_owner(app.conn(), created.organization.id, dave.id)
            .await
            .unwrap()
    );
    assert!(
        !crate::rules::is_admin(app.conn(), created.organization.id, dave.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_typed_slug_is_kept() {
    // Deliberate change: the peer regenerates the slug from the name on insert; we keep a
    // valid typed one (the create form lets people edit it).
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    let created = orgs_service::create_organization_with(
        app.conn(),
        app.events(),
        dave.id,
        NewOrganization {
            slug: Some("vizsla".into()),
            ..NewOrganization::named("Vizsla Club")
        },
    )
    .await
    .unwrap();
    assert_eq!(created.organization.slug, "vizsla");
}

#[tokio::test]
async fn an_empty_typed_slug_is_derived_from_the_name() {
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    let created = orgs_service::create_organization_with(
        app.conn(),
        app.events(),
        dave.id,
        NewOrganization {
            slug: Some("  ".into()),
            ..NewOrganization::named("An Association of Very Interesting People")
        },
    )
    .await
    .unwrap();
    assert_eq!(
        created.organization.slug,
        "an-association-of-very-interesting-people"
    );
}

#[tokio::test]
async fn a_taken_typed_slug_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let before = counts(&app).await;
    let error = orgs_service::create_organization_with(
        app.conn(),
        app.events(),
        w.duder.id,
        NewOrganization {
            slug: Some("nirvana".into()),
            ..NewOrganization::named("Nirvana Tribute")
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(error, OrgError::SlugTaken), "{error:?}");
    assert_eq!(error.field(), Some("slug"));
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn reserved_and_malformed_typed_slugs_are_refused() {
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    for (typed, expected) in [
        ("www", SlugError::Reserved("www".into())),
        ("api", SlugError::Reserved("api".into())),
        ("Acme", SlugError::BadCharacters),
        ("acme_inc", SlugError::BadCharacters),
        ("-acme", SlugError::BadCharacters),
    ] {
        let error = orgs_service::create_organization_with(
            app.conn(),
            app.events(),
            dave.id,
            NewOrganization {
                slug: Some(typed.into()),
                ..NewOrganization::named("Acme")
            },
        )
        .await
        .unwrap_err();
        match error {
            OrgError::InvalidSlug(reason) => assert_eq!(reason, expected, "{typed}"),
            other => panic!("{typed}: {other:?}"),
        }
    }
    assert_eq!(counts(&app).await, (0, 0, 0));
}

#[tokio::test]
async fn empty_and_overlong_names_are_refused() {
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    for name in ["", "   ", &"x".repeat(201)] {
        let error = orgs_service::create_organization(app.conn(), app.events(), dave.id, name)
            .await
            .unwrap_err();
        assert!(matches!(error, OrgError::InvalidName(_)), "{error:?}");
        assert_eq!(error.field(), Some("name"));
    }
    assert_eq!(counts(&app).await, (0, 0, 0));
}

#[tokio::test]
async fn an_unknown_owner_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let error = orgs_service::create_organization(app.conn(), app.events(), 4242, "Ghosts")
        .await
        .unwrap_err();
    assert!(matches!(error, OrgError::UserNotFound), "{error:?}");
    assert_eq!(counts(&app).await, (0, 0, 0));
}
