//! The tenant context a handler is given: the route's table entry says what the requester must
//! hold ([`crate::route_table::Needs`]), and the route's wrapper ([`checked`]) checks it before
//! any handler code or body extractor runs. Then one extractor family hands out what the handler
//! works with:
//!
//! - [`Tenant`]: the organization and who is asking (a page that reads nothing);
//! - [`TenantCtx`]: the tenant, the request's transaction ([`RequestTx`]) opened after the check,
//!   and the [`Grant`] of what the requester may grant;
//! - [`Found`]: the same and one row named by the path (`/projects/{id}/`), loaded in that
//!   transaction (a row of another organization, or none, is 404 before the handler runs).
//!
//! Handlers never commit. The wrapper reads a write's whole body before any extractor runs (so
//! no transaction waits on a slow client). When a handler answers `Ok` to a write, the wrapper
//! commits the request's transaction (after checking that no statement failed in it: PostgreSQL
//! would roll such a transaction back and call it committed); an error from the commit replaces
//! the answer, and its flash messages go. An `Err`, or a read, rolls back.
//!
//! A context cannot be made outside a route that the wrapper guards (the extractors answer 500
//! there, before anything is written), and a transaction the wrapper did not settle is caught
//! when the request ends: a panic in debug builds, an error in the log in release.

use std::cell::Cell;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::rows::TenantRow;
use super::tenant::{Need, Tenant, take_tenant};
use crate::error::AppError;
use crate::route_table::Needs;
use crate::state::AppState;
use crate::tenancy::{Grant, TenantTxn};

/// Put in the request's extensions by [`checked`]: the tenant as checked against the route's
/// needs (the extractor takes it out), and whether the request was given up before the wrapper
/// could settle it.
struct Checked {
    tenant: Option<Tenant>,
    cancelled: Rc<Cell<bool>>,
}

/// The request's transaction, handed back by [`RequestTx`] when the handler is done with it,
/// for [`checked`] to commit or roll back.
struct Pending {
    txn: Option<TenantTxn>,
    cancelled: Rc<Cell<bool>>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.txn.is_none() || self.cancelled.get() {
            return;
        }
        tracing::error!(
            "a request's tenant transaction was never settled: its work is rolled back"
        );
        debug_assert!(
            false,
            "a request's tenant transaction was dropped without being committed or rolled back"
        );
    }
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))
}

fn outside_a_route_table() -> AppError {
    AppError::Internal(anyhow::anyhow!(
        "a tenant handler was mounted outside a route table (routes::TENANT_ROUTES or \
         AppState::with_tenant_routes), or took two contexts: nothing would commit its work"
    ))
}

/// The checked tenant, taken out of the request (`take`) or copied, and the request's
/// cancellation flag.
fn checked_of(req: &HttpRequest, take: bool) -> Result<(Tenant, Rc<Cell<bool>>), AppError> {
    let mut extensions = req.extensions_mut();
    let checked = extensions
        .get_mut::<Checked>()
        .ok_or_else(outside_a_route_table)?;
    let tenant = if take {
        checked.tenant.take()
    } else {
        checked.tenant.clone()
    };
    let tenant = tenant.ok_or_else(outside_a_route_table)?;
    Ok((tenant, checked.cancelled.clone()))
}

/// The request's transaction on its tenant: derefs to the [`TenantTxn`] services take. The
/// route commits it when the handler answers `Ok`.
pub struct RequestTx {
    txn: Option<TenantTxn>,
    req: HttpRequest,
    cancelled: Rc<Cell<bool>>,
}

impl std::fmt::Debug for RequestTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestTx").field("txn", &self.txn).finish()
    }
}

/// The transaction of `tenant` for `req`: one that may write, or one that only reads.
async fn begin(req: &HttpRequest, tenant: &Tenant, write: bool) -> Result<TenantTxn, AppError> {
    let state = state_of(req)?;
    if write {
        tenant.begin(&state).await
    } else {
        tenant.begin_read(&state).await
    }
}

