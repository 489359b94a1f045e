//! The people list: a page of the organization's members by name (read by keyset, or stepped
//! to by number), optionally only those whose name or email holds a search term, and everyone
//! at once for the choices that must offer them all.

use entity::{organization_user, user};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LikeExpr};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};

use super::{PersonRow, PersonView, as_people, memberships, sort_name};
use crate::db::{Keyset, ListPage, Position};
use crate::tenancy::{Scope, ScopedStatement, TenantTxn};

/// The people page's statement (without LIMIT): people matching `matches` (all without), at
/// `position`, in the list's order: sort name (the display name, lowercased), then user id,
/// which the index `(organization_id, sort_name, user_id)` serves (backwards from a `Before`
/// cursor).
fn people_page(
    scope: Scope,
    matches: Option<&Expr>,
    position: &Position,
    backend: DbBackend,
) -> Statement {
    let mut query = memberships(scope);
    if let Some(matches) = matches {
        query = query.filter(matches.clone());
    }
    let (seek, order) = position.seek("organization_users", "sort_name", "user_id");
    if let Some(seek) = seek {
        query = query.filter(seek);
    }
    let ordered = query
        .order_by(sort_name(), order.clone())
        .order_by(organization_user::Column::UserId, order);
    as_people(ordered, backend).into_statement(backend)
}

/// The first people page without a search, the one every visit to the people list runs: built
/// once per backend.
static EVERYONE: ScopedStatement = ScopedStatement::new(|scope, backend| {
    people_page(scope, None, &Position::After(None), backend)
});

/// Members above which a search on PostgreSQL is planned with its pattern every time.
const PLANNED_SEARCH_ABOVE: u64 = 2_000;

/// Whose name or email contains `term` (any case; `%` and `_` are letters, not wildcards).
/// SQLite asks its FTS5 trigram index of the users for a term of three characters or more;
/// PostgreSQL's planner finds the `pg_trgm` indexes for the `LIKE` itself. A shorter term has no
/// trigram to look up, so it is a scan of the organization's members in order, which stops at a
/// page's worth of matches.
fn matching(term: &str, backend: DbBackend) -> Expr {
    if backend == DbBackend::Sqlite && term.chars().count() >= 3 {
        // A quoted FTS5 string: every character literal but `"`, written twice.
        let phrase = format!("\"{}\"", term.replace('"', "\"\""));
        return Expr::cust_with_values(
            "\"organization_users\".\"user_id\" IN \
             (SELECT rowid FROM users_search WHERE users_search MATCH ?)",
            [phrase],
        );
    }
    let pattern = format!("%{}%", crate::text::like_literal(&term.to_lowercase()));
    let like = || LikeExpr::new(pattern.clone()).escape('\\');
    Expr::expr(Func::lower(Expr::col((user::Entity, user::Column::Name))))
        .like(like())
        .or(Expr::col((user::Entity, user::Column::Email)).like(like()))
}

/// One page of the people, by name then user id, optionally only those whose name or email
/// contains `search` (any case). The total is the kept count (`tenancy::counts`), none on a
/// search.
pub async fn list(
    tx: &TenantTxn,
    search: Option<&str>,
    position: &Position,
    per_page: u64,
) -> Result<ListPage<PersonView>, DbErr> {
    let db = tx.conn();
    let scope = tx.scope();
    let backend = db.get_database_backend();
    let search = search.map(str::trim).filter(|t| !t.is_empty());
    let matches = search.map(|term| matching(term, backend));
    let total = match search {
        None => Some(crate::tenancy::counts::of(tx).await?.members),
        Some(_) => None,
    };
    // A page by number without a search: the row before it is found through the index alone,
    // then the page is read after it like any cursor page. OFFSET on the page's own query
    // makes the database build every skipped row, joins and roles included.
    let stepped;
    let position = match position {
        Position::Page(page) if *page > 1 && matches.is_none() => {
            let Some(before) = row_before(tx, (page - 1).saturating_mul(per_page)).await? else {
                return Ok(ListPage {
                    items: Vec::new(),
                    next: None,
                    total,
                    previous: None,
                });
            };
            stepped = Position::After(Some(before));
            &stepped
        }
        other => other,
    };
    if matches.is_some()
        && backend == DbBackend::Postgres
        && crate::tenancy::counts::of(tx).await?.members > PLANNED_SEARCH_ABOVE
    {
        // After five runs of a prepared statement PostgreSQL may keep a generic plan, made
        // without the pattern or the organization: it cannot use the trigram indexes and scans
        // the whole organization. In a big organization the pattern is planned each time; in a
        // small one the scan is the right plan anyway, and planning costs more than it saves.
        db.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
    }
    let statement = match (&matches, position) {
        (None, Position::After(None) | Position::Page(_)) => EVERYONE.statement(scope, backend),
        (matches, position) => people_page(scope, matches.as_ref(), position, backend),
    };
    let rows = PersonRow::find_by_statement(crate::db::page_at(statement, position, per_page))
        .all(db)
        .await?;
    let page = ListPage::cut(rows, position, per_page, total, |row| Keyset {
        key: row.sort_name.clone(),
        id: row.user_id,
    });
    Ok(page.map(PersonView::from))
}

