//! The tenant transaction: the one capability for work on one organization's data. It is
//! opened for a resolved organization (by [`super::Tenant::begin`] in a request, or through
//! [`super::door::tenant`] for a named job), with the tenant set for row-level security, and
//! every query it builds is filtered by the organization. Services that work on one
//! organization take a `&TenantTxn`, never the pool or a hand-made [`Scope`].
//!
//! [`Scope`]: crate::tenancy::Scope

use entity::OrganizationId;
use entity::UserId;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use entity::{TenantOwned, email_outbox, organization};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, DeleteMany,
    QueryFilter, Select, TransactionTrait, UpdateMany,
};

use super::Scope;
use super::once::Claim;
use crate::events::{Events, OrgEvent};
use crate::mail::{Outbox, OutgoingEmail};

/// The row-level security context a transaction runs in (see migration
/// `m20261201_000005_fail_closed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Context {
    /// One organization's rows.
    Tenant(OrganizationId),
    /// One person's own memberships, in every organization.
    User(UserId),
    /// Every row: the named jobs of [`super::door`].
    System,
}

/// A transaction with its context set, and what waits for its commit: the events to fire and
/// whether to wake the mail sender. [`TenantTxn`] and [`super::door::SystemTxn`] are this with
/// a context of their own.
#[derive(Debug)]
pub(super) struct Work {
    txn: DatabaseTransaction,
    context: Context,
    /// The request's `Idempotency-Key`, when this transaction holds its claim: committing it
    /// writes the claim and waits for the answer ([`super::once`]).
    claim: Option<Arc<Claim>>,
    pub(super) events: Option<Events>,
    pub(super) outbox: Option<Outbox>,
    fired: Mutex<Vec<OrgEvent>>,
    mail: AtomicBool,
    hooks: AtomicBool,
}

impl Work {
    /// Begins a transaction in `context`. On SQLite one that will write takes the write lock at
    /// `BEGIN` ([`crate::db::begin_write`]), so a read-then-write does not hit "database is
    /// locked".
    pub(super) async fn begin(
        db: &DatabaseConnection,
        context: Context,
        write: bool,
    ) -> Result<Self, DbErr> {
        let claim = super::once::current();
        if let Some(work) = claim.as_ref().and_then(|claim| claim.resume(context)) {
            return Ok(work);
        }
        let txn = if write {
            crate::db::begin_write(db).await?
        } else {
            db.begin().await?
        };
        match context {
            Context::Tenant(organization_id) => {
                super::rls::set_tenant(&txn, organization_id).await?
            }
            Context::User(user_id) => super::rls::set_user(&txn, user_id).await?,
            Context::System => super::rls::set_system(&txn).await?,
        }
        let claim = claim.filter(|claim| write && claim.reserve());
        Ok(Self {
            txn,
            context,
            claim,
            events: None,
            outbox: None,
            fired: Mutex::new(Vec::new()),
            mail: AtomicBool::new(false),
            hooks: AtomicBool::new(false),
        })
    }

    /// The context it runs in.
    pub(super) fn context(&self) -> Context {
        self.context
    }

    /// The connection.
    pub(super) fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Queues `email` in the outbox; the sender is woken after the commit.
    pub(super) async fn enqueue_mail(
        &self,
        email: OutgoingEmail,
    ) -> Result<email_outbox::Model, DbErr> {
        let row = crate::mail::enqueue(&self.txn, email).await?;
        self.mail.store(true, Ordering::Relaxed);
        Ok(row)
    }

    /// Wakes the webhook dispatcher after the commit.
    pub(super) fn wrote_webhooks(&self) {
        self.hooks.store(true, Ordering::Relaxed);
    }

    /// Fires `event` after the commit (never, if the transaction rolls back).
    pub(super) fn fire(&self, event: OrgEvent) {
        self.fired
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event);
    }

    /// Commits, then fires the events in order and wakes the mail sender; a transaction that
    /// holds the request's `Idempotency-Key` waits instead for the answer to be written in it.
    pub(super) async fn commit(self) -> Result<(), DbErr> {
        match self.claim.clone() {
            Some(claim) => claim.park(self).await,
            None => self.finish().await,
        }
    }

    /// Commits now, then fires the events in order and wakes the mail sender.
    pub(super) async fn finish(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        let fired = self
            .fired
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(events) = self.events {
            events.emit_all(fired);
        }
        if self.hooks.into_inner()
            && let Some(outbox) = &self.outbox
        {
            outbox.wake_webhooks();
        }
        if self.mail.into_inner()
            && let Some(outbox) = self.outbox
        {
            outbox.wake();
        }
        Ok(())
    }
}

