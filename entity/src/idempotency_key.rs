//! `idempotency_keys`: the first answer to an `Idempotency-Key`, for its retries
//! (`orgs::idempotency`).

use sea_orm::entity::prelude::*;

/// One key's request and, once it finished, its answer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// SHA-256 of the scope (organization or none), the principal and the client's key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 of the method, the path and the body of the first request.
    pub request_hash: String,
    /// The answer's status (always set: the claim and its answer commit together).
    pub status: Option<i32>,
    /// The answer's headers worth replaying, as a JSON object.
    pub response_headers: Option<String>,
    /// The answer's body.
    pub response_body: Option<String>,
    /// When the first request came (the key is kept 24 hours from then).
    pub created_at: DateTimeUtc,
    /// The organization of a tenant route's key; `None` for a global route's.
    pub organization_id: Option<i64>,
    /// The person of a global route's key (row-level security shows it to them alone).
    pub user_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