impl RequestTx {
    fn txn(&self) -> &TenantTxn {
        match &self.txn {
            Some(txn) => txn,
            // Taken out only by `Drop`, by `commit` (which consumes the context) and by
            // `read_again`, which puts a fresh one back or fails, ending the handler.
            None => unreachable!("the request's transaction is held until the context drops"),
        }
    }

    /// The row of `R` the path names (`{id}`, `{user_id}`), in this transaction; 404 when the
    /// organization has none.
    pub async fn row<R: TenantRow>(&self) -> Result<R::Row, AppError> {
        let id: i64 = self
            .req
            .match_info()
            .get(R::PARAM)
            .and_then(|value| value.parse().ok())
            .ok_or(AppError::NotFound)?;
        R::load(self.txn(), id).await?.ok_or(AppError::NotFound)
    }

    /// Gives up everything done in this transaction so far and goes on in a fresh one on
    /// `tenant` that only reads: a form shown again after a refused write (on PostgreSQL the
    /// failed statement may have aborted the transaction).
    pub async fn read_again(&mut self, tenant: &Tenant) -> Result<(), AppError> {
        drop(self.txn.take());
        self.txn = Some(begin(&self.req, tenant, false).await?);
        Ok(())
    }

    /// Commits now, for work that must follow the commit (another organization's rows, in a
    /// transaction of its own); the route then has nothing left to settle. Under a request's
    /// `Idempotency-Key` the work waits for the answer instead (`tenancy::once`), so work that
    /// needs the commit must not follow it on a creating route.
    pub async fn commit(mut self) -> Result<(), AppError> {
        match self.txn.take() {
            Some(txn) => Ok(txn.commit().await?),
            None => Ok(()),
        }
    }
}

impl Deref for RequestTx {
    type Target = TenantTxn;
    fn deref(&self) -> &TenantTxn {
        self.txn()
    }
}

impl Drop for RequestTx {
    fn drop(&mut self) {
        let Some(txn) = self.txn.take() else {
            return;
        };
        let pending = Pending {
            txn: Some(txn),
            cancelled: self.cancelled.clone(),
        };
        // A second context in one request replaces the first one's work, whose guard fires.
        self.req.extensions_mut().insert(pending);
    }
}

impl FromRequest for Tenant {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(checked_of(req, false).map(|(tenant, _)| tenant))
    }
}

/// What a tenant handler works with: `TenantCtx { tenant, tx, grant }: TenantCtx`.
#[derive(Debug)]
pub struct TenantCtx {
    /// The organization and who is asking, checked against the route's needs.
    pub tenant: Tenant,
    /// The request's transaction, opened after the check (for a write, the requester's
    /// permissions are read again in it from fresh rows).
    pub tx: RequestTx,
    /// What the requester may grant: what they hold, as `tx` read it.
    pub grant: Grant,
}

async fn context(req: HttpRequest) -> Result<TenantCtx, AppError> {
    let (tenant, cancelled) = checked_of(&req, true)?;
    let tx = RequestTx {
        txn: Some(begin(&req, &tenant, !req.method().is_safe()).await?),
        req: req.clone(),
        cancelled,
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "the access layer: what the requester holds, checked and read in the request's transaction"
    )]
    let grant = Grant::new(tenant.catalog_arc(), tenant.granter(&tx));
    Ok(TenantCtx { tenant, tx, grant })
}

impl FromRequest for TenantCtx {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(context(req.clone()))
    }
}

/// A [`TenantCtx`] and the row of `R` its path names:
/// `Found { tenant, tx, row: project, .. }: Found<Project>`.
#[derive(Debug)]
pub struct Found<R: TenantRow> {
    /// The organization and who is asking.
    pub tenant: Tenant,
    /// The request's transaction.
    pub tx: RequestTx,
    /// What the requester may grant.
    pub grant: Grant,
    /// The row.
    pub row: R::Row,
}

impl<R: TenantRow> FromRequest for Found<R>
where
    R::Row: std::fmt::Debug,
{
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let TenantCtx { tenant, tx, grant } = context(req).await?;
            let row = tx.row::<R>().await?;
            Ok(Found {
                tenant,
                tx,
                grant,
                row,
            })
        })
    }
}

