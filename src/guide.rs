//! # Adding a tenant table of your own, end to end
//!
//! orgs gives your app accounts, organizations, members, roles, invitations, the tenant of every
//! request and the pages for all of it. Your product's own data goes in tables of yours, and each
//! one that belongs to an organization gets the same walls as orgs' own: every query scoped to
//! the request's organization by the tenancy layer, forced row-level security on PostgreSQL,
//! rows deleted with their organization, permissions in the same catalog, changes in the audit
//! log, routes in the access table and the OpenAPI document. `examples/embed` is all of this for
//! a `notes` table, with its tests; these are its steps. Every example here compiles (`cargo
//! test --doc`).
//!
//! Your app depends on `orgs` alone: sea-orm (with its derives) and utoipa come through its
//! re-exports (`use orgs::sea_orm;`, `use orgs::utoipa;` in each module that derives).
//!
//! ## 1. The entity
//!
//! A sea-orm entity with an `organization_id` column, marked as the organization's with
//! [`entity::tenant_owned!`](crate::entity::tenant_owned): the tenancy layer filters every read by
//! that column and fills it in on every insert, so no handler can forget the tenant.
//!
//! ```
//! pub mod note {
//!     use orgs::sea_orm;
//!     use sea_orm::entity::prelude::*;
//!
//!     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
//!     #[sea_orm(table_name = "notes")]
//!     pub struct Model {
//!         #[sea_orm(primary_key)]
//!         pub id: i64,
//!         pub organization_id: i64,
//!         pub body: String,
//!     }
//!
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {}
//!
//!     impl ActiveModelBehavior for ActiveModel {}
//!
//!     orgs::entity::tenant_owned!(Column::OrganizationId);
//! }
//! # fn main() {}
//! ```
//!
//! ## 2. The migration, beside orgs'
//!
//! Your migrations are a sea-orm migrator of your own with its own migration table (so neither
//! migrator takes the other's rows for missing files), run after orgs'.
//! [`migration::create_tenant_table`](crate::migration::create_tenant_table) is the whole recipe:
//! the `organization_id` column, its foreign key to `organizations` with the delete behaviour
//! you choose (`Cascade`: an organization's notes go with it), the index led by it, and on
//! PostgreSQL forced row-level security with orgs' fail-closed policy. `orgs check` (or
//! [`tenancy::rls::check`](crate::tenancy::rls::check) in your own test) then covers the table
//! like orgs' own. [`cli::migrate_with`](crate::cli::migrate_with) gives your binary orgs'
//! `migrate up | down [-n N] | status`.
//!
//! ```
//! use orgs::migration::{
//!     ColumnDef, DbErr, DynIden, ForeignKeyAction, IntoIden, MigrationName, MigrationTrait,
//!     MigratorTrait, SchemaManager, Table, async_trait,
//! };
//!
//! pub struct Migrator;
//!
//! impl MigratorTrait for Migrator {
//!     fn migration_table_name() -> DynIden {
//!         "myapp_migrations".into_iden()
//!     }
//!     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
//!         vec![Box::new(CreateNotes)]
//!     }
//! }
//!
//! struct CreateNotes;
//!
//! impl MigrationName for CreateNotes {
//!     fn name(&self) -> &str {
//!         "m20261201_000001_create_notes"
//!     }
//! }
//!
//! #[async_trait::async_trait]
//! #[allow(elided_lifetimes_in_paths)] // the signature async_trait declares
//! impl MigrationTrait for CreateNotes {
//!     async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
//!         orgs::migration::create_tenant_table(
//!             manager,
//!             "notes",
//!             Table::create()
//!                 .col(ColumnDef::new("id").big_integer().not_null().auto_increment().primary_key())
//!                 .col(ColumnDef::new("body").text().not_null()),
//!             ForeignKeyAction::Cascade,
//!         )
//!         .await
//!     }
//!
//!     async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
//!         manager.drop_table(Table::drop().table("notes").to_owned()).await
//!     }
//! }
//!
//! /// orgs' migrations, then yours: at start, or from `myapp migrate`.
//! async fn migrate(db: &orgs::sea_orm::DatabaseConnection) -> anyhow::Result<()> {
//!     orgs::cli::migrate_with::<orgs::migration::Migrator>(db, orgs::cli::MigrateAction::Up).await?;
//!     orgs::cli::migrate_with::<Migrator>(db, orgs::cli::MigrateAction::Up).await
//! }
//! # fn main() {}
//! ```
//!
//! ## 3. Permissions, handlers, audit events, routes
//!
//! Your permissions join orgs' catalog (the built-in roles hold them as you say; custom roles may
//! be given them). The route table names the permission each route needs; orgs checks it before
//! the handler runs and hands the handler a [`TenantCtx`](crate::web::TenantCtx): the request's
//! [`Tenant`](crate::web::Tenant) and its transaction, the only way to the table. The handler
//! does not commit: orgs commits when it answers `Ok` and rolls back when it answers `Err`, so an
//! audit event commits with the change or not at all. The routes are a table like orgs' own,
//! given to the state: served at every organization's root (subdomain, `/o/{slug}/`, custom
//! domain, API key), listed by [`routes::access_table_of`](crate::routes::access_table_of), and
//! their API operations in `/api/v1/openapi.json` (from your `#[utoipa::path]`s). Routes outside
//! any organization are a closure, which may hold your configuration.
//!
//! ```no_run
//! # pub mod note {
//! #     use orgs::sea_orm;
//! #     use sea_orm::entity::prelude::*;
//! #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
//! #     #[sea_orm(table_name = "notes")]
//! #     pub struct Model {
//! #         #[sea_orm(primary_key)]
//! #         pub id: i64,
//! #         pub organization_id: i64,
//! #         pub body: String,
//! #     }
//! #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//! #     pub enum Relation {}
//! #     impl ActiveModelBehavior for ActiveModel {}
//! #     orgs::entity::tenant_owned!(Column::OrganizationId);
//! # }
//! use actix_web::http::Method;
//! use actix_web::{HttpResponse, web};
//! use orgs::permissions::{Catalog, Holders, Permission};
//! use orgs::routes::{Needs, TenantRoute};
//! use orgs::sea_orm::{ActiveModelTrait as _, ActiveValue::Set, QueryOrder as _};
//! use orgs::web::{Json, TenantCtx};
//! use orgs::{AppError, AppState, Application, utoipa};
//!
//! /// `notes.read`
//! pub const NOTES_READ: Permission = Permission::new("notes.read");
//! /// `notes.write`
//! pub const NOTES_WRITE: Permission = Permission::new("notes.write");
//!
//! /// The notes, oldest first
//! #[utoipa::path(get, path = "/api/v1/notes/", operation_id = "list_notes",
//!     responses((status = 200, description = "The notes.")))]
//! async fn list(TenantCtx { tx, .. }: TenantCtx) -> Result<HttpResponse, AppError> {
//!     let notes = tx
//!         .select::<note::Entity>()
//!         .order_by_asc(note::Column::Id)
//!         .all(tx.conn())
//!         .await?;
//!     Ok(HttpResponse::Ok().json(notes))
//! }
//!
//! #[derive(serde::Deserialize, utoipa::ToSchema)]
//! struct NewNote {
//!     body: String,
//! }
//!
//! /// Add a note
//! #[utoipa::path(post, path = "/api/v1/notes/", operation_id = "add_note",
//!     request_body = NewNote, responses((status = 201, description = "The note.")))]
//! async fn add(
//!     body: Json<NewNote>, // read in full before the transaction opens
//!     TenantCtx { tx, .. }: TenantCtx,
//! ) -> Result<HttpResponse, AppError> {
//!     let mut row: note::ActiveModel = tx.new_active_model(); // organization_id is set
//!     row.body = Set(body.into_inner().body);
//!     let saved = row.insert(tx.conn()).await?;
//!     orgs::audit::record(
//!         &tx,
//!         "note.created",
//!         Some(orgs::audit::Target::new("note", saved.id, saved.body.clone())),
//!         None,
//!     )
//!     .await?;
//!     Ok(HttpResponse::Created().json(saved))
//! }
//!
//! #[derive(utoipa::OpenApi)]
//! #[openapi(paths(list, add))]
//! struct ApiDoc;
//!
//! fn tenant_routes() -> Vec<TenantRoute> {
//!     vec![
//!         TenantRoute::new(Method::GET, "/api/v1/notes/", Needs::Permission(NOTES_READ),
//!             || web::get().to(list)),
//!         TenantRoute::new(Method::POST, "/api/v1/notes/", Needs::Permission(NOTES_WRITE),
//!             || web::post().to(add))
//!         .creating(), // retries with the same Idempotency-Key add one note
//!     ]
//! }
//!
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> {
//!     let settings = orgs::Settings::load()?;
//!     let db = orgs::db::connect(&settings.database).await?;
//!     orgs::db::migrate(&db).await?; // and yours (step 2)
//!     let state = AppState::new(settings, db, orgs::Events::new())?
//!         .with_permissions(|catalog: Catalog| {
//!             catalog
//!                 .with(NOTES_READ, "See notes", Holders::Member)
//!                 .with(NOTES_WRITE, "Add notes", Holders::Member)
//!         })
//!         .with_tenant_routes(tenant_routes(), <ApiDoc as utoipa::OpenApi>::openapi());
//!     let greeting = String::from("hello");
//!     let app = Application::build_with_routes(state, move |cfg: &mut web::ServiceConfig| {
//!         let greeting = greeting.clone();
//!         cfg.route("/hello/", web::get().to(move || {
//!             let greeting = greeting.clone();
//!             async move { greeting }
//!         }));
//!     })
//!     .await?;
//!     app.run_until_stopped().await?;
//!     Ok(())
//! }
//! ```
//!
//! ## 4. Tests
//!
//! Start your app on port 0 over a fresh database and speak HTTP, as `examples/embed/tests`
//! does: a member sees only their organization's rows, another organization's answer 404, a
//! member without the permission gets 403 naming it, deleting the organization deletes its rows,
//! and on PostgreSQL, connected as the ordinary app role ([`tenancy::rls::create_app_role`]),
//! [`tenancy::rls::check`] passes with your table in it and an unscoped query outside a tenant
//! sees nothing. Your routes' rows of an isolation matrix are [`TenantRoute`]s: walk
//! `state.tenant_routes.routes` the way orgs' `tests/api/tenancy` walks `TENANT_ROUTES` (each
//! route as a non-member: 404; as a member without its permission: 403), and
//! [`routes::openapi::build_with`] answers the problems between your table and your
//! description (empty when every served API route is described and only those).
//!
//! [`tenancy::rls::create_app_role`]: crate::tenancy::rls::create_app_role
//! [`tenancy::rls::check`]: crate::tenancy::rls::check
//! [`TenantRoute`]: crate::routes::TenantRoute
//! [`routes::openapi::build_with`]: crate::routes::openapi::build_with
//!
//! ## What an embedder's binary pulls in
//!
//! orgs' dependencies and nothing of its own beyond actix-web, tokio, serde and anyhow (the
//! example's `Cargo.toml`): 314 crates in all, orgs alone being 313. `examples/embed` builds from
//! an empty `target/` in 3 min 5 s (debug, 2 cores; docs/benchmarks.md).
