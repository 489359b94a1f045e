//! Who is asking in the request's organization, and whether they may: [`tenant_for`] resolves
//! the requester's [`Access`] (from the caches) and checks one [`Need`]; the route wrapper
//! (`web::ctx::checked`) checks the route table's needs with it and hands the handler a
//! [`Tenant`], whose transaction only `web::ctx` opens: the one way to the organization's rows.
//!
//! Answers: no tenant resolved, or a signed-in non-member: 404 (do not confirm that another
//! tenant exists; the peer says 403); anonymous: login redirect or 401; a member without the
//! permission: 403 naming it; superusers pass every check.

use entity::OrganizationId;
use std::sync::Arc;

use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use entity::{organization, user};
use sea_orm::DbErr;

use super::CurrentUser;
use super::resolve::{ApiKeyPrincipal, ResolvedTenant};
use super::user::Credential;
use crate::error::AppError;
use crate::permissions::{BuiltinRole, Catalog, Permission, PermissionSet};
use crate::route_table::Needs;
use crate::state::AppState;
use crate::tenancy::{Access, Actor, ActorKind, TenantTxn, door};

/// `Access::load`, reusing a recent answer from the application's caches (kept per
/// organization and user: never another organization's answer).
pub(crate) async fn access_cached(
    state: &AppState,
    organization_id: OrganizationId,
    user: &user::Model,
) -> Result<Access, DbErr> {
    let caches = &state.caches;
    let load = async {
        Access::load(&state.db, &state.permissions, organization_id, user)
            .await
            .map(Some)
    };
    // `load` always answers, so the default (no access at all) is never used.
    let access = caches
        .through(&caches.access, (organization_id.get(), user.id), load)
        .await?
        .unwrap_or_default();
    // The superuser flag comes with the (itself cached) user.
    let mut access = Access {
        is_superuser: user.is_superuser,
        ..access
    };
    if user.is_superuser {
        access.permissions = state.permissions.everything();
    }
    Ok(access)
}

/// Who is acting: a signed-in person, or an organization API key.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A signed-in user (session or personal token).
    User(user::Model),
    /// An organization API key: holds its own permissions, never the owner's.
    ApiKey(ApiKeyPrincipal),
}

/// An organization as seen by a requester who passed a permission check. Its rows are reached
/// through the transaction [`Tenant::begin`] opens.
#[derive(Clone, Debug)]
pub struct Tenant {
    organization: organization::Model,
    principal: Principal,
    access: Access,
    root: String,
    write: bool,
    actor: Actor,
    needs: Vec<Need>,
    catalog: Arc<Catalog>,
    /// How a person is signed in (none for an API key).
    credential: Option<Credential>,
    /// Where a page of a requirement refused sends the person; none on the API.
    setup: Option<String>,
    /// Where a page refused for want of the organization's single sign-on sends the person
    /// (its start, back to this page); none on the API.
    sign_on: Option<String>,
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

    /// How the person acting is signed in (none when an organization API key is acting).
    pub fn credential(&self) -> Option<&Credential> {
        self.credential.as_ref()
    }

    /// A dangerous action's check (sudo mode, [`super::user::require_recent`]): the person
    /// confirmed it was them within `auth.sudo_ttl_secs`; a page is sent to confirm and comes
    /// back to `back` (a path under the tenant root). An API key is not a person: it passes.
    pub fn require_recent(&self, req: &HttpRequest, back: &str) -> Result<(), AppError> {
        let ttl = req
            .app_data::<web::Data<AppState>>()
            .map_or(600, |state| state.settings.auth.sudo_ttl_secs);
        super::user::require_recent(req, self.credential.as_ref(), ttl, &self.url(back))
    }

    /// The requester's access.
    pub fn access(&self) -> Access {
        self.access
    }

    /// Whether the requester holds `permission` here.
    pub fn can(&self, permission: Permission) -> bool {
        self.access.holds(self.catalog.one(permission))
    }

