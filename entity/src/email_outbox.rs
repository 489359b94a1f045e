//! `email_outbox`: mail waiting to be sent, written in the same transaction as the change that
//! causes it and drained by a background sender with retry.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One outgoing message.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "email_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The organization the mail is about, when there is one (for logs and per-tenant views).
    pub organization_id: Option<i64>,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

/// A mail about an organization is that organization's row: it is read and written in its
/// tenant context. Mail about no organization (activation, password reset) has no
/// `organization_id` and is reached only in the system context.
impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::OrganizationId
    }
}

crate::timestamped!();
