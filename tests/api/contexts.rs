//! What the app's role can do in each row-level security context it may set for itself (none,
//! tenant, user, system), on PostgreSQL: the audit log is insert-and-read only in every one, the
//! owner's retention is read-only, and pruning goes no closer than that retention, the system
//! context included (an outside probe set it and pruned every event with one call). The
//! retention rule that holds on both backends runs on SQLite too.

use entity::audit_event;
use orgs::tenancy::rls;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, PaginatorTrait, Statement, TransactionTrait,
};

use crate::helpers::{APP_ROLE, TestApp, two_tenants};

/// A PostgreSQL test app; panics (rather than passing quietly) anywhere else.
async fn postgres_app() -> TestApp {
    let app = TestApp::spawn().await;
    assert!(
        app.is_postgres(),
        "run with TEST_DATABASE_URL=postgres://..."
    );
    app
}

/// A connection as the app's ordinary role.
async fn as_app(app: &TestApp) -> DatabaseConnection {
    sea_orm::Database::connect(app.app_database_url())
        .await
        .unwrap()
}

/// An audit event of `organization_id`, `days_ago` days old, written by the owner.
async fn event(app: &TestApp, organization_id: i64, days_ago: i64) {
    audit_event::ActiveModel {
        organization_id: Set(organization_id),
        organization_name: Set("Acme".into()),
        occurred_at: Set(entity::chrono_now() - chrono::Duration::days(days_ago)),
        actor_type: Set("system".into()),
        actor_id: Set(None),
        actor_name: Set("test".into()),
        action: Set(format!("test.{days_ago}_days_ago")),
        ..Default::default()
    }
    .insert(app.conn())
    .await
    .unwrap();
}

async fn events(app: &TestApp) -> u64 {
    audit_event::Entity::find().count(app.conn()).await.unwrap()
}

/// Runs `sql` in a savepoint of `txn`, rolled back whatever it did: its error, if any.
async fn refusal(txn: &DatabaseTransaction, sql: &str) -> Option<String> {
    let savepoint = txn.begin().await.unwrap();
    let result = savepoint.execute_unprepared(sql).await;
    savepoint.rollback().await.unwrap();
    result.err().map(|e| e.to_string())
}

