//! The people pages over real HTTP: django-organizations' member view and form tests ported to
//! these routes (list, search, invite, detail, promote and demote, remove, remind), with the
//! deliberate changes (404 for non-members, a clear 409 instead of a 500 when the owner is
//! removed). The organization pages are in `organizations.rs`.

use entity::organization_invitation;
use orgs::events::OrgEvent;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{TestApp, World, item_names, link_in, path_of, visitor};

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
    assert_eq!(item_names(&json), ["Krist Novoselic"]);
    assert!(json["total"].is_null(), "a search is not counted: {json}");
    let (_, json) = dave
        .api(
            reqwest::Method::GET,
            "/o/nirvana/api/v1/people/?q=nirvana.com&per_page=2&page=2",
            None,
        )
        .await;
    assert!(json["total"].is_null(), "{json}");
    assert_eq!(json["page"], 2, "{json}");
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
async fn the_people_page_shows_roles_and_the_count_and_links_each_person_for_members_read() {
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
        body.contains(
            "<td data-label=\"Roles\"><span class=\"badges\"><span class=\"badge role-member\">Member</span></span></td>"
        ) && body.contains(
            "<td data-label=\"Roles\"><span class=\"badges\"><span class=\"badge role-admin\">Admin</span></span></td>"
        ),
        "{body}"
    );
    assert!(body.contains("3 people."), "{body}");
    let next = body
        .split("after=")
        .nth(1)
        .and_then(|rest| rest.split("&amp;per_page=2\">Next</a>").next())
        .unwrap_or_else(|| panic!("a Next link by cursor: {body}"));
    let (_, second) = krist
        .get(&format!("/o/nirvana/people/?after={next}&per_page=2"))
        .await;
    assert!(
        second.contains("Kurt Cobain") && !second.contains("Dave Grohl"),
        "{second}"
    );
    assert!(
        second.contains(">First page</a>") && !second.contains(">Next</a>"),
        "{second}"
    );
    let daves = body
        .split("<td data-label=\"Name\"><span class=\"avatar ")
        .find(|cell| cell.contains(">Dave Grohl</a>"))
        .unwrap_or_else(|| panic!("Dave's name cell, his initials first: {body}"));
    assert!(
        daves.contains(
            "aria-hidden=\"true\">DG</span> <a href=\"/o/nirvana/people/1/\">Dave Grohl</a></td>"
        ),
        "an admin gets links to each person: {body}"
    );
    let (_, last) = krist.get("/o/nirvana/people/?per_page=2&page=2").await;
    assert!(
        last.contains("Kurt Cobain")
            && last.contains(
                "<td data-label=\"Roles\"><span class=\"badges\"><span class=\"badge role-owner\">Owner</span></span></td>"
            ),
        "{last}"
    );
    assert!(
        last.contains(">Previous</a>") && !last.contains(">Next</a>"),
        "{last}"
    );

    // Amy is a plain member: `members.read` lets her see each person's page (the rule of the
    // roles issue; before it, person pages were for admins).
    let amy = app.user("amy@nirvana.com", "Amy Alpha").await;
    crate::rules::add_user(app.conn(), app.events(), w.nirvana.id, amy.id, false)
        .await
        .unwrap();
    let amy = visitor(&app, Some("amy@nirvana.com")).await;
    let (_, body) = amy.get("/o/nirvana/people/").await;
    assert!(
        body.contains("\">Kurt Cobain</a></td>"),
        "a member gets a link to each person: {body}"
    );
    assert!(
        !body.contains("/people/add/"),
        "a member without members.invite is not offered the invite form: {body}"
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
