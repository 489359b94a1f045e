//! Row-returning extractors: a handler for `/projects/{id}/` or `/people/{user_id}/` takes
//! `Permitted<ProjectsRead, Project>` or `Permitted<MembersUpdate, Person>` and gets the
//! tenant, the request's open transaction and the row, loaded in that transaction after the
//! permission check; a row of another
//! organization, or none, ends the request with 404 before the handler runs. Handlers stop
//! repeating the lookup and the role check (Svix's permission extractors are the model).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use entity::{organization_api_key, organization_domain, project};
use sea_orm::DbErr;

use super::tenant::{Need, Tenant, tenant_for};
use crate::error::AppError;
use crate::organizations::members::{self, PersonView};
use crate::permissions::Needed;
use crate::state::AppState;
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
        members::get(tx, id)
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

/// The tenant, the request's transaction and the row: what a row extractor hands out.
pub struct Found<R: TenantRow> {
    /// The organization and who is asking.
    pub tenant: Tenant,
    /// The request's transaction (commit it when the handler wrote).
    pub tx: TenantTxn,
    /// The row.
    pub row: R::Row,
    kind: PhantomData<R>,
}

async fn found<R: TenantRow>(req: HttpRequest, need: Need) -> Result<Found<R>, AppError> {
    let tenant = tenant_for(req.clone(), need).await?;
    let id: i64 = req
        .match_info()
        .get(R::PARAM)
        .and_then(|value| value.parse().ok())
        .ok_or(AppError::NotFound)?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?;
    let tx = tenant.begin(state).await?;
    let row = R::load(&tx, id).await?.ok_or(AppError::NotFound)?;
    Ok(Found {
        tenant,
        tx,
        row,
        kind: PhantomData,
    })
}

/// A row of the request's organization, for a requester holding the permission `P`:
/// `Permitted(Found { tenant, tx, row, .. }, _): Permitted<ProjectsWrite, Project>`.
pub struct Permitted<P: Needed, R: TenantRow>(pub Found<R>, pub PhantomData<P>);

impl<P: Needed, R: TenantRow> FromRequest for Permitted<P, R> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            found::<R>(req, Need::Permission(P::PERMISSION))
                .await
                .map(|found| Permitted(found, PhantomData))
        })
    }
}
