//! An enforced connection: a member whose address is at its domains reaches the organization
//! only from a sign-in its sign-on made; a password session is sent to sign on (pages) or
//! refused with `sso_required` (API); the owner keeps a password sign-in to get back in when the
//! provider is down; other organizations and other domains are untouched.

use reqwest::Method;
use serde_json::json;

use super::{acme_with_sso, idp, sign_on_with, sub};
use crate::helpers::{location, visitor};

#[tokio::test]
async fn a_password_session_of_an_enforced_domain_is_sent_to_sign_on_and_the_owner_keeps_a_way_in()
{
    let (app, ada, _dns) = acme_with_sso(json!({"enforced": true})).await;
    let max = visitor(&app, Some("max@acme.test")).await;

    let page = max.send(Method::GET, "/o/acme/projects/", None).await;
    assert_eq!(page.status(), 303);
    assert_eq!(
        location(&page),
        "http://localhost:8000/sso/acme/start?next=%2Fprojects%2F"
    );
    let (status, body) = max.api(Method::GET, "/o/acme/api/v1/projects/", None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "sso_required");

    // Nor does a personal token made from the password sign-in.
    let made = max
        .post_form("/account/tokens/", &[("name", "around the sign-on")])
        .await;
    assert_eq!(made.status(), 303);
    let (_, account) = max.get("/account/").await;
    let marker = "id=\"new-token\">";
    let token: String = account[account.find(marker).expect("the new token") + marker.len()..]
        .chars()
        .take_while(|c| *c != '<')
        .collect();
    let with_token = reqwest::Client::new()
        .get(format!("{}/o/acme/api/v1/projects/", app.address))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 403);

    // The owner's password still opens it: the break-glass way in.
    let (status, _) = ada.api(Method::GET, "/o/acme/api/v1/projects/", None).await;
    assert_eq!(status, 200);

    // Signed on, Max is let in.
    let who = sub("max-enforced");
    idp()
        .account(&who, json!({"email": "max@acme.test"}), None, None)
        .await;
    // His account has a password: he links the identity from his signed-in browser.
    let done = sign_on_with(&app, max.client.clone(), "/sso/acme/start", &who).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let home = done
        .browser
        .get(format!("{}/o/acme/projects/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);

    // Turning enforcement off lets the password session in again.
    let mut shown = super::connection_body(&ada).await;
    shown["enforced"] = json!(false);
    let (status, _) = ada
        .api(Method::PUT, "/o/acme/api/v1/sso-connection/", Some(shown))
        .await;
    assert_eq!(status, 200);
    let (status, _) = max.api(Method::GET, "/o/acme/api/v1/projects/", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_enforced_connection_leaves_other_domains_and_organizations_alone() {
    let (app, ada, _dns) = acme_with_sso(json!({"enforced": true})).await;
    // A member at another domain.
    let outsider = app.user("olga@elsewhere.test", "Olga").await;
    let acme: Vec<i64> = app
        .column("SELECT id FROM organizations WHERE slug = 'acme'")
        .await;
    crate::rules::add_user(app.conn(), app.events(), acme[0], outsider.id, false)
        .await
        .unwrap();
    let olga = visitor(&app, Some("olga@elsewhere.test")).await;
    assert_eq!(
        olga.api(Method::GET, "/o/acme/api/v1/projects/", None)
            .await
            .0,
        200
    );
    let gus = visitor(&app, Some("gus@globex.test")).await;
    assert_eq!(
        gus.api(Method::GET, "/o/globex/api/v1/projects/", None)
            .await
            .0,
        200
    );
    let _ = ada;
}
