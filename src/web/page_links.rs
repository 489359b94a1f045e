//! The pages of an HTML list: where a page starts (`?after=`, `?before=` or `?page=`), and what
//! the shared partial `pagination.html` shows of it: "51–100 of 120 people" and the links to
//! the first, previous and next pages.
//!
//! Next and Previous page by sealed cursor: Next after the page's last row, Previous backwards
//! from its first row, each through the list's index, so the thousandth page costs what the
//! first does. A page's cursors seal the number of the row they name beside its keyset (under
//! the list's own name, so the JSON API's cursors are not theirs): a page reached by cursor
//! knows which rows it shows without counting the rows before it, and no client can make it
//! say otherwise. `?page=` stays for a page by number, its links by number too.

use serde::{Deserialize, Serialize};

use crate::cursor::ListCursors;
use crate::db::{Keyset, ListPage, Position};
use crate::error::AppError;
use crate::templates::thousands;

use super::pagination::{DEFAULT_PER_PAGE, MAX_PAGE, given};

/// `?after=&before=&page=&per_page=` of a list page (a form's empty fields are left out).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PagesQuery {
    /// The page after the row this cursor names.
    pub after: Option<String>,
    /// The page before the row this cursor names.
    pub before: Option<String>,
    /// The page, from 1.
    pub page: Option<u64>,
    /// Rows per page (50 when left out).
    pub per_page: Option<u64>,
}

/// Where a list page starts.
#[derive(Clone, Debug)]
pub struct At {
    /// Where the database reads.
    pub position: Position,
    /// Rows per page.
    pub per_page: u64,
    /// The number (from 1) of the row the position names: the row before the page (0 on the
    /// first page), or for `before` the row after it.
    row: u64,
}

impl PagesQuery {
    /// Where the page starts, its cursors opened with `list`, at most `max` rows a page. A wrong
    /// value, a cursor `list` did not seal, or more than one of `after`, `before` and `page` is
    /// a 422 naming the field.
    pub fn resolve(&self, list: &ListCursors, max: u64) -> Result<At, AppError> {
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE.min(max));
        if !(1..=max).contains(&per_page) {
            return Err(AppError::field("per_page", format!("must be 1 to {max}")));
        }
        let after = given(self.after.as_deref());
        let before = given(self.before.as_deref());
        let asked = [after.is_some(), before.is_some(), self.page.is_some()];
        if asked.iter().filter(|given| **given).count() > 1 {
            return Err(AppError::field(
                "page",
                "give one of page, after and before",
            ));
        }
        let opened = |field: &str, text: &str| {
            open(list, text)
                .ok_or_else(|| AppError::field(field, "must be a link of the page next to it"))
        };
        if let Some(text) = after {
            let (row, at) = opened("after", text)?;
            return Ok(At::new(Position::After(Some(at)), per_page, row));
        }
        if let Some(text) = before {
            let (row, at) = opened("before", text)?;
            return Ok(At::new(Position::Before(at), per_page, row));
        }
        match self.page {
            Some(page) if !(1..=MAX_PAGE).contains(&page) => Err(AppError::field(
                "page",
                format!("pages are numbered from 1 to {MAX_PAGE}"),
            )),
            Some(page) => Ok(At::new(
                Position::Page(page),
                per_page,
                (page - 1).saturating_mul(per_page),
            )),
            None => Ok(At::new(Position::After(None), per_page, 0)),
        }
    }
}

/// `at` sealed for `list` with the number of its row.
fn seal(list: &ListCursors, row: u64, at: &Keyset) -> String {
    list.seal(&Keyset {
        key: format!("{row}:{}", at.key),
        id: at.id,
    })
}

/// The row number and keyset a page's cursor sealed; `None` for anything else.
fn open(list: &ListCursors, text: &str) -> Option<(u64, Keyset)> {
    let sealed = list.open(text)?;
    let (row, key) = sealed.key.split_once(':')?;
    let row = row.parse::<u64>().ok().filter(|row| *row >= 1)?;
    Some((
        row,
        Keyset {
            key: key.to_string(),
            id: sealed.id,
        },
    ))
}

/// Rows in a whole list, as far as they were counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    /// Exactly this many.
    Exact(u64),
    /// More than this many (a count that stopped there).
    MoreThan(u64),
}

/// How a list counts and names its rows.
#[derive(Clone, Copy, Debug)]
pub struct Counted<'a> {
    /// Rows in the whole list (or matching the search), when known.
    pub total: Option<Total>,
    /// The word for one row and for several (`person`, `people`).
    pub noun: (&'a str, &'a str),
    /// The search term, when the rows are a search's matches.
    pub matching: Option<&'a str>,
}

