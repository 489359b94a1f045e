//! Registration and invitations over real HTTP: the account organization made at sign-up, and
//! invitations accepted by an existing account or a new person, bound to the invited address,
//! single use under a race of 20, expired and revoked links answered clearly, events fired.

use entity::UserId;
use entity::{organization_invitation, organization_user};
use orgs::events::OrgEvent;
use orgs::tenancy::org_rows;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};

use crate::helpers::{
    TestApp, Visitor, World, assert_redirect_to, browser, csrf_from, link_in, location, path_of,
    visitor,
};

async fn invite(app: &TestApp, admin: &Visitor, slug: &str, email: &str) -> String {
    let response = admin
        .client
        .post(format!("{}/o/{slug}/people/add/", app.address))
        .form(&[("email", email), ("csrf_token", admin.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "invited {email}");
    let count = app.mailbox().to(email).len();
    let mail = app.wait_for_mail(email, count.max(1)).await;
    path_of(&link_in(&mail.last().unwrap().text, "/invitations/"))
}

#[tokio::test]
async fn signup_creates_the_account_organization_and_activation_lands_on_it() {
    let app = TestApp::spawn().await;
    let guest = visitor(&app, None).await;
    let response = guest
        .post_form(
            "/signup/",
            &[
                ("name", "Grace Hopper"),
                ("email", "grace@navy.mil"),
                ("password", "cobol forever 1959"),
                ("organization_name", "Navy Labs"),
                ("slug", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let org = org_rows::by_slug(app.conn(), "navy-labs")
        .await
        .unwrap()
        .unwrap();
    let grace = orgs::auth::users::find_by_email(app.conn(), "grace@navy.mil")
        .await
        .unwrap()
        .unwrap();
    assert!(
        crate::rules::is_owner(app.conn(), org.id, grace.id)
            .await
            .unwrap()
    );
    let mail = app.wait_for_mail("grace@navy.mil", 1).await;
    let activated = guest
        .client
        .get(format!(
            "{}{}",
            app.address,
            path_of(&link_in(&mail[0].text, "/activate/"))
        ))
        .send()
        .await
        .unwrap();
    assert_redirect_to(&activated, 303, "/o/navy-labs/");
    let dashboard = guest
        .client
        .get(format!("{}/o/navy-labs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), 200);

    let taken = visitor(&app, None)
        .await
        .post_form(
            "/signup/",
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", "analytical engine"),
                ("organization_name", "Engines"),
                ("slug", "navy-labs"),
            ],
        )
        .await;
    assert_eq!(taken.status(), 200);
    assert!(taken.text().await.unwrap().contains("already taken"));
    assert!(
        orgs::auth::users::find_by_email(app.conn(), "ada@example.com")
            .await
            .unwrap()
            .is_none(),
        "nothing half-written"
    );
}

#[tokio::test]
async fn an_existing_account_accepts_and_becomes_a_member_with_events() {
    // test_existing_user_can_view_the_invitation, test_existing_user_activating_invitation
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let link = invite(&app, &kurt, "nirvana", "duder@testing.com").await;
    let duder = visitor(&app, Some("duder@testing.com")).await;
    let page = duder
        .client
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("Join Nirvana") && body.contains("d***@t***.com"));
    let mut events = app.events().channel();
    let accepted = duder.post_form(&link, &[("action", "accept")]).await;
    assert_redirect_to(&accepted, 303, "/o/nirvana/");
    assert!(
        crate::rules::is_member(app.conn(), w.nirvana.id, w.duder.id)
            .await
            .unwrap()
    );
    let fired: Vec<OrgEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert!(matches!(fired[0], OrgEvent::UserAdded { user_id, .. } if user_id == w.duder.id));
    assert!(
        matches!(fired[1], OrgEvent::InvitationAccepted { user_id, .. } if user_id == w.duder.id)
    );
    let invitation = organization_invitation::Entity::find()
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invitation.accepted_by_id, Some(w.duder.id));
    let again = duder
        .client
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 410, "used once");
}

#[tokio::test]
async fn another_account_is_told_to_switch_and_sees_only_a_masked_address() {
    // The peer lets anyone but the inviter accept; we bind the invitation to the address.
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let link = invite(&app, &kurt, "nirvana", "roadie@yahoo.com").await;
    let duder = visitor(&app, Some("duder@testing.com")).await;
    let page = duder
        .client
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    let body = page.text().await.unwrap();
    assert!(body.contains("r***@y***.com") && !body.contains("roadie@yahoo.com"));
    let refused = duder.post_form(&link, &[("action", "accept")]).await;
    assert_eq!(refused.status(), 403);
    assert!(
        !crate::rules::is_member(app.conn(), w.nirvana.id, w.duder.id)
            .await
            .unwrap()
    );
    let inviter = kurt
        .client
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(inviter.status(), 403, "the inviter cannot accept either");
    let declined = duder.post_form(&link, &[("action", "decline")]).await;
    assert_eq!(
        declined.status(),
        403,
        "nor decline someone else's invitation"
    );
    let still = browser()
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200, "the invitation still works");
}

#[tokio::test]
async fn a_new_person_sets_a_name_and_password_and_is_signed_in_without_an_own_organization() {
    // test_send_invitation_anon_user, test_new_user_accepts_invitation
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let link = invite(&app, &kurt, "nirvana", "roadie@yahoo.com").await;
    let mail = app.mailbox().to("roadie@yahoo.com");
    let text = &mail.last().unwrap().text;
    assert!(text.contains("Kurt Cobain has invited you"), "{text}");
    let guest = visitor(&app, None).await;
    let page = guest
        .client
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Choose your name and a password")
    );
    let short = guest
        .post_form(
            &link,
            &[
                ("action", "accept"),
                ("name", "Roadie"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status(), 200);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("at least 10 characters")
    );
    let joined = guest
        .post_form(
            &link,
            &[
                ("action", "accept"),
                ("name", "Roadie"),
                ("password", "load the van now"),
            ],
        )
        .await;
    assert_eq!(joined.status(), 303);
    let dashboard = guest
        .client
        .get(format!("{}/o/nirvana/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), 200, "signed in and a member");
    let roadie = orgs::auth::users::find_by_email(app.conn(), "roadie@yahoo.com")
        .await
        .unwrap()
        .unwrap();
    assert!(roadie.is_active && roadie.email_verified_at.is_some());
    let theirs = org_rows::of_user(app.conn(), UserId(roadie.id), true)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1, "no personal organization");
    assert_eq!(theirs[0].id, w.nirvana.id);
}

#[tokio::test]
async fn twenty_racing_accepts_make_exactly_one_membership() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let link = invite(&app, &kurt, "nirvana", "roadie@yahoo.com").await;
    let mut guests = Vec::new();
    for _ in 0..20 {
        guests.push(visitor(&app, None).await);
    }
    let mut tasks = Vec::new();
    for guest in guests {
        let url = format!("{}{link}", app.address);
        tasks.push(tokio::spawn(async move {
            guest
                .client
                .post(url)
                .form(&[
                    ("action", "accept"),
                    ("name", "Roadie"),
                    ("password", "load the van now"),
                    ("csrf_token", guest.csrf.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        answers.push((response.status().as_u16(), location(&response)));
    }
    let joined = answers.iter().filter(|(_, to)| to == "/o/nirvana/").count();
    assert_eq!(joined, 1, "{answers:?}");
    // The others hear the link is used, or (once the account exists) that they must sign in.
    assert!(
        answers.iter().all(|(status, to)| to == "/o/nirvana/"
            || *status == 410
            || to.starts_with("/login/?next=")),
        "{answers:?}"
    );
    let users = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq("roadie@yahoo.com"))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(users, 1);
    let memberships = organization_user::Entity::find()
        .filter(organization_user::Column::OrganizationId.eq(w.nirvana.id))
        .count(app.conn())
        .await
        .unwrap();
    assert_eq!(memberships, 4, "kurt, krist, dave and one roadie");
}

#[tokio::test]
async fn expired_revoked_and_unknown_links_get_a_clear_page() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let expired = invite(&app, &kurt, "nirvana", "late@yahoo.com").await;
    organization_invitation::Entity::update_many()
        .col_expr(
            organization_invitation::Column::ExpiresAt,
            Expr::value(entity::chrono_now() - chrono::Duration::hours(1)),
        )
        .exec(app.conn())
        .await
        .unwrap();
    let guest = browser();
    let page = guest
        .get(format!("{}{expired}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("expired"));

    let revoked = invite(&app, &kurt, "nirvana", "gone@yahoo.com").await;
    let (_, list) = {
        let r = kurt
            .client
            .get(format!("{}/o/nirvana/invitations/", app.address))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert!(list.contains("gone@yahoo.com"));
    let id = organization_invitation::Entity::find()
        .filter(organization_invitation::Column::Email.eq("gone@yahoo.com"))
        .one(app.conn())
        .await
        .unwrap()
        .unwrap()
        .id;
    let done = kurt
        .post_form(&format!("/o/nirvana/invitations/{id}/revoke/"), &[])
        .await;
    assert_eq!(done.status(), 303);
    let page = guest
        .get(format!("{}{revoked}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("withdrawn"));

    let unknown = guest
        .get(format!("{}/invitations/not-a-token/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn resending_rotates_the_link_and_the_old_one_stops_working() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let old = invite(&app, &kurt, "nirvana", "roadie@yahoo.com").await;
    let id = organization_invitation::Entity::find()
        .one(app.conn())
        .await
        .unwrap()
        .unwrap()
        .id;
    let resent = kurt
        .post_form(&format!("/o/nirvana/invitations/{id}/resend/"), &[])
        .await;
    assert_eq!(resent.status(), 303);
    let mail = app.wait_for_mail("roadie@yahoo.com", 2).await;
    let new = path_of(&link_in(&mail[1].text, "/invitations/"));
    assert_ne!(old, new);
    let guest = browser();
    assert_eq!(
        guest
            .get(format!("{}{old}", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        guest
            .get(format!("{}{new}", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let page = krist
        .client
        .get(format!("{}/o/nirvana/invitations/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "admins see the list");
    let dave_page = visitor(&app, Some("duder@testing.com")).await;
    let other = dave_page
        .client
        .get(format!("{}/o/nirvana/invitations/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

#[tokio::test]
async fn declining_withdraws_the_invitation() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let link = invite(&app, &kurt, "nirvana", "roadie@yahoo.com").await;
    let guest = visitor(&app, None).await;
    let page = guest
        .client
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .unwrap();
    let csrf = csrf_from(&page.text().await.unwrap());
    let declined = guest
        .client
        .post(format!("{}{link}", app.address))
        .form(&[("action", "decline"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), 303);
    assert_eq!(
        guest
            .client
            .get(format!("{}{link}", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
}

#[tokio::test]
async fn invitation_sending_is_rate_limited_per_organization() {
    let app = TestApp::spawn_with(|s| s.auth.invitations_per_hour = 2).await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    invite(&app, &kurt, "nirvana", "one@yahoo.com").await;
    invite(&app, &kurt, "nirvana", "two@yahoo.com").await;
    let third = kurt
        .post_form("/o/nirvana/people/add/", &[("email", "three@yahoo.com")])
        .await;
    assert_eq!(third.status(), 429);
    let api = kurt
        .client
        .post(format!("{}/o/nirvana/api/v1/people/", app.address))
        .header("x-csrf-token", &kurt.csrf)
        .json(&serde_json::json!({"email": "four@yahoo.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 429);
    // Another organization has its own allowance.
    let dave = visitor(&app, Some("dave@foo.com")).await;
    invite(&app, &dave, "foo-fighters", "five@yahoo.com").await;
}

#[tokio::test]
async fn sign_up_can_be_closed_for_invitation_only_services() {
    let app =
        TestApp::spawn_with(|s| s.registration.backend = orgs::config::RegistrationKind::Disabled)
            .await;
    let guest = visitor(&app, None).await;
    let page = guest
        .client
        .get(format!("{}/signup/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let post = guest
        .post_form(
            "/signup/",
            &[
                ("name", "Eve"),
                ("email", "eve@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(post.status(), 404);
    assert!(
        orgs::auth::users::find_by_email(app.conn(), "eve@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

/// An embedding app's invitation flow: only addresses of its own domain may be invited (the
/// other flows keep their defaults).
#[derive(Debug)]
struct CompanyOnly;

impl orgs::backends::InvitationBackend for CompanyOnly {
    fn invite<'a>(
        &'a self,
        flows: orgs::backends::Flows<'a>,
        tx: &'a orgs::tenancy::TenantTxn,
        organization: &'a entity::organization::Model,
        inviter: Option<&'a entity::user::Model>,
        email: &'a str,
    ) -> orgs::backends::BoxFuture<
        'a,
        Result<organization_invitation::Model, orgs::invitations::InviteError>,
    > {
        Box::pin(async move {
            if !email.ends_with("@nirvana.com") {
                return Err(orgs::invitations::InviteError::InvalidEmail);
            }
            orgs::backends::EmailInvitations
                .invite(flows, tx, organization, inviter, email)
                .await
        })
    }
}

#[tokio::test]
async fn an_embedding_app_can_replace_the_invitation_flow() {
    let app = TestApp::spawn_with_state(|state| {
        state.invitation_backend = std::sync::Arc::new(CompanyOnly)
    })
    .await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let outside = kurt
        .post_form("/o/nirvana/people/add/", &[("email", "roadie@yahoo.com")])
        .await;
    assert_eq!(outside.status(), 200);
    assert!(
        outside
            .text()
            .await
            .unwrap()
            .contains("enter a valid email address")
    );
    invite(&app, &kurt, "nirvana", "dave@nirvana.com").await;
}

/// Makes every insert into `organization_users` fail (an injected fault), or stops doing so.
async fn fail_membership_inserts(app: &TestApp, on: bool) {
    use sea_orm::ConnectionTrait;
    let sql = match (app.is_postgres(), on) {
        (true, true) => {
            "CREATE FUNCTION orgs_test_fault() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$; \
             CREATE TRIGGER orgs_test_fault BEFORE INSERT ON organization_users \
             FOR EACH ROW EXECUTE FUNCTION orgs_test_fault()"
        }
        (true, false) => {
            "DROP TRIGGER orgs_test_fault ON organization_users; DROP FUNCTION orgs_test_fault()"
        }
        (false, true) => {
            "CREATE TRIGGER orgs_test_fault BEFORE INSERT ON organization_users \
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        }
        (false, false) => "DROP TRIGGER orgs_test_fault",
    };
    app.conn().execute_unprepared(sql).await.unwrap();
}

#[tokio::test]
async fn a_membership_that_fails_to_insert_spends_no_invitation_and_makes_no_account() {
    let app = TestApp::spawn().await;
    let w = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let new_link = invite(&app, &kurt, "nirvana", "roadie@yahoo.com").await;
    let existing_link = invite(&app, &kurt, "nirvana", "duder@testing.com").await;
    let accepted = || async {
        organization_invitation::Entity::find()
            .filter(organization_invitation::Column::AcceptedAt.is_not_null())
            .count(app.conn())
            .await
            .unwrap()
    };

    fail_membership_inserts(&app, true).await;
    let guest = visitor(&app, None).await;
    let new_person = [
        ("action", "accept"),
        ("name", "Roadie"),
        ("password", "load the van now"),
    ];
    let failed = guest.post_form(&new_link, &new_person).await;
    assert_eq!(failed.status(), 500, "the fault is the server's");
    let duder = visitor(&app, Some("duder@testing.com")).await;
    let failed = duder
        .post_form(&existing_link, &[("action", "accept")])
        .await;
    assert_eq!(failed.status(), 500);
    assert_eq!(accepted().await, 0, "neither invitation was spent");
    assert!(
        orgs::auth::users::find_by_email(app.conn(), "roadie@yahoo.com")
            .await
            .unwrap()
            .is_none(),
        "no account without its membership"
    );

    fail_membership_inserts(&app, false).await;
    let joined = guest.post_form(&new_link, &new_person).await;
    assert_eq!(
        joined.status(),
        303,
        "the same link works once the fault is gone"
    );
    let joined = duder
        .post_form(&existing_link, &[("action", "accept")])
        .await;
    assert_eq!(joined.status(), 303);
    assert_eq!(accepted().await, 2);
    assert!(
        crate::rules::is_member(app.conn(), w.nirvana.id, w.duder.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_api_lists_resends_and_revokes_invitations_and_refuses_a_second_invitation() {
    use reqwest::Method;
    use serde_json::json;
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, first) = kurt
        .api(
            Method::POST,
            "/o/nirvana/api/v1/people/",
            Some(json!({"email": "Roadie@Yahoo.com"})),
        )
        .await;
    assert_eq!(status, 201, "{first}");
    let id = first["id"].as_i64().unwrap();
    let old = path_of(&link_in(
        &app.wait_for_mail("roadie@yahoo.com", 1).await[0].text,
        "/invitations/",
    ));
    // Again: refused, naming the pending one; nothing is sent.
    let (status, again) = kurt
        .api(
            Method::POST,
            "/o/nirvana/api/v1/people/",
            Some(json!({"email": "roadie@yahoo.com"})),
        )
        .await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "already_invited");
    assert_eq!(again["error"]["invitation_id"], id);
    assert_eq!(app.mailbox().messages().len(), 1);
    let (status, list) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/invitations/", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], id);
    assert_eq!(list["items"][0]["status"], "pending");
    assert_eq!(list["items"][0]["roles"], json!(["member"]));
    assert!(list["items"][0].get("token_hash").is_none());
    assert!(list["next"].is_null());
    // Resend: a new link, the old one dead.
    let (status, resent) = kurt
        .api(
            Method::POST,
            &format!("/o/nirvana/api/v1/invitations/{id}/resend/"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{resent}");
    let new = path_of(&link_in(
        &app.wait_for_mail("roadie@yahoo.com", 2).await[1].text,
        "/invitations/",
    ));
    assert_ne!(old, new);
    let guest = browser();
    let status_of = |path: String| {
        let guest = guest.clone();
        let url = format!("{}{path}", app.address);
        async move { guest.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status_of(old).await, 404);
    // Revoke: the link dies, the list moves it, a second revoke finds nothing pending.
    let (status, revoked) = kurt
        .api(
            Method::POST,
            &format!("/o/nirvana/api/v1/invitations/{id}/revoke/"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(status_of(new).await, 410);
    let (_, pending) = kurt
        .api(Method::GET, "/o/nirvana/api/v1/invitations/", None)
        .await;
    assert!(pending["items"].as_array().unwrap().is_empty());
    let (_, gone) = kurt
        .api(
            Method::GET,
            "/o/nirvana/api/v1/invitations/?status=revoked",
            None,
        )
        .await;
    assert_eq!(gone["items"][0]["id"], id);
    let (status, _) = kurt
        .api(
            Method::POST,
            &format!("/o/nirvana/api/v1/invitations/{id}/revoke/"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    for query in ["status=maybe", "per_page=0", "per_page=201", "after=x"] {
        let (status, body) = kurt
            .api(
                Method::GET,
                &format!("/o/nirvana/api/v1/invitations/?{query}"),
                None,
            )
            .await;
        assert_eq!(status, 422, "{query}: {body}");
    }
    // With nothing pending the address may be invited again.
    let (status, _) = kurt
        .api(
            Method::POST,
            "/o/nirvana/api/v1/people/",
            Some(json!({"email": "roadie@yahoo.com"})),
        )
        .await;
    assert_eq!(status, 201);
    // Paging by cursor.
    for n in 0..3 {
        kurt.api(
            Method::POST,
            "/o/nirvana/api/v1/people/",
            Some(json!({"email": format!("crew{n}@yahoo.com")})),
        )
        .await;
    }
    let (_, page) = kurt
        .api(
            Method::GET,
            "/o/nirvana/api/v1/invitations/?per_page=2",
            None,
        )
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let next = page["next"].as_str().unwrap().to_string();
    let (_, rest) = kurt
        .api(
            Method::GET,
            &format!("/o/nirvana/api/v1/invitations/?per_page=2&after={next}"),
            None,
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert!(rest["next"].is_null());
}

#[tokio::test]
async fn the_api_says_where_the_invitation_quota_stands_and_a_429_says_when_it_frees() {
    let app = TestApp::spawn_with(|s| s.auth.invitations_per_hour = 2).await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let invite_api = |email: &'static str| {
        kurt.client
            .post(format!("{}/o/nirvana/api/v1/people/", app.address))
            .header("x-csrf-token", &kurt.csrf)
            .json(&serde_json::json!({ "email": email }))
            .send()
    };
    let header = |response: &reqwest::Response, name: &str| {
        response.headers()[name].to_str().unwrap().to_string()
    };
    let first = invite_api("one@yahoo.com").await.unwrap();
    assert_eq!(first.status(), 201);
    assert_eq!(
        header(&first, "ratelimit-policy"),
        "\"invitations\";q=2;w=3600"
    );
    let state = header(&first, "ratelimit");
    assert!(state.starts_with("\"invitations\";r=1;t="), "{state}");
    let second = invite_api("two@yahoo.com").await.unwrap();
    assert!(header(&second, "ratelimit").starts_with("\"invitations\";r=0;t="));
    let refused = invite_api("three@yahoo.com").await.unwrap();
    assert_eq!(refused.status(), 429);
    let wait: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_eq!(
        header(&refused, "ratelimit-policy"),
        "\"invitations\";q=2;w=3600"
    );
    assert_eq!(
        header(&refused, "ratelimit"),
        format!("\"invitations\";r=0;t={wait}")
    );
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "throttled");
}