/// Marks a request given up (its future dropped) before the wrapper settled it.
struct Settling(Rc<Cell<bool>>);

impl Drop for Settling {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Reads the whole body of a request that may write before any extractor runs: actix polls a
/// handler's extractors together, so a context would otherwise open its transaction (on SQLite
/// the database's write lock) while a slow client still sends the body.
async fn buffer_body(req: &mut ServiceRequest) -> Result<(), AppError> {
    let body = match req.extract::<web::Bytes>().await {
        Ok(body) if body.len() <= super::json::MAX_BODY_BYTES => body,
        Ok(_) => return Err(AppError::PayloadTooLarge),
        Err(error) => return Err(super::json::unreadable(&error)),
    };
    req.set_payload(Payload::from(body));
    Ok(())
}

/// The wrapper of every tenant route (`routes::configure_tenant_routes`): checks the route's
/// `needs`, reads the body of a request that may write, runs the handler, then commits the
/// request's transaction when the handler answered `Ok` to a request that may write, and rolls
/// it back otherwise (an `Err`, or a read: it has nothing to commit).
pub async fn checked(
    needs: Needs,
    feature: Option<&'static str>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let tenant = match take_tenant(req.request().clone(), Need::of(needs)).await {
        Ok(tenant) => tenant,
        Err(error) => return Ok(req.error_response(error)),
    };
    // After the membership check: a non-member learns nothing of the plan.
    if let Some(feature) = feature
        && !crate::organizations::billing::has_feature(tenant.organization(), feature)
    {
        return Ok(req.error_response(AppError::PlanRequired { feature }));
    }
    let writes = !req.method().is_safe();
    if writes && let Err(error) = buffer_body(&mut req).await {
        return Ok(req.error_response(error));
    }
    let request = req.request().clone();
    let cancelled = Rc::new(Cell::new(false));
    let settling = Settling(cancelled.clone());
    req.extensions_mut().insert(Checked {
        tenant: Some(tenant),
        cancelled,
    });
    let response = next.call(req).await;
    let pending = request
        .extensions_mut()
        .remove::<Pending>()
        .and_then(|mut pending| pending.txn.take());
    let settled = match response {
        Ok(response) if writes => settle(response.map_into_boxed_body(), pending).await,
        Ok(response) => {
            drop(pending);
            Ok(response.map_into_boxed_body())
        }
        Err(error) => {
            drop(pending);
            Err(error)
        }
    };
    drop(settling);
    settled
}

/// Commits `pending` under an `Ok` answer (a failed commit answers its error instead, without
/// the answer's flash messages); rolls it back under an `Err`.
async fn settle(
    response: ServiceResponse<BoxBody>,
    pending: Option<TenantTxn>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(txn) = pending else {
        return Ok(response);
    };
    if response.response().error().is_some() {
        drop(txn);
        return Ok(response);
    }
    let committed = match txn.intact().await {
        Ok(()) => txn.commit().await,
        Err(error) => Err(error),
    };
    match committed {
        Ok(()) => Ok(response),
        Err(error) => {
            let (request, _) = response.into_parts();
            super::flash::discard(&request);
            Ok(ServiceResponse::from_err(AppError::from(error), request))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pending transaction on an in-memory database, dropped unsettled; `cancelled` says
    /// whether its request was given up.
    async fn drop_unsettled(cancelled: bool) {
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("an in-memory database");
        let events = crate::events::Events::default();
        #[expect(clippy::disallowed_methods, reason = "a test of the guard")]
        let txn = crate::tenancy::door::tenant(&db, &events, entity::OrganizationId(1))
            .await
            .expect("a transaction");
        drop(Pending {
            txn: Some(txn),
            cancelled: Rc::new(Cell::new(cancelled)),
        });
    }

    #[tokio::test]
    #[should_panic(expected = "without being committed or rolled back")]
    async fn a_transaction_left_unsettled_fails_a_debug_build() {
        drop_unsettled(false).await;
    }

    #[tokio::test]
    async fn a_transaction_given_up_with_its_request_rolls_back_quietly() {
        drop_unsettled(true).await;
    }
}
