//! The audit log: every change to an organization writes an event in the same transaction as
//! the change ([`record`]), so a change that rolls back leaves none and none commits without its
//! event. Events name the actor the transaction acts for (a person, an API key or a job, with a
//! display name kept after the actor is gone), the action, the target, a small JSON object of
//! what changed, and the request's client address, user agent and id. An embedding app records
//! its own actions (`note.created`) with the same [`record`].
//!
//! Reading is per organization, newest first, by cursor ([`list`]); old events are pruned by
//! age through the system context ([`prune`]; on PostgreSQL the application's role can neither
//! update nor delete audit rows itself, and the owner's function it prunes through refuses a
//! cutoff newer than the retention the owner configured: [`retention`]).
//!
//! [`record`]: crate::audit::record
//! [`list`]: crate::audit::list
//! [`prune`]: crate::audit::prune
//! [`retention`]: crate::audit::retention

use chrono::{DateTime, Utc};
use entity::OrganizationId;
use entity::{audit_event, organization};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    FromQueryResult, QueryFilter, QueryOrder, QueryTrait,
};
use serde::Serialize;

pub mod outgoing;
pub mod retention;
pub mod sentences;

pub use retention::prune;
pub use sentences::{Described, Sentences};

use crate::tenancy::door::SystemTxn;
use crate::tenancy::{Actor, ActorKind, TenantTxn};

/// What an event is about.
#[derive(Clone, Debug)]
pub struct Target {
    /// `member`, `project`, `role` ...
    pub kind: &'static str,
    /// Its id (a user id for members).
    pub id: Option<i64>,
    /// A name to show, kept after the target is gone.
    pub label: String,
}

impl Target {
    /// A target of `kind` with this id and label.
    pub fn new(kind: &'static str, id: i64, label: impl Into<String>) -> Self {
        Self {
            kind,
            id: Some(id),
            label: label.into(),
        }
    }
}

fn row(
    organization_id: OrganizationId,
    organization_name: String,
    actor: &Actor,
    action: &str,
    target: Option<Target>,
    changes: Option<serde_json::Value>,
) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        organization_id: Set(organization_id.get()),
        organization_name: Set(organization_name),
        occurred_at: Set(entity::chrono_now()),
        actor_type: Set(actor.kind.as_str().to_string()),
        actor_id: Set(actor.id),
        actor_name: Set(actor.name.clone()),
        action: Set(action.to_string()),
        target_type: Set(target.as_ref().map(|t| t.kind.to_string())),
        target_id: Set(target.as_ref().and_then(|t| t.id)),
        target_label: Set(target.map(|t| t.label)),
        changes: Set(changes.map(|c| c.to_string())),
        ip: Set(actor.ip.clone()),
        user_agent: Set(actor.user_agent.clone()),
        request_id: Set(actor.request_id.clone()),
        ..Default::default()
    }
}

/// Records `action` in `tx`'s organization, by the actor `tx` acts for; it commits or rolls
/// back with `tx`.
pub async fn record(
    tx: &TenantTxn,
    action: &str,
    target: Option<Target>,
    changes: Option<serde_json::Value>,
) -> Result<(), DbErr> {
    let name = match tx.organization_name() {
        Some(name) => name.to_string(),
        None => tx.organization().await?.map(|o| o.name).unwrap_or_default(),
    };
    let event = row(
        tx.organization_id(),
        name,
        tx.actor(),
        action,
        target,
        changes,
    )
    .insert(tx.conn())
    .await?;
    outgoing::write(tx, &event).await
}

/// Records `action` for `organization` in a system transaction (the creation of an
/// organization, which precedes its tenant context), by `actor`.
pub async fn record_in_system(
    txn: &SystemTxn,
    organization: &organization::Model,
    actor: &Actor,
    action: &str,
    target: Option<Target>,
    changes: Option<serde_json::Value>,
) -> Result<(), DbErr> {
    row(
        organization.id(),
        organization.name.clone(),
        actor,
        action,
        target,
        changes,
    )
    .insert(txn.conn())
    .await?;
    Ok(())
}

/// Which events to read.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this kind of actor.
    pub actor_type: Option<ActorKind>,
    /// Only this actor's id (a user's or a key's).
    pub actor_id: Option<i64>,
    /// Only this action (`member.added`), or every action of a prefix ending in a dot
    /// (`member.`).
    pub action: Option<String>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

