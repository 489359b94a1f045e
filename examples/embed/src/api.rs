//! `/api/v1/notes/`: the notes as JSON, in orgs' list envelope, and adding one. Thin handlers
//! over [`crate::notes`], described for the OpenAPI document by their `#[utoipa::path]`.

use actix_web::{HttpResponse, web};
use orgs::web::forms;
use orgs::web::pagination::CursorPage;
use orgs::web::{Json, TenantCtx};
use orgs::{AppError, AppState, utoipa};
use serde::Deserialize;

use crate::note;
use crate::notes::{self, NoteInput};

/// `?after=&per_page=` of the notes list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotesQuery {
    /// The `next` of the page before (opaque); the first page without it.
    #[param(value_type = Option<String>)]
    pub after: Option<String>,
    /// Notes per page, 1 to 100 (50 when left out).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
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
pub async fn list(
    state: web::Data<AppState>,
    query: orgs::web::Query<NotesQuery>,
    TenantCtx { tx, .. }: TenantCtx,
) -> Result<web::Json<CursorPage<note::Model>>, AppError> {
    // orgs' helpers read the parameters (a wrong one is orgs' 422 naming it), cut the page and
    // seal its cursor (opaque, and refused by any other list).
    let cursors = state.cursors.of("notes");
    let (after, per_page) = (query.after.as_deref(), query.per_page.as_deref());
    Ok(web::Json(
        notes::page(&tx, &cursors, after, per_page).await?,
    ))
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
    request_body = NoteInput,
    responses((status = 201, description = "The note.", body = note::Model)),
)]
pub async fn add(
    body: Json<NoteInput>,
    TenantCtx { tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let input = body.into_inner().trimmed();
    forms::check(&input).map_err(forms::invalid)?;
    let saved = notes::create(&tx, input).await?;
    Ok(HttpResponse::Created().json(saved))
}
