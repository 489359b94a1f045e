//! The `orgs` binary as a person runs it: commands, exit codes, messages, and `serve`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use entity::{organization, organization_owner, organization_user, project, user};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::TestDb;

/// `orgs ARGS` against `db` with the test configuration.
pub(crate) fn orgs(db: &TestDb, args: &[&str]) -> Output {
    orgs_with_env(db, args, &[])
}

pub(crate) fn orgs_with_env(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orgs"));
    command
        .args(args)
        .env("ORGS_ENV", "test")
        .env("ORGS_DATABASE__URL", &db.url)
        .env_remove("RUST_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run orgs")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `orgs migrate` on `db`, as its owner: the data commands never migrate.
pub(crate) fn migrate(db: &TestDb) {
    let out = orgs(db, &["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

async fn count<E: EntityTrait>(db: &TestDb) -> u64
where
    E::Model: Sync,
{
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let n = E::find().count(&conn).await.unwrap();
    conn.close().await.unwrap();
    n
}

#[tokio::test]
async fn user_create_then_org_create_prints_the_new_address() {
    let db = TestDb::new().await;
    migrate(&db);
    let out = orgs(
        &db,
        &[
            "user",
            "create",
            "--email",
            "Kurt@Nirvana.com",
            "--password",
            "smells like teen",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("<kurt@nirvana.com>"),
        "{}",
        stdout(&out)
    );
    let out = orgs(
        &db,
        &[
            "org",
            "create",
            "--name",
            "Nirvana",
            "--owner",
            "kurt@nirvana.com",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("at nirvana.localhost"),
        "{}",
        stdout(&out)
    );
    assert_eq!(count::<organization_owner::Entity>(&db).await, 1);
}

#[tokio::test]
async fn org_create_with_an_unknown_owner_fails_and_writes_nothing() {
    let db = TestDb::new().await;
    migrate(&db);
    let out = orgs(
        &db,
        &[
            "org",
            "create",
            "--name",
            "Nirvana",
            "--owner",
            "nobody@nowhere.com",
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no user with email nobody@nowhere.com"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count::<organization::Entity>(&db).await, 0);
}

#[tokio::test]
async fn org_create_with_a_reserved_slug_names_the_field() {
    let db = TestDb::new().await;
    migrate(&db);
    orgs(
        &db,
        &[
            "user",
            "create",
            "--email",
            "a@b.com",
            "--password",
            "long enough pw",
        ],
    );
    let out = orgs(
        &db,
        &[
            "org", "create", "--name", "W", "--owner", "a@b.com", "--slug", "www",
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("slug: `www` is reserved"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count::<organization::Entity>(&db).await, 0);
}

#[tokio::test]
async fn user_create_refuses_a_short_password_and_a_bad_email() {
    let db = TestDb::new().await;
    migrate(&db);
    let out = orgs(
        &db,
        &[
            "user",
            "create",
            "--email",
            "a@b.com",
            "--password",
            "short",
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("password: must be at least 10 characters"),
        "{}",
        stderr(&out)
    );
    let out = orgs(
        &db,
        &[
            "user",
            "create",
            "--email",
            "not-an-email",
            "--password",
            "long enough pw",
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("email: enter a valid email address"),
        "{}",
        stderr(&out)
    );
    let out = orgs(
        &db,
        &[
            "user",
            "create",
            "--email",
            "a@b.com",
            "--password",
            "long enough pw",
        ],
    );
    assert!(out.status.success());
    let out = orgs(
        &db,
        &[
            "user",
            "create",
            "--email",
            "A@B.com",
            "--password",
            "long enough pw",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(count::<user::Entity>(&db).await, 1);
}

#[tokio::test]
async fn missing_arguments_get_usage_and_exit_2() {
    let db = TestDb::new().await;
    let out = orgs(&db, &["user", "create", "--email", "a@b.com"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--password"), "{}", stderr(&out));
    let out = orgs(&db, &["seed", "--orgs", "0", "--members", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--orgs"), "{}", stderr(&out));
    let out = orgs(&db, &["seed", "--orgs", "-5", "--members", "3"]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn seed_creates_what_it_was_asked_for() {
    let db = TestDb::new().await;
    migrate(&db);
    let out = orgs(
        &db,
        &["seed", "--orgs", "120", "--members", "7", "--projects", "2"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("seeded 120 organizations, 840 users, 840 memberships, 240 projects"),
        "{}",
        stdout(&out)
    );
    assert_eq!(count::<organization::Entity>(&db).await, 120);
    assert_eq!(count::<organization_user::Entity>(&db).await, 840);
    assert_eq!(count::<organization_owner::Entity>(&db).await, 120);
    assert_eq!(count::<project::Entity>(&db).await, 240);
    // Seeding again adds more instead of colliding.
    let out = orgs(&db, &["seed", "--orgs", "3", "--members", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(count::<organization::Entity>(&db).await, 123);
    assert_eq!(count::<user::Entity>(&db).await, 846);
}

#[tokio::test]
async fn a_bad_setting_names_the_key_and_exits_non_zero() {
    let db = TestDb::new().await;
    let out = orgs_with_env(&db, &["migrate"], &[("ORGS_SERVER__PORT", "eighty")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).to_lowercase().contains("server.port"),
        "{}",
        stderr(&out)
    );
    let out = orgs_with_env(&db, &["migrate"], &[("ORGS_EMAIL__BACKEND", "pigeon")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).to_lowercase().contains("email.backend"),
        "{}",
        stderr(&out)
    );
    let out = orgs_with_env(&db, &["migrate"], &[("ORGS_DATABASE__URL", "mysql://x")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("database.url"), "{}", stderr(&out));
}

#[tokio::test]
async fn an_unknown_setting_is_refused() {
    let db = TestDb::new().await;
    let out = orgs_with_env(&db, &["migrate"], &[("ORGS_SERVER__HOTS", "0.0.0.0")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown field"), "{}", stderr(&out));
    let out = orgs_with_env(&db, &["migrate"], &[("ORGS_ENV", "staging")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ORGS_ENV"), "{}", stderr(&out));
}

#[tokio::test]
async fn production_refuses_to_start_without_a_strong_session_key() {
    let db = TestDb::new().await;
    let out = orgs_with_env(
        &db,
        &["migrate"],
        &[
            ("ORGS_ENV", "production"),
            ("ORGS_EMAIL__SMTP_URL", "smtp://localhost"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("session.secret_key"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn migrate_down_and_up_round_trip() {
    let db = TestDb::new().await;
    let out = orgs(&db, &["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let all = <migration::Migrator as migration::MigratorTrait>::migrations().len();
    assert!(
        stdout(&out).contains(&format!("applied {all} migration(s)")),
        "{}",
        stdout(&out)
    );
    let out = orgs(&db, &["migrate", "status"]);
    assert!(stdout(&out).contains("Applied"), "{}", stdout(&out));
    let out = orgs(&db, &["migrate", "down", "-n", "99"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("only {all} migration(s) are applied")),
        "{}",
        stderr(&out)
    );
    let out = orgs(&db, &["migrate", "down"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = orgs(&db, &["migrate", "up"]);
    assert!(
        stdout(&out).contains("applied 1 migration(s)"),
        "{}",
        stdout(&out)
    );
}

/// `orgs serve` on a free port with the test configuration, the database `url` and `env`: the
/// process and the address it printed.
pub(crate) async fn serve(url: &str, env: &[(&str, &str)]) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orgs"));
    command
        .arg("serve")
        .env("ORGS_ENV", "test")
        .env("ORGS_DATABASE__URL", url)
        .env("ORGS_SERVER__PORT", "0")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start orgs serve");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(30), line)
        .await
        .expect("serve printed its address in time")
        .unwrap()
        .unwrap();
    let address = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, address)
}

#[tokio::test]
async fn serve_migrates_a_new_database_and_answers_readyz() {
    let db = TestDb::new().await;
    let (mut child, url) = serve(&db.url, &[]).await;
    let response = reqwest::get(format!("{url}/readyz")).await.unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(response.status(), 200);
    assert_eq!(
        count::<user::Entity>(&db).await,
        0,
        "the schema exists and is empty"
    );
}

#[tokio::test]
async fn audit_export_prints_a_deleted_organizations_history_and_refuses_an_unknown_one() {
    let db = TestDb::new().await;
    migrate(&db);
    let out = orgs(
        &db,
        &[
            "user",
            "create",
            "--email",
            "kim@acme.test",
            "--password",
            "long enough pw",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = orgs(
        &db,
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--owner",
            "kim@acme.test",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let acme = organization::Entity::find()
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    let tx = orgs::tenancy::door::tenant(&conn, &orgs::Events::new(), acme.id())
        .await
        .unwrap();
    orgs::organizations::delete_organization(&tx).await.unwrap();
    tx.commit().await.unwrap();
    conn.close().await.unwrap();
    let out = orgs(
        &db,
        &["audit", "export", "--organization", &acme.id.to_string()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let actions: Vec<String> = stdout(&out)
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            event["action"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(actions, ["organization.created", "organization.deleted"]);
    let out = orgs(&db, &["audit", "export", "--organization", "999999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("organization"), "{}", stderr(&out));
    let out = orgs(&db, &["audit", "export", "--organization", "abc"]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn user_token_prints_a_personal_token_that_signs_the_user_in() {
    let db = TestDb::new().await;
    migrate(&db);
    let created = orgs(
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
    assert!(created.status.success(), "{}", stderr(&created));
    let out = orgs(
        &db,
        &["user", "token", "--email", "ADA@acme.test", "--name", "ci"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    assert!(token.starts_with("orgs_"), "{token}");
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let user = orgs::auth::api_tokens::resolve(&conn, &token)
        .await
        .unwrap();
    assert_eq!(user.map(|u| u.email).as_deref(), Some("ada@acme.test"));

    let unknown = orgs(&db, &["user", "token", "--email", "nobody@acme.test"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no user with email"),
        "{}",
        stderr(&unknown)
    );
    let blank = orgs(
        &db,
        &["user", "token", "--email", "ada@acme.test", "--name", " "],
    );
    assert_eq!(blank.status.code(), Some(1));
    assert!(stderr(&blank).contains("name:"), "{}", stderr(&blank));
}

#[tokio::test]
async fn openapi_prints_the_document_the_server_serves() {
    let db = TestDb::new().await;
    let out = orgs(&db, &["openapi"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/o/{slug}/api/v1/people/"].is_object());
}