/// What `pagination.html` shows of a list page. Each link is a query string for the list's own
/// address (`?after=...&per_page=50`), keeping the list's own parameters (a search's `q`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PageLinks {
    /// "51–100 of 120 people", "3 people", "1 person matches “ada”"; empty when the page has
    /// no rows (the page says so its own way).
    pub summary: String,
    /// The number of the first row shown, from 1 (0 when none).
    pub from: u64,
    /// The number of the last row shown (0 when none).
    pub to: u64,
    /// The first page, when this is not it.
    pub first: Option<String>,
    /// The page before, when there is one.
    pub previous: Option<String>,
    /// The page after, when there is one.
    pub next: Option<String>,
    /// The next page's cursor alone (its `?after=`), for templates that make their own links.
    #[serde(skip)]
    pub cursor: Option<String>,
}

impl At {
    fn new(position: Position, per_page: u64, row: u64) -> Self {
        Self {
            position,
            per_page,
            row,
        }
    }

    /// Whether this is the start of the list (no cursor, no page number).
    pub fn is_start(&self) -> bool {
        self.position == Position::After(None)
    }

    /// The number of the first row of `page`, read at this position (from 1).
    pub fn first_row<T>(&self, page: &ListPage<T>) -> u64 {
        match &self.position {
            // Read backwards to the start: its first row is the list's first, whatever the
            // rows before the cursor's did since.
            Position::Before(_) if page.previous.is_none() => 1,
            Position::Before(_) => self.row.saturating_sub(page.items.len() as u64).max(1),
            _ => self.row + 1,
        }
    }

    /// The count and links of `page`, read at this position: its cursors sealed by `list`,
    /// `params` (the list's own, such as `q`; empty ones left out) kept in every link.
    pub fn links<T>(
        &self,
        list: &ListCursors,
        page: &ListPage<T>,
        counted: &Counted<'_>,
        params: &[(&str, &str)],
    ) -> PageLinks {
        let shown = page.items.len() as u64;
        let from = if shown == 0 { 0 } else { self.first_row(page) };
        let to = if shown == 0 { 0 } else { from + shown - 1 };
        let link = |at: Option<(&str, String)>| {
            let mut pairs: Vec<(&str, String)> = params
                .iter()
                .filter(|(_, value)| !value.trim().is_empty())
                .map(|(name, value)| (*name, value.to_string()))
                .collect();
            pairs.extend(at);
            pairs.push(("per_page", self.per_page.to_string()));
            format!(
                "?{}",
                serde_urlencoded::to_string(pairs).unwrap_or_default()
            )
        };
        let cursor = page.next.as_ref().map(|last| seal(list, to, last));
        let (previous, next) = match self.position {
            Position::Page(number) => (
                (number > 1).then(|| link(Some(("page", (number - 1).to_string())))),
                page.next
                    .as_ref()
                    .map(|_| link(Some(("page", (number + 1).to_string())))),
            ),
            _ => (
                page.previous.as_ref().map(|first| {
                    // One page from the start, Previous is the first page itself: no cursor,
                    // and right even when rows before came or went.
                    if from <= self.per_page + 1 {
                        link(None)
                    } else {
                        link(Some(("before", seal(list, from, first))))
                    }
                }),
                cursor.clone().map(|sealed| link(Some(("after", sealed)))),
            ),
        };
        PageLinks {
            summary: summary(from, to, counted),
            from,
            to,
            first: (!self.is_start() && (from > 1 || previous.is_some())).then(|| link(None)),
            previous,
            next,
            cursor,
        }
    }
}

