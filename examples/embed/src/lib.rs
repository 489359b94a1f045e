//! An app of its own that embeds orgs: orgs gives it accounts, organizations, tenancy and the
//! people pages; it adds one organization-scoped table, `notes`, and its page and API. This is
//! what a SaaS team writes for each of their own tables: an entity that names its organization
//! column, a migration of its own (with its own migration table) that puts the table under orgs'
//! row-level security, and handlers that reach it only through the tenant transaction.

use actix_web::{HttpResponse, web};
use orgs::AppError;
use orgs::AppState;
use orgs::migration::{
    ColumnDef, DynIden, ForeignKey, ForeignKeyAction, Index, IntoIden, MigrationName,
    MigrationTrait, MigratorTrait, SchemaManager, Table, async_trait,
};
use orgs::web::OrgMember;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection, QueryOrder};
use serde::{Deserialize, Serialize};

/// The `notes` table: every row belongs to one organization.
pub mod note {
    use sea_orm::entity::prelude::*;
    use serde::Serialize;

    /// A note of an organization.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
    #[sea_orm(table_name = "notes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(indexed)]
        pub organization_id: i64,
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    /// Names the column orgs filters every query of this table by.
    impl orgs::entity::TenantOwned for Entity {
        fn organization_column() -> Column {
            Column::OrganizationId
        }
    }
}

/// The example's own migrations, beside orgs' (run after them): their own migration table,
/// `embed_migrations`, so neither migrator sees the other's rows as missing files.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        "embed_migrations".into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateNotes)]
    }
}

/// Creates `notes`, tied to its organization (deleted with it) and under orgs' row-level
/// security on PostgreSQL.
struct CreateNotes;

impl MigrationName for CreateNotes {
    fn name(&self) -> &str {
        "m20261201_000001_create_notes"
    }
}

#[async_trait::async_trait]
#[expect(
    elided_lifetimes_in_paths,
    reason = "the signature must match MigrationTrait as async_trait declares it"
)]
impl MigrationTrait for CreateNotes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("notes")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("organization_id").big_integer().not_null())
                    .col(ColumnDef::new("body").text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from("notes", "organization_id")
                            .to("organizations", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notes_org_idx")
                    .table("notes")
                    .col("organization_id")
                    .to_owned(),
            )
            .await?;
        orgs::migration::tenant_table(manager, "notes").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("notes").to_owned())
            .await
    }
}

/// Applies orgs' migrations, then the example's.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    orgs::db::migrate(db).await?;
    Migrator::up(db, None).await
}

/// The notes routes, mounted on every organization's tenant root.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        orgs::routes::tenant("/api/v1/notes/")
            .route(web::get().to(list))
            .route(web::post().to(add)),
    );
}

/// A new note.
#[derive(Debug, Deserialize, Serialize)]
pub struct NewNote {
    /// Its text.
    pub body: String,
}

/// `GET /api/v1/notes/`: the organization's notes; another organization's never appear, since
/// the query comes from the tenant.
async fn list(
    state: web::Data<AppState>,
    OrgMember(tenant): OrgMember,
) -> Result<HttpResponse, AppError> {
    let txn = tenant.begin(&state).await?;
    let notes = txn
        .select::<note::Entity>()
        .order_by_asc(note::Column::Id)
        .all(txn.conn())
        .await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(notes))
}

/// `POST /api/v1/notes/`: the organization is set by the tenant, never by the body.
async fn add(
    state: web::Data<AppState>,
    OrgMember(tenant): OrgMember,
    body: web::Json<NewNote>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner().body.trim().to_string();
    if body.is_empty() {
        return Err(AppError::field("body", "write something"));
    }
    let txn = tenant.begin(&state).await?;
    let mut row: note::ActiveModel = txn.new_active_model();
    row.body = Set(body);
    let saved = row.insert(txn.conn()).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(saved))
}
