//! django-organizations `tests/test_signals.py`, ported to the event hub, plus the paths the peer
//! forgets: every change of membership or ownership fires, and refused changes fire nothing.

use std::sync::{Arc, Mutex};

use orgs::events::{MembershipRef, OrgEvent};
use orgs::organizations as orgs_service;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::helpers::{TestApp, World};

fn drain(rx: &mut UnboundedReceiver<OrgEvent>) -> Vec<OrgEvent> {
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push(event);
    }
    events
}

#[tokio::test]
async fn add_user_fires_user_added_once() {
    // test_user_added_called
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let mut rx = app.events().channel();
    let added = crate::rules::add_user(
        app.conn(),
        app.events(),
        w.foo_fighters.id,
        w.krist.id,
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        drain(&mut rx),
        [OrgEvent::UserAdded {
            organization_id: w.foo_fighters.id,
            user_id: w.krist.id,
            membership_id: added.id,
        }]
    );
    let (added, _) = crate::rules::get_or_add_user(
        app.conn(),
        app.events(),
        w.foo_fighters.id,
        w.duder.id,
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        drain(&mut rx),
        [OrgEvent::UserAdded {
            organization_id: w.foo_fighters.id,
            user_id: w.duder.id,
            membership_id: added.id,
        }]
    );
}

#[tokio::test]
async fn get_or_add_user_for_an_existing_member_fires_nothing() {
    // test_user_added_not_called
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let mut rx = app.events().channel();
    crate::rules::get_or_add_user(
        app.conn(),
        app.events(),
        w.foo_fighters.id,
        w.dave.id,
        false,
    )
    .await
    .unwrap();
    assert!(drain(&mut rx).is_empty());
}

#[tokio::test]
async fn remove_user_fires_user_removed_once() {
    // test_user_removed_called
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
    let mut rx = app.events().channel();
    crate::rules::remove_user(app.conn(), app.events(), w.foo_fighters.id, w.krist.id)
        .await
        .unwrap();
    assert_eq!(
        drain(&mut rx),
        [OrgEvent::UserRemoved {
            organization_id: w.foo_fighters.id,
            user_id: w.krist.id,
        }]
    );
}

#[tokio::test]
async fn change_owner_fires_owner_changed_with_old_and_new_memberships() {
    // test_owner_changed_called
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = crate::rules::membership(app.conn(), w.nirvana.id, w.kurt.id)
        .await
        .unwrap()
        .unwrap();
    let krist = crate::rules::membership(app.conn(), w.nirvana.id, w.krist.id)
        .await
        .unwrap()
        .unwrap();
    let mut rx = app.events().channel();
    crate::rules::change_owner(app.conn(), app.events(), w.nirvana.id, krist.id)
        .await
        .unwrap();
    assert_eq!(
        drain(&mut rx),
        [OrgEvent::OwnerChanged {
            organization_id: w.nirvana.id,
            old: Some(MembershipRef {
                membership_id: kurt.id,
                user_id: w.kurt.id
            }),
            new: MembershipRef {
                membership_id: krist.id,
                user_id: w.krist.id
            },
        }]
    );
    // Making the owner the owner again changes nothing and fires nothing.
    crate::rules::change_owner(app.conn(), app.events(), w.nirvana.id, krist.id)
        .await
        .unwrap();
    assert!(drain(&mut rx).is_empty());
}

#[tokio::test]
async fn create_organization_fires_user_added_for_the_owner() {
    // Deliberate change: the peer's create_organization fires nothing.
    let app = TestApp::spawn().await;
    let dave = app.user("dave@foo.com", "Dave").await;
    let mut rx = app.events().channel();
    let created = orgs_service::create_organization(app.conn(), app.events(), dave.id, "Foo")
        .await
        .unwrap();
    assert_eq!(
        drain(&mut rx),
        [OrgEvent::UserAdded {
            organization_id: created.organization.id,
            user_id: dave.id,
            membership_id: created.membership.id,
        }]
    );
}

#[tokio::test]
async fn the_first_member_of_an_empty_organization_fires_user_added_then_owner_changed() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let mut rx = app.events().channel();
    let empty = {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        entity::organization::ActiveModel {
            name: Set("Empty".into()),
            slug: Set("empty".into()),
            is_active: Set(true),
            ..Default::default()
        }
        .insert(app.conn())
        .await
        .unwrap()
    };
    let first = crate::rules::add_user(app.conn(), app.events(), empty.id, w.duder.id, false)
        .await
        .unwrap();
    let member = MembershipRef {
        membership_id: first.id,
        user_id: w.duder.id,
    };
    assert_eq!(
        drain(&mut rx),
        [
            OrgEvent::UserAdded {
                organization_id: empty.id,
                user_id: w.duder.id,
                membership_id: first.id,
            },
            OrgEvent::OwnerChanged {
                organization_id: empty.id,
                old: None,
                new: member,
            },
        ]
    );
}

#[tokio::test]
async fn refused_changes_fire_nothing() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let mut rx = app.events().channel();
    assert!(
        crate::rules::remove_user(app.conn(), app.events(), w.nirvana.id, w.kurt.id)
            .await
            .is_err()
    );
    assert!(
        crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, w.krist.id, false)
            .await
            .is_err()
    );
    let foo_member = crate::rules::membership(app.conn(), w.foo_fighters.id, w.dave.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        crate::rules::change_owner(app.conn(), app.events(), w.nirvana.id, foo_member.id)
            .await
            .is_err()
    );
    assert!(drain(&mut rx).is_empty());
}

#[tokio::test]
async fn a_listener_closure_sees_events_and_deletion_is_announced() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    app.events()
        .subscribe(move |event: &OrgEvent| sink.lock().unwrap().push(event.clone()));
    crate::rules::delete_organization(app.conn(), app.events(), w.foo_fighters.id)
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [OrgEvent::OrganizationDeleted {
            organization_id: w.foo_fighters.id
        }]
    );
}
