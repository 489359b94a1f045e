//! The shape of a route table: a tenant route's method, path, what it needs and its handler.
//! orgs' `routes::TENANT_ROUTES` and an embedding app's table
//! (`AppState::with_tenant_routes`) are made of these; here, below the state, so the state can
//! hold an embedder's.

use actix_web::http::Method;

use crate::permissions::Permission;

/// What a tenant route needs of the requester: checked by the route's wrapper
/// (`web::ctx::checked`) before the handler runs or its body is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Any member.
    Member,
    /// Any member; the owner is refused by the service (leaving), with its own message.
    MemberNotOwner,
    /// The permission.
    Permission(Permission),
    /// At least one of these (a page with a section per permission).
    AnyOf(&'static [Permission]),
}

impl Needs {
    /// How the access table (docs/serving.md) writes it.
    pub fn describe(self) -> String {
        match self {
            Self::Member => "any member".into(),
            Self::MemberNotOwner => "any member but the owner".into(),
            Self::Permission(p) => format!("`{p}`"),
            Self::AnyOf(ps) => ps
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// One tenant route: the data both `routes::configure_tenant` and the isolation test read, so a route
/// cannot be served without being in the matrix.
#[derive(Clone)]
pub struct TenantRoute {
    /// The HTTP method.
    pub method: Method,
    /// The path under the tenant root.
    pub path: &'static str,
    /// What the requester must be or hold.
    pub needs: Needs,
    /// A `POST` that creates: it honours `Idempotency-Key` ([`crate::web::idempotency`]).
    pub creates: bool,
    /// The plan feature it needs (`sso`, `scim`, `webhooks`, an embedding app's own): off for
    /// the organization, a member gets 402 `plan_required` ([`crate::organizations::billing`]).
    pub feature: Option<&'static str>,
    pub(crate) handler: fn() -> actix_web::Route,
}

impl TenantRoute {
    /// A route for an embedding app's own table of tenant routes.
    pub fn new(
        method: Method,
        path: &'static str,
        needs: Needs,
        handler: fn() -> actix_web::Route,
    ) -> Self {
        Self {
            method,
            path,
            needs,
            creates: false,
            feature: None,
            handler,
        }
    }

    /// Marks a route as part of the plan feature `key`: a member of an organization whose plan
    /// lacks it gets 402 `plan_required` (a non-member still gets 404).
    pub fn feature(mut self, key: &'static str) -> Self {
        self.feature = Some(key);
        self
    }

    /// Marks a `POST` that creates something: retries with the same `Idempotency-Key` get its
    /// first answer instead of creating again.
    pub fn creating(mut self) -> Self {
        self.creates = true;
        self
    }
}

impl std::fmt::Debug for TenantRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.needs)?;
        match self.feature {
            Some(feature) => write!(f, " [{feature}]"),
            None => Ok(()),
        }
    }
}

/// Any permission that opens a section: what the settings link and `/settings/` need.
pub const ANY_SETTING: &[Permission] = &[
    Permission::ORGANIZATION_UPDATE,
    Permission::ROLES_MANAGE,
    Permission::API_KEYS_MANAGE,
    Permission::DOMAINS_MANAGE,
    Permission::SECURITY_MANAGE,
    Permission::SSO_MANAGE,
    Permission::WEBHOOKS_MANAGE,
    Permission::OWNERSHIP_TRANSFER,
    Permission::ORGANIZATION_DELETE,
];

/// Whether someone holding what `holds` says may open the settings at all: the main
/// navigation's Settings link.
pub fn settings_open_to(holds: impl Fn(Permission) -> bool) -> bool {
    ANY_SETTING.iter().any(|p| holds(*p))
}