    /// The names of the permissions the requester holds here, in catalog order.
    pub fn permission_names(&self) -> Vec<&'static str> {
        self.catalog
            .list(self.access.permissions)
            .into_iter()
            .map(Permission::name)
            .collect()
    }

    /// The application's permission catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub(super) fn catalog_arc(&self) -> Arc<Catalog> {
        self.catalog.clone()
    }

    /// What the requester holds here: the most they may grant.
    pub fn permissions(&self) -> PermissionSet {
        self.access.permissions
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
    /// fired in it, and the mail sender's wake-up, wait for its commit; its audit events record
    /// the requester, the client's address and user agent, and the request id.
    ///
    /// For an unsafe method the permissions the extractor checked (perhaps from the cache,
    /// before any lock) are checked again in the transaction from fresh rows, under the
    /// organization's lock when one of them is beyond a member's: a role change or a transfer
    /// that committed a moment ago is seen, and none can commit until this transaction ends.
    pub(super) async fn begin(&self, state: &AppState) -> Result<TenantTxn, AppError> {
        let tx = self.open(state, self.write).await?;
        if !self.write {
            return Ok(tx);
        }
        let holds = self.check_again(state, &tx).await?;
        Ok(tx.granting(holds))
    }

    /// The most the requester may grant in `tx`: what they hold as read in it from fresh rows
    /// (for a write), else as the extractor found.
    pub(super) fn granter(&self, tx: &TenantTxn) -> PermissionSet {
        tx.granter().unwrap_or(self.access.permissions)
    }

    /// A transaction that only reads, whatever the request's method (a form shown again after
    /// a refused write, whose own transaction was given up).
    pub(super) async fn begin_read(&self, state: &AppState) -> Result<TenantTxn, AppError> {
        self.open(state, false).await
    }

    async fn open(&self, state: &AppState, write: bool) -> Result<TenantTxn, AppError> {
        #[expect(
            clippy::disallowed_methods,
            reason = "the request's own tenant, resolved and its requester's permissions checked"
        )]
        let tx = door::request(
            &state.db,
            &state.events,
            &state.outbox,
            &self.organization,
            write,
            self.actor.clone(),
        )
        .await?;
        Ok(tx)
    }

    /// The permissions checked again from fresh rows; what the requester holds.
    async fn check_again(
        &self,
        state: &AppState,
        tx: &TenantTxn,
    ) -> Result<PermissionSet, AppError> {
        let Principal::User(user) = &self.principal else {
            return Ok(self.access.permissions);
        };
        if self.access.is_superuser {
            return Ok(self.access.permissions);
        }
        let catalog = &state.permissions;
        let member = catalog.builtin(BuiltinRole::Member);
        let beyond_member = self.needs.iter().any(|need| match need {
            Need::Permission(p) => !member.contains_all(catalog.one(*p)),
            Need::AnyOf(ps) => ps.iter().any(|p| !member.contains_all(catalog.one(*p))),
            Need::Member => false,
        });
        if beyond_member {
            tx.lock_organization().await?.ok_or(AppError::NotFound)?;
        }
        let fresh = Access::in_txn(tx, catalog, user).await?;
        for need in &self.needs {
            check_access(catalog, fresh, *need)?;
        }
        Ok(fresh.permissions)
    }

    /// The client's address (after the trusted-proxy rule).
    pub fn client(&self) -> &str {
        self.actor.ip.as_deref().unwrap_or_default()
    }
}

/// What a route requires of the requester.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Need {
    /// A membership.
    Member,
    /// A permission.
    Permission(Permission),
    /// At least one of these permissions.
    AnyOf(&'static [Permission]),
}

impl Need {
    /// What the route table's `needs` asks of the requester (the owner's exclusion from
    /// leaving is the service's rule, answered with its own message).
    pub(super) fn of(needs: Needs) -> Self {
        match needs {
            Needs::Member | Needs::MemberNotOwner => Self::Member,
            Needs::Permission(permission) => Self::Permission(permission),
            Needs::AnyOf(permissions) => Self::AnyOf(permissions),
        }
    }
}

