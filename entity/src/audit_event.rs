//! `audit_events`: what happened in an organization, who did it, from where. Written in the
//! transaction of the change; never updated; no foreign key, so an event outlives what it
//! describes (the organization included).

use sea_orm::entity::prelude::*;

/// One audit event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    /// The organization's name when it happened.
    pub organization_name: String,
    pub occurred_at: DateTimeUtc,
    /// `user`, `api_key` or `system`.
    pub actor_type: String,
    pub actor_id: Option<i64>,
    /// Kept when the actor is later deleted.
    pub actor_name: String,
    /// `member.added`, `project.deleted` ...
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
    pub target_label: Option<String>,
    /// A small JSON object of what changed.
    pub changes: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

impl ActiveModelBehavior for ActiveModel {}
