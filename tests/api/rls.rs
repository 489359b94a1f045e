//! Row-level security on PostgreSQL: the second wall. On SQLite these tests check that the
//! isolation check says it does not apply, since SQLite has no row-level security.

use entity::project;
use orgs::organizations as orgs_service;
use orgs::tenancy::rls;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, TransactionTrait,
};

use crate::helpers::{TestApp, Visitor, as_app_role, grant_app_role, visitor};

fn is_postgres(app: &TestApp) -> bool {
    app.conn().get_database_backend() == DbBackend::Postgres
}

/// Two organizations with a project each; returns their ids.
async fn two_tenants(app: &TestApp) -> (i64, i64) {
    let alice = app.user("alice@a.test", "Alice").await;
    let bob = app.user("bob@b.test", "Bob").await;
    let a = orgs_service::create_organization(app.conn(), app.events(), alice.id, "Alpha")
        .await
        .unwrap()
        .organization
        .id;
    let b = orgs_service::create_organization(app.conn(), app.events(), bob.id, "Beta")
        .await
        .unwrap()
        .organization
        .id;
    for (org, name) in [(a, "Alpha plan"), (b, "Beta plan")] {
        project::ActiveModel {
            organization_id: Set(org),
            name: Set(name.into()),
            description: Set(String::new()),
            ..Default::default()
        }
        .insert(app.conn())
        .await
        .unwrap();
    }
    (a, b)
}

async fn app_role_connection(app: &TestApp) -> sea_orm::DatabaseConnection {
    grant_app_role(app.conn()).await;
    sea_orm::Database::connect(as_app_role(app.database_url()))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_unscoped_query_in_a_tenant_transaction_sees_only_that_tenant() {
    let app = TestApp::spawn().await;
    if !is_postgres(&app) {
        let report = rls::check(app.conn()).await.unwrap();
        assert!(report.not_applicable.is_some());
        return;
    }
    let (a, b) = two_tenants(&app).await;
    let db = app_role_connection(&app).await;

    let txn = db.begin().await.unwrap();
    rls::set_tenant(&txn, a).await.unwrap();
    let seen = project::Entity::find().all(&txn).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert!(seen.iter().all(|p| p.organization_id == a));
    let memberships = entity::organization_user::Entity::find()
        .all(&txn)
        .await
        .unwrap();
    assert!(memberships.iter().all(|m| m.organization_id == a));
    txn.commit().await.unwrap();

    // Outside a tenant transaction (global work) every row is there.
    let all = project::Entity::find().all(&db).await.unwrap();
    assert_eq!(all.len(), 2);

    let txn = db.begin().await.unwrap();
    rls::set_tenant(&txn, b).await.unwrap();
    let seen = project::Entity::find().all(&txn).await.unwrap();
    assert!(seen.iter().all(|p| p.organization_id == b) && seen.len() == 1);
    txn.rollback().await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_tenant_transaction_cannot_write_another_tenants_rows() {
    let app = TestApp::spawn().await;
    if !is_postgres(&app) {
        return;
    }
    let (a, b) = two_tenants(&app).await;
    let db = app_role_connection(&app).await;
    let txn = db.begin().await.unwrap();
    rls::set_tenant(&txn, a).await.unwrap();
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
    rls::set_tenant(&txn, a).await.unwrap();
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
    txn.rollback().await.unwrap();
    let beta = project::Entity::find()
        .filter(project::Column::OrganizationId.eq(b))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(beta.name, "Beta plan");
    db.close().await.unwrap();
}

#[tokio::test]
async fn the_isolation_check_passes_on_the_schema_and_fails_on_a_table_without_a_policy() {
    let app = TestApp::spawn().await;
    if !is_postgres(&app) {
        let report = rls::check(app.conn()).await.unwrap();
        assert!(report.not_applicable.unwrap().contains("PostgreSQL only"));
        return;
    }
    let db = app_role_connection(&app).await;
    let report = rls::check(&db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    for table in migration::TENANT_TABLES {
        assert!(report.tables.iter().any(|t| t == table), "{table} checked");
    }
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
    let report = rls::check(&db).await.unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.starts_with("rogue: has organization_id but no policy")),
        "{:?}",
        report.problems
    );
    db.close().await.unwrap();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orgs"))
        .arg("check")
        .env("ORGS_ENV", "test")
        .env("ORGS_DATABASE__URL", as_app_role(app.database_url()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rogue"), "{stderr}");
}

#[tokio::test]
async fn the_app_serves_tenants_connected_as_an_ordinary_role() {
    let probe = TestApp::spawn().await;
    if !is_postgres(&probe) {
        return;
    }
    drop(probe);
    let app = TestApp::spawn_as_app_role().await;
    // Fixtures are written through the app's own (ordinary-role) connection.
    let (a, _) = two_tenants(&app).await;
    let Visitor { client, csrf } = visitor(&app, Some("alice@a.test")).await;
    let created = client
        .post(format!("{}/o/alpha/api/v1/projects/", app.address))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"name": "Made under RLS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let list: serde_json::Value = client
        .get(format!("{}/o/alpha/api/v1/projects/", app.address))
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
    let report = rls::check(app.conn()).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