fn actor_of(req: &HttpRequest, principal: &Principal, ip: String) -> Actor {
    let (kind, id, name) = match principal {
        Principal::User(user) => (
            ActorKind::User,
            user.id,
            user::display_name(&user.name, &user.email).to_string(),
        ),
        Principal::ApiKey(key) => (ActorKind::ApiKey, key.id, key.name.clone()),
    };
    request_actor(req, kind, Some(id), name, ip)
}

/// The actor `kind` (`id`, `name`) acting through `req` from `ip`, as the audit log records
/// it: with the request's `User-Agent` (its first 512 characters) and id.
pub(crate) fn request_actor(
    req: &HttpRequest,
    kind: ActorKind,
    id: Option<i64>,
    name: String,
    ip: String,
) -> Actor {
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(512).collect());
    let request_id = req
        .extensions()
        .get::<crate::web::observe::RequestId>()
        .map(ToString::to_string);
    Actor {
        kind,
        id,
        name,
        ip: Some(ip),
        user_agent,
        request_id,
    }
}

/// The tenant `members_first` settled for the request, taken out of its extensions (no copy)
/// and checked for `need`; resolved afresh when there is none (a route mounted without it).
pub(super) async fn take_tenant(req: HttpRequest, need: Need) -> Result<Tenant, AppError> {
    let taken = req.extensions_mut().remove::<Tenant>();
    match taken {
        Some(tenant) => {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?;
            check(&state.permissions, tenant, need)
        }
        None => tenant_for(req, need).await,
    }
}

pub(super) async fn tenant_for(req: HttpRequest, need: Need) -> Result<Tenant, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?
        .clone();
    if let Some(tenant) = req.extensions().get::<Tenant>().cloned() {
        return check(&state.permissions, tenant, need);
    }
    let Some(resolved) = req.extensions().get::<ResolvedTenant>().cloned() else {
        return Err(AppError::NotFound);
    };
    let client =
        crate::web::client::Client::of_request(&req, &state.settings.server.trusted_proxies)
            .ip_text();
    let (principal, access) = match resolved.api_key {
        Some(key) => {
            let access = Access {
                is_member: true,
                is_admin: false,
                is_owner: false,
                is_superuser: false,
                permissions: key.permissions,
            };
            (Principal::ApiKey(key), access)
        }
        None => {
            let CurrentUser(user) = CurrentUser::extract(&req).await?;
            let access = access_cached(&state, resolved.organization.id(), &user).await?;
            (Principal::User(user), access)
        }
    };
    let credential = match principal {
        Principal::User(_) => super::user::credential_of(&req),
        Principal::ApiKey(_) => None,
    };
    let setup = (!super::user::is_api_path(req.path())).then(|| {
        let query =
            serde_urlencoded::to_string([("for", &resolved.organization.slug)]).unwrap_or_default();
        format!("/account/security/?{query}")
    });
    let sign_on = setup.as_ref().map(|_| {
        // The tenant routes see the path below the root already.
        let next = req
            .path()
            .strip_prefix(resolved.root.as_str())
            .unwrap_or(req.path());
        let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
        format!(
            "{}/sso/{}/start?{query}",
            state.settings.server.public_url.trim_end_matches('/'),
            resolved.organization.slug
        )
    });
    let actor = actor_of(&req, &principal, client);
    let tenant = Tenant {
        organization: resolved.organization,
        principal,
        access,
        root: resolved.root,
        write: !req.method().is_safe(),
        actor,
        needs: Vec::new(),
        catalog: state.permissions.clone(),
        credential,
        setup,
        sign_on,
    };
    req.extensions_mut().insert(tenant.clone());
    check(&state.permissions, tenant, need)
}