/// "51–100 of 120 people", "3 people" (all of them), "101–120" (no count), with "match “q”"
/// after a search's; empty for no rows.
fn summary(from: u64, to: u64, counted: &Counted<'_>) -> String {
    if to == 0 {
        return String::new();
    }
    let n = |value: u64| thousands(i64::try_from(value).unwrap_or(i64::MAX));
    let (one, many) = counted.noun;
    let noun = |count: u64| if count == 1 { one } else { many };
    let range = if from == to {
        n(from)
    } else {
        format!("{}–{}", n(from), n(to))
    };
    let (text, count) = match counted.total {
        Some(Total::Exact(total)) if from == 1 && to == total => {
            (format!("{} {}", n(total), noun(total)), total)
        }
        Some(Total::Exact(total)) => (format!("{range} of {} {}", n(total), noun(total)), total),
        Some(Total::MoreThan(bound)) => (
            format!("{range} of more than {} {many}", n(bound)),
            bound.saturating_add(1),
        ),
        // Without a count the noun leads: "Events 51–100".
        None => (
            format!("{} {range}", crate::text::capitalized(many)),
            to - from + 1,
        ),
    };
    match counted.matching {
        Some(term) if count == 1 => format!("{text} matches “{term}”"),
        Some(term) => format!("{text} match “{term}”"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(total: Option<Total>, matching: Option<&str>) -> Counted<'_> {
        Counted {
            total,
            noun: ("person", "people"),
            matching,
        }
    }

    #[test]
    fn the_summary_says_which_rows_of_how_many() {
        let exact = counted(Some(Total::Exact(120)), None);
        assert_eq!(summary(51, 100, &exact), "51–100 of 120 people");
        assert_eq!(summary(120, 120, &exact), "120 of 120 people");
        assert_eq!(
            summary(1, 3, &counted(Some(Total::Exact(3)), None)),
            "3 people"
        );
        assert_eq!(
            summary(1, 1, &counted(Some(Total::Exact(1)), None)),
            "1 person"
        );
        assert_eq!(summary(0, 0, &exact), "");
        assert_eq!(summary(101, 120, &counted(None, None)), "People 101–120");
        let many = counted(Some(Total::Exact(12_345)), None);
        assert_eq!(summary(1_001, 1_050, &many), "1,001–1,050 of 12,345 people");
    }

    #[test]
    fn a_search_says_how_many_match() {
        let three = counted(Some(Total::Exact(3)), Some("ada"));
        assert_eq!(summary(1, 3, &three), "3 people match “ada”");
        let one = counted(Some(Total::Exact(1)), Some("ada"));
        assert_eq!(summary(1, 1, &one), "1 person matches “ada”");
        let lots = counted(Some(Total::MoreThan(1_000)), Some("a"));
        assert_eq!(
            summary(1, 50, &lots),
            "1–50 of more than 1,000 people match “a”"
        );
    }

    #[test]
    fn a_page_cursor_carries_its_row_and_no_other_lists_cursor_opens() {
        let cursors = crate::cursor::Cursors::new("a secret of the test, long enough");
        let people = cursors.of("people.page");
        let at = Keyset {
            key: "ada: lovelace".into(),
            id: 7,
        };
        let sealed = seal(&people, 51, &at);
        assert_eq!(open(&people, &sealed), Some((51, at.clone())));
        assert_eq!(open(&cursors.of("people"), &sealed), None);
        let api_cursor = cursors.of("people.page").seal(&at);
        assert_eq!(open(&people, &api_cursor), None, "no row number");
        let query = PagesQuery {
            after: Some(sealed.clone()),
            page: Some(2),
            ..PagesQuery::default()
        };
        let fields = query
            .resolve(&people, 100)
            .unwrap_err()
            .into_fields()
            .unwrap();
        assert!(fields.contains_key("page"));
        let query = PagesQuery {
            before: Some(sealed),
            ..PagesQuery::default()
        };
        let at = query.resolve(&people, 100).unwrap();
        assert!(matches!(at.position, Position::Before(_)) && at.row == 51);
    }

    #[test]
    fn links_keep_the_lists_parameters_and_page_by_number_or_cursor() {
        let cursors = crate::cursor::Cursors::new("a secret of the test, long enough");
        let list = cursors.of("people.page");
        let keyset = |id| Keyset {
            key: format!("k{id}"),
            id,
        };
        let page = ListPage {
            items: vec![1, 2],
            next: Some(keyset(2)),
            total: Some(5),
            previous: Some(keyset(1)),
        };
        let counted = counted(Some(Total::Exact(5)), None);
        let by_number = PagesQuery {
            page: Some(2),
            per_page: Some(2),
            ..PagesQuery::default()
        };
        let links = by_number.resolve(&list, 100).unwrap().links(
            &list,
            &page,
            &counted,
            &[("q", "a b"), ("empty", " ")],
        );
        assert_eq!(links.summary, "3–4 of 5 people");
        assert_eq!(links.previous.as_deref(), Some("?q=a+b&page=1&per_page=2"));
        assert_eq!(links.next.as_deref(), Some("?q=a+b&page=3&per_page=2"));
        assert_eq!(links.first.as_deref(), Some("?q=a+b&per_page=2"));
        let by_cursor = PagesQuery {
            after: Some(seal(&list, 4, &keyset(9))),
            per_page: Some(2),
            ..PagesQuery::default()
        };
        let links = by_cursor
            .resolve(&list, 100)
            .unwrap()
            .links(&list, &page, &counted, &[]);
        assert_eq!((links.from, links.to), (5, 6));
        let before = links.previous.unwrap();
        let before = before
            .strip_prefix("?before=")
            .and_then(|rest| rest.strip_suffix("&per_page=2"))
            .unwrap();
        assert_eq!(open(&list, before), Some((5, keyset(1))));
    }
}
