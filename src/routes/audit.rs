//! The audit log, for holders of `audit.read`: a page with filters and
//! `GET /api/v1/audit-events/` (newest first, by cursor, the same filters, `?format=jsonl` to
//! export every matching event as JSON lines).

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::tenant_page;
use crate::audit::{self, EventView, Filter};
use crate::cursor::ListCursors;
use crate::db::{Keyset, ListPage};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::{ActorKind, TenantTxn};
use crate::web::Query;
use crate::web::page_links::{At, Counted, PagesQuery};
use crate::web::pagination::{self, given};
use crate::web::{TenantCtx, render};

/// The most events one page holds.
pub const MAX_PER_PAGE: u64 = 200;
/// Events read per batch of an export.
const EXPORT_BATCH: u64 = 500;

/// `?actor_type=&actor_id=&action=&since=&until=&after=&per_page=&format=`
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `user`, `api_key` or `system`.
    #[param(value_type = Option<ActorType>)]
    actor_type: Option<String>,
    /// The user's or key's id.
    #[param(value_type = Option<i64>, minimum = 1)]
    actor_id: Option<String>,
    /// A person, by email: their events only.
    #[param(value_type = Option<String>, max_length = 254)]
    actor: Option<String>,
    /// One action (`member.added`).
    action: Option<String>,
    /// At or after: a date (`2026-12-01`) or an RFC 3339 time.
    since: Option<String>,
    /// Before: a date or an RFC 3339 time.
    until: Option<String>,
    /// The `next` of the page before (opaque).
    #[param(value_type = Option<String>)]
    after: Option<String>,
    /// Events per page, 1 to 200 (50 when left out).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    per_page: Option<String>,
    /// `json` (a page, the default) or `jsonl` (every matching event, one per line).
    #[param(value_type = Option<AuditFormat>)]
    format: Option<String>,
}

/// Who acted.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ActorType {
    /// A person.
    User,
    /// An organization API key.
    ApiKey,
    /// orgs itself.
    System,
}

/// How the events come.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AuditFormat {
    /// A page in the list envelope.
    Json,
    /// Every matching event, one JSON object per line (`application/x-ndjson`).
    Jsonl,
}

/// A time as RFC 3339, or a date (its midnight, UTC).
fn parse_time(field: &str, value: &str) -> Result<DateTime<Utc>, AppError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| AppError::field(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time"))
}

fn parse_id(field: &str, value: &str) -> Result<i64, AppError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::field(field, "must be a positive whole number"))
}

impl AuditQuery {
    fn filter(&self) -> Result<Filter, AppError> {
        let actor_type = match given(self.actor_type.as_deref()) {
            None => None,
            Some("user") => Some(ActorKind::User),
            Some("api_key") => Some(ActorKind::ApiKey),
            Some("scim") => Some(ActorKind::Scim),
            Some("system") => Some(ActorKind::System),
            Some(_) => {
                return Err(AppError::field(
                    "actor_type",
                    "must be user, api_key, scim or system",
                ));
            }
        };
        let action = match given(self.action.as_deref()) {
            Some(action) if action.len() > 100 => {
                return Err(AppError::field("action", "must be at most 100 characters"));
            }
            Some(action) => {
                crate::text::check_term(action)
                    .map_err(|e| AppError::field("action", e.to_string()))?;
                Some(action.to_string())
            }
            None => None,
        };
        Ok(Filter {
            actor_type,
            actor_id: given(self.actor_id.as_deref())
                .map(|v| parse_id("actor_id", v))
                .transpose()?,
            action,
            since: given(self.since.as_deref())
                .map(|v| parse_time("since", v))
                .transpose()?,
            until: given(self.until.as_deref())
                .map(|v| parse_time("until", v))
                .transpose()?,
        })
    }

    fn cursor(&self, list: &ListCursors) -> Result<(Option<i64>, u64), AppError> {
        pagination::cursor(
            list,
            self.after.as_deref(),
            self.per_page.as_deref(),
            MAX_PER_PAGE,
        )
    }
}