/// One event as the API and the page show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// The event's id (also its cursor).
    pub id: i64,
    /// When, RFC 3339 UTC.
    pub occurred_at: DateTime<Utc>,
    /// `member.added` ...
    pub action: String,
    /// Who.
    pub actor: ActorView,
    /// About what.
    pub target: Option<TargetView>,
    /// What changed.
    pub changes: Option<serde_json::Value>,
    /// The client's address.
    pub ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
    /// The organization's name then.
    pub organization_name: String,
}

/// The actor of an event.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ActorView {
    /// `user`, `api_key` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The user's or the key's id.
    pub id: Option<i64>,
    /// Their name then.
    pub name: String,
}

/// The target of an event.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TargetView {
    /// `member`, `project` ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: Option<i64>,
    /// Its name then.
    pub label: Option<String>,
}

impl From<audit_event::Model> for EventView {
    fn from(e: audit_event::Model) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
            action: e.action,
            actor: ActorView {
                kind: e.actor_type,
                id: e.actor_id,
                name: e.actor_name,
            },
            target: e.target_type.map(|kind| TargetView {
                kind,
                id: e.target_id,
                label: e.target_label,
            }),
            changes: e.changes.and_then(|c| serde_json::from_str(&c).ok()),
            ip: e.ip,
            user_agent: e.user_agent,
            request_id: e.request_id,
            organization_name: e.organization_name,
        }
    }
}

/// Up to `limit` events of the organization matching `filter`, newest first, older than the
/// event `before` when given (the cursor of the page before).
pub async fn list(
    tx: &TenantTxn,
    filter: &Filter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<EventView>, DbErr> {
    use audit_event::Column;
    let mut query = filtered(tx, filter);
    if let Some(before) = before {
        query = query.filter(Column::Id.lt(before));
    }
    Ok(
        crate::db::first_rows(tx.conn(), query.order_by_desc(Column::Id), limit)
            .await?
            .into_iter()
            .map(EventView::from)
            .collect(),
    )
}

/// One page of the events `filter` lets through, newest first, at `position` (after an event,
/// before one when paging back, or by number).
pub async fn page(
    tx: &TenantTxn,
    filter: &Filter,
    position: &crate::db::Position,
    per_page: u64,
) -> Result<crate::db::ListPage<EventView>, DbErr> {
    use crate::db::{Keyset, ListPage};
    use audit_event::Column;
    let query = position.newest_first(filtered(tx, filter), Column::Id);
    let backend = tx.conn().get_database_backend();
    let statement = crate::db::page_at(query.build(backend), position, per_page);
    let rows = audit_event::Model::find_by_statement(statement)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(EventView::from)
        .collect();
    Ok(ListPage::cut(rows, position, per_page, None, |e| Keyset {
        key: String::new(),
        id: e.id,
    }))
}

/// The organization's events that `filter` lets through, in no order yet.
fn filtered(tx: &TenantTxn, filter: &Filter) -> sea_orm::Select<audit_event::Entity> {
    use audit_event::Column;
    let mut query = tx.select::<audit_event::Entity>();
    if let Some(kind) = filter.actor_type {
        query = query.filter(Column::ActorType.eq(kind.as_str()));
    }
    if let Some(id) = filter.actor_id {
        query = query.filter(Column::ActorId.eq(id));
    }
    match filter.action.as_deref() {
        Some(prefix) if prefix.ends_with('.') => {
            query = query.filter(Column::Action.starts_with(prefix));
        }
        Some(action) => query = query.filter(Column::Action.eq(action)),
        None => {}
    }
    if let Some(since) = filter.since {
        query = query.filter(Column::OccurredAt.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(Column::OccurredAt.lt(until));
    }
    query
}

/// Every event of the organization `organization_id`, oldest first, read in the system context:
/// for a superuser's export (`orgs audit export`), also of an organization that was deleted.
pub async fn export_all(
    db: &DatabaseConnection,
    organization_id: OrganizationId,
) -> Result<Vec<EventView>, DbErr> {
    #[expect(
        clippy::disallowed_methods,
        reason = "the history of an organization that may no longer exist"
    )]
    let txn = crate::tenancy::door::system_read(db, "export an audit log").await?;
    let events = txn
        .select_all::<audit_event::Entity>()
        .filter(audit_event::Column::OrganizationId.eq(organization_id))
        .order_by_asc(audit_event::Column::Id)
        .all(txn.conn())
        .await?;
    txn.commit().await?;
    Ok(events.into_iter().map(EventView::from).collect())
}