/// The four contexts, each as the statement that sets it for the rest of a transaction.
fn contexts(tenant: i64, user: i64) -> [(&'static str, String); 4] {
    [
        ("no context", "SELECT 1".to_string()),
        (
            "tenant",
            format!("SELECT set_config('orgs.tenant_id', '{tenant}', true)"),
        ),
        (
            "user",
            format!("SELECT set_config('orgs.user_id', '{user}', true)"),
        ),
        (
            "system",
            "SELECT set_config('orgs.context', 'system', true)".to_string(),
        ),
    ]
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn in_the_system_context_the_app_role_cannot_prune_audit_events_newer_than_the_retention() {
    let app = postgres_app().await;
    let (acme, _) = two_tenants(&app).await;
    event(&app, acme, 400).await;
    let before = events(&app).await;
    let db = as_app(&app).await;
    let txn = db.begin().await.unwrap();
    // What the probe did: the system context set by the role itself, then a cutoff of now.
    txn.execute_unprepared("SELECT set_config('orgs.context', 'system', true)")
        .await
        .unwrap();
    for cutoff in [
        "now()",
        "now() + interval '1 year'",
        "now() - interval '364 days'",
        "NULL",
    ] {
        let refused = refusal(&txn, &format!("SELECT orgs_prune_audit_events({cutoff})"))
            .await
            .unwrap_or_else(|| panic!("a cutoff of {cutoff} was let through"));
        assert!(refused.contains("kept 365 days"), "{cutoff}: {refused}");
    }
    txn.commit().await.unwrap();
    assert_eq!(events(&app).await, before, "nothing went");
    // A cutoff the retention allows prunes what is older, and only that.
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SELECT set_config('orgs.context', 'system', true)")
        .await
        .unwrap();
    let pruned = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT orgs_prune_audit_events(now() - interval '365 days')",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(pruned, 1);
    txn.commit().await.unwrap();
    assert_eq!(events(&app).await, before - 1);
    // An owner who keeps every event lets no cutoff through.
    app.conn()
        .execute_unprepared("UPDATE orgs_audit_retention SET retention_days = 0")
        .await
        .unwrap();
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("SELECT set_config('orgs.context', 'system', true)")
        .await
        .unwrap();
    let refused = refusal(
        &txn,
        "SELECT orgs_prune_audit_events(now() - interval '100 years')",
    )
    .await
    .unwrap();
    assert!(refused.contains("keeps every event"), "{refused}");
    txn.rollback().await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn whatever_context_it_sets_the_app_role_can_change_neither_audit_events_nor_the_retention() {
    let app = postgres_app().await;
    let (acme, _) = two_tenants(&app).await;
    let ada = orgs::auth::users::find_by_email(app.conn(), "ada@acme.test")
        .await
        .unwrap()
        .unwrap();
    let before = events(&app).await;
    let db = as_app(&app).await;
    for (context, set) in contexts(acme, ada.id) {
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared(&set).await.unwrap();
        for sql in [
            "UPDATE audit_events SET action = 'forged'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
            "UPDATE orgs_audit_retention SET retention_days = 1",
            "DELETE FROM orgs_audit_retention",
            "INSERT INTO orgs_audit_retention (singleton, retention_days) VALUES (false, 1)",
            "TRUNCATE orgs_audit_retention",
        ] {
            let refused = refusal(&txn, sql)
                .await
                .unwrap_or_else(|| panic!("{context}: {sql} was let through"));
            assert!(
                refused.contains("permission denied"),
                "{context}: {sql}: {refused}"
            );
        }
        // The retention is there to read, in every context.
        let days = txn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT retention_days FROM orgs_audit_retention",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i32>(0)
            .unwrap();
        assert_eq!(days, 365, "{context}");
        // Inserting and reading: in the tenant context its organization's, in the system
        // context every one's, elsewhere none.
        let seen = audit_event::Entity::find().count(&txn).await.unwrap();
        let inserted = refusal(
            &txn,
            &format!(
                "INSERT INTO audit_events (organization_id, organization_name, occurred_at, \
                 actor_type, actor_name, action) VALUES ({acme}, 'Acme', now(), 'system', 'test', 'test.inserted')"
            ),
        )
        .await
        .is_none();
        match context {
            "tenant" | "system" => {
                assert!(seen > 0, "{context} reads events");
                assert!(inserted, "{context} inserts an event");
            }
            _ => {
                assert_eq!(seen, 0, "{context} reads no event");
                assert!(!inserted, "{context} inserts no event");
            }
        }
        txn.rollback().await.unwrap();
    }
    assert_eq!(events(&app).await, before);
    db.close().await.unwrap();
}

#[tokio::test]
async fn the_prune_keeps_events_for_the_owners_retention_when_the_app_is_configured_shorter() {
    let app = TestApp::spawn().await;
    let (acme, _) = two_tenants(&app).await;
    event(&app, acme, 100).await;
    event(&app, acme, 400).await;
    let before = events(&app).await;
    // The server's own connection: on PostgreSQL the app's role.
    let pruned = orgs::audit::prune(&app.state.db, 30).await.unwrap();
    if app.is_postgres() {
        // The owner keeps 365 days: the database prunes no closer, so the server does not ask.
        assert_eq!(pruned, 1);
        assert_eq!(
            orgs::audit::retention::retention(&app.state.db, 30)
                .await
                .unwrap(),
            Some(365)
        );
        // Storing the retention is the owner's (`orgs migrate`), never the app's.
        let refused = orgs::audit::retention::keep_configured(&app.state.db, 1)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("permission denied"),
            "{refused}"
        );
        // Once the owner stores 30 days, 30 days it is.
        orgs::audit::retention::keep_configured(app.conn(), 30)
            .await
            .unwrap();
        assert_eq!(orgs::audit::prune(&app.state.db, 30).await.unwrap(), 1);
    } else {
        // SQLite has no roles: the configuration alone counts.
        assert_eq!(pruned, 2);
    }
    assert_eq!(events(&app).await, before - 2);
    assert_eq!(
        orgs::audit::retention::retention(&app.state.db, 0)
            .await
            .unwrap(),
        None,
        "0 keeps every event"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL"]
async fn orgs_migrate_stores_the_configured_retention_and_the_check_catches_an_unbounded_prune() {
    let app = postgres_app().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orgs"))
        .arg("migrate")
        .env("ORGS_ENV", "test")
        .env("ORGS_DATABASE__URL", app.database_url())
        .env("ORGS_AUDIT__RETENTION_DAYS", "30")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let days = app
        .column::<i32>("SELECT retention_days FROM orgs_audit_retention")
        .await;
    assert_eq!(days, [30]);
    let db = as_app(&app).await;
    let report = rls::check(&db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // The function as it was before the bound, and a grant too many: both are reported.
    app.conn()
        .execute_unprepared(
            "CREATE OR REPLACE FUNCTION orgs_prune_audit_events(cutoff TIMESTAMPTZ) RETURNS BIGINT \
             LANGUAGE plpgsql SECURITY DEFINER AS $$ \
             DECLARE pruned BIGINT; BEGIN \
               IF current_setting('orgs.context', true) IS DISTINCT FROM 'system' THEN \
                 RAISE EXCEPTION 'audit events are pruned in the system context only'; \
               END IF; \
               DELETE FROM audit_events WHERE occurred_at < cutoff; \
               GET DIAGNOSTICS pruned = ROW_COUNT; RETURN pruned; \
             END $$",
        )
        .await
        .unwrap();
    app.conn()
        .execute_unprepared(&format!(
            "GRANT UPDATE ON orgs_audit_retention TO {APP_ROLE}"
        ))
        .await
        .unwrap();
    let report = rls::check(&db).await.unwrap();
    let problems = report.problems.join("\n");
    assert!(
        problems.contains("audit_events: in the system context the connecting role pruned"),
        "{problems}"
    );
    assert!(
        problems.contains("orgs_audit_retention: the connecting role may update its rows"),
        "{problems}"
    );
    db.close().await.unwrap();
}
