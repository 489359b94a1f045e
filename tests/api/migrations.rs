//! Migrations are reversible, and every entity matches its table (the port of the peer's
//! `test_no_missing_migrations`).

use entity::OrganizationId;
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

/// Counts rows of `sql` (a `SELECT count(*) ...`), seen by the owner across organizations.
async fn count_rows(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.conn();
    let backend = db.get_database_backend();
    db.query_one_raw(Statement::from_string(backend, sql.to_string()))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

#[tokio::test]
async fn the_roles_migration_maps_admin_flags_both_ways_on_a_seeded_database_and_loses_nothing() {
    let app = TestApp::spawn().await;
    app.shutdown();
    let db = app.conn();
    let args = orgs::seed::SeedArgs {
        orgs: 5,
        members: 20,
        projects: 2,
    };
    orgs::seed::seed(db, &app.state.hasher, &args)
        .await
        .unwrap();
    // A custom role held by someone and a key cut to one permission: both go on the way down.
    let first = organization::Entity::find().one(db).await.unwrap().unwrap();
    let tx = orgs::tenancy::door::tenant(db, app.events(), OrganizationId(first.id))
        .await
        .unwrap();
    let grant = orgs::tenancy::Grant::everything(orgs::permissions::Catalog::orgs().into());
    orgs::organizations::roles::create(
        &tx,
        &grant,
        &orgs::organizations::roles::NewRole {
            key: "auditor".into(),
            name: "Auditor".into(),
            description: String::new(),
            permissions: vec!["audit.read".into()],
        },
    )
    .await
    .unwrap();
    orgs::organizations::api_keys::create(
        &tx,
        &grant,
        "reader",
        None,
        Some(&["projects.read".to_string()]),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let memberships = count_rows(&app, "SELECT count(*) FROM organization_users").await;
    let owners = count_rows(&app, "SELECT count(*) FROM organization_owners").await;
    let admins = count_rows(
        &app,
        "SELECT count(*) FROM organization_member_roles WHERE role_key = 'admin'",
    )
    .await;
    assert_eq!((memberships, owners, admins), (100, 5, 10));

    // Down past the roles migration (and the idempotency keys' after it): the flag is back
    // from the admin role; the new tables are gone.
    let after_roles = Migrator::migrations()
        .iter()
        .rev()
        .take_while(|m| m.name() != "m20261201_000007_roles_and_audit")
        .count();
    Migrator::down(db, Some(after_roles as u32 + 1))
        .await
        .unwrap();
    assert_eq!(
        count_rows(
            &app,
            "SELECT count(*) FROM organization_users WHERE is_admin"
        )
        .await,
        10
    );
    assert_eq!(
        count_rows(&app, "SELECT count(*) FROM organization_users").await,
        memberships
    );
    use sea_orm::ConnectionTrait;
    // The columns of the time read back (the entity has grown columns later migrations add:
    // it reads the table again once it is migrated up).
    assert!(
        db.execute_unprepared(
            "SELECT id, organization_id, user_id, created_at, updated_at FROM organization_users"
        )
        .await
        .is_ok()
    );
    assert!(
        db.execute_unprepared("SELECT 1 FROM organization_roles")
            .await
            .is_err(),
        "custom roles are dropped on the way down"
    );

    // Up again: each flag becomes a role, nothing else is lost, every key keeps admin rights.
    Migrator::up(db, None).await.unwrap();
    assert!(organization_user::Entity::find().all(db).await.is_ok());
    assert_eq!(
        count_rows(
            &app,
            "SELECT count(*) FROM organization_member_roles WHERE role_key = 'admin'"
        )
        .await,
        10
    );
    assert_eq!(
        count_rows(
            &app,
            "SELECT count(*) FROM organization_member_roles WHERE role_key = 'member'"
        )
        .await,
        90
    );
    assert_eq!(
        count_rows(
            &app,
            "SELECT count(DISTINCT organization_user_id) FROM organization_member_roles"
        )
        .await,
        memberships
    );
    assert_eq!(
        count_rows(&app, "SELECT count(*) FROM organization_owners").await,
        owners
    );
    assert_eq!(count_rows(&app, "SELECT count(*) FROM projects").await, 10);
    assert_eq!(
        count_rows(
            &app,
            "SELECT count(*) FROM organization_api_key_permissions"
        )
        .await,
        13,
        "the key that held one permission holds the admin's again, as keys did before roles"
    );
    // And the app reads what the migration wrote.
    let owner_of_first = crate::rules::owner_membership(db, first.id).await;
    assert!(
        crate::rules::is_admin(db, first.id, owner_of_first.user_id)
            .await
            .unwrap()
    );
}
