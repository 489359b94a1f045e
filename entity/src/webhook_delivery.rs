//! `webhook_deliveries`: one message to one endpoint: its status, its attempts, the lease of
//! the instance sending it, and the last answer. The address and the sealed secret are copied
//! from the endpoint when the message is written, for an endpoint deleted since with its
//! organization (`organization.deleted`); while the endpoint exists, its own are used.

use sea_orm::entity::prelude::*;

/// One delivery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub endpoint_id: i64,
    pub message_id: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub url: String,
    pub secret_sealed: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts made (sent, or refused before sending).
    pub attempts: i32,
    /// Claims taken of it, ever: what fences an instance's lease (never reset).
    pub claims: i32,
    pub next_attempt_at: DateTimeUtc,
    /// Until when the instance that claimed it may send it.
    pub lease_until: Option<DateTimeUtc>,
    pub last_attempt_at: Option<DateTimeUtc>,
    pub response_status: Option<i32>,
    /// The first 4 KiB of the last answer's body.
    pub response_body: Option<String>,
    /// The last attempt's request headers, as JSON.
    pub request_headers: Option<String>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    /// A test event sent from the settings or the API.
    pub test: bool,
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
