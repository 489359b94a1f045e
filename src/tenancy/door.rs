//! The one door for work that is by nature not one tenant's. Everything else reaches an
//! organization's rows through the [`TenantTxn`] of a request. Outside `src/tenancy` each
//! function here is refused by clippy (`disallowed-methods` in `clippy.toml`) unless its use
//! says why with `#[expect(clippy::disallowed_methods, reason = "...")]`.
//!
//! Every path that crosses organizations, and the context it runs in (PostgreSQL row-level
//! security; see migration `m20261201_000005_fail_closed`):
//!
//! | path | context |
//! | --- | --- |
//! | resolving a tenant by slug (`tenancy::org_rows::by_slug`) | none: `organizations` is readable by all |
//! | resolving a tenant by custom domain or organization API key (`web::resolve`, through `tenancy::org_rows`) | system, read only, inside `tenancy` |
//! | looking up an invitation by its token ([`invitation`]) | system to find it, then the tenant context of its organization, in one transaction |
//! | a request's own organization, once resolved and its requester's role checked ([`request`], called by `web::Tenant::begin` only) | tenant |
//! | the access check of a request (`tenancy::Access::load`) | tenant |
//! | "my organizations", the switcher, `/go/{slug}/` (`tenancy::org_rows::of_user`, `is_member`) | user |
//! | the person's roles in their organizations, for "my organizations" and the switcher (`tenancy::org_rows::roles_of_user`) | system, read only, inside `tenancy` |
//! | creating an organization at sign-up, from "new organization" or the CLI ([`system`]) | system |
//! | mail that belongs to no organization (activation, password reset, sign-up notices) ([`system`]) | system |
//! | the outbox sender ([`system`]) | system |
//! | login and mail limits (`auth::throttle`, table `login_throttle`) | none: a table of no organization |
//! | a verified custom domain ends other organizations' pending claims of it (`organizations::domains::lapse_other_claims`, [`system`]) | system |
//! | the seeder and the CLI's organization commands ([`system`], [`tenant`]) | system, or one tenant |
//! | billing's seats and plan of one organization, by its id (`organizations::billing`: [`tenant`], [`tenant_read`]) | tenant |
//! | an embedding app's own jobs ([`tenant`] for one organization, [`system`] across them) | tenant or system |

use entity::OrganizationId;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, DeleteMany, EntityTrait, Select, UpdateMany,
};

use super::Scope;
use super::txn::{Actor, Context, TenantTxn, Work};
use crate::events::{Events, OrgEvent};
use crate::mail::{Outbox, OutgoingEmail};
use entity::{email_outbox, organization_invitation};

/// A transaction for one organization outside a request: a CLI command, a job of an embedding
/// app, a test fixture. It writes (on SQLite it takes the write lock at `BEGIN`).
pub async fn tenant(
    db: &DatabaseConnection,
    events: &Events,
    organization_id: OrganizationId,
) -> Result<TenantTxn, DbErr> {
    Ok(TenantTxn::begin(db, organization_id, true)
        .await?
        .firing(events))
}

/// [`tenant`] for work that only reads: on SQLite it takes no write lock.
pub async fn tenant_read(
    db: &DatabaseConnection,
    organization_id: OrganizationId,
) -> Result<TenantTxn, DbErr> {
    TenantTxn::begin(db, organization_id, false).await
}

/// The transaction of a request's own organization, once the request was resolved to it and its
/// requester's role checked (`web::Tenant::begin`, the one caller): the tenant context set, a
/// write lock taken at `BEGIN` on SQLite for an unsafe method, the events fired and the outbox
/// woken after its commit, the client's address kept for the limits counted inside it.
pub async fn request(
    db: &DatabaseConnection,
    events: &Events,
    outbox: &Outbox,
    organization: &entity::organization::Model,
    write: bool,
    actor: Actor,
) -> Result<TenantTxn, DbErr> {
    Ok(TenantTxn::begin(db, organization.id(), write)
        .await?
        .firing(events)
        .waking(outbox)
        .acting_for(actor)
        .named(Some(organization.name.clone())))
}