/// The filter `query` asks for, its `actor` email read as that person's id; `None` when it
/// names nobody (no event can match).
async fn filter_of(tx: &TenantTxn, query: &AuditQuery) -> Result<Option<Filter>, AppError> {
    let mut filter = query.filter()?;
    let Some(email) = given(query.actor.as_deref()) else {
        return Ok(Some(filter));
    };
    if email.len() > 254 {
        return Err(AppError::field("actor", "must be at most 254 characters"));
    }
    match crate::auth::users::find_by_email(tx.conn(), email).await? {
        Some(user) => {
            filter.actor_type = Some(ActorKind::User);
            filter.actor_id = Some(user.id);
            Ok(Some(filter))
        }
        None => Ok(None),
    }
}

/// One page of events and the cursor of the next (`None` at the end).
async fn read_page(
    tx: &TenantTxn,
    list: &ListCursors,
    query: &AuditQuery,
) -> Result<(Vec<EventView>, Option<String>, u64), AppError> {
    let filter = filter_of(tx, query).await?;
    let (after, per_page) = query.cursor(list)?;
    let Some(filter) = filter else {
        return Ok((Vec::new(), None, per_page));
    };
    let mut events = audit::list(tx, &filter, after, per_page + 1).await?;
    let next = pagination::next_cursor(list, &mut events, per_page, |e| e.id);
    Ok((events, next, per_page))
}

/// The events of a page in words, their role keys named from the organization's roles.
pub(super) async fn described<'a>(
    state: &AppState,
    tx: &TenantTxn,
    tenant: &crate::web::Tenant,
    events: &'a [EventView],
) -> Result<Vec<audit::Described<'a>>, AppError> {
    let names_roles =
        |e: &EventView| e.changes.is_some() || e.target.as_ref().is_some_and(|t| t.kind == "role");
    let roles: HashMap<String, String> = if events.iter().any(names_roles) {
        crate::organizations::roles::list(tx, tenant.catalog())
            .await?
            .into_iter()
            .map(|role| (role.key, role.name))
            .collect()
    } else {
        HashMap::new()
    };
    Ok(events
        .iter()
        .map(|event| state.sentences.describe(event, &roles))
        .collect())
}

/// An event type as the filter offers it.
#[derive(Serialize)]
struct ActionChoice {
    value: &'static str,
    label: String,
}

/// Every event type with a sentence, as the page's filter offers them ("Created the project …").
fn action_choices(state: &AppState) -> Vec<ActionChoice> {
    let mut choices = vec![ActionChoice {
        value: "",
        label: "Anything".into(),
    }];
    for action in state.sentences.actions() {
        let said = state
            .sentences
            .describe(&placeholder(action), &HashMap::new())
            .sentence;
        choices.push(ActionChoice {
            value: action,
            label: crate::text::capitalized(&said),
        });
    }
    choices
}

/// An event of type `action` about "…", to say what the type is.
fn placeholder(action: &str) -> EventView {
    EventView {
        id: 0,
        occurred_at: Utc::now(),
        action: action.to_string(),
        actor: audit::ActorView {
            kind: "user".into(),
            id: None,
            name: String::new(),
        },
        target: Some(audit::TargetView {
            kind: String::new(),
            id: None,
            label: Some("…".into()),
        }),
        changes: None,
        ip: None,
        user_agent: None,
        request_id: None,
        organization_name: String::new(),
    }
}

/// `?before=`: the page's own cursor back to newer events (the filters are [`AuditQuery`]'s).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Newer {
    before: Option<String>,
}

/// Where the page starts: its own cursors (sealed apart from the API's), the filters kept.
fn page_at(state: &AppState, query: &AuditQuery, newer: &Newer) -> Result<At, AppError> {
    let per_page = given(query.per_page.as_deref())
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| AppError::field("per_page", "must be a whole number"))
        })
        .transpose()?;
    PagesQuery {
        after: query.after.clone(),
        before: newer.before.clone(),
        page: None,
        per_page,
    }
    .resolve(&state.cursors.of("audit.page"), MAX_PER_PAGE)
}

