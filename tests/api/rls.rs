//! Row-level security on PostgreSQL: the second wall, failing closed. The tests that need
//! PostgreSQL are ignored on SQLite (which has no row-level security) and run in CI's PostgreSQL
//! pass with `--include-ignored`.

use entity::OrganizationId;
use entity::UserId;
use entity::project;
use orgs::tenancy::org_rows;
use orgs::tenancy::rls;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};

use crate::helpers::{APP_ROLE, TestApp, Visitor, two_tenants, visitor};

const NEEDS_POSTGRES: &str = "run with TEST_DATABASE_URL=postgres://... (and --include-ignored)";

/// A PostgreSQL test app; panics (rather than passing quietly) anywhere else.
async fn postgres_app() -> TestApp {
    let app = TestApp::spawn().await;
    assert!(app.is_postgres(), "{NEEDS_POSTGRES}");
    app
}

/// Two organizations with a project each; returns their ids.
/// A connection as the app's ordinary role.
async fn as_app(app: &TestApp) -> sea_orm::DatabaseConnection {
    sea_orm::Database::connect(app.app_database_url())
        .await
        .unwrap()
}

#[tokio::test]
async fn on_sqlite_the_isolation_check_says_it_does_not_apply_and_on_postgres_it_passes() {
    let app = TestApp::spawn().await;
    if app.is_postgres() {
        let db = as_app(&app).await;
        let report = rls::check(&db).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert!(report.not_applicable.is_none());
    } else {
        let report = rls::check(app.conn()).await.unwrap();
        assert!(report.not_applicable.unwrap().contains("PostgreSQL only"));
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn with_no_context_the_app_role_sees_and_writes_no_tenant_row() {
    let app = postgres_app().await;
    let (_, b) = two_tenants(&app).await;
    let db = as_app(&app).await;
    for table in migration::TENANT_TABLES {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("SELECT count(*) FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 0, "{table}");
    }
    // Not in a transaction either: a plain query on the pool sees nothing.
    assert_eq!(project::Entity::find().count(&db).await.unwrap(), 0);
    let planted = project::ActiveModel {
        organization_id: Set(b),
        name: Set("Planted".into()),
        description: Set(String::new()),
        ..Default::default()
    }
    .insert(&db)
    .await;
    assert!(planted.is_err(), "no row can be written without a context");
    let renamed = project::Entity::update_many()
        .col_expr(project::Column::Name, sea_orm::sea_query::Expr::value("X"))
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(renamed.rows_affected, 0);
    // Organizations stay readable (tenants are resolved by slug) but not writable.
    assert_eq!(
        entity::organization::Entity::find()
            .count(&db)
            .await
            .unwrap(),
        2
    );
    let hijacked = entity::organization::Entity::update_many()
        .col_expr(
            entity::organization::Column::Name,
            sea_orm::sea_query::Expr::value("Hijacked"),
        )
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(hijacked.rows_affected, 0);
    db.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn an_unscoped_query_in_a_tenant_transaction_sees_only_that_tenant() {
    let app = postgres_app().await;
    let (a, b) = two_tenants(&app).await;
    let db = as_app(&app).await;
    for (tenant, name) in [(a, "Acme anvil"), (b, "Globex laser")] {
        let txn = db.begin().await.unwrap();
        rls::set_tenant(&txn, OrganizationId(tenant)).await.unwrap();
        let seen = project::Entity::find().all(&txn).await.unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].name, name);
        let memberships = entity::organization_user::Entity::find()
            .all(&txn)
            .await
            .unwrap();
        assert!(!memberships.is_empty());
        assert!(memberships.iter().all(|m| m.organization_id == tenant));
        txn.rollback().await.unwrap();
    }
    db.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn a_tenant_transaction_cannot_write_another_tenants_rows() {
    let app = postgres_app().await;
    let (a, b) = two_tenants(&app).await;
    let db = as_app(&app).await;
    let txn = db.begin().await.unwrap();
    rls::set_tenant(&txn, OrganizationId(a)).await.unwrap();
    let sneaky = project::ActiveModel {
        organization_id: Set(b),
        name: Set("Planted".into()),
        description: Set(String::new()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    assert!(
        sneaky.is_err(),
        "a row of another tenant cannot be inserted"
    );
    txn.rollback().await.unwrap();

    let txn = db.begin().await.unwrap();
    rls::set_tenant(&txn, OrganizationId(a)).await.unwrap();
    let renamed = project::Entity::update_many()
        .col_expr(
            project::Column::Name,
            sea_orm::sea_query::Expr::value("Hijacked"),
        )
        .filter(project::Column::OrganizationId.eq(b))
        .exec(&txn)
        .await
        .unwrap();
    assert_eq!(renamed.rows_affected, 0);
    let deleted = project::Entity::delete_many().exec(&txn).await.unwrap();
    assert_eq!(deleted.rows_affected, 1, "only the tenant's own project");
    let other_org = entity::organization::Entity::delete_by_id(b)
        .exec(&txn)
        .await
        .unwrap();
    assert_eq!(other_org.rows_affected, 0, "nor another organization");
    txn.rollback().await.unwrap();
    let globex = project::Entity::find()
        .filter(project::Column::OrganizationId.eq(b))
        .one(app.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(globex.name, "Globex laser");
    db.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn the_user_context_lists_only_that_persons_organizations() {
    let app = postgres_app().await;
    two_tenants(&app).await;
    let ada = orgs::auth::users::find_by_email(app.conn(), "ada@acme.test")
        .await
        .unwrap()
        .unwrap();
    let db = as_app(&app).await;
    let mine = org_rows::of_user(&db, UserId(ada.id), true).await.unwrap();
    let names: Vec<_> = mine.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Acme"]);
    db.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn the_isolation_check_fails_on_a_missing_policy_an_open_policy_and_a_superuser() {
    let app = postgres_app().await;
    // The test server's superuser escapes every policy, and the check says so.
    let as_superuser = rls::check(app.conn()).await.unwrap();
    assert!(
        as_superuser
            .problems
            .iter()
            .any(|p| p.contains("superuser"))
    );

    app.conn()
        .execute_unprepared(
            "CREATE TABLE rogue (id BIGINT PRIMARY KEY, organization_id BIGINT NOT NULL)",
        )
        .await
        .unwrap();
    let db = as_app(&app).await;
    let report = rls::check(&db).await.unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with("rogue: has organization_id but no policy")),
        "{:?}",
        report.problems
    );
    // A policy that lets everything through is forced and present, but the proof with
    // synthetic rows catches it.
    app.conn()
        .execute_unprepared(
            "ALTER TABLE rogue ENABLE ROW LEVEL SECURITY; ALTER TABLE rogue FORCE ROW LEVEL SECURITY; \
             CREATE POLICY open ON rogue USING (true) WITH CHECK (true)",
        )
        .await
        .unwrap();
    let report = rls::check(&db).await.unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with("rogue: with no context set, a row could be inserted")),
        "{:?}",
        report.problems
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with("rogue: a tenant context inserted")),
        "{:?}",
        report.problems
    );
    db.close().await.unwrap();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orgs"))
        .arg("check")
        .env("ORGS_ENV", "test")
        .env("ORGS_DATABASE__URL", app.app_database_url())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rogue"), "{stderr}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn create_app_role_makes_an_ordinary_role_that_passes_the_check() {
    let app = postgres_app().await;
    two_tenants(&app).await;
    let run = |args: &[&str], url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_orgs"))
            .args(args)
            .env("ORGS_ENV", "test")
            .env("ORGS_DATABASE__URL", url)
            .output()
            .unwrap()
    };
    let out = run(
        &[
            "db",
            "create-app-role",
            "orgs_test_made",
            "--password",
            "it's s3cret",
        ],
        app.database_url(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = app
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT rolsuper, rolbypassrls, rolcanlogin, \
             (SELECT count(*) FROM pg_tables WHERE tableowner = 'orgs_test_made') AS owned \
             FROM pg_roles WHERE rolname = 'orgs_test_made'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(!row.try_get_by_index::<bool>(0).unwrap(), "no superuser");
    assert!(!row.try_get_by_index::<bool>(1).unwrap(), "no BYPASSRLS");
    assert!(row.try_get_by_index::<bool>(2).unwrap(), "logs in");
    assert_eq!(row.try_get_by_index::<i64>(3).unwrap(), 0, "owns nothing");
    // Running it again is fine (the role exists).
    let again = run(
        &["db", "create-app-role", "orgs_test_made"],
        app.database_url(),
    );
    assert!(again.status.success());
    let url = app
        .database_url()
        .replacen("postgres@", "orgs_test_made@", 1);
    let check = run(&["check"], &url);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // It reads but cannot rewrite the migration history.
    let db = sea_orm::Database::connect(&url).await.unwrap();
    assert!(
        db.execute_unprepared("DELETE FROM seaql_migrations")
            .await
            .is_err()
    );
    db.close().await.unwrap();
    let bad = run(
        &["db", "create-app-role", "Robert'); DROP"],
        app.database_url(),
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("role name"));
}

#[tokio::test]
async fn the_app_serves_tenants_connected_as_an_ordinary_role() {
    let app = TestApp::spawn().await;
    let (a, _) = two_tenants(&app).await;
    let Visitor { client, csrf, .. } = visitor(&app, Some("ada@acme.test")).await;
    let created = client
        .post(format!("{}/o/acme/api/v1/projects/", app.address))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"name": "Made under RLS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let list: serde_json::Value = client
        .get(format!("{}/o/acme/api/v1/projects/", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["organization_id"] == a)
    );
    if app.is_postgres() {
        assert!(app.app_database_url().contains(APP_ROLE));
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn the_app_role_inserts_and_reads_audit_events_but_never_changes_or_deletes_them() {
    let app = postgres_app().await;
    two_tenants(&app).await;
    let db = as_app(&app).await;
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SELECT set_config('orgs.context', 'system', true)")
        .await
        .unwrap();
    let seen = entity::audit_event::Entity::find()
        .count(&txn)
        .await
        .unwrap();
    assert!(seen > 0, "the app reads audit events in the system context");
    for sql in [
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let savepoint = txn.begin().await.unwrap();
        let refused = savepoint.execute_unprepared(sql).await.unwrap_err();
        assert!(
            refused.to_string().contains("permission denied"),
            "{sql}: {refused}"
        );
        savepoint.rollback().await.unwrap();
    }
    txn.rollback().await.unwrap();
    // Pruning by age is the one way rows go, and only in the system context.
    let outside = db
        .execute_unprepared("SELECT orgs_prune_audit_events(now())")
        .await
        .unwrap_err();
    assert!(outside.to_string().contains("system context"), "{outside}");
    // A grant too many is what `orgs check` reports.
    app.conn()
        .execute_unprepared(&format!("GRANT UPDATE ON audit_events TO {APP_ROLE}"))
        .await
        .unwrap();
    let report = rls::check(&db).await.unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with("audit_events: the connecting role may update")),
        "{:?}",
        report.problems
    );
    db.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn the_citus_check_accepts_the_schema_and_names_a_key_it_has_no_plan_for() {
    let app = postgres_app().await;
    let report = orgs::tenancy::citus::check(app.conn()).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.distributed.iter().any(|t| t == "projects"));
    assert!(!report.distributed.iter().any(|t| t == "email_outbox"));
    assert!(report.global_keys.iter().any(|k| {
        k.starts_with("organization_invitations.organization_invitations_token_hash_key")
    }));
    app.conn()
        .execute_unprepared("CREATE UNIQUE INDEX projects_name_everywhere ON projects (name)")
        .await
        .unwrap();
    app.conn()
        .execute_unprepared(
            "CREATE TABLE notes (id BIGINT PRIMARY KEY, organization_id BIGINT, \
             project_id BIGINT REFERENCES projects (id))",
        )
        .await
        .unwrap();
    let report = orgs::tenancy::citus::check(app.conn()).await.unwrap();
    let problems = report.problems.join("\n");
    for named in [
        "projects.projects_name_everywhere (name)",
        "notes: organization_id may be NULL",
        "notes.notes_pkey (id)",
        "notes.notes_project_id_fkey (project_id) -> projects",
    ] {
        assert!(problems.contains(named), "{named} not in\n{problems}");
    }
}
