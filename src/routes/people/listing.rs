//! What the people page lists: a page of the members as their rows show them (initials through
//! the `avatar` component, a badge per role, "you"), where the page is in the list and how many
//! there are or match a search, and the pending invitations beside them for whoever manages
//! them.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::invitations::shown::InvitationLine;
use crate::organizations::members::{self, PersonView};
use crate::organizations::role_labels::{RoleLabel, RoleNames, labels_of};
use crate::permissions::{BuiltinRole, Permission};
use crate::state::AppState;
use crate::tenancy::TenantTxn;
use crate::web::Tenant;
use crate::web::page_links::{At, Counted, PageLinks, PagesQuery, Total};
use crate::web::pagination::MAX_PER_PAGE;

/// `?q=&after=&before=&page=&per_page=` of the people page.
#[derive(Debug, Default, Deserialize)]
pub struct PeoplePageQuery {
    /// Finds people whose name or email contains it.
    #[serde(default)]
    pub q: String,
    after: Option<String>,
    before: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

/// The pending invitations the people page shows (newest first); the rest are a link away.
const PENDING_SHOWN: u64 = 10;

/// Matches of a search counted beyond this are "more than 1,000": the count stops there.
const SEARCH_COUNTED_UP_TO: u64 = 1_000;

/// What the people table shows of one person, worked out here rather than in the template:
/// the values a row needs (moved out of its `PersonView`, whose timestamp was formatted for
/// every row and never shown), not template logic per row.
#[derive(Serialize)]
pub struct PersonLine {
    user_id: i64,
    name: String,
    email: String,
    /// A badge each; the owner's alone, as the owner holds everything.
    roles: Vec<RoleLabel>,
    /// The role keys as one line (`owner`; `member, billing`), for templates written before the
    /// badges.
    role: String,
    /// The requester's own row.
    you: bool,
    /// Whether they have a second factor: told to holders of `security.manage` only.
    two_factor: Option<bool>,
}

impl PersonLine {
    fn of(person: PersonView, names: &RoleNames, requester: Option<i64>) -> Self {
        let roles = if person.is_owner {
            vec![names.label(BuiltinRole::Owner.key())]
        } else {
            labels_of(&person.person.roles, names)
        };
        let role = person.role();
        let p = person.person;
        Self {
            you: requester == Some(p.user_id),
            two_factor: None,
            name: if p.name.is_empty() {
                p.email.clone()
            } else {
                p.name
            },
            user_id: p.user_id,
            email: p.email,
            roles,
            role,
        }
    }
}

/// The people page's content.
pub struct Listed {
    /// The rows.
    pub people: Vec<PersonLine>,
    /// Where the page starts.
    pub at: At,
    /// Where the page is, its count and links.
    pub pages: PageLinks,
    /// The kept count of members (none on a search).
    pub members: Option<u64>,
    /// The newest pending invitations, for whoever manages them.
    pub invitations: Vec<InvitationLine>,
    /// More are pending than shown.
    pub more_invitations: bool,
}

/// The people page asked for by `query`, read in `tx`: one transaction for the people and the
/// pending invitations beside them.
pub async fn listed(
    state: &AppState,
    tenant: &Tenant,
    tx: &TenantTxn,
    query: &PeoplePageQuery,
) -> Result<Listed, AppError> {
    let cursors = state.cursors.of("people.page");
    let pages = PagesQuery {
        after: query.after.clone(),
        before: query.before.clone(),
        page: query.page,
        per_page: query.per_page,
    };
    let at = pages.resolve(&cursors, MAX_PER_PAGE)?;
    crate::text::check_term(&query.q).map_err(|e| AppError::field("q", e.to_string()))?;
    let search = Some(query.q.trim()).filter(|q| !q.is_empty());
    let page = members::list(tx, search, &at.position, at.per_page).await?;
    let total = match search {
        None => page.total.map(Total::Exact),
        // Every match is on the pages up to this one: they count them.
        Some(_) if page.next.is_none() && !page.items.is_empty() => Some(Total::Exact(
            at.first_row(&page) + page.items.len() as u64 - 1,
        )),
        Some(_) if page.next.is_none() && at.is_start() => Some(Total::Exact(0)),
        Some(term) => Some(
            match members::count_matching(tx, term, SEARCH_COUNTED_UP_TO).await? {
                n if n > SEARCH_COUNTED_UP_TO => Total::MoreThan(SEARCH_COUNTED_UP_TO),
                n => Total::Exact(n),
            },
        ),
    };
    let counted = Counted {
        total,
        noun: ("person", "people"),
        matching: search,
    };
    let links = at.links(&cursors, &page, &counted, &[("q", &query.q)]);
    let page_total = page.total;
    let keys = page.items.iter().flat_map(|p| &p.person.roles);
    let names = RoleNames::of(tx, keys.map(String::as_str)).await?;
    let requester = tenant.user().map(|u| u.id);
    let mut people: Vec<PersonLine> = page
        .items
        .into_iter()
        .map(|p| PersonLine::of(p, &names, requester))
        .collect();
    if tenant.can(crate::permissions::Permission::SECURITY_MANAGE) {
        let ids: Vec<i64> = people.iter().map(|p| p.user_id).collect();
        let with = crate::tenancy::factors::with_a_factor(tx, &ids).await?;
        for person in &mut people {
            person.two_factor = Some(with.contains(&person.user_id));
        }
    }
    let (invitations, more_invitations) = pending_shown(tx, tenant).await?;
    Ok(Listed {
        people,
        at,
        pages: links,
        members: page_total,
        invitations,
        more_invitations,
    })
}

/// The newest pending invitations and whether more are pending, for whoever manages them.
async fn pending_shown(
    tx: &TenantTxn,
    tenant: &Tenant,
) -> Result<(Vec<InvitationLine>, bool), AppError> {
    if !tenant.can(Permission::INVITATIONS_MANAGE) {
        return Ok((Vec::new(), false));
    }
    let mut pending = crate::invitations::list_by_status(
        tx,
        crate::invitations::Status::Pending,
        None,
        PENDING_SHOWN + 1,
    )
    .await?;
    let more = pending.len() as u64 > PENDING_SHOWN;
    pending.truncate(PENDING_SHOWN as usize);
    Ok((crate::invitations::shown::lines(tx, pending).await?, more))
}
