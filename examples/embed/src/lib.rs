//! An app of its own that embeds orgs: orgs gives it accounts, organizations, tenancy and the
//! people pages; it adds one organization-scoped table, `notes`, and its page and API. This is
//! what a SaaS team writes for each of their own tables.

use actix_web::{HttpResponse, web};
use orgs::AppError;
use orgs::startup::AppState;
use orgs::tenancy::OrgMember;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, Schema};
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

/// Creates the `notes` table if it is missing (a real app would add a migration).
pub async fn create_tables<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let schema = Schema::new(db.get_database_backend());
    let mut create = schema.create_table_from_entity(note::Entity);
    db.execute(create.if_not_exists()).await?;
    Ok(())
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
    let txn = tenant.transaction(&state.db).await?;
    let notes = tenant
        .select::<note::Entity>()
        .order_by_asc(note::Column::Id)
        .all(&txn)
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
    let txn = tenant.transaction(&state.db).await?;
    let mut row: note::ActiveModel = tenant.new_active_model();
    row.body = Set(body);
    let saved = row.insert(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(saved))
}
