//! The pluggable flows are real: an embedding app's backends, put in `AppState`, are called by
//! every handler of the flows they name (invite, resend, accept, accept as a new person,
//! decline; sign-up, activation), seen here by backends that record each call and then do what
//! the built-in ones do.

use entity::OrganizationId;
use std::sync::{Arc, Mutex};

use entity::{organization, organization_invitation, user};
use orgs::backends::{
    BoxFuture, EmailInvitations, Flows, InvitationBackend, OpenRegistration, RegistrationBackend,
};
use orgs::invitations::accept::Pending;
use orgs::invitations::{AcceptError, InviteError};
use orgs::registration::{ActivationError, SignUp, SignUpError};
use orgs::tenancy::TenantTxn;

use crate::helpers::{TestApp, World, link_in, path_of, post_from_new_browser, visitor};

type Calls = Arc<Mutex<Vec<&'static str>>>;

/// Records each call, then does what the built-in invitations do.
#[derive(Debug)]
struct RecordingInvitations(Calls);

impl InvitationBackend for RecordingInvitations {
    fn invite<'a>(
        &'a self,
        flows: Flows<'a>,
        tx: &'a TenantTxn,
        organization: &'a organization::Model,
        inviter: Option<&'a user::Model>,
        email: &'a str,
    ) -> BoxFuture<'a, Result<organization_invitation::Model, InviteError>> {
        self.0.lock().unwrap().push("invite");
        EmailInvitations.invite(flows, tx, organization, inviter, email)
    }

    fn resend<'a>(
        &'a self,
        flows: Flows<'a>,
        tx: &'a TenantTxn,
        organization: &'a organization::Model,
        inviter: Option<&'a user::Model>,
        id: i64,
    ) -> BoxFuture<'a, Result<organization_invitation::Model, InviteError>> {
        self.0.lock().unwrap().push("resend");
        EmailInvitations.resend(flows, tx, organization, inviter, id)
    }

    fn accept<'a>(
        &'a self,
        flows: Flows<'a>,
        secret: &'a str,
        user: &'a user::Model,
    ) -> BoxFuture<'a, Result<Pending, AcceptError>> {
        self.0.lock().unwrap().push("accept");
        EmailInvitations.accept(flows, secret, user)
    }

    fn accept_as_new_user<'a>(
        &'a self,
        flows: Flows<'a>,
        secret: &'a str,
        name: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<(Pending, user::Model), AcceptError>> {
        self.0.lock().unwrap().push("accept_as_new_user");
        EmailInvitations.accept_as_new_user(flows, secret, name, password)
    }

    fn decline<'a>(
        &'a self,
        flows: Flows<'a>,
        secret: &'a str,
    ) -> BoxFuture<'a, Result<Pending, AcceptError>> {
        self.0.lock().unwrap().push("decline");
        EmailInvitations.decline(flows, secret)
    }
}

/// Records each call, then does what open sign-up does.
#[derive(Debug)]
struct RecordingRegistration(Calls);

impl RegistrationBackend for RecordingRegistration {
    fn sign_up<'a>(
        &'a self,
        flows: Flows<'a>,
        form: SignUp,
    ) -> BoxFuture<'a, Result<String, SignUpError>> {
        self.0.lock().unwrap().push("sign_up");
        OpenRegistration.sign_up(flows, form)
    }

    fn activate<'a>(
        &'a self,
        flows: Flows<'a>,
        secret: &'a str,
    ) -> BoxFuture<'a, Result<user::Model, ActivationError>> {
        self.0.lock().unwrap().push("activate");
        OpenRegistration.activate(flows, secret)
    }
}

/// Invites `email` to Nirvana as Kurt; the path of the link mailed.
async fn invite(app: &TestApp, kurt: &crate::helpers::Visitor, email: &str) -> String {
    let sent = app.mailbox().to(email).len();
    let response = kurt
        .post_form("/o/nirvana/people/add/", &[("email", email)])
        .await;
    assert_eq!(response.status(), 303, "invited {email}");
    let mail = app.wait_for_mail(email, sent + 1).await;
    path_of(&link_in(&mail.last().unwrap().text, "/invitations/"))
}

/// POSTs the invitation form at `link` from a fresh anonymous browser.
async fn answer_anonymously(app: &TestApp, link: &str, fields: &[(&str, &str)]) -> u16 {
    post_from_new_browser(app, link, fields, &[])
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn every_invitation_flow_goes_through_the_configured_backend() {
    let calls = Calls::default();
    let recorded = calls.clone();
    let app = TestApp::spawn_with_state(move |state| {
        state.invitation_backend = Arc::new(RecordingInvitations(recorded));
    })
    .await;
    let world = World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;

    let link = invite(&app, &kurt, "newbie@example.com").await;
    let id = {
        let tx =
            orgs::tenancy::door::tenant(app.conn(), app.events(), OrganizationId(world.nirvana.id))
                .await
                .unwrap();
        orgs::invitations::pending_for_email(&tx, "newbie@example.com")
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let resent = kurt
        .post_form(&format!("/o/nirvana/invitations/{id}/resend/"), &[])
        .await;
    assert_eq!(resent.status(), 303);
    let link_after_resend = path_of(&link_in(
        &app.wait_for_mail("newbie@example.com", 2).await[1].text,
        "/invitations/",
    ));
    assert_ne!(link, link_after_resend, "a resend rotates the token");
    assert_eq!(
        answer_anonymously(
            &app,
            &link_after_resend,
            &[
                ("action", "accept"),
                ("name", "Newbie"),
                ("password", "a long enough password")
            ]
        )
        .await,
        303
    );

    let duder_link = invite(&app, &kurt, "duder@testing.com").await;
    let duder = visitor(&app, Some("duder@testing.com")).await;
    let accepted = duder.post_form(&duder_link, &[("action", "accept")]).await;
    assert_eq!(accepted.status(), 303);

    let stranger_link = invite(&app, &kurt, "stranger@example.com").await;
    assert_eq!(
        answer_anonymously(&app, &stranger_link, &[("action", "decline")]).await,
        303
    );

    assert_eq!(
        *calls.lock().unwrap(),
        [
            "invite",
            "resend",
            "accept_as_new_user",
            "invite",
            "accept",
            "invite",
            "decline"
        ]
    );
}

#[tokio::test]
async fn sign_up_and_activation_go_through_the_configured_backend() {
    let calls = Calls::default();
    let recorded = calls.clone();
    let app = TestApp::spawn_with_state(move |state| {
        state.registration_backend = Arc::new(RecordingRegistration(recorded));
    })
    .await;
    let guest = visitor(&app, None).await;
    let signed_up = guest
        .post_form(
            "/signup/",
            &[
                ("name", "Grace"),
                ("email", "grace@navy.mil"),
                ("password", "cobol forever 1959"),
            ],
        )
        .await;
    assert_eq!(signed_up.status(), 200);
    let mail = app.wait_for_mail("grace@navy.mil", 1).await;
    let activated = app
        .get(&path_of(&link_in(&mail[0].text, "/activate/")))
        .await;
    assert_eq!(activated.status(), 303);
    assert_eq!(*calls.lock().unwrap(), ["sign_up", "activate"]);
}