/// `GET /audit/`: the filters (a refused one is shown on its field) and a page of events in
/// words, with the links to newer and older pages.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query<AuditQuery>,
    newer: Query<Newer>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let filtered = [
        &query.actor,
        &query.actor_type,
        &query.actor_id,
        &query.action,
        &query.since,
        &query.until,
    ]
    .iter()
    .any(|v| given(v.as_deref()).is_some());
    let view = tenant_page("audit/list.html", &tenant)
        .with("actions", action_choices(&state))
        .with("filtered", filtered);
    let read = async {
        let at = page_at(&state, &query, &newer)?;
        let filter = filter_of(&tx, &query).await?;
        let page = match &filter {
            Some(filter) => audit::page(&tx, filter, &at.position, at.per_page).await?,
            // A person nobody knows acted in no event.
            None => ListPage::cut(
                Vec::new(),
                &at.position,
                at.per_page,
                None,
                |e: &EventView| Keyset {
                    key: String::new(),
                    id: e.id,
                },
            ),
        };
        Ok::<_, AppError>((at, page))
    };
    let (at, page) = match read.await {
        Ok(read) => read,
        Err(error) => {
            let errors = error.into_fields()?;
            let view = view
                .form(&query, &errors)
                .with("events", Vec::<EventView>::new());
            return render(&req, view.status(StatusCode::UNPROCESSABLE_ENTITY)).await;
        }
    };
    let kept: Vec<(&str, &str)> = [
        ("actor", &query.actor),
        ("actor_type", &query.actor_type),
        ("actor_id", &query.actor_id),
        ("action", &query.action),
        ("since", &query.since),
        ("until", &query.until),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
    .collect();
    let counted = Counted {
        total: None,
        noun: ("event", "events"),
        matching: None,
    };
    let pages = at.links(&state.cursors.of("audit.page"), &page, &counted, &kept);
    let mut export = kept.clone();
    export.push(("format", "jsonl"));
    let export = serde_urlencoded::to_string(&export).unwrap_or_default();
    let words = described(&state, &tx, &tenant, &page.items).await?;
    let view = view
        .with("events", words)
        .with("pages", pages)
        .with("export_query", export)
        .form(&query, &crate::error::FieldErrors::new());
    render(&req, view).await
}

/// List the audit events
///
/// Newest first, by cursor; `?format=jsonl` exports every matching event, one per line.
#[utoipa::path(
    get,
    path = "/api/v1/audit-events/",
    tag = "audit",
    operation_id = "list_audit_events",
    params(AuditQuery),
    responses((status = 200, description = "A page of events, or all of them as JSON lines.", content(
        (crate::web::pagination::CursorPage<EventView> = "application/json"),
        (String = "application/x-ndjson"),
    ))),
)]
pub async fn api_list(
    state: web::Data<AppState>,
    query: Query<AuditQuery>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    pagination::present("actor_type", query.actor_type.as_deref())?;
    pagination::present("actor_id", query.actor_id.as_deref())?;
    pagination::present("actor", query.actor.as_deref())?;
    match pagination::present("format", query.format.as_deref())? {
        None | Some("json") => {
            let (items, next, per_page) =
                read_page(&tx, &state.cursors.of("audit"), &query).await?;
            Ok(HttpResponse::Ok().json(crate::web::pagination::CursorPage {
                items,
                per_page,
                next,
                total: None,
                page: None,
            }))
        }
        Some("jsonl") => {
            let filter = filter_of(&tx, &query).await?;
            let (mut before, _) = query.cursor(&state.cursors.of("audit"))?;
            let mut body = Vec::new();
            while let Some(filter) = &filter {
                let batch = audit::list(&tx, filter, before, EXPORT_BATCH).await?;
                for event in &batch {
                    serde_json::to_writer(&mut body, event)
                        .map_err(|e| AppError::Internal(e.into()))?;
                    body.push(b'\n');
                }
                match batch.last() {
                    Some(last) if batch.len() as u64 == EXPORT_BATCH => before = Some(last.id),
                    _ => break,
                }
            }
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, "application/x-ndjson"))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"audit-{}.jsonl\"",
                        tenant.organization().slug
                    ),
                ))
                .body(body))
        }
        Some(_) => Err(AppError::field("format", "must be json or jsonl")),
    }
}
