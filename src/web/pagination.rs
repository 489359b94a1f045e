//! The list parameters and envelopes: `?after=&per_page=` read by cursor (DESIGN.md section 9:
//! `{"items", "per_page", "next", "total"}`), and `?page=` where a list kept it as the slower
//! path (`"page"` in the envelope too).

use serde::{Deserialize, Serialize};

use crate::cursor::ListCursors;
use crate::db::Position;
use crate::error::AppError;

/// Largest page size served.
pub const MAX_PER_PAGE: u64 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PER_PAGE: u64 = 50;
/// Highest page number served: past any real list, and small enough that the row offset
/// stays far inside the databases' 64-bit integers.
pub const MAX_PAGE: u64 = 10_000_000;

/// The query parameters.
#[derive(Clone, Copy, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The page, from 1.
    #[param(minimum = 1, maximum = 10_000_000)]
    page: Option<u64>,
    /// Rows per page, 1 to 100 (50 when left out).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u64>,
}

impl PageQuery {
    /// From separately parsed values (for query structs with more fields: serde's `flatten`
    /// cannot read numbers from a query string).
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Self {
        Self { page, per_page }
    }

    /// `(page, per_page)`: page from 1, per_page from 1 to [`MAX_PER_PAGE`] (beyond is a 422
    /// naming `per_page`, not a silent cap).
    pub fn resolve(self) -> Result<(u64, u64), AppError> {
        let page = self.page.unwrap_or(1);
        if page == 0 || page > MAX_PAGE {
            return Err(AppError::field(
                "page",
                format!("pages are numbered from 1 to {MAX_PAGE}"),
            ));
        }
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(AppError::field(
                "per_page",
                format!("must be 1 to {MAX_PER_PAGE}"),
            ));
        }
        Ok((page, per_page))
    }
}

/// A query parameter that was sent and is not blank.
pub fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// A typed query parameter of the JSON API: left out is `None`; present but empty is a 422
/// naming it (the document says what it must be, and an empty value is none of that; a page's
/// filter form, which submits its empty fields, reads them with [`given`] instead).
pub fn present<'a>(field: &str, value: Option<&'a str>) -> Result<Option<&'a str>, AppError> {
    match value.map(str::trim) {
        None => Ok(None),
        Some("") => Err(AppError::field(
            field,
            "must not be empty; leave it out instead",
        )),
        Some(v) => Ok(Some(v)),
    }
}

/// `?after=&per_page=` of a list read by id, newest first: `after` is the `next` of the page
/// before (the last row's id, sealed by `list`), `per_page` from 1 to `max`. Either wrong (a
/// cursor `list` did not seal among them) is a 422 naming it.
pub fn cursor(
    list: &ListCursors,
    after: Option<&str>,
    per_page: Option<&str>,
    max: u64,
) -> Result<(Option<i64>, u64), AppError> {
    let after = present("after", after)?
        .map(|v| {
            list.open(v)
                .filter(|at| at.key.is_empty())
                .map(|at| at.id)
                .ok_or_else(|| AppError::field("after", "must be the next of the page before"))
        })
        .transpose()?;
    let per_page = match present("per_page", per_page)? {
        None => DEFAULT_PER_PAGE.min(max),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| AppError::field("per_page", format!("must be 1 to {max}")))?,
    };
    Ok((after, per_page))
}

/// Cuts `rows` (read with one more than `per_page`, to know whether more follow) to the page and
/// gives the cursor of the next page: the id of the page's last row sealed by `list`, or `None`
/// at the end.
pub fn next_cursor<T>(
    list: &ListCursors,
    rows: &mut Vec<T>,
    per_page: u64,
    id: impl Fn(&T) -> i64,
) -> Option<String> {
    crate::db::next_page(rows, per_page, |row| {
        list.seal(&crate::db::Keyset {
            key: String::new(),
            id: id(row),
        })
    })
}

