//! A database that stops answering in the middle of an invitation or its acceptance, or that
//! ends the connections of writes in flight (PostgreSQL's `pg_terminate_backend`, a restart), is
//! a 503 with `Retry-After`, as everywhere else, not a 500: the flows' errors keep the
//! database's error typed all the way to the one mapping.

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

/// The write requests of the outage tests: a project, an invitation and a role, all through
/// the API of Nirvana (whose owner kurt sends them).
fn three_writes() -> [(&'static str, serde_json::Value); 3] {
    [
        (
            "/o/nirvana/api/v1/projects/",
            serde_json::json!({ "name": "In flight" }),
        ),
        (
            "/o/nirvana/api/v1/people/",
            serde_json::json!({ "email": "pat@smear.com" }),
        ),
        (
            "/o/nirvana/api/v1/roles/",
            serde_json::json!({ "key": "in-flight", "name": "In flight" }),
        ),
    ]
}

/// Each answer's path, status, `Retry-After` and body.
type Answers = Vec<(&'static str, u16, Option<String>, String)>;

/// Sends every write of [`three_writes`] at once as `who`, each with its answer.
async fn send_all(who: &crate::helpers::Visitor) -> Answers {
    let sent = three_writes().map(|(path, body)| async move {
        let response = who.send(Method::POST, path, Some(body)).await;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (path, status, retry_after, response.text().await.unwrap())
    });
    futures_util::future::join_all(sent).await
}

/// Every answer is a success or a 503 with `Retry-After`: a database that went away is never
/// a 500. At least one must be the 503, or the outage was not seen.
#[track_caller]
fn assert_succeeded_or_unavailable(answers: &Answers) {
    for (path, status, retry_after, body) in answers {
        if (200..300).contains(status) {
            continue;
        }
        assert_eq!(*status, 503, "POST {path}: {body}");
        assert_eq!(
            retry_after.as_deref(),
            Some(orgs::error::UNAVAILABLE_RETRY_SECS.to_string().as_str()),
            "POST {path}: a 503 with Retry-After"
        );
    }
    assert!(
        answers.iter().any(|(_, status, _, _)| *status == 503),
        "{answers:?}"
    );
}

#[tokio::test]
async fn a_project_an_invitation_and_a_role_answer_503_with_retry_after_once_the_pool_is_closed() {
    let app = TestApp::spawn().await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    app.state.db.close_by_ref().await.unwrap();
    let answers = send_all(&kurt).await;
    assert_succeeded_or_unavailable(&answers);
    assert!(
        answers.iter().all(|(_, status, _, _)| *status == 503),
        "{answers:?}"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn writes_in_flight_when_postgresql_terminates_the_apps_connections_answer_503_never_500() {
    use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
    let app = TestApp::spawn().await;
    assert!(app.is_postgres());
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    // Two superuser sessions of the test's own. The holder locks the tables the writes insert
    // into (SHARE mode lets their reads through and stops their inserts), so that each request
    // is mid-write, in its transaction, when the other session terminates every other backend
    // of the database. The other reads pg_stat_activity outside any transaction: within one
    // it would be a snapshot taken at its first read.
    let admin = sea_orm::Database::connect(
        sea_orm::ConnectOptions::new(app.database_url())
            .max_connections(2)
            .to_owned(),
    )
    .await
    .unwrap();
    let holder = admin.begin().await.unwrap();
    holder
        .execute_unprepared(
            "LOCK TABLE projects, organization_invitations, organization_roles IN SHARE MODE",
        )
        .await
        .unwrap();
    let holder_pid = count(&holder, "SELECT pg_backend_pid()::bigint").await;
    let terminate = async {
        let mut waiting = 0;
        for _ in 0..200 {
            waiting = count(
                &admin,
                &format!(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND wait_event_type = 'Lock' AND pid <> {holder_pid}"
                ),
            )
            .await;
            if waiting >= 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        admin
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                 AND pid <> {holder_pid}"
            ))
            .await
            .unwrap();
        waiting
    };
    let (answers, waiting) = tokio::join!(send_all(&kurt), terminate);
    holder.rollback().await.unwrap();
    assert_eq!(
        waiting, 3,
        "the three writes waited on the lock, in flight: {answers:?}"
    );
    assert_succeeded_or_unavailable(&answers);
    // The pool's idle connections were terminated too: each may answer one more request 503
    // before the pool opens new ones, and a retry goes through.
    let mut retries = Vec::new();
    for attempt in 0..10 {
        let response = kurt
            .send(
                Method::POST,
                "/o/nirvana/api/v1/projects/",
                Some(serde_json::json!({ "name": format!("Retry {attempt}") })),
            )
            .await;
        let status = response.status().as_u16();
        retries.push(status);
        if status == 201 {
            break;
        }
        assert_unavailable(status, response.headers().get("retry-after"));
    }
    assert_eq!(retries.last(), Some(&201), "a retry succeeds: {retries:?}");
}

/// The first column of the one row `sql` gives.
async fn count(db: &impl sea_orm::ConnectionTrait, sql: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// An SMTP server that accepts the connection and then says nothing holds up only the mail:
/// the sender talks to it outside any transaction, so on SQLite (one writer at a time) the
/// organization's other writes go on meanwhile instead of waiting out the busy timeout.
#[tokio::test]
async fn a_stalled_smtp_server_holds_up_no_write_but_the_mail() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted, mut connected) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
            let _ = accepted.send(()).await;
        }
    });
    let app = TestApp::spawn_with(|s| {
        s.email.backend = orgs::config::EmailBackend::Smtp;
        s.email.smtp_url = format!("smtp://127.0.0.1:{port}").into();
    })
    .await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let (status, _) = kurt
        .api(
            Method::POST,
            "/o/nirvana/api/v1/people/",
            Some(serde_json::json!({ "email": "pat@smear.com" })),
        )
        .await;
    assert_eq!(status, 201);
    tokio::time::timeout(std::time::Duration::from_secs(30), connected.recv())
        .await
        .expect("the sender connects to the SMTP server");
    for (path, body) in three_writes() {
        if path.ends_with("/people/") {
            continue;
        }
        let (status, answer) = kurt.api(Method::POST, path, Some(body)).await;
        assert_eq!(status, 201, "{path}: {answer}");
    }
}
