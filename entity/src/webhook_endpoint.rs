//! `webhook_endpoints`: where an organization's events are posted. The signing secret is sealed
//! with `auth.encryption_key`; after a rotation the previous one signs too until
//! `previous_secret_until`.

use sea_orm::entity::prelude::*;

/// One endpoint.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub url: String,
    pub description: String,
    /// A JSON array of event types; empty for every type.
    pub event_types: String,
    pub enabled: bool,
    /// Why it was turned off: `manual`, `gone` (the receiver answered 410) or `failing`.
    pub disabled_reason: Option<String>,
    pub secret_sealed: String,
    pub previous_secret_sealed: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    /// Since when every attempt has failed (none while the last one succeeded).
    pub failing_since: Option<DateTimeUtc>,
    pub created_by_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

crate::timestamped!();
