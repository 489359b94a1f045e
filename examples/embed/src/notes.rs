//! The notes service: what the pages and the API do to the table, always through the request's
//! tenant transaction (so another organization's notes do not exist here), each change with its
//! audit event in that transaction, committed together by the route or not at all.

use orgs::audit::{self, Target};
use orgs::cursor::ListCursors;
use orgs::tenancy::TenantTxn;
use orgs::validator::Validate;
use orgs::web::pagination::{self, CursorPage};
use orgs::web::rows::TenantRow;
use orgs::{AppError, sea_orm, utoipa};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, IntoActiveModel as _, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::note;

/// A note's text, as the form and the API give it; checked, trimmed, with orgs' form helper
/// (`orgs::web::forms::check`: every problem at once).
#[derive(Clone, Debug, Default, Deserialize, Serialize, Validate, utoipa::ToSchema)]
#[validate(crate = "orgs::validator")]
#[schema(as = NewNote)]
pub struct NoteInput {
    /// Its text, 1 to 2,000 characters (spaces around it are dropped).
    #[serde(default)]
    #[validate(length(
        min = 1,
        max = 2000,
        message = "Write a note of 1 to 2,000 characters."
    ))]
    #[schema(
        min_length = 1,
        max_length = 2000,
        example = "Call the printer about the flyers"
    )]
    pub body: String,
}

impl NoteInput {
    /// The input as it is checked and stored: without the spaces around it.
    pub fn trimmed(self) -> Self {
        Self {
            body: self.body.trim().to_string(),
        }
    }
}

/// A note, by `{id}`: a handler taking `Found<Note>` gets the organization's note the path
/// names, loaded in the request's transaction after the route's check; another's, or none, is
/// 404 before the handler runs.
#[derive(Debug)]
pub struct Note;

impl TenantRow for Note {
    type Row = note::Model;
    const PARAM: &'static str = "id";
    fn load(
        tx: &TenantTxn,
        id: i64,
    ) -> impl Future<Output = Result<Option<note::Model>, DbErr>> + Send {
        tx.select::<note::Entity>()
            .filter(note::Column::Id.eq(id))
            .one(tx.conn())
    }
}

/// One page of the organization's notes, oldest first: after the note `after` names (a `next`
/// of `cursors`; the first page without it), `per_page` of them (orgs' default without it).
/// A wrong value of either is orgs' 422 naming it.
pub async fn page(
    tx: &TenantTxn,
    cursors: &ListCursors,
    after: Option<&str>,
    per_page: Option<&str>,
) -> Result<CursorPage<note::Model>, AppError> {
    let (after, per_page) = pagination::cursor(cursors, after, per_page, pagination::MAX_PER_PAGE)?;
    let mut select = tx.select::<note::Entity>();
    if let Some(after) = after {
        select = select.filter(note::Column::Id.gt(after));
    }
    let mut notes = select
        .order_by_asc(note::Column::Id)
        .limit(per_page + 1)
        .all(tx.conn())
        .await?;
    let next = pagination::next_cursor(cursors, &mut notes, per_page, |n| n.id);
    Ok(CursorPage {
        items: notes,
        per_page,
        next,
        // Counting would read every note: left out, as orgs' filtered lists do.
        total: None,
        page: None,
    })
}

/// What the audit log shows of a note: its first 60 characters.
fn target(note: &note::Model) -> Target {
    let label: String = note.body.chars().take(60).collect();
    Target::new("note", note.id, label)
}

/// Adds a note (the input checked) and records `note.created`.
pub async fn create(tx: &TenantTxn, input: NoteInput) -> Result<note::Model, AppError> {
    let mut row: note::ActiveModel = tx.new_active_model();
    row.body = Set(input.body);
    let saved = row.insert(tx.conn()).await?;
    audit::record(tx, "note.created", Some(target(&saved)), None).await?;
    Ok(saved)
}

/// Replaces the text of `note`, a row of the transaction's organization (the input checked),
/// and records `note.updated`.
pub async fn update(
    tx: &TenantTxn,
    note: note::Model,
    input: NoteInput,
) -> Result<note::Model, AppError> {
    let mut row = note.into_active_model();
    row.body = Set(input.body);
    let saved = row.update(tx.conn()).await?;
    audit::record(tx, "note.updated", Some(target(&saved)), None).await?;
    Ok(saved)
}

/// Deletes `note`, a row of the transaction's organization, and records `note.deleted`.
pub async fn delete(tx: &TenantTxn, note: &note::Model) -> Result<(), AppError> {
    if tx
        .delete_row::<note::Entity>(note::Column::Id, note.id)
        .await?
    {
        audit::record(tx, "note.deleted", Some(target(note)), None).await?;
    }
    Ok(())
}
