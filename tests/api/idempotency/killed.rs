//! A server killed in the middle of a request with an `Idempotency-Key`: the `orgs` binary,
//! made to stop dead (`ORGSFAULT`, a debug build's abort, as `kill -9` would) after the claim,
//! after the answer is written and after the commit. Restarted, the retry with the same key
//! runs once when nothing was committed, and is answered the first answer when it was; either
//! way one project is made.

use std::process::Child;

use serde_json::{Value, json};

use crate::cli;
use crate::helpers::{TestDb, as_app_role};

/// `orgs ARGS` as the database's owner; its standard output.
fn orgs(db: &TestDb, args: &[&str]) -> String {
    let out = cli::orgs(db, args);
    assert!(out.status.success(), "orgs {args:?}: {}", cli::stderr(&out));
    cli::stdout(&out)
}

/// `orgs serve` on `db` (as the app's ordinary role on PostgreSQL), stopping at `fault`.
async fn serve(db: &TestDb, fault: Option<&str>) -> (Child, String) {
    let url = if db.is_postgres() {
        as_app_role(&db.url)
    } else {
        db.url.clone()
    };
    let mut env = vec![("ORGS_DATABASE__MIGRATE_ON_START", "false")];
    if let Some(fault) = fault {
        env.push(("ORGSFAULT", fault));
    }
    cli::serve(&url, &env).await
}

/// POST a new project with the key; the status, whether it was a replay, and the body.
async fn create(
    address: &str,
    token: &str,
) -> Result<(u16, Option<String>, Value), reqwest::Error> {
    let response = reqwest::Client::new()
        .post(format!("{address}/o/acme/api/v1/projects/"))
        .bearer_auth(token)
        .header("idempotency-key", "once")
        .json(&json!({"name": "Once"}))
        .send()
        .await?;
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string());
    Ok((
        status,
        replayed,
        response.json().await.unwrap_or(Value::Null),
    ))
}

async fn projects(address: &str, token: &str) -> Vec<String> {
    let page: Value = reqwest::Client::new()
        .get(format!("{address}/o/acme/api/v1/projects/"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

async fn killed_at(fault: &str, committed: bool) {
    let db = TestDb::migrated().await;
    cli::migrate(&db);
    orgs(
        &db,
        &[
            "user",
            "create",
            "--email",
            "ada@acme.test",
            "--password",
            "a long enough password",
        ],
    );
    orgs(
        &db,
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--owner",
            "ada@acme.test",
        ],
    );
    let token = orgs(&db, &["user", "token", "--email", "ada@acme.test"])
        .trim()
        .to_string();

    let (mut dying, address) = serve(&db, Some(fault)).await;
    assert!(
        create(&address, &token).await.is_err(),
        "{fault}: the server died before it answered"
    );
    let status = dying.wait().unwrap();
    assert!(!status.success(), "{fault}: {status}");

    let (mut server, address) = serve(&db, None).await;
    let (status, replayed, body) = create(&address, &token).await.unwrap();
    let names = projects(&address, &token).await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(status, 201, "{fault}: {body}");
    assert_eq!(
        replayed.as_deref(),
        committed.then_some("true"),
        "{fault}: replayed only what committed"
    );
    assert_eq!(names, ["Once"], "{fault}: made once");
}

#[tokio::test]
async fn killed_after_the_claim_the_retry_runs_once() {
    killed_at("idempotency.claimed", false).await;
}

#[tokio::test]
async fn killed_after_the_answer_was_written_but_before_the_commit_the_retry_runs_once() {
    killed_at("idempotency.answered", false).await;
}

#[tokio::test]
async fn killed_after_the_commit_the_retry_is_answered_the_first_answer() {
    killed_at("idempotency.committed", true).await;
}
