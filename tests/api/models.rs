//! django-organizations `tests/test_models.py`, ported: membership rules on a real database.

use entity::UserId;
use entity::{organization, organization_owner, organization_user, user};
use orgs::organizations::{self as orgs_service, OrgError};
use orgs::tenancy::org_rows;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter,
};

use crate::helpers::{TestApp, World};

async fn membership(app: &TestApp, org: i64, user: i64) -> organization_user::Model {
    crate::rules::membership(app.conn(), org, user)
        .await
        .unwrap()
        .expect("membership")
}

#[tokio::test]
async fn only_active_organizations_count_as_active() {
    // test_active
    let app = TestApp::spawn().await;
    World::build(&app).await;
    assert_eq!(
        organization::Entity::find()
            .count(app.conn())
            .await
            .unwrap(),
        3
    );
    let active = organization::Entity::find()
        .filter(organization::Column::IsActive.eq(true))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(active, 2);
}

#[tokio::test]
async fn organizations_for_a_user_hide_inactive_ones_unless_asked() {
    // test_by_user
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let all = org_rows::of_user(app.conn(), w.dave.id(), true)
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let active = org_rows::of_user(app.conn(), w.dave.id(), false)
        .await
        .unwrap();
    let names: Vec<&str> = active.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Foo Fighters", "Nirvana"]);
    let kurt = org_rows::of_user(app.conn(), w.kurt.id(), false)
        .await
        .unwrap();
    assert_eq!(kurt.len(), 1);
    assert!(
        org_rows::of_user(app.conn(), UserId(w.duder.id), true)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn adding_an_existing_member_is_refused() {
    // test_duplicate_members: the peer raises IntegrityError; we answer AlreadyMember.
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let error = crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, w.dave.id, false)
        .await
        .unwrap_err();
    assert!(matches!(error, OrgError::AlreadyMember), "{error:?}");
    let rows = organization_user::Entity::find()
        .filter(organization_user::Column::OrganizationId.eq(w.nirvana.id))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(rows, 3);
}

#[tokio::test]
async fn membership_follows_the_fixture_world() {
    // test_is_member
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let db = app.conn();
    assert!(
        crate::rules::is_member(db, w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_member(db, w.nirvana.id, w.dave.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_member(db, w.foo_fighters.id, w.dave.id)
            .await
            .unwrap()
    );
    assert!(
        !crate::rules::is_member(db, w.foo_fighters.id, w.kurt.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn admin_flag_follows_the_fixture_world() {
    // test_is_admin
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let db = app.conn();
    assert!(
        crate::rules::is_admin(db, w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_admin(db, w.nirvana.id, w.krist.id)
            .await
            .unwrap()
    );
    assert!(
        !crate::rules::is_admin(db, w.nirvana.id, w.dave.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_admin(db, w.foo_fighters.id, w.dave.id)
            .await
            .unwrap()
    );
    assert!(
        !crate::rules::is_admin(db, w.foo_fighters.id, w.duder.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn ownership_follows_the_fixture_world() {
    // test_is_owner
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let db = app.conn();
    assert!(
        crate::rules::is_owner(db, w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_owner(db, w.foo_fighters.id, w.dave.id)
            .await
            .unwrap()
    );
    assert!(
        !crate::rules::is_owner(db, w.nirvana.id, w.dave.id)
            .await
            .unwrap()
    );
    assert!(
        !crate::rules::is_owner(db, w.nirvana.id, w.krist.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn add_user_returns_a_non_admin_membership_of_that_organization() {
    // test_add_user
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let added = crate::rules::add_user(
        app.conn(),
        app.events(),
        w.foo_fighters.id,
        w.krist.id,
        false,
    )
    .await
    .unwrap();
    assert_eq!(added.organization_id, w.foo_fighters.id);
    assert_eq!(added.user_id, w.krist.id);
    assert!(
        !crate::rules::is_admin(app.conn(), w.foo_fighters.id, w.krist.id)
            .await
            .unwrap()
    );
    assert!(
        !crate::rules::is_owner(app.conn(), w.foo_fighters.id, w.krist.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn remove_user_takes_the_user_out_of_the_organization() {
    // test_remove_user
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    crate::rules::add_user(
        app.conn(),
        app.events(),
        w.foo_fighters.id,
        w.krist.id,
        false,
    )
    .await
    .unwrap();
    crate::rules::remove_user(app.conn(), app.events(), w.foo_fighters.id, w.krist.id)
        .await
        .unwrap();
    assert!(
        !crate::rules::is_member(app.conn(), w.foo_fighters.id, w.krist.id)
            .await
            .unwrap()
    );
    // Krist's other membership is untouched.
    assert!(
        crate::rules::is_member(app.conn(), w.nirvana.id, w.krist.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn removing_someone_who_is_not_a_member_is_not_member() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let error = crate::rules::remove_user(app.conn(), app.events(), w.foo_fighters.id, w.duder.id)
        .await
        .unwrap_err();
    assert!(matches!(error, OrgError::NotMember), "{error:?}");
}

#[tokio::test]
async fn get_or_add_user_says_whether_it_added() {
    // test_get_or_add_user
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let (added, created) = crate::rules::get_or_add_user(
        app.conn(),
        app.events(),
        w.foo_fighters.id,
        w.duder.id,
        false,
    )
    .await
    .unwrap();
    assert!(created);
    assert_eq!(added.user_id, w.duder.id);
    let (existing, created) = crate::rules::get_or_add_user(
        app.conn(),
        app.events(),
        w.foo_fighters.id,
        w.dave.id,
        false,
    )
    .await
    .unwrap();
    assert!(!created);
    assert_eq!(existing.user_id, w.dave.id);
    assert!(
        crate::rules::is_admin(app.conn(), w.foo_fighters.id, w.dave.id)
            .await
            .unwrap(),
        "dave's existing admin membership is returned unchanged"
    );
}

#[tokio::test]
async fn removing_the_owner_is_refused_with_ownership_required() {
    // test_delete_owner
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let error = crate::rules::remove_user(app.conn(), app.events(), w.nirvana.id, w.kurt.id)
        .await
        .unwrap_err();
    assert!(matches!(error, OrgError::OwnershipRequired), "{error:?}");
    assert!(
        crate::rules::is_member(app.conn(), w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_owner(app.conn(), w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_database_refuses_to_delete_the_owners_membership_directly() {
    // The second wall: even a raw delete that skips the service cannot orphan the owner row.
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = membership(&app, w.nirvana.id, w.kurt.id).await;
    let result = organization_user::Entity::delete_by_id(kurt.id)
        .exec(app.conn())
        .await;
    assert!(result.is_err(), "deleting the owner's membership must fail");
    assert!(
        crate::rules::is_owner(app.conn(), w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn change_owner_moves_ownership_and_makes_the_new_owner_admin() {
    // test_change_owner
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let dave = membership(&app, w.nirvana.id, w.dave.id).await;
    assert!(
        !crate::rules::is_admin(app.conn(), w.nirvana.id, w.dave.id)
            .await
            .unwrap()
    );
    crate::rules::change_owner(app.conn(), app.events(), w.nirvana.id, dave.id)
        .await
        .unwrap();
    assert!(
        crate::rules::is_owner(app.conn(), w.nirvana.id, w.dave.id)
            .await
            .unwrap()
    );
    assert!(
        !crate::rules::is_owner(app.conn(), w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_admin(app.conn(), w.nirvana.id, w.dave.id)
            .await
            .unwrap()
    );
    // The former owner is still an admin member and can now be removed.
    crate::rules::remove_user(app.conn(), app.events(), w.nirvana.id, w.kurt.id)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_membership_of_an_ownerless_organization_can_be_removed() {
    // test_delete_missing_owner
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    organization_owner::Entity::delete_many()
        .filter(organization_owner::Column::OrganizationId.eq(w.nirvana.id))
        .exec(app.conn())
        .await
        .unwrap();
    crate::rules::remove_user(app.conn(), app.events(), w.nirvana.id, w.kurt.id)
        .await
        .unwrap();
    assert!(
        !crate::rules::is_member(app.conn(), w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
    assert!(
        !crate::rules::is_owner(app.conn(), w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn an_owner_from_another_organization_is_refused_with_organization_mismatch() {
    // test_nonmember_owner
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt_in_nirvana = membership(&app, w.nirvana.id, w.kurt.id).await;
    let error = crate::rules::change_owner(
        app.conn(),
        app.events(),
        w.foo_fighters.id,
        kurt_in_nirvana.id,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, OrgError::OrganizationMismatch), "{error:?}");
    assert!(
        crate::rules::is_owner(app.conn(), w.foo_fighters.id, w.dave.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_database_refuses_an_owner_row_pointing_into_another_organization() {
    // The second wall for OrganizationMismatch: the composite foreign key.
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt_in_nirvana = membership(&app, w.nirvana.id, w.kurt.id).await;
    let foo_owner = organization_owner::Entity::find()
        .filter(organization_owner::Column::OrganizationId.eq(w.foo_fighters.id))
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    let mut row = foo_owner.into_active_model();
    row.organization_user_id = Set(kurt_in_nirvana.id);
    assert!(row.update(app.conn()).await.is_err());
    assert!(
        crate::rules::is_owner(app.conn(), w.foo_fighters.id, w.dave.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn deleting_an_organization_removes_its_rows_and_keeps_its_users() {
    // test_delete_account
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    assert_eq!(
        organization_owner::Entity::find()
            .count(app.conn())
            .await
            .unwrap(),
        3
    );
    crate::rules::delete_organization(app.conn(), app.events(), w.scream.id)
        .await
        .unwrap();
    assert_eq!(
        organization_owner::Entity::find()
            .count(app.conn())
            .await
            .unwrap(),
        2
    );
    assert_eq!(user::Entity::find().count(app.conn()).await.unwrap(), 4);
    let left = organization_user::Entity::find()
        .filter(organization_user::Column::OrganizationId.eq(w.scream.id))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(left, 0);
    let error = crate::rules::delete_organization(app.conn(), app.events(), w.scream.id)
        .await
        .unwrap_err();
    assert!(matches!(error, OrgError::OrganizationNotFound));
}

#[tokio::test]
async fn deleting_a_membership_keeps_the_user() {
    // test_delete_orguser
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    organization_user::Entity::delete_many()
        .filter(organization_user::Column::OrganizationId.eq(w.nirvana.id))
        .filter(organization_user::Column::UserId.eq(w.krist.id))
        .exec(app.conn())
        .await
        .unwrap();
    assert!(
        user::Entity::find_by_id(w.krist.id)
            .one(app.conn())
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn the_first_user_added_to_an_empty_organization_becomes_admin_and_owner() {
    // test_aadd_user_first_user_is_owner
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let empty = organization::ActiveModel {
        name: Set("Empty".into()),
        slug: Set("empty".into()),
        is_active: Set(true),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap();
    let first = crate::rules::add_user(app.conn(), app.events(), empty.id, w.duder.id, false)
        .await
        .unwrap();
    assert_eq!(first.user_id, w.duder.id);
    assert!(
        crate::rules::is_admin(app.conn(), empty.id, w.duder.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_owner(app.conn(), empty.id, w.duder.id)
            .await
            .unwrap()
    );
    let second = crate::rules::add_user(app.conn(), app.events(), empty.id, w.krist.id, false)
        .await
        .unwrap();
    assert_eq!(second.user_id, w.krist.id);
    assert!(
        !crate::rules::is_admin(app.conn(), empty.id, w.krist.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_owner(app.conn(), empty.id, w.duder.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn concurrent_first_members_make_exactly_one_owner() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let empty = organization::ActiveModel {
        name: Set("Race".into()),
        slug: Set("race".into()),
        is_active: Set(true),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for user_id in [w.dave.id, w.krist.id, w.kurt.id, w.duder.id] {
        let db = app.conn().clone();
        let events = app.events().clone();
        tasks.push(tokio::spawn(async move {
            crate::rules::add_user(&db, &events, empty.id, user_id, false).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let owners = organization_owner::Entity::find()
        .filter(organization_owner::Column::OrganizationId.eq(empty.id))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(owners, 1);
    let admins = entity::organization_member_role::Entity::find()
        .filter(entity::organization_member_role::Column::OrganizationId.eq(empty.id))
        .filter(entity::organization_member_role::Column::RoleKey.eq("admin"))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn unicode_names_are_stored_and_read_back_intact() {
    // test_org_string_representation
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let created =
        orgs_service::create_organization(app.conn(), app.events(), w.duder.id, "Łódź Café ☕")
            .await
            .unwrap();
    let read = org_rows::by_id(app.conn(), created.organization.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.name, "Łódź Café ☕");
    assert_eq!(read.slug, "odz-cafe");
}

#[tokio::test]
async fn emails_are_unique_whatever_their_case() {
    let app = TestApp::spawn().await;
    app.user("Grace@Example.com", "Grace").await;
    let error = orgs::auth::users::create_user(
        app.conn(),
        &app.state.hasher,
        orgs::auth::NewUser {
            email: "grace@EXAMPLE.com".into(),
            password: Some("another long password".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, orgs::auth::UserError::EmailTaken),
        "{error:?}"
    );
    let found = orgs::auth::users::find_by_email(app.conn(), "GRACE@example.COM")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.email, "grace@example.com");
}

#[tokio::test]
async fn adding_to_an_unknown_organization_or_an_unknown_user_is_a_typed_error() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let error = crate::rules::add_user(app.conn(), app.events(), 9_999, w.duder.id, false)
        .await
        .unwrap_err();
    assert!(matches!(error, OrgError::OrganizationNotFound), "{error:?}");
    let error = crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, 9_999, false)
        .await
        .unwrap_err();
    assert!(matches!(error, OrgError::UserNotFound), "{error:?}");
    let error = crate::rules::remove_user(app.conn(), app.events(), 9_999, w.kurt.id)
        .await
        .unwrap_err();
    assert!(matches!(error, OrgError::OrganizationNotFound), "{error:?}");
}
