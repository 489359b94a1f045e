//! `webhook_messages`: an audit event as the webhooks send it, written in the event's
//! transaction; no foreign key, so it outlives the organization (`organization.deleted`).

use sea_orm::entity::prelude::*;

/// One message (the same `webhook_id` to every endpoint and on every retry).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    /// `msg_` and 32 hex digits: the `webhook-id` header.
    pub webhook_id: String,
    pub event_type: String,
    /// The body sent, as JSON text.
    pub payload: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

impl ActiveModelBehavior for ActiveModel {}
