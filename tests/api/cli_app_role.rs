//! The commands an operator runs against a live database (`user create`, `org create`,
//! `user token`, `seed`, `audit ...`) never migrate: only `serve` (unless
//! `database.migrate_on_start` is off) and `migrate` do. So they work as the app's ordinary
//! PostgreSQL role, which may create nothing, and on a database nobody migrated they say so.

use migration::{Migrator, MigratorTrait};

use crate::cli::{orgs, orgs_with_env, stderr, stdout};
use crate::helpers::{APP_ROLE, TestDb};

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn the_data_commands_run_as_the_apps_ordinary_role() {
    let db = TestDb::migrated().await;
    assert!(
        db.is_postgres() && db.app_url.contains(APP_ROLE),
        "run with TEST_DATABASE_URL=postgres://... (and --include-ignored)"
    );
    let as_app = |args: &[&str]| orgs_with_env(&db, args, &[("ORGS_DATABASE__URL", &db.app_url)]);
    let out = as_app(&[
        "user",
        "create",
        "--email",
        "ada@acme.test",
        "--password",
        "a long enough password",
        "--name",
        "Ada",
    ]);
    assert!(out.status.success(), "user create: {}", stderr(&out));
    let out = as_app(&[
        "org",
        "create",
        "--name",
        "Acme",
        "--owner",
        "ada@acme.test",
    ]);
    assert!(out.status.success(), "org create: {}", stderr(&out));
    assert!(stdout(&out).contains("at acme."), "{}", stdout(&out));
    let out = as_app(&["user", "token", "--email", "ada@acme.test"]);
    assert!(out.status.success(), "user token: {}", stderr(&out));
    assert!(stdout(&out).trim().starts_with("orgs_"), "{}", stdout(&out));
    let out = as_app(&["seed", "--orgs", "2", "--members", "2"]);
    assert!(out.status.success(), "seed: {}", stderr(&out));
    let out = as_app(&["audit", "prune"]);
    assert!(out.status.success(), "audit prune: {}", stderr(&out));
}

#[tokio::test]
async fn the_data_commands_on_a_database_nobody_migrated_say_so_and_change_nothing() {
    let db = TestDb::new().await;
    for args in [
        &[
            "user",
            "create",
            "--email",
            "a@b.com",
            "--password",
            "long enough pw",
        ][..],
        &["org", "create", "--name", "Acme", "--owner", "a@b.com"],
        &["user", "token", "--email", "a@b.com"],
        &["seed", "--orgs", "1", "--members", "1"],
        &["audit", "prune"],
        &["audit", "export", "--organization", "1"],
    ] {
        let out = orgs(&db, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("not migrated") && stderr(&out).contains("orgs migrate"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let pending = Migrator::get_pending_migrations_read_only(&conn)
        .await
        .unwrap()
        .len();
    conn.close().await.unwrap();
    assert_eq!(
        pending,
        Migrator::migrations().len(),
        "nothing was migrated"
    );
}
