//! The Notes pages: the list (a page at a time), the forms that add and edit a note (shown
//! again with their messages and the input kept when refused), and the confirmation before
//! deleting one. Thin handlers: each parses, calls one function of [`crate::notes`] and renders
//! or redirects, with orgs' helpers only (`tenant_page`, `render`, `Page::form`,
//! `forms::check`/`saved`, `flash`, `Found`).

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use orgs::error::FieldErrors;
use orgs::routes::tenant_page;
use orgs::web::pagination;
use orgs::web::{Found, Page, Tenant, TenantCtx, flash, forms, render};
use orgs::{AppError, AppState};

use crate::api::NotesQuery;
use crate::note;
use crate::notes::{self, Note, NoteInput};

/// `GET /notes/`: a page of notes, oldest first, with the links to the pages before and after.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: orgs::web::Query<NotesQuery>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    // A page's link may carry an empty `after` (the first page); the API refuses one.
    let after = pagination::given(query.after.as_deref());
    let cursors = state.cursors.of("notes");
    let list = notes::page(&tx, &cursors, after, query.per_page.as_deref()).await?;
    let page = tenant_page("notes/list.html", &tenant)
        .with("notes", &list.items)
        .with("next", &list.next)
        .with("per_page", list.per_page)
        .with("first", after.is_none());
    render(&req, page).await
}

/// The form of a new note (`note` `None`) or of `note`, with `input` and its `errors`.
fn form_page(
    tenant: &Tenant,
    input: &NoteInput,
    errors: &FieldErrors,
    note: Option<&note::Model>,
) -> Page {
    tenant_page("notes/form.html", tenant)
        .form(input, errors)
        .with("note", note)
}

/// `GET /notes/new/`
pub async fn new_form(req: HttpRequest, tenant: Tenant) -> Result<HttpResponse, AppError> {
    let page = form_page(&tenant, &NoteInput::default(), &FieldErrors::new(), None);
    render(&req, page).await
}

/// `POST /notes/new/`: the note added and back to the list, or the form again with its
/// messages.
pub async fn create(
    req: HttpRequest,
    session: Session,
    form: orgs::web::Form<NoteInput>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let input = form.into_inner().trimmed();
    if let Err(errors) = forms::check(&input) {
        return render(&req, form_page(&tenant, &input, &errors, None)).await;
    }
    notes::create(&tx, input).await?;
    Ok(forms::saved(
        &session,
        "Note added.",
        &tenant.url("/notes/"),
    ))
}

/// `GET /notes/{id}/edit/`
pub async fn edit_form(
    req: HttpRequest,
    Found { tenant, row, .. }: Found<Note>,
) -> Result<HttpResponse, AppError> {
    let input = NoteInput {
        body: row.body.clone(),
    };
    let page = form_page(&tenant, &input, &FieldErrors::new(), Some(&row));
    render(&req, page).await
}

/// `POST /notes/{id}/edit/`: the note changed and back to the list, or the form again with its
/// messages.
pub async fn edit(
    req: HttpRequest,
    session: Session,
    form: orgs::web::Form<NoteInput>,
    Found {
        tenant, tx, row, ..
    }: Found<Note>,
) -> Result<HttpResponse, AppError> {
    let input = form.into_inner().trimmed();
    if let Err(errors) = forms::check(&input) {
        return render(&req, form_page(&tenant, &input, &errors, Some(&row))).await;
    }
    notes::update(&tx, row, input).await?;
    Ok(forms::saved(
        &session,
        "Note saved.",
        &tenant.url("/notes/"),
    ))
}

/// `GET /notes/{id}/delete/`: what would go, and the button that confirms it.
pub async fn delete_form(
    req: HttpRequest,
    Found { tenant, row, .. }: Found<Note>,
) -> Result<HttpResponse, AppError> {
    render(
        &req,
        tenant_page("notes/delete.html", &tenant).with("note", row),
    )
    .await
}

/// `POST /notes/{id}/delete/`: the note deleted and back to the list.
pub async fn delete(
    session: Session,
    Found {
        tenant, tx, row, ..
    }: Found<Note>,
) -> Result<HttpResponse, AppError> {
    notes::delete(&tx, &row).await?;
    flash::success(&session, "Note deleted.");
    Ok(orgs::web::render::redirect(&tenant.url("/notes/")))
}