/// What kind of actor a transaction acts for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ActorKind {
    /// A signed-in person.
    User,
    /// An organization API key.
    ApiKey,
    /// The organization's directory, through a SCIM token (its id is the token's).
    Scim,
    /// A job: the CLI, the seeder, an embedder's task.
    #[default]
    System,
}

impl ActorKind {
    /// `user`, `api_key`, `scim` or `system`, as audit events store it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::ApiKey => "api_key",
            Self::Scim => "scim",
            Self::System => "system",
        }
    }
}

/// Who a transaction acts for and from where: what its audit events record.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    /// A person, a key or a job.
    pub kind: ActorKind,
    /// The user's or the key's id.
    pub id: Option<i64>,
    /// A name to show, kept in the events after the actor is gone.
    pub name: String,
    /// The client's address (after the trusted-proxy rule).
    pub ip: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
}

impl Actor {
    /// A job named `name`.
    pub fn system(name: &str) -> Self {
        Self {
            name: name.to_string(),
            ..Self::default()
        }
    }

    /// A person acting without a request (a fixture, a CLI command on their behalf).
    pub fn user(user: &entity::user::Model) -> Self {
        Self {
            kind: ActorKind::User,
            id: Some(user.id),
            name: entity::user::display_name(&user.name, &user.email).to_string(),
            ..Self::default()
        }
    }
}

/// One organization's transaction. Dropped without [`TenantTxn::commit`], it rolls back and its
/// events never fire.
#[derive(Debug)]
pub struct TenantTxn {
    work: Work,
    scope: Scope,
    actor: Actor,
    organization_name: Option<String>,
    granter: Option<crate::permissions::PermissionSet>,
}

impl TenantTxn {
    /// Opens the transaction of `organization_id` with the tenant context set.
    pub(super) async fn begin(
        db: &DatabaseConnection,
        organization_id: OrganizationId,
        write: bool,
    ) -> Result<Self, DbErr> {
        let work = Work::begin(db, Context::Tenant(organization_id), write).await?;
        Ok(Self::over(work, organization_id))
    }

    /// Wraps work whose tenant context is already set.
    pub(super) fn over(work: Work, organization_id: OrganizationId) -> Self {
        Self {
            work,
            scope: Scope::new(organization_id),
            actor: Actor::system("system"),
            organization_name: None,
            granter: None,
        }
    }

    /// Records who this transaction acts for, and the client of its request (for the limits
    /// counted per client and for the audit log).
    pub fn acting_for(mut self, actor: Actor) -> Self {
        self.actor = actor;
        self
    }

    /// Records the organization's name, known to the caller (saves a query per audit event).
    pub(super) fn named(mut self, name: Option<String>) -> Self {
        self.organization_name = name;
        self
    }

    /// The address of the client whose request this is; `None` for a job.
    pub fn client(&self) -> Option<&str> {
        self.actor.ip.as_deref()
    }

    /// Who this transaction acts for.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Records what the requester holds, read from fresh rows in this transaction (under the
    /// organization's lock when it matters): the most they may grant in it.
    pub fn granting(mut self, holds: crate::permissions::PermissionSet) -> Self {
        self.granter = Some(holds);
        self
    }

    /// What the requester was found to hold when the transaction began; `None` for a job or a
    /// read.
    pub fn granter(&self) -> Option<crate::permissions::PermissionSet> {
        self.granter
    }

    /// The organization's name as the request resolved it, when it did.
    pub fn organization_name(&self) -> Option<&str> {
        self.organization_name.as_deref()
    }

    /// Fires this transaction's events to `events`' listeners after the commit.
    pub(super) fn firing(mut self, events: &Events) -> Self {
        self.work.events = Some(events.clone());
        self
    }

