//! What an invitation says of itself: the roles it offers and who sent it, on the people page's
//! pending section and on `/invitations/`; the link's page says who invited you to which
//! organization, as which roles.

use reqwest::Method;
use serde_json::json;

use super::{billing_role, piece, row_with};
use crate::helpers::{TestApp, Visitor, World, browser, link_in, path_of, visitor};

/// Invites `email` to Nirvana with `roles` through the API as `admin`: the path of the link
/// mailed.
async fn invite(app: &TestApp, admin: &Visitor, email: &str, roles: &[&str]) -> String {
    let (status, body) = admin
        .api(
            Method::POST,
            "/o/nirvana/api/v1/people/",
            Some(json!({"email": email, "roles": roles})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mail = app.wait_for_mail(email, 1).await;
    path_of(&link_in(&mail.last().unwrap().text, "/invitations/"))
}

#[tokio::test]
async fn pending_invitations_name_the_roles_offered_and_who_sent_them() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    billing_role(&kurt, "nirvana").await;
    invite(&app, &kurt, "roadie@yahoo.com", &["member", "billing"]).await;
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    invite(&app, &krist, "tech@yahoo.com", &[]).await;
    for path in ["/o/nirvana/people/", "/o/nirvana/invitations/"] {
        let (status, page) = kurt.get(path).await;
        assert_eq!(status, 200, "{path}");
        let pending = &page[page
            .find("Pending invitations</h")
            .expect("the pending list")..];
        let roadie = row_with(pending, "roadie@yahoo.com");
        assert!(
            roadie.contains("<span class=\"badge role-member\">Member</span> <span class=\"badge role-custom\">Billing</span>"),
            "{path}: {roadie}"
        );
        assert!(
            roadie.contains("<td data-label=\"Invited by\">Kurt Cobain</td>"),
            "{path}: {roadie}"
        );
        let tech = row_with(pending, "tech@yahoo.com");
        assert!(
            tech.contains("<td data-label=\"Roles offered\"><span class=\"badges\"><span class=\"badge role-member\">Member</span></span></td>"),
            "none asked is Member: {path}: {tech}"
        );
        assert!(
            tech.contains("<td data-label=\"Invited by\">Krist Novoselic</td>"),
            "{path}: {tech}"
        );
    }
}

#[tokio::test]
async fn the_invitation_link_says_who_invited_you_to_which_organization_as_which_roles() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    billing_role(&kurt, "nirvana").await;
    let link = invite(&app, &kurt, "roadie@yahoo.com", &["member", "billing"]).await;
    let response = browser()
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    let offer = piece(&page, "<p class=\"offer\">", "</p>");
    assert_eq!(
        offer,
        "<p class=\"offer\"><strong>Kurt Cobain</strong> invited you to join <strong>Nirvana</strong> as \
         <span class=\"badge role-member\">Member</span> and <span class=\"badge role-custom\">Billing</span>.</p>"
    );
    // Signed in as the invited address, the same sentence above the button.
    let existing = app.user("tech@yahoo.com", "Tech").await;
    assert!(existing.id > 0);
    let krist = visitor(&app, Some("krist@nirvana.com")).await;
    let link = invite(&app, &krist, "tech@yahoo.com", &[]).await;
    let tech = visitor(&app, Some("tech@yahoo.com")).await;
    let (status, page) = tech.get(&link).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<strong>Krist Novoselic</strong> invited you to join <strong>Nirvana</strong> as <span class=\"badge role-member\">Member</span>."),
        "{page}"
    );
}
