//! The bodies of sent mail are emptied after `email.keep_sent_days`: they hold live password
//! reset and invitation links, and `email_outbox` kept them forever. The hourly pass does it in
//! the system context, on PostgreSQL as the app's role.

use entity::email_outbox;
use orgs::jobs::{Keep, hourly};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

use crate::helpers::{TestApp, two_tenants};

/// A message of `organization_id` (or of none) made `days_ago` days ago and, when `sent`, sent
/// then; written by the owner. Its id.
async fn message(app: &TestApp, organization_id: Option<i64>, days_ago: i64, sent: bool) -> i64 {
    let at = entity::chrono_now() - chrono::Duration::days(days_ago);
    email_outbox::ActiveModel {
        organization_id: Set(organization_id),
        to_address: Set("ada@acme.test".into()),
        subject: Set(format!("{days_ago} days ago")),
        text_body: Set("Reset your password: http://localhost/password-reset/live/".into()),
        html_body: Set(Some("<a href=\"/password-reset/live/\">Reset</a>".into())),
        attempts: Set(i32::from(sent)),
        next_attempt_at: Set(at),
        sent_at: Set(sent.then_some(at)),
        last_error: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap()
    .id
}

async fn row(app: &TestApp, id: i64) -> email_outbox::Model {
    email_outbox::Entity::find_by_id(id)
        .one(app.conn())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn the_hourly_pass_empties_the_bodies_of_mail_sent_before_the_limit_and_keeps_the_rest() {
    let app = TestApp::spawn().await;
    let (acme, _) = two_tenants(&app).await;
    let old_of_acme = message(&app, Some(acme), 8, true).await;
    let old_of_none = message(&app, None, 30, true).await;
    let recent = message(&app, Some(acme), 6, true).await;
    let unsent = message(&app, None, 30, false).await;
    assert_eq!(
        app.state.settings.email.keep_sent_days, 7,
        "the default of email.keep_sent_days"
    );
    let keep = Keep::from_settings(&app.state.settings);
    // The server's own connection: on PostgreSQL the app's role, in the system context.
    hourly(&app.state.db, keep).await;
    for id in [old_of_acme, old_of_none] {
        let emptied = row(&app, id).await;
        assert_eq!(emptied.text_body, "", "{}", emptied.subject);
        assert_eq!(emptied.html_body, None, "{}", emptied.subject);
        // Who, what and when stay.
        assert_eq!(emptied.to_address, "ada@acme.test");
        assert!(emptied.sent_at.is_some());
    }
    for id in [recent, unsent] {
        let kept = row(&app, id).await;
        assert!(
            kept.text_body.contains("/password-reset/live/"),
            "{}",
            kept.subject
        );
        assert!(kept.html_body.is_some(), "{}", kept.subject);
    }
    // Nothing is left to empty; a limit of 0 days takes the recent one too.
    assert_eq!(
        orgs::jobs::empty_sent_bodies(&app.state.db, 7)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        orgs::jobs::empty_sent_bodies(&app.state.db, 0)
            .await
            .unwrap(),
        1
    );
    assert_eq!(row(&app, recent).await.text_body, "");
    assert!(
        row(&app, unsent).await.html_body.is_some(),
        "unsent mail is never emptied"
    );
}
