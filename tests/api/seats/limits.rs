//! The seat limit on each path, one at a time: 0 is zero seats and null no limit, a pending
//! invitation holds a seat until it is accepted, revoked or runs out, a resend of an expired
//! invitation takes a seat again, a lowered limit removes nobody, and a person added without
//! their invitation takes the seat it held.

use entity::organization_invitation;
use reqwest::Method;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, EntityTrait as _, IntoActiveModel as _};
use serde_json::json;

use super::{assert_full, billing_app, invite, set_limit, set_limit_as_billing};
use crate::helpers::{World, visitor};

#[tokio::test]
async fn a_limit_of_zero_is_zero_seats_and_null_is_no_limit() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    set_limit(&app, w.nirvana.id, Some(0)).await;
    let (status, body) = invite(&kurt, "pat@smear.com").await;
    assert_full(status, &body, 3, 0);
    set_limit(&app, w.nirvana.id, None).await;
    let (status, body) = invite(&kurt, "pat@smear.com").await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_pending_invitation_holds_its_seat_until_it_is_revoked_and_a_resend_takes_none() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    // Kurt, Krist and Dave: 3 members, one seat free.
    set_limit(&app, w.nirvana.id, Some(4)).await;
    let (status, pat) = invite(&kurt, "pat@smear.com").await;
    assert_eq!(status, 201, "{pat}");
    let (status, body) = invite(&kurt, "chad@channing.com").await;
    assert_full(status, &body, 4, 4);
    let resend = format!("/o/nirvana/api/v1/invitations/{}/resend/", pat["id"]);
    let (status, body) = kurt.api(Method::POST, &resend, None).await;
    assert_eq!(
        status, 200,
        "an unexpired invitation keeps its seat: {body}"
    );
    // The page's form resends a pending invitation too, taking no seat.
    let page = kurt
        .post_form("/o/nirvana/people/add/", &[("email", "pat@smear.com")])
        .await;
    assert_eq!(page.status(), 303);
    let revoke = format!("/o/nirvana/api/v1/invitations/{}/revoke/", pat["id"]);
    let (status, body) = kurt.api(Method::POST, &revoke, None).await;
    assert!((200..300).contains(&status), "{status} {body}");
    let (status, body) = invite(&kurt, "chad@channing.com").await;
    assert_eq!(
        status, 201,
        "the revoked invitation's seat is free again: {body}"
    );
}

#[tokio::test]
async fn the_invite_page_says_how_many_seats_are_left_and_refuses_clearly_when_none_is() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (_, people) = kurt.get("/o/nirvana/people/").await;
    assert!(
        !people.contains("seats used"),
        "no limit, no count: {people}"
    );
    set_limit(&app, w.nirvana.id, Some(4)).await;
    let (_, page) = kurt.get("/o/nirvana/people/add/").await;
    assert!(page.contains("1 of 4 seats free"), "{page}");
    let (_, people) = kurt.get("/o/nirvana/people/").await;
    assert!(people.contains("3 of 4 seats used"), "{people}");
    let (_, dashboard) = kurt.get("/o/nirvana/").await;
    assert!(
        dashboard.contains("<strong>3</strong> of 4 seats used"),
        "{dashboard}"
    );
    invite(&kurt, "pat@smear.com").await;
    let refused = kurt
        .post_form("/o/nirvana/people/add/", &[("email", "chad@channing.com")])
        .await;
    assert_eq!(refused.status(), 409);
    let body = refused.text().await.unwrap();
    assert!(body.contains("Every seat is taken (4 used of 4)"), "{body}");
    assert!(
        body.contains("chad@channing.com"),
        "the typed address is kept"
    );
    // The Duder, a plain member, may not invite: no seat counts for him.
    set_limit(&app, w.nirvana.id, Some(5)).await;
    crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, w.duder.id, false)
        .await
        .unwrap();
    let duder = visitor(&app, Some("duder@testing.com")).await;
    let (_, people) = duder.get("/o/nirvana/people/").await;
    assert!(!people.contains("seats used"), "{people}");
}