fn check(catalog: &Catalog, mut tenant: Tenant, need: Need) -> Result<Tenant, AppError> {
    check_access(catalog, tenant.access, need)?;
    check_sign_on(&tenant)?;
    check_two_factor(&tenant)?;
    if !tenant.needs.contains(&need) {
        tenant.needs.push(need);
    }
    Ok(tenant)
}

/// The organization's two-factor requirement, after the membership check (a non-member still
/// gets 404): a person whose sign-in did not use a second factor is refused (a token counts as
/// its sign-in did), superusers included; an organization API key is not a person. Read from
/// the organization of the URL, never another.
fn check_two_factor(tenant: &Tenant) -> Result<(), AppError> {
    if !tenant.organization.two_factor_required {
        return Ok(());
    }
    let Principal::User(_) = tenant.principal else {
        return Ok(());
    };
    let organization_id = tenant.organization.id;
    if tenant
        .credential
        .as_ref()
        .is_some_and(|c| c.has_second_factor_for(organization_id))
    {
        return Ok(());
    }
    Err(AppError::TwoFactorRequired {
        name: tenant.organization.name.clone(),
        setup: tenant.setup.clone(),
    })
}

/// The organization's enforced single sign-on, after the membership check: a member whose
/// address is at one of its enforced domains reaches it only from a sign-in its sign-on made.
/// A personal token counts as the sign-in it was made from. The owner keeps their password
/// (the break-glass way in when the provider is down); an API key and a superuser who is not a
/// member are not held to it, nor anyone while the plan lacks single sign-on (nobody could
/// sign on).
fn check_sign_on(tenant: &Tenant) -> Result<(), AppError> {
    if tenant.organization.sso_enforced.is_none()
        || tenant.access.is_owner
        || !tenant.access.is_member
        || !crate::organizations::billing::has_feature(&tenant.organization, "sso")
    {
        return Ok(());
    }
    let Principal::User(user) = &tenant.principal else {
        return Ok(());
    };
    let made_by = tenant.credential.as_ref().and_then(Credential::sign_on);
    if made_by.is_some_and(|(id, _)| id == tenant.organization.id) {
        return Ok(());
    }
    let domain = crate::organizations::email_domains::domain_of(&user.email).unwrap_or_default();
    if !crate::organizations::email_domains::enforced_domains(&tenant.organization)
        .contains(&domain)
    {
        return Ok(());
    }
    Err(AppError::SignOnRequired {
        name: tenant.organization.name.clone(),
        start: tenant.sign_on.clone(),
    })
}

fn check_access(catalog: &Catalog, access: Access, need: Need) -> Result<(), AppError> {
    if access.is_superuser {
        return Ok(());
    }
    if !access.is_member {
        return Err(AppError::NotFound);
    }
    match need {
        Need::Member => Ok(()),
        Need::Permission(permission) if access.holds(catalog.one(permission)) => Ok(()),
        Need::Permission(permission) => Err(AppError::MissingPermission(permission)),
        Need::AnyOf(permissions) => match permissions.first() {
            Some(_) if !permissions.iter().any(|p| access.holds(catalog.one(*p))) => {
                Err(AppError::MissingAnyOf(permissions))
            }
            Some(_) => Ok(()),
            // A route table's `AnyOf(&[])` names nothing anyone could hold.
            None => Err(AppError::Forbidden(
                "This route names no permission that could let you in.".into(),
            )),
        },
    }
}

/// The middleware of every tenant route (`routes::tenant`): settles the tenant and the
/// requester's membership before anything reads the body, so that a non-member gets the same 404
/// (and an anonymous visitor the same 401 or sign-in redirect) whatever the body says, and no
/// answer confirms that the organization exists. The route's own extractor then checks its
/// permission, reusing the access read here.
pub async fn members_first(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if let Err(error) = tenant_for(req.request().clone(), Need::Member).await {
        return Ok(req.error_response(error));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
