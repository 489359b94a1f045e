//! `GET /api/v1/organizations/`: the caller's organizations, a list like every other (by name,
//! read by cursor, `?page=` kept).

use actix_web::web;

use super::organizations::{OrganizationLink, link};
use crate::db::ListPage;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::pagination::{CursorPage, KeysetQuery};
use crate::web::{CurrentUser, Query};

/// List my organizations
///
/// The organizations the signed-in person belongs to, by name.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/",
    tag = "account",
    operation_id = "list_organizations",
    params(KeysetQuery),
    responses((status = 200, description = "A page of organizations.", body = CursorPage<OrganizationLink>)),
)]
pub async fn api_list(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    query: Query<KeysetQuery>,
) -> Result<web::Json<CursorPage<OrganizationLink>>, AppError> {
    let list = state.cursors.of("organizations");
    let (position, per_page) = query.into_inner().resolve(&list, false)?;
    let page =
        crate::tenancy::org_rows::page_of_user(&state.db, user.id, &position, per_page).await?;
    let page = ListPage {
        items: page
            .items
            .into_iter()
            .map(|org| link(&state.settings, org))
            .collect(),
        next: page.next,
        total: page.total,
    };
    Ok(web::Json(CursorPage::of(page, &position, per_page, list)))
}
