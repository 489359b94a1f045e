//! A database that stops answering in the middle of an invitation or its acceptance is a 503
//! with `Retry-After`, as everywhere else, not a 500: the flows' errors keep the database's
//! error typed all the way to the one mapping.

use std::sync::Arc;

use entity::{organization, organization_invitation, user};
use orgs::backends::{BoxFuture, EmailInvitations, Flows, InvitationBackend};
use orgs::invitations::InviteError;
use orgs::tenancy::TenantTxn;
use reqwest::Method;

use crate::helpers::{TestApp, World, browser, csrf_from, link_in, path_of, visitor};

/// Takes the app's database away once the request's transaction is open, then looks the
/// address up through the pool, as an embedding app's backend might, before inviting.
#[derive(Debug)]
struct OutageMidInvite;

impl InvitationBackend for OutageMidInvite {
    fn invite<'a>(
        &'a self,
        flows: Flows<'a>,
        tx: &'a TenantTxn,
        organization: &'a organization::Model,
        inviter: Option<&'a user::Model>,
        email: &'a str,
    ) -> BoxFuture<'a, Result<organization_invitation::Model, InviteError>> {
        Box::pin(async move {
            let db = flows.db.clone();
            // Closing waits for the request's own connection; new ones are refused at once.
            actix_web::rt::spawn(async move { db.close_by_ref().await });
            for _ in 0..1000 {
                if flows.db.ping().await.is_err() {
                    break;
                }
                tokio::task::yield_now().await;
            }
            orgs::auth::users::find_by_email(flows.db, email).await?;
            EmailInvitations
                .invite(flows, tx, organization, inviter, email)
                .await
        })
    }
}

#[track_caller]
fn assert_unavailable(status: u16, retry_after: Option<&reqwest::header::HeaderValue>) {
    assert_eq!(status, 503, "a database outage is a 503");
    assert_eq!(
        retry_after.and_then(|v| v.to_str().ok()),
        Some(orgs::error::UNAVAILABLE_RETRY_SECS.to_string().as_str()),
        "with Retry-After"
    );
}

async fn app_losing_its_database_mid_invite() -> TestApp {
    TestApp::spawn_with_state(|state| state.invitation_backend = Arc::new(OutageMidInvite)).await
}

#[tokio::test]
async fn an_outage_during_an_api_invitation_answers_503_with_retry_after() {
    let app = app_losing_its_database_mid_invite().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let response = kurt
        .send(
            Method::POST,
            "/o/nirvana/api/v1/people/",
            Some(serde_json::json!({ "email": "pat@smear.com" })),
        )
        .await;
    assert_unavailable(
        response.status().as_u16(),
        response.headers().get("retry-after"),
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
}

#[tokio::test]
async fn an_outage_during_an_invitation_from_the_page_answers_503_with_retry_after() {
    let app = app_losing_its_database_mid_invite().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let response = kurt
        .post_form("/o/nirvana/people/add/", &[("email", "pat@smear.com")])
        .await;
    assert_unavailable(
        response.status().as_u16(),
        response.headers().get("retry-after"),
    );
}

#[tokio::test]
async fn an_outage_while_accepting_an_invitation_answers_503_with_retry_after() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let response = kurt
        .post_form("/o/nirvana/people/add/", &[("email", "pat@smear.com")])
        .await;
    assert_eq!(response.status(), 303);
    let mail = app.wait_for_mail("pat@smear.com", 1).await;
    let link = path_of(&link_in(&mail[0].text, "/invitations/"));
    let pat = browser();
    let form = pat
        .get(format!("{}{link}", app.address))
        .send()
        .await
        .unwrap();
    let csrf = csrf_from(&form.text().await.unwrap());
    app.state.db.close_by_ref().await.unwrap();
    let response = pat
        .post(format!("{}{link}", app.address))
        .form(&[
            ("action", "accept"),
            ("name", "Pat Smear"),
            ("password", "a long enough passphrase"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_unavailable(
        response.status().as_u16(),
        response.headers().get("retry-after"),
    );
}
