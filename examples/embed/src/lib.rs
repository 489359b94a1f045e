//! An app of its own that embeds orgs: orgs gives it accounts, organizations, tenancy and the
//! people pages; it adds one organization-scoped table, `notes`, with its pages and API. This is
//! what a SaaS team writes for each of their own tables: an entity that names its organization
//! column, a migration of its own (with its own migration table) that puts the table under orgs'
//! row-level security, permissions of its own (`notes.read`, `notes.write`, `notes.delete`)
//! added to orgs' catalog and named in its route table, an audit event for each change, and
//! handlers that reach the table only through the tenant context orgs hands them (and commits
//! for them): the pages (`pages`: a list a page at a time, forms, a confirmation) and the API
//! (`api`) over one service (`notes`).

pub mod api;
pub mod notes;
pub mod pages;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use orgs::AppState;
use orgs::migration::{
    ColumnDef, DynIden, ForeignKeyAction, IntoIden, MigrationName, MigrationTrait, MigratorTrait,
    SchemaManager, Table, async_trait,
};
use orgs::permissions::{Catalog, Holders, Permission};
use orgs::routes::{Needs, TenantRoute};
use orgs::utoipa;
// orgs' sea-orm, under the name its derive macros expect: no sea-orm dependency of our own.
use orgs::sea_orm;
use sea_orm::DatabaseConnection;
use sea_orm::entity::prelude::*;

/// `notes.read`: see the organization's notes.
pub const NOTES_READ: Permission = Permission::new("notes.read");
/// `notes.write`: add and edit notes.
pub const NOTES_WRITE: Permission = Permission::new("notes.write");
/// `notes.delete`: delete notes.
pub const NOTES_DELETE: Permission = Permission::new("notes.delete");

/// orgs' catalog with the example's permissions: every member reads, adds and edits notes (the
/// built-in `member` role holds both), admins delete them too, and custom roles may be given
/// any of them.
pub fn permissions(catalog: Catalog) -> Catalog {
    catalog
        .with(NOTES_READ, "See notes", Holders::Member)
        .with(NOTES_WRITE, "Add and edit notes", Holders::Member)
        .with(NOTES_DELETE, "Delete notes", Holders::Admin)
}

/// The `notes` table: every row belongs to one organization.
pub mod note {
    use orgs::{sea_orm, utoipa};
    use sea_orm::entity::prelude::*;
    use serde::Serialize;

    /// A note of an organization.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, utoipa::ToSchema)]
    #[schema(as = Note)]
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

    // The column orgs filters every query of this table by.
    orgs::entity::tenant_owned!(Column::OrganizationId);
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
        // organization_id, its foreign key (deleting an organization deletes its notes), the
        // index led by it and the row-level security policy come with the recipe.
        orgs::migration::create_tenant_table(
            manager,
            "notes",
            Table::create()
                .col(
                    ColumnDef::new("id")
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new("body").text().not_null()),
            ForeignKeyAction::Cascade,
        )
        .await
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

/// The notes routes: a table like orgs' own, so the server serves them on every
/// organization's root, the access table lists them, and the OpenAPI document describes the API
/// ones (from [`ApiDoc`]). Each names what it needs; orgs checks it before the handler runs.
pub fn tenant_routes() -> Vec<TenantRoute> {
    let route = |method, path, needs, handler: fn() -> actix_web::Route| {
        TenantRoute::new(method, path, needs, handler)
    };
    let (read, write, delete) = (
        Needs::Permission(NOTES_READ),
        Needs::Permission(NOTES_WRITE),
        Needs::Permission(NOTES_DELETE),
    );
    vec![
        route(Method::GET, "/notes/", read, || web::get().to(pages::list)),
        route(Method::GET, "/notes/new/", write, || {
            web::get().to(pages::new_form)
        }),
        route(Method::POST, "/notes/new/", write, || {
            web::post().to(pages::create)
        }),
        route(Method::GET, "/notes/{id}/edit/", write, || {
            web::get().to(pages::edit_form)
        }),
        route(Method::POST, "/notes/{id}/edit/", write, || {
            web::post().to(pages::edit)
        }),
        route(Method::GET, "/notes/{id}/delete/", delete, || {
            web::get().to(pages::delete_form)
        }),
        route(Method::POST, "/notes/{id}/delete/", delete, || {
            web::post().to(pages::delete)
        }),
        route(Method::GET, "/api/v1/notes/", read, || {
            web::get().to(api::list)
        }),
        route(Method::POST, "/api/v1/notes/", write, || {
            web::post().to(api::add)
        })
        .creating(),
    ]
}

/// The OpenAPI description of the notes API.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api::list, api::add),
    components(schemas(note::Model, notes::NoteInput))
)]
pub struct ApiDoc;

/// The example's own stylesheet, served at `/static/embed.css` and linked from its pages through
/// `base.html`'s `head` block.
pub const STYLESHEET: &str = include_str!("../static/embed.css");

/// Routes outside any organization, made from the app's own configuration: a closure holds
/// it (`GET /hello/` answers `greeting`), and the example's stylesheet.
pub fn global_routes(greeting: String) -> impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static {
    move |cfg| {
        let greeting = greeting.clone();
        cfg.route(
            "/hello/",
            web::get().to(move || {
                let greeting = greeting.clone();
                async move { HttpResponse::Ok().body(greeting) }
            }),
        )
        .route("/static/embed.css", web::get().to(stylesheet));
    }
}

/// `GET /static/embed.css`
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(STYLESHEET)
}

/// The example's own templates, added to orgs'. `notes/base.html` extends orgs' `base.html`
/// (the header, the switcher, the navigation) and adds the example's stylesheet in its `head`
/// block; the pages extend it and build their forms with orgs' `forms.*` components.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "notes/base.html",
        include_str!("../templates/notes/base.html"),
    ),
    (
        "notes/list.html",
        include_str!("../templates/notes/list.html"),
    ),
    (
        "notes/form.html",
        include_str!("../templates/notes/form.html"),
    ),
    (
        "notes/delete.html",
        include_str!("../templates/notes/delete.html"),
    ),
];

/// The example's settings: orgs' (`Settings::load`, or a test's), with Projects, orgs' built-in
/// example resource, switched off (`projects.enabled = false`): this app's resource is Notes.
pub fn settings(mut settings: orgs::Settings) -> orgs::Settings {
    settings.projects.enabled = false;
    settings
}

/// orgs' state with the example's permissions, routes, templates, its Notes entry in the
/// navigation and the sentences of its audit events.
pub fn state(state: AppState) -> anyhow::Result<AppState> {
    state
        .with_permissions(permissions)
        .with_tenant_routes(tenant_routes(), <ApiDoc as utoipa::OpenApi>::openapi())
        .with_nav_item("Notes", "/notes/", Some(NOTES_READ))
        // What the audit page and the overview say of the example's events.
        .with_audit_sentence("note.created", "added the note {target}")
        .with_audit_sentence("note.updated", "changed the note {target}")
        .with_audit_sentence("note.deleted", "deleted the note {target}")
        .with_templates(TEMPLATES)
}
