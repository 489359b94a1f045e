//! The organization and people pages over real HTTP: django-organizations' view, mixin and form
//! tests ported to these routes, with the deliberate changes (404 for non-members, a clear 409
//! instead of a 500 when the owner is removed) and the owner/admin edge cases.

use entity::organization_invitation;
use orgs::events::OrgEvent;
use orgs::organizations as orgs_service;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{
    TestApp, World, assert_redirect_to, item_names, link_in, location, path_of, visitor,
};

#[tokio::test]
async fn my_organizations_lists_only_active_memberships() {
    // test_org_list, test_org_list_queryset
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, body) = kurt.get("/organizations/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Nirvana") && !body.contains("Foo Fighters"));
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let (_, body) = dave.get("/organizations/").await;
    assert!(body.contains("Nirvana") && body.contains("Foo Fighters"));
    assert!(
        !body.contains("Scream"),
        "inactive organizations are hidden"
    );
    let (_, json) = dave
        .api(reqwest::Method::GET, "/api/v1/organizations/", None)
        .await;
    assert_eq!(json["total"], 2);
    assert_eq!(json["items"][0]["url"], "/o/foo-fighters/");
    let anonymous = visitor(&app, None).await;
    let response = anonymous
        .client
        .get(format!("{}/organizations/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
}

#[tokio::test]
async fn creating_an_organization_makes_the_creator_admin_and_owner() {
    // test_create_new_org, with the slug kept as typed (deliberate change)
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let duder = visitor(&app, Some("duder@testing.com")).await;
    let (status, _) = duder.get("/organizations/add/").await;
    assert_eq!(status, 200);
    let response = duder
        .post_form(
            "/organizations/add/",
            &[("name", "Vizsla Club"), ("slug", "")],
        )
        .await;
    assert_redirect_to(&response, 303, "/o/vizsla-club/");
    let org = orgs_service::service::find_by_slug(app.conn(), "vizsla-club")
        .await
        .unwrap()
        .unwrap();
    assert!(
        crate::rules::is_owner(app.conn(), org.id, w.duder.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_admin(app.conn(), org.id, w.duder.id)
            .await
            .unwrap()
    );

    let typed = duder
        .post_form(
            "/organizations/add/",
            &[("name", "Second"), ("slug", "vizsla")],
        )
        .await;
    assert_eq!(location(&typed), "/o/vizsla/");

    for (slug, message) in [
        ("www", "is reserved"),
        ("nirvana", "already taken"),
        ("Bad Slug", "lower-case letters"),
    ] {
        let refused = duder
            .post_form(
                "/organizations/add/",
                &[("name", "Another"), ("slug", slug)],
            )
            .await;
        assert_eq!(refused.status(), 200, "{slug}");
        let body = refused.text().await.unwrap();
        assert!(body.contains(message), "{slug}: {body}");
        assert!(body.contains("value=\"Another\""), "the input is kept");
    }
    let (status, json) = duder
        .api(
            reqwest::Method::POST,
            "/api/v1/organizations/",
            Some(serde_json::json!({"name": "Api Made"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(json["slug"], "api-made");
    let (status, json) = duder
        .api(
            reqwest::Method::POST,
            "/api/v1/organizations/",
            Some(serde_json::json!({"name": ""})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(json["error"]["fields"]["name"].is_array());
}

#[tokio::test]
async fn admins_edit_the_organization_and_members_may_not() {
    // test_org_update; AdminRequiredMixin
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let (status, body) = krist.get("/o/nirvana/edit/").await;
    assert_eq!(status, 200);
    assert!(body.contains("value=\"Nirvana\""));
    let taken = krist
        .post_form(
            "/o/nirvana/edit/",
            &[("name", "Nirvana"), ("slug", "foo-fighters")],
        )
        .await;
    assert_eq!(taken.status(), 200);
    assert!(taken.text().await.unwrap().contains("already taken"));
    let renamed = krist
        .post_form(
            "/o/nirvana/edit/",
            &[("name", "Nirvana (band)"), ("slug", "nirvana-band")],
        )
        .await;
    assert_redirect_to(&renamed, 303, "/o/nirvana-band/");
    let (status, body) = krist.get("/o/nirvana-band/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Nirvana (band)"));
    assert_eq!(krist.get("/o/nirvana/").await.0, 404);

    let dave_member = visitor(&app, Some("duder@testing.com")).await;
    assert_eq!(
        dave_member.get("/o/nirvana-band/edit/").await.0,
        404,
        "non-member"
    );
}

#[tokio::test]
async fn only_the_owner_deletes_the_organization_and_users_stay() {
    // test_delete_organization_with_post; OwnerRequiredMixin
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    assert_eq!(krist.get("/o/nirvana/delete/").await.0, 403);
    assert_eq!(
        krist.post_form("/o/nirvana/delete/", &[]).await.status(),
        403
    );
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, body) = kurt.get("/o/nirvana/delete/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Delete Nirvana?"));
    let mut events = app.events().channel();
    let deleted = kurt.post_form("/o/nirvana/delete/", &[]).await;
    assert_redirect_to(&deleted, 303, "/organizations/");
    assert!(
        orgs_service::service::find_by_id(app.conn(), w.nirvana.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        entity::user::Entity::find()
            .count(app.conn())
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        events.try_recv().unwrap(),
        OrgEvent::OrganizationDeleted {
            organization_id: w.nirvana.id
        }
    );
}

#[tokio::test]
async fn the_people_list_is_sorted_searchable_and_paginated() {
    // test_user_list
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    for name in ["Zed Zulu", "Amy Alpha", "Bob Beta"] {
        let email = format!(
            "{}@nirvana.com",
            name.split(' ').next().unwrap().to_lowercase()
        );
        let user = app.user(&email, name).await;
        crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, user.id, false)
            .await
            .unwrap();
    }
    let dave = visitor(&app, Some("dave@foo.com")).await;
    let (_, json) = dave
        .api(reqwest::Method::GET, "/o/nirvana/api/v1/people/", None)
        .await;
    let names = item_names(&json);
    assert_eq!(
        names,
        [
            "Amy Alpha",
            "Bob Beta",
            "Dave Grohl",
            "Krist Novoselic",
            "Kurt Cobain",
            "Zed Zulu"
        ]
    );
    assert_eq!(json["items"][4]["is_owner"], true);
    let (_, json) = dave
        .api(
            reqwest::Method::GET,
            "/o/nirvana/api/v1/people/?q=KRIST",
            None,
        )
        .await;
    assert_eq!(json["total"], 1);
    let (_, json) = dave
        .api(
            reqwest::Method::GET,
            "/o/nirvana/api/v1/people/?q=nirvana.com&per_page=2&page=2",
            None,
        )
        .await;
    assert_eq!(json["total"], 5);
    assert_eq!(json["items"].as_array().unwrap().len(), 2);
    let (_, beyond) = dave
        .api(
            reqwest::Method::GET,
            "/o/nirvana/api/v1/people/?page=99",
            None,
        )
        .await;
    assert_eq!(beyond["total"], 6, "the count survives a page past the end");
    assert!(beyond["items"].as_array().unwrap().is_empty());
    assert_eq!(json["items"][0]["name"], "Krist Novoselic");

    let member = visitor(&app, Some("amy@nirvana.com")).await;
    let (status, body) = member.get("/o/nirvana/people/?q=zulu").await;
    assert_eq!(status, 200);
    assert!(body.contains("Zed Zulu") && !body.contains("Bob Beta"));
    // Dave is a member too, but the search for "zulu" does not match him.
    let (_, everyone) = member.get("/o/nirvana/people/").await;
    assert!(everyone.contains("dave@foo.com"), "{everyone}");
    assert!(
        !body.contains("dave@foo.com"),
        "only matches are listed: {body}"
    );
    let outsider = visitor(&app, Some("duder@testing.com")).await;
    assert_eq!(outsider.get("/o/nirvana/people/").await.0, 404);
}

#[tokio::test]
async fn the_people_page_shows_roles_and_the_count_and_links_people_for_admins_only() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let (status, body) = krist.get("/o/nirvana/people/?per_page=2").await;
    assert_eq!(status, 200);
    // Dave Grohl (member) and Krist Novoselic (admin) on the first page of two.
    assert!(
        body.contains("Dave Grohl") && body.contains("Krist Novoselic"),
        "{body}"
    );
    assert!(!body.contains("Kurt Cobain"), "{body}");
    assert!(
        body.contains("<td>member</td>") && body.contains("<td>admin</td>"),
        "{body}"
    );
    assert!(body.contains("3 people."), "{body}");
    assert!(body.contains("page=2&amp;per_page=2\">Next</a>"), "{body}");
    assert!(
        body.contains("<td><a href=\"/o/nirvana/people/1/\">Dave Grohl</a></td>"),
        "an admin gets links to each person: {body}"
    );
    let (_, last) = krist.get("/o/nirvana/people/?per_page=2&page=2").await;
    assert!(
        last.contains("Kurt Cobain") && last.contains("<td>owner</td>"),
        "{last}"
    );
    assert!(
        last.contains(">Previous</a>") && !last.contains(">Next</a>"),
        "{last}"
    );

    // Dave is a superuser, so he counts as an admin everywhere; Amy is a plain member.
    let amy = app.user("amy@nirvana.com", "Amy Alpha").await;
    crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, amy.id, false)
        .await
        .unwrap();
    let amy = visitor(&app, Some("amy@nirvana.com")).await;
    let (_, body) = amy.get("/o/nirvana/people/").await;
    assert!(body.contains("<td>Kurt Cobain</td>"), "{body}");
    assert!(
        !body.contains("<td><a href="),
        "a member gets no person links: {body}"
    );
}

#[tokio::test]
async fn inviting_by_email_queues_a_mail_and_refuses_members() {
    // test_user_create_get, test_user_create_post, TestOrganizationUserAddForm
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    assert_eq!(kurt.get("/o/nirvana/people/add/").await.0, 200);
    let sent = kurt
        .post_form("/o/nirvana/people/add/", &[("email", "Roadie@Yahoo.com")])
        .await;
    assert_eq!(sent.status(), 303);
    let mail = app.wait_for_mail("roadie@yahoo.com", 1).await;
    assert_eq!(mail[0].subject, "You're invited to join Nirvana on orgs");
    assert!(mail[0].text.contains("Kurt Cobain has invited you"));
    let link = link_in(&mail[0].text, "/invitations/");
    let invitation = organization_invitation::Entity::find()
        .filter(organization_invitation::Column::Email.eq("roadie@yahoo.com"))
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invitation.organization_id, w.nirvana.id);
    assert_eq!(invitation.invited_by_id, Some(w.kurt.id));
    assert!(!invitation.token_hash.is_empty() && !link.contains(&invitation.token_hash));
    let outbox = entity::email_outbox::Entity::find()
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        outbox.organization_id,
        Some(w.nirvana.id),
        "the tenant travels with the mail"
    );

    let member = kurt
        .post_form("/o/nirvana/people/add/", &[("email", "KRIST@nirvana.com")])
        .await;
    assert_eq!(member.status(), 200);
    assert!(
        member
            .text()
            .await
            .unwrap()
            .contains("already an organization member")
    );
    let invalid = kurt
        .post_form("/o/nirvana/people/add/", &[("email", "not an email")])
        .await;
    assert!(
        invalid
            .text()
            .await
            .unwrap()
            .contains("enter a valid email address")
    );

    let (status, json) = kurt
        .api(
            reqwest::Method::POST,
            "/o/nirvana/api/v1/people/",
            Some(serde_json::json!({"email": "krist@nirvana.com"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        json["error"]["fields"]["email"][0]
            .as_str()
            .unwrap()
            .contains("already")
    );

    let dave_is_not_admin_but_superuser = visitor(&app, Some("dave@foo.com")).await;
    assert_eq!(
        dave_is_not_admin_but_superuser
            .get("/o/nirvana/people/add/")
            .await
            .0,
        200
    );
    let plain = app.user("plain@nirvana.com", "Plain Member").await;
    crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, plain.id, false)
        .await
        .unwrap();
    let plain = visitor(&app, Some("plain@nirvana.com")).await;
    assert_eq!(plain.get("/o/nirvana/people/add/").await.0, 403);
}

#[tokio::test]
async fn person_pages_answer_404_for_people_outside_the_organization() {
    // test_user_detail, test_bad_user_detail
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, body) = kurt
        .get(&format!("/o/nirvana/people/{}/", w.krist.id))
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("krist@nirvana.com"));
    for path in ["/", "/edit/", "/delete/"] {
        let (status, _) = kurt
            .get(&format!("/o/nirvana/people/{}{path}", w.duder.id))
            .await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = kurt
        .api(
            reqwest::Method::GET,
            &format!("/o/nirvana/api/v1/people/{}/", w.duder.id),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_owner_stays_an_admin_and_others_can_be_promoted_or_demoted() {
    // test_user_update, TestOrganizationUserForm.test_edit_owner_user; admin editing the owner
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let demote_owner = krist
        .post_form(&format!("/o/nirvana/people/{}/edit/", w.kurt.id), &[])
        .await;
    assert_eq!(demote_owner.status(), 200);
    assert!(
        demote_owner
            .text()
            .await
            .unwrap()
            .contains("the organization owner must be an admin")
    );
    assert!(
        crate::rules::is_admin(app.conn(), w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );

    let promote = krist
        .post_form(
            &format!("/o/nirvana/people/{}/edit/", w.dave.id),
            &[("is_admin", "on")],
        )
        .await;
    assert_eq!(promote.status(), 303);
    assert!(
        crate::rules::is_admin(app.conn(), w.nirvana.id, w.dave.id)
            .await
            .unwrap()
    );
    let (status, json) = krist
        .api(
            reqwest::Method::PATCH,
            &format!("/o/nirvana/api/v1/people/{}/", w.dave.id),
            Some(serde_json::json!({"is_admin": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(json["is_admin"], false);
    let (status, json) = krist
        .api(
            reqwest::Method::PATCH,
            &format!("/o/nirvana/api/v1/people/{}/", w.kurt.id),
            Some(serde_json::json!({"is_admin": false})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(json["error"]["fields"]["is_admin"].is_array());
}

#[tokio::test]
async fn removing_the_owner_is_a_clear_409_and_others_are_removed_with_an_event() {
    // test_delete_organization_user_with_post; the peer's 500 on the owner
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let refused = krist
        .post_form(&format!("/o/nirvana/people/{}/delete/", w.kurt.id), &[])
        .await;
    assert_eq!(refused.status(), 409);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("The owner cannot be removed")
    );
    let (status, json) = krist
        .api(
            reqwest::Method::DELETE,
            &format!("/o/nirvana/api/v1/people/{}/", w.kurt.id),
            None,
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(json["error"]["code"], "conflict");

    let mut events = app.events().channel();
    assert_eq!(
        krist
            .get(&format!("/o/nirvana/people/{}/delete/", w.dave.id))
            .await
            .0,
        200
    );
    let removed = krist
        .post_form(&format!("/o/nirvana/people/{}/delete/", w.dave.id), &[])
        .await;
    assert_eq!(removed.status(), 303);
    assert!(
        !crate::rules::is_member(app.conn(), w.nirvana.id, w.dave.id)
            .await
            .unwrap()
    );
    assert_eq!(
        events.try_recv().unwrap(),
        OrgEvent::UserRemoved {
            organization_id: w.nirvana.id,
            user_id: w.dave.id
        }
    );
}

#[tokio::test]
async fn reminding_someone_who_joined_is_410_and_a_pending_invitee_gets_a_new_link() {
    // test_bad_request_for_active_user, test_organization_user_reminder
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    assert_eq!(
        kurt.get(&format!("/o/nirvana/people/{}/remind/", w.krist.id))
            .await
            .0,
        410
    );
    assert_eq!(
        kurt.post_form(&format!("/o/nirvana/people/{}/remind/", w.krist.id), &[])
            .await
            .status(),
        410
    );
    assert_eq!(
        kurt.get(&format!("/o/nirvana/people/{}/remind/", w.duder.id))
            .await
            .0,
        404,
        "not invited"
    );

    kurt.post_form("/o/nirvana/people/add/", &[("email", "duder@testing.com")])
        .await;
    let first = app.wait_for_mail("duder@testing.com", 1).await;
    assert_eq!(
        kurt.get(&format!("/o/nirvana/people/{}/remind/", w.duder.id))
            .await
            .0,
        200
    );
    let reminded = kurt
        .post_form(&format!("/o/nirvana/people/{}/remind/", w.duder.id), &[])
        .await;
    assert_eq!(reminded.status(), 303);
    let both = app.wait_for_mail("duder@testing.com", 2).await;
    let (old, new) = (
        link_in(&first[0].text, "/invitations/"),
        link_in(&both[1].text, "/invitations/"),
    );
    assert_ne!(
        path_of(&old),
        path_of(&new),
        "the reminder rotates the token"
    );
    let pending = organization_invitation::Entity::find()
        .filter(organization_invitation::Column::OrganizationId.eq(w.nirvana.id))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(pending, 1, "one pending invitation per address");
    let (status, _) = kurt
        .api(
            reqwest::Method::POST,
            &format!("/o/nirvana/api/v1/people/{}/remind/", w.krist.id),
            None,
        )
        .await;
    assert_eq!(status, 410);
}

#[tokio::test]
async fn the_owner_transfers_ownership_to_a_member_who_becomes_admin() {
    // test_change_owner through a page; TestOrganizationForm (only the owner may change it)
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    assert_eq!(
        krist.get("/o/nirvana/transfer/").await.0,
        403,
        "an admin cannot transfer"
    );
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, body) = kurt.get("/o/nirvana/transfer/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Dave Grohl") && body.contains("Krist Novoselic"));
    let outside = kurt
        .post_form(
            "/o/nirvana/transfer/",
            &[("user_id", &w.duder.id.to_string())],
        )
        .await;
    assert_eq!(outside.status(), 200);
    assert!(outside.text().await.unwrap().contains("must be a member"));
    let mut events = app.events().channel();
    let done = kurt
        .post_form(
            "/o/nirvana/transfer/",
            &[("user_id", &w.dave.id.to_string())],
        )
        .await;
    assert_eq!(done.status(), 303);
    assert!(
        crate::rules::is_owner(app.conn(), w.nirvana.id, w.dave.id)
            .await
            .unwrap()
    );
    assert!(
        crate::rules::is_admin(app.conn(), w.nirvana.id, w.dave.id)
            .await
            .unwrap()
    );
    assert!(matches!(
        events.try_recv().unwrap(),
        OrgEvent::OwnerChanged { .. }
    ));
    // Kurt is no longer the owner: he may now leave.
    let left = kurt.post_form("/o/nirvana/leave/", &[]).await;
    assert_eq!(left.status(), 303);
    assert!(
        !crate::rules::is_member(app.conn(), w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn members_leave_but_the_owner_cannot() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    assert_eq!(kurt.get("/o/nirvana/leave/").await.0, 409);
    let (status, json) = kurt
        .api(reqwest::Method::POST, "/o/nirvana/api/v1/leave/", None)
        .await;
    assert_eq!(status, 409);
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("transfer ownership")
    );
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    assert_eq!(krist.get("/o/nirvana/leave/").await.0, 200);
    let mut events = app.events().channel();
    let (status, _) = krist
        .api(reqwest::Method::POST, "/o/nirvana/api/v1/leave/", None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        events.try_recv().unwrap(),
        OrgEvent::UserRemoved {
            organization_id: w.nirvana.id,
            user_id: w.krist.id
        }
    );
    assert_eq!(krist.get("/o/nirvana/").await.0, 404, "gone means gone");
}

#[tokio::test]
async fn the_organization_api_shows_updates_and_deletes() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, json) = kurt
        .api(
            reqwest::Method::GET,
            "/o/nirvana/api/v1/organization/",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(json["slug"], "nirvana");
    let (status, json) = kurt
        .api(
            reqwest::Method::PATCH,
            "/o/nirvana/api/v1/organization/",
            Some(serde_json::json!({"name": "Nirvana!"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(json["name"], "Nirvana!");
    assert_eq!(json["slug"], "nirvana");
    let (status, _) = kurt
        .api(
            reqwest::Method::PATCH,
            "/o/nirvana/api/v1/organization/",
            Some(serde_json::json!({"slug": "admin"})),
        )
        .await;
    assert_eq!(status, 422);
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let (status, _) = krist
        .api(
            reqwest::Method::DELETE,
            "/o/nirvana/api/v1/organization/",
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = kurt
        .api(
            reqwest::Method::DELETE,
            "/o/nirvana/api/v1/organization/",
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert!(
        orgs_service::service::find_by_id(app.conn(), w.nirvana.id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn pages_carry_the_organization_in_the_navigation_and_the_shipped_stylesheet() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (_, body) = kurt.get("/o/nirvana/people/").await;
    assert!(
        body.contains("class=\"org-name\" href=\"/o/nirvana/\">Nirvana</a>"),
        "{body}"
    );
    assert!(body.contains("Switch organization"));
    assert!(body.contains("href=\"/static/app.css\""));
    let css = app.get("/static/app.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        css.text()
            .await
            .unwrap()
            .contains("@media (max-width: 40rem)"),
        "a phone layout"
    );
}
