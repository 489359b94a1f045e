//! The rows a tenant path can name: a handler for `/projects/{id}/` or `/people/{user_id}/`
//! takes `Found<Project>` or `Found<Person>` (`web::ctx`) and gets the row loaded in the
//! request's transaction after the route's check; a row of another organization, or none, ends
//! the request with 404 before the handler runs (Svix's permission extractors are the model).

use entity::UserId;
use std::future::Future;

use entity::{organization_api_key, organization_domain, project};
use sea_orm::DbErr;

use crate::organizations::members::{self, PersonView};
use crate::tenancy::TenantTxn;

/// A kind of row a tenant path names: which path parameter holds its id, and how it is found
/// in the organization's transaction.
pub trait TenantRow: 'static {
    /// The row handed to the handler.
    type Row: Send;
    /// The path parameter with the id (`id`, `user_id`).
    const PARAM: &'static str;
    /// The row with this id in the transaction's organization, if any.
    fn load(
        tx: &TenantTxn,
        id: i64,
    ) -> impl Future<Output = Result<Option<Self::Row>, DbErr>> + Send;
}

/// A project, by `{id}`.
#[derive(Debug)]
pub struct Project;

impl TenantRow for Project {
    type Row = project::Model;
    const PARAM: &'static str = "id";
    fn load(tx: &TenantTxn, id: i64) -> impl Future<Output = Result<Option<Self::Row>, DbErr>> {
        crate::projects::get(tx, id)
    }
}

/// A member, by `{user_id}`.
#[derive(Debug)]
pub struct Person;

impl TenantRow for Person {
    type Row = PersonView;
    const PARAM: &'static str = "user_id";
    fn load(tx: &TenantTxn, id: i64) -> impl Future<Output = Result<Option<Self::Row>, DbErr>> {
        members::get(tx, UserId(id))
    }
}

/// A working organization API key, by `{id}`.
#[derive(Debug)]
pub struct ApiKey;

impl TenantRow for ApiKey {
    type Row = organization_api_key::Model;
    const PARAM: &'static str = "id";
    fn load(tx: &TenantTxn, id: i64) -> impl Future<Output = Result<Option<Self::Row>, DbErr>> {
        crate::organizations::api_keys::get_active(tx, id)
    }
}

/// A custom domain, by `{id}`.
#[derive(Debug)]
pub struct Domain;

impl TenantRow for Domain {
    type Row = organization_domain::Model;
    const PARAM: &'static str = "id";
    fn load(tx: &TenantTxn, id: i64) -> impl Future<Output = Result<Option<Self::Row>, DbErr>> {
        crate::organizations::domains::get(tx, id)
    }
}

/// An invitation in any state, by `{id}`.
#[derive(Debug)]
pub struct Invitation;

impl TenantRow for Invitation {
    type Row = entity::organization_invitation::Model;
    const PARAM: &'static str = "id";
    fn load(tx: &TenantTxn, id: i64) -> impl Future<Output = Result<Option<Self::Row>, DbErr>> {
        crate::invitations::by_id(tx, id)
    }
}

/// A pending invitation, by `{id}`.
#[derive(Debug)]
pub struct PendingInvitation;

impl TenantRow for PendingInvitation {
    type Row = entity::organization_invitation::Model;
    const PARAM: &'static str = "id";
    fn load(tx: &TenantTxn, id: i64) -> impl Future<Output = Result<Option<Self::Row>, DbErr>> {
        crate::invitations::pending_by_id(tx, id)
    }
}