/// A transaction in the system context, which sees every organization's rows; it will write
/// (on SQLite it takes the write lock at `BEGIN`). `job` names the work in the logs. Events it
/// fires reach listeners when it was opened [`SystemTxn::firing`] them.
pub async fn system(db: &DatabaseConnection, job: &'static str) -> Result<SystemTxn, DbErr> {
    SystemTxn::begin(db, job, true).await
}

/// Like [`system`], for work that only reads (it takes no write lock on SQLite).
pub async fn system_read(db: &DatabaseConnection, job: &'static str) -> Result<SystemTxn, DbErr> {
    SystemTxn::begin(db, job, false).await
}

/// The invitation whose token hashes to `token_hash`, with the transaction of its organization
/// (`write` for accepting or declining it): found in the system context, then the rest of the
/// transaction runs in the invitation's tenant context only.
pub async fn invitation(
    db: &DatabaseConnection,
    events: &Events,
    token_hash: &str,
    write: bool,
) -> Result<Option<(TenantTxn, organization_invitation::Model)>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let work = Work::begin(db, Context::System, write).await?;
    #[expect(
        clippy::disallowed_methods,
        reason = "finding an invitation by its token"
    )]
    let found = organization_invitation::Entity::find()
        .filter(organization_invitation::Column::TokenHash.eq(token_hash))
        .one(work.conn())
        .await?;
    let Some(invitation) = found else {
        return Ok(None);
    };
    super::rls::set_tenant(work.conn(), OrganizationId(invitation.organization_id)).await?;
    let tenant = TenantTxn::over(work, OrganizationId(invitation.organization_id)).firing(events);
    Ok(Some((tenant, invitation)))
}

/// A transaction in the system context (see [`system`]).
#[derive(Debug)]
pub struct SystemTxn {
    work: Work,
}

impl SystemTxn {
    pub(super) async fn begin(
        db: &DatabaseConnection,
        job: &'static str,
        write: bool,
    ) -> Result<Self, DbErr> {
        tracing::debug!(job, "system transaction");
        Ok(Self {
            work: Work::begin(db, Context::System, write).await?,
        })
    }

    /// Fires the events of this transaction to `events`' listeners after the commit.
    pub fn firing(mut self, events: &Events) -> Self {
        self.work.events = Some(events.clone());
        self
    }

    /// Wakes `outbox`'s sender after the commit when mail was queued.
    pub fn waking(mut self, outbox: &Outbox) -> Self {
        self.work.outbox = Some(outbox.clone());
        self
    }

    /// The connection.
    pub fn conn(&self) -> &DatabaseTransaction {
        self.work.conn()
    }

    /// The scope of one organization, for rows this job writes for it (a new organization's
    /// founding membership, seeded data).
    pub fn scope(&self, organization_id: OrganizationId) -> Scope {
        Scope::new(organization_id)
    }

    /// Every row of `E`, of every organization.
    #[expect(
        clippy::disallowed_methods,
        reason = "the system context crosses organizations"
    )]
    pub fn select_all<E: EntityTrait>(&self) -> Select<E> {
        E::find()
    }

    /// `UPDATE E` across organizations.
    #[expect(
        clippy::disallowed_methods,
        reason = "the system context crosses organizations"
    )]
    pub fn update_all<E: EntityTrait>(&self) -> UpdateMany<E> {
        E::update_many()
    }

    /// `DELETE FROM E` across organizations.
    #[expect(
        clippy::disallowed_methods,
        reason = "the system context crosses organizations"
    )]
    pub fn delete_all<E: EntityTrait>(&self) -> DeleteMany<E> {
        E::delete_many()
    }

    /// Queues a mail (one that belongs to no organization: activation, password reset); the
    /// sender is woken after the commit.
    pub async fn enqueue_mail(&self, email: OutgoingEmail) -> Result<email_outbox::Model, DbErr> {
        self.work.enqueue_mail(email).await
    }

    /// Fires `event` after the commit.
    pub fn fire(&self, event: OrgEvent) {
        self.work.fire(event);
    }

    /// Commits, then fires the events and wakes the mail sender.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.work.commit().await
    }
}

impl crate::mail::Queue for SystemTxn {
    fn enqueue_mail(
        &self,
        email: OutgoingEmail,
    ) -> impl std::future::Future<Output = Result<email_outbox::Model, DbErr>> + Send {
        SystemTxn::enqueue_mail(self, email)
    }
}
