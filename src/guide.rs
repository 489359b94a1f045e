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
//! A route that belongs to a paid feature says so in the table,
//! `TenantRoute::new(...).feature("notes")`: when the organization's plan lacks it, a member
//! gets 402 `plan_required` (a non-member still 404). Your billing sets plans and seat limits
//! with `orgs::organizations::billing::change` (docs/seats-and-plans.md).
//!
//! ## 4. Pages: a list, forms, a confirmation
//!
//! A table's pages go in the same route table as its API: `GET /notes/` with
//! `Needs::Permission(NOTES_READ)`, the forms with `NOTES_WRITE`, the confirmation and the delete
//! with a `NOTES_DELETE` of their own. Each handler is thin: it parses (the form is read before
//! the context, as `orgs::web::Form<T>`), checks with [`forms::check`] (every problem at once, by
//! field), calls one service function, and renders or redirects.
//!
//! - **A page** is [`tenant_page`] (the organization, `root`, what the requester `can`) with the
//!   handler's values, given to [`render`], which adds the signed-in user, the CSRF token and the
//!   flash messages.
//! - **A list a page at a time**: [`pagination::cursor`] reads `?after=&per_page=` (a wrong value
//!   is a 422 naming it; [`pagination::given`] lets a page's link carry an empty `after`), and
//!   [`pagination::next_cursor`] cuts the page and seals the cursor of the next.
//! - **A refused form is shown again** with [`Page::form`]: the input as `form` and the messages
//!   as `errors`, which the `forms.*` components of `templates/forms.html` read: each field keeps
//!   its value, its message is tied to it (`aria-invalid`, `aria-describedby`), and
//!   `{{ <forms.errors/> }}` lists them all above the form.
//! - **After a change**, [`forms::saved`] flashes a message for the next page and answers 303 (or
//!   [`flash::success`] and [`redirect`] apart, as the delete below does).
//! - **A row the path names** comes as [`Found<R>`] for a [`TenantRow`] of yours: loaded in the
//!   request's transaction after the route's check; another organization's, or none, is 404
//!   before the handler runs. Its confirmation page is a `GET` that shows what would go and a
//!   form that `POST`s to the same path.
//!
//! Input is checked with validator's derive through orgs' re-export (no dependency of your own):
//! `#[derive(orgs::validator::Validate)]` with `#[validate(crate = "orgs::validator")]`.
//! `Session` (for the flash) is actix-session's, orgs' version.
//!
//! [`forms::check`]: crate::web::forms::check
//! [`forms::saved`]: crate::web::forms::saved
//! [`tenant_page`]: crate::routes::tenant_page
//! [`render`]: crate::web::render()
//! [`pagination::cursor`]: crate::web::pagination::cursor
//! [`pagination::given`]: crate::web::pagination::given
//! [`pagination::next_cursor`]: crate::web::pagination::next_cursor
//! [`Page::form`]: crate::web::Page::form
//! [`flash::success`]: crate::web::flash::success
//! [`redirect`]: crate::web::render::redirect
//! [`Found<R>`]: crate::web::Found
//! [`TenantRow`]: crate::web::rows::TenantRow
//!
//! ```no_run
//! # pub mod note { // step 1's entity
//! #     use orgs::sea_orm::{self, entity::prelude::*};
//! #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
//! #     #[sea_orm(table_name = "notes")]
//! #     pub struct Model { #[sea_orm(primary_key)] pub id: i64, pub organization_id: i64, pub body: String }
//! #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)] pub enum Relation {}
//! #     impl ActiveModelBehavior for ActiveModel {}
//! #     orgs::entity::tenant_owned!(Column::OrganizationId);
//! # }
//! # use orgs::permissions::Permission;
//! # const NOTES_READ: Permission = Permission::new("notes.read");
//! # const NOTES_WRITE: Permission = Permission::new("notes.write");
//! # const NOTES_DELETE: Permission = Permission::new("notes.delete");
//! use actix_session::Session;
//! use actix_web::http::Method;
//! use actix_web::{HttpRequest, HttpResponse, web};
//! use orgs::audit::{self, Target};
//! use orgs::routes::{Needs, TenantRoute, tenant_page};
//! use orgs::sea_orm::{ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _};
//! use orgs::sea_orm::{DbErr, QueryFilter as _, QueryOrder as _, QuerySelect as _};
//! use orgs::tenancy::TenantTxn;
//! use orgs::validator::Validate;
//! use orgs::web::pagination::{self, MAX_PER_PAGE};
//! use orgs::web::rows::TenantRow;
//! use orgs::web::{Found, TenantCtx, flash, forms, render};
//! use orgs::{AppError, AppState};
//!
//! /// A note's text, as the form sends it.
//! #[derive(Default, serde::Deserialize, serde::Serialize, Validate)]
//! #[validate(crate = "orgs::validator")]
//! struct NoteInput {
//!     #[serde(default)]
//!     #[validate(length(min = 1, max = 2000, message = "Write 1 to 2,000 characters."))]
//!     body: String,
//! }
//!
//! /// A note, by `{id}`.
//! #[derive(Debug)]
//! struct Note;
//!
//! impl TenantRow for Note {
//!     type Row = note::Model;
//!     const PARAM: &'static str = "id";
//!     fn load(
//!         tx: &TenantTxn,
//!         id: i64,
//!     ) -> impl Future<Output = Result<Option<note::Model>, DbErr>> + Send {
//!         tx.select::<note::Entity>().filter(note::Column::Id.eq(id)).one(tx.conn())
//!     }
//! }
//!
//! #[derive(serde::Deserialize)]
//! struct ListQuery {
//!     after: Option<String>,
//!     per_page: Option<String>,
//! }
//!
//! /// `GET /notes/`: a page of notes, oldest first.
//! async fn list(
//!     req: HttpRequest,
//!     state: web::Data<AppState>,
//!     query: orgs::web::Query<ListQuery>,
//!     TenantCtx { tenant, tx, .. }: TenantCtx,
//! ) -> Result<HttpResponse, AppError> {
//!     let cursors = state.cursors.of("notes");
//!     let after = pagination::given(query.after.as_deref());
//!     let (after_id, per_page) =
//!         pagination::cursor(&cursors, after, query.per_page.as_deref(), MAX_PER_PAGE)?;
//!     let mut select = tx.select::<note::Entity>();
//!     if let Some(id) = after_id {
//!         select = select.filter(note::Column::Id.gt(id));
//!     }
//!     let mut notes = select
//!         .order_by_asc(note::Column::Id)
//!         .limit(per_page + 1) // one more: is there a next page?
//!         .all(tx.conn())
//!         .await?;
//!     let next = pagination::next_cursor(&cursors, &mut notes, per_page, |n| n.id);
//!     let page = tenant_page("notes/list.html", &tenant)
//!         .with("notes", notes)
//!         .with("next", next)
//!         .with("per_page", per_page)
//!         .with("first", after.is_none());
//!     render(&req, page).await
//! }
//!
//! /// `POST /notes/new/`: added, or the form again with its messages and the input kept.
//! async fn create(
//!     req: HttpRequest,
//!     session: Session,
//!     form: orgs::web::Form<NoteInput>,
//!     TenantCtx { tenant, tx, .. }: TenantCtx,
//! ) -> Result<HttpResponse, AppError> {
//!     let input = form.into_inner();
//!     if let Err(errors) = forms::check(&input) {
//!         let page = tenant_page("notes/form.html", &tenant).form(&input, &errors);
//!         return render(&req, page).await;
//!     }
//!     let mut row: note::ActiveModel = tx.new_active_model();
//!     row.body = Set(input.body);
//!     let saved = row.insert(tx.conn()).await?;
//!     let target = Target::new("note", saved.id, saved.body.clone());
//!     audit::record(&tx, "note.created", Some(target), None).await?;
//!     Ok(forms::saved(&session, "Note added.", &tenant.url("/notes/")))
//! }
//!
//! /// `GET /notes/{id}/delete/`: what would go, and the button that confirms it.
//! async fn delete_form(
//!     req: HttpRequest,
//!     Found { tenant, row, .. }: Found<Note>,
//! ) -> Result<HttpResponse, AppError> {
//!     render(&req, tenant_page("notes/delete.html", &tenant).with("note", row)).await
//! }
//!
//! /// `POST /notes/{id}/delete/`
//! async fn delete(
//!     session: Session,
//!     Found { tenant, tx, row, .. }: Found<Note>,
//! ) -> Result<HttpResponse, AppError> {
//!     tx.delete_row::<note::Entity>(note::Column::Id, row.id).await?;
//!     let target = Target::new("note", row.id, row.body.clone());
//!     audit::record(&tx, "note.deleted", Some(target), None).await?;
//!     flash::success(&session, "Note deleted.");
//!     Ok(orgs::web::render::redirect(&tenant.url("/notes/")))
//! }
//!
//! fn page_routes() -> Vec<TenantRoute> {
//!     let (read, write) = (Needs::Permission(NOTES_READ), Needs::Permission(NOTES_WRITE));
//!     let delete_needs = Needs::Permission(NOTES_DELETE);
//!     vec![
//!         TenantRoute::new(Method::GET, "/notes/", read, || web::get().to(list)),
//!         TenantRoute::new(Method::POST, "/notes/new/", write, || web::post().to(create)),
//!         TenantRoute::new(Method::GET, "/notes/{id}/delete/", delete_needs, || {
//!             web::get().to(delete_form)
//!         }),
//!         TenantRoute::new(Method::POST, "/notes/{id}/delete/", delete_needs, || {
//!             web::post().to(delete)
//!         }),
//!     ]
//! }
//! # fn main() { let _ = page_routes(); }
//! ```
//!
//! The templates extend orgs' `base.html` (the header, the organization switcher, the
//! navigation, the flash messages) and fill its blocks: `title`, `content`, and for what your
//! app adds around orgs' own, `head` (a stylesheet, inside `<head>` after orgs'), `nav_extra`
//! (links in both navigations, the wide one and the phone menu) and `scripts` (before
//! `</body>`). They are given to the state with `AppState::with_templates`; the form uses the
//! `forms.*` components, which read `form`, `errors` and `csrf_token` from the page:
//!
//! ```
//! const FORM: &str = r#"{% extends "base.html" %}
//! {% block title %}New note · {{ organization.name }}{% endblock title %}
//! {% block head %}<link rel="stylesheet" href="/static/notes.css">{% endblock head %}
//! {% block content %}
//! {{ <forms.errors/> }}
//! <form method="post" action="{{ root }}/notes/new/">
//!   {{ <forms.csrf/> }}
//!   {{ <forms.textarea name="body" label="Note" required={true}/> }}
//!   {{ <forms.actions submit="Save" cancel={root ~ "/notes/"}/> }}
//! </form>
//! {% endblock content %}"#;
//!
//! // In the list's template, under the notes: the links to the first and the next page.
//! const LIST_PAGER: &str = r#"
//! {% if not first %}<a href="?per_page={{ per_page }}">First page</a>{% endif %}
//! {% if next %}<a rel="next"
//!   href="?after={{ next | urlencode }}&amp;per_page={{ per_page }}">Next</a>{% endif %}"#;
//!
//! const DELETE: &str = r#"{% extends "base.html" %}
//! {% block content %}
//! <h1>Delete this note?</h1>
//! <blockquote>{{ note.body }}</blockquote>
//! <form method="post" action="{{ root }}/notes/{{ note.id }}/delete/">
//!   {{ <forms.csrf/> }}
//!   {{ <forms.actions submit="Delete" cancel={root ~ "/notes/"} danger={true}/> }}
//! </form>
//! {% endblock content %}"#;
//! # let templates =
//! #     [("notes/form.html", FORM), ("notes/pager.html", LIST_PAGER), ("notes/delete.html", DELETE)];
//! # let templates = templates.map(|(n, s)| (n.to_string(), s.to_string()));
//! # let tera = orgs::templates::load_with(&templates).unwrap();
//! # let mut page = tera::Context::new();
//! # page.insert("organization", &serde_json::json!({"name": "Acme", "slug": "acme"}));
//! # page.insert("root", "/o/acme");
//! # page.insert("csrf_token", "t0k3n");
//! # page.insert("form", &serde_json::json!({"body": "x"}));
//! # page.insert("errors", &serde_json::json!({"body": ["Write 1 to 2,000 characters."]}));
//! # let html = tera.render("notes/form.html", &page).unwrap();
//! # assert!(html.contains(r#"aria-invalid="true""#) && html.contains(">x</textarea>"), "{html}");
//! # assert!(html.contains(r#"href="/static/notes.css""#), "{html}");
//! # page.insert("note", &serde_json::json!({"id": 7, "body": "Buy milk"}));
//! # assert!(tera.render("notes/delete.html", &page).unwrap().contains("/o/acme/notes/7/delete/"));
//! # page.insert("first", &false);
//! # page.insert("next", "abc");
//! # page.insert("per_page", &2);
//! # let pager = tera.render("notes/pager.html", &page).unwrap();
//! # assert!(pager.contains("?after=abc&amp;per_page=2"), "{pager}");
//! ```
//!
//! `examples/embed` has the whole of it: the list, the forms to add and edit, the confirmation,
//! its stylesheet through the `head` block, and tests that drive the forms over HTTP (CSRF, a
//! refused input shown again, the pages of the list, 403 without the permission).
//!
//! ## 5. Tests
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
//! orgs' dependencies and nothing of its own beyond actix-web, actix-session, tokio, serde and
//! anyhow (the example's `Cargo.toml`): 314 crates in all, orgs alone being 313. `examples/embed` builds from
//! an empty `target/` in 3 min 5 s (debug, 2 cores; docs/benchmarks.md).