    /// Wakes `outbox`'s sender after the commit when mail was queued.
    pub(super) fn waking(mut self, outbox: &Outbox) -> Self {
        self.work.outbox = Some(outbox.clone());
        self
    }

    /// The organization's id.
    pub fn organization_id(&self) -> OrganizationId {
        self.scope.organization_id()
    }

    /// The organization's scope, for building queries (and [`super::ScopedStatement`]s) to run
    /// in this transaction.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The connection to run this organization's queries on.
    pub fn conn(&self) -> &DatabaseTransaction {
        self.work.conn()
    }

    /// `SELECT ... FROM E WHERE organization_id = ?`
    pub fn select<E: TenantOwned>(&self) -> Select<E> {
        self.scope.select::<E>()
    }

    /// A new row of `A`'s table with `organization_id` set.
    pub fn new_active_model<A>(&self) -> A
    where
        A: ActiveModelTrait,
        A::Entity: TenantOwned,
    {
        self.scope.new_active_model::<A>()
    }

    /// `UPDATE E ... WHERE organization_id = ?`
    pub fn update_many<E: TenantOwned>(&self) -> UpdateMany<E> {
        self.scope.update_many::<E>()
    }

    /// `DELETE FROM E WHERE organization_id = ?`
    pub fn delete_many<E: TenantOwned>(&self) -> DeleteMany<E> {
        self.scope.delete_many::<E>()
    }

    /// Deletes the organization's row of `E` whose `id_column` is `id`; whether one went.
    pub async fn delete_row<E: TenantOwned>(
        &self,
        id_column: E::Column,
        id: i64,
    ) -> Result<bool, DbErr> {
        let result = self
            .delete_many::<E>()
            .filter(id_column.eq(id))
            .exec(self.conn())
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The organization row, locked until the transaction ends: rules about the owner and the
    /// members are checked under it, from fresh rows (PostgreSQL; SQLite's write transaction
    /// already excludes other writers).
    pub async fn lock_organization(&self) -> Result<Option<organization::Model>, DbErr> {
        super::org_rows::lock(self.conn(), self.organization_id()).await
    }

    /// The organization row as this transaction sees it.
    pub async fn organization(&self) -> Result<Option<organization::Model>, DbErr> {
        super::org_rows::by_id(self.conn(), OrganizationId(self.organization_id().get())).await
    }

    /// Deletes the organization; its tenant rows go by cascade. Whether it existed.
    pub async fn delete_organization(&self) -> Result<bool, DbErr> {
        super::org_rows::delete(self.conn(), self.organization_id()).await
    }

    /// Queues a mail of this organization in the outbox (tagged with it, whatever `email`
    /// said); the sender is woken after the commit.
    pub async fn enqueue_mail(
        &self,
        mut email: OutgoingEmail,
    ) -> Result<email_outbox::Model, DbErr> {
        email.organization_id = Some(self.organization_id().get());
        self.work.enqueue_mail(email).await
    }

    /// Fires `event` after the commit (never, if the transaction rolls back).
    pub fn fire(&self, event: OrgEvent) {
        self.work.fire(event);
    }

    /// Wakes the webhook dispatcher after the commit (messages were written).
    pub(crate) fn wrote_webhooks(&self) {
        self.work.wrote_webhooks();
    }

    /// Commits, then fires the events and wakes the mail sender.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.work.commit().await
    }

    /// Fails when a statement failed earlier in this transaction. PostgreSQL answers the
    /// `COMMIT` of such a transaction with a rollback and no error, so a caller that went on
    /// after a failure asks first (a `SELECT 1` there fails with 25P02); SQLite has no such state.
    pub async fn intact(&self) -> Result<(), DbErr> {
        use sea_orm::ConnectionTrait as _;
        if self.conn().get_database_backend() == sea_orm::DbBackend::Postgres {
            self.conn().execute_unprepared("SELECT 1").await?;
        }
        Ok(())
    }
}

impl crate::mail::Queue for TenantTxn {
    fn enqueue_mail(
        &self,
        email: OutgoingEmail,
    ) -> impl Future<Output = Result<email_outbox::Model, DbErr>> + Send {
        TenantTxn::enqueue_mail(self, email)
    }
}
