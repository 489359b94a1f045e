//! Migrations are reversible, and every entity matches its table (the port of the peer's
//! `test_no_missing_migrations`).

use entity::{
    email_outbox, organization, organization_invitation, organization_owner, organization_user,
    project, user,
};
use migration::{Migrator, MigratorTrait};
use orgs::organizations as orgs_service;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

use crate::helpers::TestApp;

#[tokio::test]
async fn migrations_revert_completely_and_apply_again() {
    let app = TestApp::spawn().await;
    // The server's outbox sender polls its table; dropping tables under it made this flaky.
    app.shutdown();
    let db = app.conn();
    assert!(
        Migrator::get_pending_migrations(db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::down(db, None).await.unwrap();
    assert!(
        user::Entity::find().all(db).await.is_err(),
        "users must be gone"
    );
    assert_eq!(
        Migrator::get_pending_migrations(db).await.unwrap().len(),
        Migrator::migrations().len()
    );
    Migrator::up(db, None).await.unwrap();
    assert!(user::Entity::find().all(db).await.unwrap().is_empty());
}

#[tokio::test]
async fn every_entity_reads_and_writes_its_table() {
    let app = TestApp::spawn().await;
    let db = app.conn();
    let now = entity::chrono_now();
    let kurt = app.user("kurt@nirvana.com", "Kurt").await;
    let created = orgs_service::create_organization(db, app.events(), kurt.id, "Nirvana")
        .await
        .unwrap();
    let org = created.organization.id;
    let invitation = organization_invitation::ActiveModel {
        organization_id: Set(org),
        email: Set("dave@foo.com".into()),
        invited_by_id: Set(Some(kurt.id)),
        token_hash: Set("0".repeat(64)),
        expires_at: Set(now),
        accepted_at: Set(None),
        accepted_by_id: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let mail = email_outbox::ActiveModel {
        organization_id: Set(Some(org)),
        to_address: Set("dave@foo.com".into()),
        subject: Set("Hello".into()),
        text_body: Set("Hi".into()),
        html_body: Set(Some("<p>Hi</p>".into())),
        attempts: Set(0),
        // In the future, so the running outbox sender leaves the row as written.
        next_attempt_at: Set(now + chrono::Duration::hours(1)),
        sent_at: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let project = project::ActiveModel {
        organization_id: Set(org),
        name: Set("Nevermind".into()),
        description: Set(String::new()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();

    assert_eq!(
        user::Entity::find_by_id(kurt.id).one(db).await.unwrap(),
        Some(kurt)
    );
    assert_eq!(
        organization::Entity::find_by_id(org).one(db).await.unwrap(),
        Some(created.organization)
    );
    assert_eq!(
        organization_user::Entity::find_by_id(created.membership.id)
            .one(db)
            .await
            .unwrap(),
        Some(created.membership)
    );
    assert_eq!(
        organization_owner::Entity::find_by_id(created.owner.id)
            .one(db)
            .await
            .unwrap(),
        Some(created.owner)
    );
    assert_eq!(
        organization_invitation::Entity::find_by_id(invitation.id)
            .one(db)
            .await
            .unwrap(),
        Some(invitation)
    );
    assert_eq!(
        email_outbox::Entity::find_by_id(mail.id)
            .one(db)
            .await
            .unwrap(),
        Some(mail)
    );
    assert_eq!(
        project::Entity::find_by_id(project.id)
            .one(db)
            .await
            .unwrap(),
        Some(project)
    );
}

#[tokio::test]
async fn only_one_pending_invitation_per_organization_and_email() {
    let app = TestApp::spawn().await;
    let db = app.conn();
    let kurt = app.user("kurt@nirvana.com", "Kurt").await;
    let org = orgs_service::create_organization(db, app.events(), kurt.id, "Nirvana")
        .await
        .unwrap()
        .organization
        .id;
    let invite = |hash: &str| organization_invitation::ActiveModel {
        organization_id: Set(org),
        email: Set("dave@foo.com".into()),
        invited_by_id: Set(Some(kurt.id)),
        token_hash: Set(hash.to_string()),
        expires_at: Set(entity::chrono_now()),
        accepted_at: Set(None),
        accepted_by_id: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    };
    let first = invite("a").insert(db).await.unwrap();
    assert!(
        invite("b").insert(db).await.is_err(),
        "a second pending invitation"
    );
    let mut revoked: organization_invitation::ActiveModel = first.into();
    revoked.revoked_at = Set(Some(entity::chrono_now()));
    revoked.update(db).await.unwrap();
    invite("c").insert(db).await.unwrap();
}