/// `?after=&page=&per_page=` of a JSON list read by keyset that keeps its page numbers (people,
/// projects, organizations). The pages of those lists read `web::page_links::PagesQuery`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeysetQuery {
    /// The `next` of the page before; the first page without it.
    #[param(value_type = Option<String>)]
    pub after: Option<String>,
    /// The page, from 1: the slower path (the database steps over every row before it); not
    /// with `after`.
    #[param(minimum = 1, maximum = 10_000_000)]
    pub page: Option<u64>,
    /// Rows per page, 1 to 100 (50 when left out).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

impl KeysetQuery {
    /// Where the page starts and how many rows it has; a wrong value is a 422 naming it, an
    /// empty `after` too, like any empty typed parameter ([`present`]). A cursor `list` did not
    /// seal is a 422 naming `after`, as a malformed one is.
    pub fn resolve(&self, list: &ListCursors) -> Result<(Position, u64), AppError> {
        let (page, per_page) = PageQuery::new(self.page, self.per_page).resolve()?;
        let after = present("after", self.after.as_deref())?;
        // Both given is refused whatever the cursor: it names no page of this list either way.
        if after.is_some() && self.page.is_some() {
            return Err(AppError::field(
                "page",
                "give either page or after, not both",
            ));
        }
        let after = after
            .map(|text| {
                list.open(text)
                    .ok_or_else(|| AppError::field("after", "must be the next of the page before"))
            })
            .transpose()?;
        Ok(match self.page {
            Some(_) => (Position::Page(page), per_page),
            None => (Position::After(after), per_page),
        })
    }
}

/// One page of a list read by page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Paginated<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The page number, from 1.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Rows in all pages.
    pub total: u64,
}

/// One page of a list read by cursor: `next` is the `?after=` of the page after, `null` on the
/// last.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CursorPage<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows per page.
    pub per_page: u64,
    /// The cursor of the next page, or `null` on the last.
    pub next: Option<String>,
    /// Rows in all pages where that is known without a scan (kept counts of members, projects
    /// and pending invitations; keys, domains, roles); `null` elsewhere (searches, filters).
    pub total: Option<u64>,
    /// The page number, on lists that keep `?page=`, when the request gave one or no `after`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
}

impl<T> CursorPage<T> {
    /// The envelope of a keyset page read at `position`, its `next` sealed for `list`.
    pub fn of(
        page: crate::db::ListPage<T>,
        position: &Position,
        per_page: u64,
        list: ListCursors,
    ) -> Self {
        Self {
            items: page.items,
            per_page,
            next: page.next.map(|k| list.seal(&k)),
            total: page.total,
            page: match position {
                Position::Page(n) => Some(*n),
                Position::After(None) => Some(1),
                Position::After(Some(_)) | Position::Before(_) => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_page_beyond_its_maximum_and_page_zero_are_refused() {
        // Issue 17: a per_page above the maximum was silently capped; it is a 422 now.
        for per_page in [0, MAX_PER_PAGE + 1, 10_000] {
            let q = PageQuery {
                page: None,
                per_page: Some(per_page),
            };
            let fields = q.resolve().unwrap_err().into_fields().unwrap();
            assert!(fields.contains_key("per_page"), "{per_page}");
        }
        let q = PageQuery {
            page: None,
            per_page: Some(MAX_PER_PAGE),
        };
        assert_eq!(q.resolve().unwrap(), (1, MAX_PER_PAGE));
        let q = PageQuery {
            page: Some(0),
            per_page: None,
        };
        assert!(q.resolve().is_err());
        for page in [MAX_PAGE + 1, i64::MAX as u64, u64::MAX] {
            let q = PageQuery {
                page: Some(page),
                per_page: Some(MAX_PER_PAGE),
            };
            assert!(q.resolve().is_err(), "{page}");
        }
        assert_eq!(
            PageQuery::default().resolve().unwrap(),
            (1, DEFAULT_PER_PAGE)
        );
    }
}
