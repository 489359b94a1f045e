//! The organization pages over real HTTP: django-organizations' organization view and form tests
//! ported to these routes (list, create, edit, delete, transfer, leave, the organization API),
//! with the deliberate changes (404 for non-members) and the owner/admin edge cases. The people
//! pages are in `people.rs`.

use entity::OrganizationId;
use orgs::events::OrgEvent;
use orgs::tenancy::org_rows;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{TestApp, World, assert_redirect_to, location, visitor};

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
    let org = org_rows::by_slug(app.conn(), "vizsla-club")
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
    assert_redirect_to(&renamed, 303, "/o/nirvana-band/settings/");
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
    assert!(
        body.contains("Type nirvana exactly."),
        "the page says what to type"
    );
    // Issue 18: deleting asks to type the organization's slug.
    for typed in ["", "Nirvana", "nirvana2"] {
        let refused = kurt
            .post_form("/o/nirvana/delete/", &[("confirm", typed)])
            .await;
        assert_eq!(refused.status(), 422, "{typed:?}");
    }
    let mut events = app.events().channel();
    let deleted = kurt
        .post_form("/o/nirvana/delete/", &[("confirm", " nirvana ")])
        .await;
    assert_redirect_to(&deleted, 303, "/organizations/");
    assert!(
        org_rows::by_id(app.conn(), OrganizationId(w.nirvana.id))
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
            &[("user_id", &w.duder.id.to_string()), ("confirm", "nirvana")],
        )
        .await;
    assert_eq!(outside.status(), 200);
    assert!(outside.text().await.unwrap().contains("must be a member"));
    let unconfirmed = kurt
        .post_form(
            "/o/nirvana/transfer/",
            &[("user_id", &w.dave.id.to_string()), ("confirm", "")],
        )
        .await;
    assert_eq!(
        unconfirmed.status(),
        422,
        "transferring asks to type the slug"
    );
    assert!(
        crate::rules::is_owner(app.conn(), w.nirvana.id, w.kurt.id)
            .await
            .unwrap()
    );
    let mut events = app.events().channel();
    let done = kurt
        .post_form(
            "/o/nirvana/transfer/",
            &[("user_id", &w.dave.id.to_string()), ("confirm", "nirvana")],
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
        org_rows::by_id(app.conn(), OrganizationId(w.nirvana.id))
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
    // The switcher: the current organization, and the person's organizations to go to.
    assert!(
        body.contains("<span class=\"visually-hidden\">Organization: </span>Nirvana</summary>"),
        "{body}"
    );
    assert!(
        body.contains("<a href=\"/go/nirvana/\" aria-current=\"true\"><span class=\"avatar ")
            && body.contains("</span> Nirvana</a>"),
        "{body}"
    );
    assert!(body.contains("href=\"/organizations/\">All organizations</a>"));
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
            .contains("@media (max-width: 44rem)"),
        "a phone layout"
    );
}