/// How many members' name or email contains `search` (as [`list`] finds them), counted up to
/// `cap`: `cap + 1` means more. The count stops there, so a short term in a big organization
/// costs at most that many rows.
pub async fn count_matching(tx: &TenantTxn, search: &str, cap: u64) -> Result<u64, DbErr> {
    use sea_orm::{JoinType, QueryTrait as _, RelationTrait as _};
    let backend = tx.conn().get_database_backend();
    let matched = tx
        .scope()
        .select::<organization_user::Entity>()
        .join(JoinType::InnerJoin, organization_user::Relation::User.def())
        .filter(matching(search.trim(), backend))
        .select_only()
        .column(organization_user::Column::UserId)
        .build(backend);
    let statement = Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT COUNT(*) FROM ({} LIMIT {}) AS matched",
            matched.sql,
            cap.saturating_add(1)
        ),
        matched.values.map(|v| v.0).unwrap_or_default(),
    );
    let row = tx.conn().query_one_raw(statement).await?;
    let count: i64 = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(u64::try_from(count).unwrap_or_default())
}

/// The sort key of the `rows`-th member in the list's order (from 1), read from the index
/// `(organization_id, sort_name, user_id)` alone; `None` past the last.
async fn row_before(tx: &TenantTxn, rows: u64) -> Result<Option<Keyset>, DbErr> {
    use sea_orm::QueryTrait as _;
    let backend = tx.conn().get_database_backend();
    let mut statement = tx
        .select::<organization_user::Entity>()
        .select_only()
        .column_as(sort_name(), "sort_name")
        .column(organization_user::Column::UserId)
        .order_by(sort_name(), sea_orm::Order::Asc)
        .order_by_asc(organization_user::Column::UserId)
        .build(backend);
    statement
        .sql
        .push_str(&format!(" LIMIT 1 OFFSET {}", rows.saturating_sub(1)));
    let row = tx.conn().query_one_raw(statement).await?;
    row.map(|row| {
        Ok(Keyset {
            key: row.try_get_by_index(0)?,
            id: row.try_get_by_index(1)?,
        })
    })
    .transpose()
}

/// Every member, by name: for choices that must offer everyone (a new owner), however
/// many there are.
pub async fn everyone(tx: &TenantTxn) -> Result<Vec<PersonView>, DbErr> {
    let statement = EVERYONE.statement(tx.scope(), tx.conn().get_database_backend());
    Ok(PersonRow::find_by_statement(statement)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(PersonView::from)
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_people_page_without_a_search_is_built_once_and_bound_to_each_organization() {
        use sea_orm::DbBackend;
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            for organization in [7, 8] {
                let scope = crate::tenancy::Scope::for_test(entity::OrganizationId(organization));
                let reused = super::EVERYONE.statement(scope, backend);
                let fresh =
                    super::people_page(scope, None, &crate::db::Position::After(None), backend);
                assert_eq!(reused.sql, fresh.sql);
                assert_eq!(reused.values, fresh.values);
                assert!(super::EVERYONE.is_reused(backend));
            }
        }
    }
}
