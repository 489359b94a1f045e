//! An app of its own that embeds orgs: orgs gives it accounts, organizations, tenancy and the
//! people pages; it adds one organization-scoped table, `notes`, and its page and API. This is
//! what a SaaS team writes for each of their own tables: an entity that names its organization
//! column, a migration of its own (with its own migration table) that puts the table under orgs'
//! row-level security, permissions of its own (`notes.read`, `notes.write`) added to orgs'
//! catalog and named in its route table, an audit event for what it changes, and handlers that
//! reach the table only through the tenant context orgs hands them (and commits for them).

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use orgs::AppError;
use orgs::AppState;
use orgs::audit::{self, Target};
use orgs::migration::{
    ColumnDef, DynIden, ForeignKeyAction, IntoIden, MigrationName, MigrationTrait, MigratorTrait,
    SchemaManager, Table, async_trait,
};
use orgs::permissions::{Catalog, Holders, Permission};
use orgs::routes::{Needs, TenantRoute};
use orgs::utoipa;
use orgs::web::pagination::{self, CursorPage};
use orgs::web::{Json, TenantCtx};
// orgs' sea-orm, under the name its derive macros expect: no sea-orm dependency of our own.
use orgs::sea_orm;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

/// `notes.read`: see the organization's notes.
pub const NOTES_READ: Permission = Permission::new("notes.read");
/// `notes.write`: add notes.
pub const NOTES_WRITE: Permission = Permission::new("notes.write");

/// orgs' catalog with the example's permissions: every member reads and writes notes (the
/// built-in `member` role holds both), and custom roles may be given either.
pub fn permissions(catalog: Catalog) -> Catalog {
    catalog.with(NOTES_READ, "See notes", Holders::Member).with(
        NOTES_WRITE,
        "Add notes",
        Holders::Member,
    )
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
/// ones (from [`ApiDoc`]).
pub fn tenant_routes() -> Vec<TenantRoute> {
    vec![
        TenantRoute::new(
            Method::GET,
            "/notes/",
            Needs::Permission(NOTES_READ),
            || web::get().to(page),
        ),
        TenantRoute::new(
            Method::GET,
            "/api/v1/notes/",
            Needs::Permission(NOTES_READ),
            || web::get().to(list),
        ),
        TenantRoute::new(
            Method::POST,
            "/api/v1/notes/",
            Needs::Permission(NOTES_WRITE),
            || web::post().to(add),
        )
        .creating(),
    ]
}

/// The OpenAPI description of the notes API.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, add), components(schemas(note::Model, NewNote)))]
pub struct ApiDoc;

/// Routes outside any organization, made from the app's own configuration: a closure holds
/// it (`GET /hello/` answers `greeting`).
pub fn global_routes(greeting: String) -> impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static {
    move |cfg| {
        let greeting = greeting.clone();
        cfg.route(
            "/hello/",
            web::get().to(move || {
                let greeting = greeting.clone();
                async move { HttpResponse::Ok().body(greeting) }
            }),
        );
    }
}

/// The example's own template, added to orgs' (it extends orgs' `base.html`, so the page has
/// the header, the switcher and the navigation).
pub const TEMPLATES: &[(&str, &str)] = &[(
    "notes/list.html",
    include_str!("../templates/notes/list.html"),
)];

/// The example's settings: orgs' (`Settings::load`, or a test's), with Projects, orgs' built-in
/// example resource, switched off (`projects.enabled = false`): this app's resource is Notes.
pub fn settings(mut settings: orgs::Settings) -> orgs::Settings {
    settings.projects.enabled = false;
    settings
}

/// orgs' state with the example's permissions, templates and its Notes entry in the navigation.
pub fn state(state: AppState) -> anyhow::Result<AppState> {
    state
        .with_permissions(permissions)
        .with_tenant_routes(tenant_routes(), <ApiDoc as utoipa::OpenApi>::openapi())
        .with_nav_item("Notes", "/notes/", Some(NOTES_READ))
        .with_templates(TEMPLATES)
}

/// The organization's notes, oldest first, read through the tenant's transaction.
async fn all_notes(tx: &orgs::tenancy::TenantTxn) -> Result<Vec<note::Model>, AppError> {
    Ok(tx
        .select::<note::Entity>()
        .order_by_asc(note::Column::Id)
        .all(tx.conn())
        .await?)
}

/// `GET /notes/`: the notes as a page.
async fn page(
    req: actix_web::HttpRequest,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let notes = all_notes(&tx).await?;
    let page = orgs::routes::tenant_page("notes/list.html", &tenant).with("notes", notes);
    orgs::web::render(&req, page).await
}

/// A new note.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewNote {
    /// Its text.
    pub body: String,
}

/// `?after=&per_page=` of the notes list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotesQuery {
    /// The `next` of the page before (opaque); the first page without it.
    #[param(value_type = Option<String>)]
    after: Option<String>,
    /// Notes per page, 1 to 100 (50 when left out).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

/// The organization's notes
///
/// Oldest first, a page at a time in orgs' list envelope; another organization's never appear,
/// since the query comes from the tenant.
#[utoipa::path(
    get,
    path = "/api/v1/notes/",
    tag = "notes",
    operation_id = "list_notes",
    params(NotesQuery),
    responses((status = 200, description = "A page of notes.", body = CursorPage<note::Model>)),
)]
async fn list(
    state: web::Data<AppState>,
    query: orgs::web::Query<NotesQuery>,
    TenantCtx { tx, .. }: TenantCtx,
) -> Result<web::Json<CursorPage<note::Model>>, AppError> {
    // orgs' helpers read the parameters (a wrong one is orgs' 422 naming it), cut the page and
    // seal its cursor (opaque, and refused by any other list).
    let cursors = state.cursors.of("notes");
    let (after, per_page) = pagination::cursor(
        &cursors,
        query.after.as_deref(),
        query.per_page.as_deref(),
        pagination::MAX_PER_PAGE,
    )?;
    let mut select = tx.select::<note::Entity>();
    if let Some(after) = after {
        select = select.filter(note::Column::Id.gt(after));
    }
    let mut notes = select
        .order_by_asc(note::Column::Id)
        .limit(per_page + 1)
        .all(tx.conn())
        .await?;
    let next = pagination::next_cursor(&cursors, &mut notes, per_page, |n| n.id);
    Ok(web::Json(CursorPage {
        items: notes,
        per_page,
        next,
        // Counting would read every note: left out, as orgs' filtered lists do.
        total: None,
        page: None,
    }))
}

/// Add a note
///
/// The organization is set by the tenant, never by the body; the note and its `note.created`
/// audit event commit together, when the handler answers `Ok`.
#[utoipa::path(
    post,
    path = "/api/v1/notes/",
    tag = "notes",
    operation_id = "add_note",
    request_body = NewNote,
    responses((status = 201, description = "The note.", body = note::Model)),
)]
async fn add(
    body: Json<NewNote>,
    TenantCtx { tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner().body.trim().to_string();
    if body.is_empty() {
        return Err(AppError::field("body", "write something"));
    }
    let mut row: note::ActiveModel = tx.new_active_model();
    row.body = Set(body);
    let saved = row.insert(tx.conn()).await?;
    let label: String = saved.body.chars().take(60).collect();
    audit::record(
        &tx,
        "note.created",
        Some(Target::new("note", saved.id, label)),
        None,
    )
    .await?;
    Ok(HttpResponse::Created().json(saved))
}