#[tokio::test]
async fn resending_an_expired_invitation_takes_a_seat_again() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    set_limit(&app, w.nirvana.id, Some(4)).await;
    let (_, pat) = invite(&kurt, "pat@smear.com").await;
    let row = organization_invitation::Entity::find_by_id(pat["id"].as_i64().unwrap())
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    let mut row = row.into_active_model();
    row.expires_at = Set(entity::chrono_now() - chrono::Duration::minutes(1));
    row.update(app.conn()).await.unwrap();
    // Run out, it holds no seat: Chad takes the last one.
    let (status, body) = invite(&kurt, "chad@channing.com").await;
    assert_eq!(status, 201, "{body}");
    let resend = format!("/o/nirvana/api/v1/invitations/{}/resend/", pat["id"]);
    let (status, body) = kurt.api(Method::POST, &resend, None).await;
    assert_full(status, &body, 4, 4);
    let (status, body) = invite(&kurt, "pat@smear.com").await;
    assert_full(status, &body, 4, 4);
    // The page's Resend button says so in words.
    let page = kurt
        .post_form(
            &format!("/o/nirvana/invitations/{}/resend/", pat["id"]),
            &[("back", "people")],
        )
        .await;
    assert_eq!(page.status(), 409);
    let text = page.text().await.unwrap();
    assert!(text.contains("Every seat is taken (4 used of 4)"), "{text}");
}

/// An embedding app's job that invites through the library, outside any request, is held to
/// the same limit.
#[tokio::test]
async fn inviting_through_the_library_takes_a_seat_too() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    set_limit_as_billing(&app, w.nirvana.id, Some(3)).await;
    let tx = orgs::tenancy::door::tenant(
        app.conn(),
        app.events(),
        entity::OrganizationId(w.nirvana.id),
    )
    .await
    .unwrap();
    let refused = orgs::invitations::send::invite(
        &tx,
        &app.state.mailer,
        &app.state.settings.auth,
        &w.nirvana,
        None,
        "pat@smear.com",
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(orgs::invitations::InviteError::SeatLimit(full)) if full.used == 3 && full.limit == 3
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_lowered_limit_blocks_new_seats_and_removes_nobody() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    set_limit(&app, w.nirvana.id, Some(1)).await;
    let (status, body) = invite(&kurt, "pat@smear.com").await;
    assert_full(status, &body, 3, 1);
    let (_, people) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/people/", None)
        .await;
    assert_eq!(people["total"], 3, "{people}");
    let (_, organization) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/organization/", None)
        .await;
    assert_eq!(organization["seat_limit"], 1);
    assert_eq!(organization["seats_used"], 3);
    // A member leaving frees nothing while the organization is over its limit.
    crate::rules::remove_user(app.conn(), app.events(), w.nirvana.id, w.dave.id)
        .await
        .unwrap();
    let (status, body) = invite(&kurt, "pat@smear.com").await;
    assert_full(status, &body, 2, 1);
}

#[tokio::test]
async fn a_person_added_without_their_invitation_takes_the_seat_it_held() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    set_limit(&app, w.nirvana.id, Some(4)).await;
    let (status, _) = invite(&kurt, "duder@testing.com").await;
    assert_eq!(status, 201);
    // Full, yet the Duder's own seat is there for him: added directly, he takes it.
    crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, w.duder.id, false)
        .await
        .unwrap();
    let (_, organization) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/organization/", None)
        .await;
    assert_eq!(
        organization["seats_used"], 4,
        "counted once: {organization}"
    );
    let (_, pending) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/invitations/", None)
        .await;
    assert_eq!(pending["total"], 0, "his invitation is used: {pending}");
    // Anyone else added directly needs a free seat.
    let pat = app.user("pat@smear.com", "Pat Smear").await;
    let refused =
        crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, pat.id, false).await;
    assert!(
        matches!(
            refused,
            Err(orgs::organizations::OrgError::SeatLimit(full)) if full.used == 4 && full.limit == 4
        ),
        "{refused:?}"
    );
    set_limit_as_billing(&app, w.nirvana.id, Some(5)).await;
    crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, pat.id, false)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_organization_shows_its_seats_to_those_who_may_invite_and_its_admins_cannot_set_them() {
    let app = billing_app().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (_, body) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/organization/", None)
        .await;
    assert_eq!(body["seat_limit"], json!(null), "no limit: {body}");
    assert_eq!(body["seats_used"], 3, "{body}");
    // The Duder, a plain member, may not invite.
    crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, w.duder.id, false)
        .await
        .unwrap();
    let duder = visitor(&app, Some("duder@testing.com")).await;
    let (_, body) = duder
        .api(Method::GET, "/o/nirvana/api/v1/organization/", None)
        .await;
    assert!(body.get("seats_used").is_none(), "{body}");
    assert!(body.get("seat_limit").is_none(), "{body}");
    let (status, body) = kurt
        .api(
            Method::PATCH,
            "/o/nirvana/api/v1/organization/",
            Some(json!({ "seat_limit": 1000 })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["seat_limit"].is_array(), "{body}");
    let stored = entity::organization::Entity::find_by_id(w.nirvana.id)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.seat_limit, None);
}
