//! The only way a handler reaches an organization: extractors named for what they grant.
//! `OrgMember`, `OrgAdmin` and `OrgOwner` each check the signed-in user against the resolved
//! tenant and hand out a [`Tenant`], whose [`Tenant::begin`] opens the request's
//! [`TenantTxn`]: the one way to the organization's rows.
//!
//! Answers: no tenant resolved, or a signed-in non-member: 404 (do not confirm that another
//! tenant exists; the peer says 403); anonymous: login redirect or 401; a member without the
//! role: 403; superusers pass every check.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use entity::{organization, user};
use sea_orm::DbErr;

use super::CurrentUser;
use super::resolve::{ApiKeyPrincipal, ResolvedTenant};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::{Access, TenantTxn, door};

/// `Access::load`, reusing a recent answer from the application's caches.
async fn access_cached(
    state: &AppState,
    organization_id: i64,
    user: &user::Model,
) -> Result<Access, DbErr> {
    let caches = &state.caches;
    let load = async {
        Access::load(&state.db, organization_id, user)
            .await
            .map(Some)
    };
    // `load` always answers, so the default (no access at all) is never used.
    let access = caches
        .through(&caches.access, (organization_id, user.id), load)
        .await?
        .unwrap_or_default();
    // The superuser flag comes with the (itself cached) user.
    Ok(Access {
        is_superuser: user.is_superuser,
        ..access
    })
}

/// Who is acting: a signed-in person, or an organization API key.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A signed-in user (session or personal token).
    User(user::Model),
    /// An organization API key: acts as an admin of its organization, never as its owner.
    ApiKey(ApiKeyPrincipal),
}

/// An organization as seen by a requester who passed a role check. Its rows are reached through
/// the transaction [`Tenant::begin`] opens.
#[derive(Clone, Debug)]
pub struct Tenant {
    organization: organization::Model,
    principal: Principal,
    access: Access,
    root: String,
    write: bool,
    client: String,
    needs: Role,
}

impl Tenant {
    /// The organization.
    pub fn organization(&self) -> &organization::Model {
        &self.organization
    }

    /// The signed-in user; `None` when an organization API key is acting.
    pub fn user(&self) -> Option<&user::Model> {
        match &self.principal {
            Principal::User(user) => Some(user),
            Principal::ApiKey(_) => None,
        }
    }

    /// Who is acting.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The user's access.
    pub fn access(&self) -> Access {
        self.access
    }

    /// A URL inside the tenant, for links and redirects (`/projects/` -> `/o/acme/projects/` on
    /// the path form, unchanged on a subdomain).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }

    /// What tenant URLs start with.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// Opens the request's transaction on the tenant: the only way to its rows. On PostgreSQL
    /// row-level security limits everything run in it to this organization, even an unscoped
    /// query; on SQLite a request with an unsafe method takes the write lock at `BEGIN`. Events
    /// fired in it, and the mail sender's wake-up, wait for its commit.
    ///
    /// For an unsafe method the role the extractor checked (perhaps from the cache, before any
    /// lock) is checked again in the transaction from fresh rows, under the organization's lock
    /// when it is the admin's or the owner's: a demotion or a transfer that committed a moment
    /// ago is seen, and none can commit until this transaction ends.
    pub async fn begin(&self, state: &AppState) -> Result<TenantTxn, AppError> {
        #[expect(
            clippy::disallowed_methods,
            reason = "the request's own tenant, resolved and its requester's role checked"
        )]
        let tx = door::request(
            &state.db,
            &state.events,
            &state.outbox,
            self.organization.id,
            self.write,
            self.client.clone(),
        )
        .await?;
        if self.write {
            self.check_again(&tx).await?;
        }
        Ok(tx)
    }

    async fn check_again(&self, tx: &TenantTxn) -> Result<(), AppError> {
        let Principal::User(user) = &self.principal else {
            return Ok(());
        };
        if self.access.is_superuser {
            return Ok(());
        }
        if self.needs >= Role::Admin {
            tx.lock_organization().await?.ok_or(AppError::NotFound)?;
        }
        let fresh = Access::in_txn(tx, user).await?;
        check_access(fresh, self.needs)
    }

    /// The client's address (after the trusted-proxy rule).
    pub fn client(&self) -> &str {
        &self.client
    }
}

/// Which role an extractor requires (in increasing order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Role {
    Member,
    Admin,
    Owner,
}

pub(super) async fn tenant_for(req: HttpRequest, role: Role) -> Result<Tenant, AppError> {
    if let Some(tenant) = req.extensions().get::<Tenant>().cloned() {
        return check(tenant, role);
    }
    let Some(resolved) = req.extensions().get::<ResolvedTenant>().cloned() else {
        return Err(AppError::NotFound);
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?;
    let client =
        crate::web::client::Client::of_request(&req, &state.settings.server.trusted_proxies)
            .ip_text();
    let (principal, access) = match resolved.api_key {
        Some(key) => {
            let access = Access {
                is_member: true,
                is_admin: true,
                is_owner: false,
                is_superuser: false,
            };
            (Principal::ApiKey(key), access)
        }
        None => {
            let CurrentUser(user) = CurrentUser::extract(&req).await?;
            let access = access_cached(state, resolved.organization.id, &user).await?;
            (Principal::User(user), access)
        }
    };
    let tenant = Tenant {
        organization: resolved.organization,
        principal,
        access,
        root: resolved.root,
        write: !req.method().is_safe(),
        client,
        needs: Role::Member,
    };
    req.extensions_mut().insert(tenant.clone());
    check(tenant, role)
}

fn check(mut tenant: Tenant, role: Role) -> Result<Tenant, AppError> {
    check_access(tenant.access, role)?;
    tenant.needs = tenant.needs.max(role);
    Ok(tenant)
}

fn check_access(access: Access, role: Role) -> Result<(), AppError> {
    if access.is_superuser {
        return Ok(());
    }
    if !access.is_member {
        return Err(AppError::NotFound);
    }
    match role {
        Role::Member => Ok(()),
        // Parity: organizations/views/mixins.py AdminRequiredMixin, OwnerRequiredMixin.
        Role::Admin if access.is_admin => Ok(()),
        Role::Admin => Err(AppError::Forbidden("Sorry, admins only.".into())),
        Role::Owner if access.is_owner => Ok(()),
        Role::Owner => Err(AppError::Forbidden(
            "You are not the organization owner.".into(),
        )),
    }
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(pub Tenant);

        impl Deref for $name {
            type Target = Tenant;
            fn deref(&self) -> &Tenant {
                &self.0
            }
        }

        impl FromRequest for $name {
            type Error = AppError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move { tenant_for(req, $role).await.map($name) })
            }
        }
    };
}

role_extractor!(
    /// A member (or superuser) of the request's organization.
    OrgMember,
    Role::Member
);
role_extractor!(
    /// An admin (or superuser) of the request's organization.
    OrgAdmin,
    Role::Admin
);
role_extractor!(
    /// The owner (or a superuser) of the request's organization.
    OrgOwner,
    Role::Owner
);
