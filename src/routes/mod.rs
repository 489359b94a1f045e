//! HTTP routes. Handlers are thin: parse, call a service, answer.

pub mod accept_invitation;
pub mod account;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod domains;
pub mod health;
pub mod home;
pub mod invitations;
pub mod metrics;
pub mod my_organizations;
pub mod openapi;
pub mod organization;
mod pages;
pub mod passkeys;
pub mod people;
pub mod projects;
pub mod reauth;
pub mod roles;
pub mod scim;
pub mod scim_api;
pub mod security;
pub mod settings;
pub mod sign_in;
pub mod sso;
pub mod sso_api;
pub mod system;
pub mod two_factor_api;
pub mod webhooks_api;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{Resource, guard, web};

use crate::config::Settings;
use crate::error::AppError;
use crate::permissions::Permission;
pub use crate::route_table::{Needs, TenantRoute};
use crate::web::{Page, Tenant};

/// The base of every tenant page: the organization, the tenant root, and `can`: the names of
/// the permissions the requester holds (`{% if "members.invite" in can %}`).
pub fn tenant_page(template: &'static str, tenant: &Tenant) -> Page {
    let access = tenant.access();
    Page::new(template)
        .with("organization", tenant.organization())
        .with("root", tenant.root())
        .with("can", tenant.permission_names())
        .with(
            "settings_link",
            crate::route_table::settings_open_to(|p| tenant.can(p)),
        )
        .with("is_owner", access.is_owner || access.is_superuser)
}

/// A list page's count and links: `pages` for the shared partial `pagination.html`, and the
/// values the list templates had before it, for templates written against them (`ui.template_dir`):
/// `next` (the next page's `?after=`) and `per_page`, `by_page` with `page` when it was reached
/// by number, `first` on the first page by cursor, and the kept `total` when there is one
/// (`has_total`).
pub fn with_page_links(
    page: Page,
    at: &crate::web::page_links::At,
    links: crate::web::page_links::PageLinks,
    total: Option<u64>,
) -> Page {
    use crate::db::Position;
    let number = match at.position {
        Position::Page(n) => n,
        Position::After(None) => 1,
        _ => 0,
    };
    page.with("has_total", total.is_some())
        .with("total", total.unwrap_or_default())
        .with("by_page", matches!(at.position, Position::Page(_)))
        .with("page", number)
        .with("first", at.is_start())
        .with("per_page", at.per_page)
        .with("next", &links.cursor)
        .with("pages", links)
}

/// A route that exists only on a tenant (`acme.example.com/...` or `/o/acme/...`); elsewhere
/// routing falls through to the global routes. An embedding app mounts its tenant pages with it.
pub fn tenant(
    path: &str,
) -> Resource<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    web::resource(path)
        .guard(guard::fn_guard(crate::web::has_tenant))
        .wrap(actix_web::middleware::from_fn(
            crate::web::tenant::members_first,
        ))
}

macro_rules! needs {
    (Member) => {
        Needs::Member
    };
    (MemberNotOwner) => {
        Needs::MemberNotOwner
    };
    (AnyOf($($p:ident),*)) => {
        Needs::AnyOf(&[$(Permission::$p),*])
    };
    ($p:ident) => {
        Needs::Permission(Permission::$p)
    };
}

macro_rules! creates {
    () => {
        false
    };
    (creates) => {
        true
    };
}

macro_rules! feature {
    () => {
        None
    };
    ($feature:literal) => {
        Some($feature)
    };
}

macro_rules! tenant_routes {
    ($($method:ident $path:literal [$($needs:tt)+] $(($feature:literal))? $($creates:ident)? => $handler:path;)*) => {
        /// Every tenant route, in registration order.
        pub const TENANT_ROUTES: &[TenantRoute] = &[$(TenantRoute {
            method: Method::$method,
            path: $path,
            needs: needs!($($needs)+),
            creates: creates!($($creates)?),
            feature: feature!($($feature)?),
            handler: || web::method(Method::$method).to($handler),
        },)*];
    };
}

tenant_routes! {
    GET "/" [MEMBERS_READ] => projects::dashboard;
    GET "/projects/" [PROJECTS_READ] => projects::list;
    GET "/projects/new/" [PROJECTS_WRITE] => projects::new_form;
    POST "/projects/new/" [PROJECTS_WRITE] => projects::create;
    GET "/projects/{id}/" [PROJECTS_READ] => projects::detail;
    GET "/projects/{id}/edit/" [PROJECTS_WRITE] => projects::edit_form;
    POST "/projects/{id}/edit/" [PROJECTS_WRITE] => projects::edit;
    GET "/projects/{id}/delete/" [PROJECTS_DELETE] => projects::delete_form;
    POST "/projects/{id}/delete/" [PROJECTS_DELETE] => projects::delete;
    GET "/api/v1/projects/" [PROJECTS_READ] => projects::api_list;
    POST "/api/v1/projects/" [PROJECTS_WRITE] creates => projects::api_create;
    GET "/api/v1/projects/{id}/" [PROJECTS_READ] => projects::api_detail;
    PATCH "/api/v1/projects/{id}/" [PROJECTS_WRITE] => projects::api_update;
    DELETE "/api/v1/projects/{id}/" [PROJECTS_DELETE] => projects::api_delete;
    GET "/edit/" [ORGANIZATION_UPDATE] => settings::general::show;
    POST "/edit/" [ORGANIZATION_UPDATE] => settings::general::save;
    GET "/delete/" [ORGANIZATION_DELETE] => organization::delete_form;
    POST "/delete/" [ORGANIZATION_DELETE] => organization::delete;
    GET "/transfer/" [OWNERSHIP_TRANSFER] => organization::transfer_form;
    POST "/transfer/" [OWNERSHIP_TRANSFER] => organization::transfer;
    GET "/leave/" [MemberNotOwner] => organization::leave_form;
    POST "/leave/" [MemberNotOwner] => organization::leave;
    GET "/people/" [MEMBERS_READ] => people::pages::list;
    GET "/people/add/" [MEMBERS_INVITE] => people::pages::add_form;
    POST "/people/add/" [MEMBERS_INVITE] => people::pages::add;
    GET "/people/{user_id}/" [MEMBERS_READ] => people::pages::detail;
    GET "/people/{user_id}/edit/" [MEMBERS_UPDATE] => people::pages::edit_form;
    POST "/people/{user_id}/edit/" [MEMBERS_UPDATE] => people::pages::edit;
    GET "/people/{user_id}/delete/" [MEMBERS_REMOVE] => people::pages::delete_form;
    POST "/people/{user_id}/delete/" [MEMBERS_REMOVE] => people::pages::delete;
    GET "/people/{user_id}/remind/" [INVITATIONS_MANAGE] => people::pages::remind_form;
    POST "/people/{user_id}/remind/" [INVITATIONS_MANAGE] => people::pages::remind;
    GET "/api/v1/organization/" [Member] => organization::api_show;
    PATCH "/api/v1/organization/" [ORGANIZATION_UPDATE] => organization::api_update;
    DELETE "/api/v1/organization/" [ORGANIZATION_DELETE] => organization::api_delete;
    POST "/api/v1/transfer/" [OWNERSHIP_TRANSFER] => organization::api_transfer;
    POST "/api/v1/leave/" [MemberNotOwner] => organization::api_leave;
    GET "/api/v1/people/" [MEMBERS_READ] => people::api::list;
    POST "/api/v1/people/" [MEMBERS_INVITE] creates => people::api::invite;
    GET "/api/v1/people/{user_id}/" [MEMBERS_READ] => people::api::detail;
    PATCH "/api/v1/people/{user_id}/" [MEMBERS_UPDATE] => people::api::update;
    DELETE "/api/v1/people/{user_id}/" [MEMBERS_REMOVE] => people::api::delete;
    POST "/api/v1/people/{user_id}/remind/" [INVITATIONS_MANAGE] => people::api::remind;
    GET "/invitations/" [INVITATIONS_MANAGE] => invitations::list;
    POST "/invitations/{id}/revoke/" [INVITATIONS_MANAGE] => invitations::revoke;
    POST "/invitations/{id}/resend/" [INVITATIONS_MANAGE] => invitations::resend;
    GET "/api/v1/invitations/" [INVITATIONS_MANAGE] => invitations::api_list;
    GET "/api/v1/invitations/{id}/" [INVITATIONS_MANAGE] => invitations::api_detail;
    POST "/api/v1/invitations/{id}/revoke/" [INVITATIONS_MANAGE] => invitations::api_revoke;
    POST "/api/v1/invitations/{id}/resend/" [INVITATIONS_MANAGE] => invitations::api_resend;
    GET "/settings/" [AnyOf(ORGANIZATION_UPDATE, ROLES_MANAGE, API_KEYS_MANAGE, DOMAINS_MANAGE, SECURITY_MANAGE, SSO_MANAGE, WEBHOOKS_MANAGE, OWNERSHIP_TRANSFER, ORGANIZATION_DELETE)] => settings::general::show;
    GET "/settings/security/" [SECURITY_MANAGE] => settings::security::show;
    POST "/settings/security/" [SECURITY_MANAGE] => settings::security::save;
    GET "/settings/danger/" [AnyOf(OWNERSHIP_TRANSFER, ORGANIZATION_DELETE)] => settings::danger;
    GET "/settings/api-keys/" [API_KEYS_MANAGE] => settings::api_keys;
    POST "/settings/api-keys/" [API_KEYS_MANAGE] => api_keys::create;
    GET "/settings/api-keys/{id}/revoke/" [API_KEYS_MANAGE] => api_keys::revoke_form;
    POST "/settings/api-keys/{id}/revoke/" [API_KEYS_MANAGE] => api_keys::revoke;
    GET "/settings/domains/" [DOMAINS_MANAGE] => settings::domains;
    POST "/settings/domains/" [DOMAINS_MANAGE] => domains::add;
    POST "/settings/domains/{id}/verify/" [DOMAINS_MANAGE] => domains::verify;
    POST "/settings/domains/{id}/delete/" [DOMAINS_MANAGE] => domains::delete;
    GET "/api/v1/api-keys/" [API_KEYS_MANAGE] => api_keys::api_list;
    POST "/api/v1/api-keys/" [API_KEYS_MANAGE] creates => api_keys::api_create;
    DELETE "/api/v1/api-keys/{id}/" [API_KEYS_MANAGE] => api_keys::api_revoke;
    GET "/api/v1/domains/" [DOMAINS_MANAGE] => domains::api_list;
    POST "/api/v1/domains/" [DOMAINS_MANAGE] creates => domains::api_add;
    POST "/api/v1/domains/{id}/verify/" [DOMAINS_MANAGE] => domains::api_verify;
    DELETE "/api/v1/domains/{id}/" [DOMAINS_MANAGE] => domains::api_delete;
    GET "/settings/sso/" [SSO_MANAGE] => settings::sso::show;
    POST "/settings/sso/domains/" [SSO_MANAGE] => settings::sso::add_domain;
    POST "/settings/sso/domains/{id}/verify/" [SSO_MANAGE] => settings::sso::verify_domain;
    POST "/settings/sso/domains/{id}/join/" [SSO_MANAGE] => settings::sso::set_join;
    POST "/settings/sso/domains/{id}/delete/" [SSO_MANAGE] => settings::sso::delete_domain;
    POST "/settings/sso/connection/" [SSO_MANAGE] ("sso") => settings::sso::save_connection;
    POST "/settings/sso/connection/delete/" [SSO_MANAGE] => settings::sso::delete_connection;
    GET "/api/v1/email-domains/" [SSO_MANAGE] => sso_api::list;
    POST "/api/v1/email-domains/" [SSO_MANAGE] creates => sso_api::add;
    GET "/api/v1/email-domains/{id}/" [SSO_MANAGE] => sso_api::detail;
    PATCH "/api/v1/email-domains/{id}/" [SSO_MANAGE] => sso_api::update;
    DELETE "/api/v1/email-domains/{id}/" [SSO_MANAGE] => sso_api::delete;
    POST "/api/v1/email-domains/{id}/verify/" [SSO_MANAGE] => sso_api::verify;
    GET "/api/v1/sso-connection/" [SSO_MANAGE] ("sso") => sso_api::show_connection;
    PUT "/api/v1/sso-connection/" [SSO_MANAGE] ("sso") => sso_api::put_connection;
    DELETE "/api/v1/sso-connection/" [SSO_MANAGE] => sso_api::delete_connection;
    GET "/settings/scim/" [SSO_MANAGE] ("scim") => settings::scim::show;
    POST "/settings/scim/tokens/" [SSO_MANAGE] ("scim") => settings::scim::create_token;
    POST "/settings/scim/tokens/{id}/revoke/" [SSO_MANAGE] => settings::scim::revoke_token;
    POST "/settings/scim/groups/{id}/roles/" [SSO_MANAGE] ("scim") => settings::scim::set_group_roles;
    GET "/api/v1/scim-tokens/" [SSO_MANAGE] ("scim") => scim_api::list;
    POST "/api/v1/scim-tokens/" [SSO_MANAGE] ("scim") creates => scim_api::create;
    DELETE "/api/v1/scim-tokens/{id}/" [SSO_MANAGE] => scim_api::revoke;
    GET "/api/v1/scim-groups/" [SSO_MANAGE] ("scim") => scim_api::list_groups;
    PUT "/api/v1/scim-groups/{id}/roles/" [SSO_MANAGE] ("scim") => scim_api::set_group_roles;
    GET "/settings/webhooks/" [WEBHOOKS_MANAGE] ("webhooks") => settings::webhooks::show;
    POST "/settings/webhooks/" [WEBHOOKS_MANAGE] ("webhooks") => settings::webhooks::create;
    GET "/settings/webhooks/{id}/" [WEBHOOKS_MANAGE] ("webhooks") => settings::webhooks::endpoint;
    POST "/settings/webhooks/{id}/" [WEBHOOKS_MANAGE] ("webhooks") => settings::webhooks::update;
    POST "/settings/webhooks/{id}/rotate/" [WEBHOOKS_MANAGE] ("webhooks") => settings::webhooks::rotate;
    POST "/settings/webhooks/{id}/test/" [WEBHOOKS_MANAGE] ("webhooks") => settings::webhooks::test;
    POST "/settings/webhooks/{id}/delete/" [WEBHOOKS_MANAGE] => settings::webhooks::delete;
    POST "/settings/webhooks/{id}/redeliver/" [WEBHOOKS_MANAGE] ("webhooks") => settings::webhooks::redeliver_since;
    POST "/settings/webhooks/{id}/deliveries/{delivery_id}/redeliver/" [WEBHOOKS_MANAGE] ("webhooks") => settings::webhooks::redeliver;
    GET "/api/v1/webhook-event-types/" [WEBHOOKS_MANAGE] ("webhooks") => webhooks_api::event_types;
    GET "/api/v1/webhook-endpoints/" [WEBHOOKS_MANAGE] ("webhooks") => webhooks_api::list;
    POST "/api/v1/webhook-endpoints/" [WEBHOOKS_MANAGE] ("webhooks") creates => webhooks_api::create;
    GET "/api/v1/webhook-endpoints/{id}/" [WEBHOOKS_MANAGE] ("webhooks") => webhooks_api::detail;
    PATCH "/api/v1/webhook-endpoints/{id}/" [WEBHOOKS_MANAGE] ("webhooks") => webhooks_api::update;
    DELETE "/api/v1/webhook-endpoints/{id}/" [WEBHOOKS_MANAGE] => webhooks_api::delete;
    POST "/api/v1/webhook-endpoints/{id}/rotate-secret/" [WEBHOOKS_MANAGE] ("webhooks") => webhooks_api::rotate;
    POST "/api/v1/webhook-endpoints/{id}/test/" [WEBHOOKS_MANAGE] ("webhooks") => webhooks_api::test;
    GET "/api/v1/webhook-endpoints/{id}/deliveries/" [WEBHOOKS_MANAGE] ("webhooks") => webhooks_api::deliveries;
    GET "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/" [WEBHOOKS_MANAGE] ("webhooks") => webhooks_api::delivery;
    POST "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver/" [WEBHOOKS_MANAGE] ("webhooks") => webhooks_api::redeliver;
    POST "/api/v1/webhook-endpoints/{id}/redeliver/" [WEBHOOKS_MANAGE] ("webhooks") => webhooks_api::redeliver_since;
    GET "/roles/" [ROLES_MANAGE] => roles::list;
    GET "/roles/new/" [ROLES_MANAGE] => roles::new_form;
    POST "/roles/new/" [ROLES_MANAGE] => roles::create;
    GET "/roles/{key}/edit/" [ROLES_MANAGE] => roles::edit_form;
    POST "/roles/{key}/edit/" [ROLES_MANAGE] => roles::edit;
    GET "/roles/{key}/delete/" [ROLES_MANAGE] => roles::delete_form;
    POST "/roles/{key}/delete/" [ROLES_MANAGE] => roles::delete;
    GET "/api/v1/roles/" [ROLES_MANAGE] => roles::api_list;
    POST "/api/v1/roles/" [ROLES_MANAGE] creates => roles::api_create;
    GET "/api/v1/roles/{key}/" [ROLES_MANAGE] => roles::api_detail;
    PATCH "/api/v1/roles/{key}/" [ROLES_MANAGE] => roles::api_update;
    DELETE "/api/v1/roles/{key}/" [ROLES_MANAGE] => roles::api_delete;
    GET "/audit/" [AUDIT_READ] => audit::page;
    GET "/api/v1/audit-events/" [AUDIT_READ] => audit::api_list;
}

/// One route of the API outside any tenant (`/api/v1/organizations/`, `/api/v1/account/`): what
/// [`configure`] registers and the OpenAPI document lists, from one table.
#[derive(Clone)]
pub struct GlobalRoute {
    /// The HTTP method.
    pub method: Method,
    /// The path.
    pub path: &'static str,
    /// A `POST` that creates: it honours `Idempotency-Key`.
    pub creates: bool,
    handler: fn() -> actix_web::Route,
}

macro_rules! global_api_routes {
    ($($method:ident $path:literal $($creates:ident)? => $handler:path;)*) => {
        /// Every global `/api/v1` route, in registration order.
        pub const GLOBAL_API_ROUTES: &[GlobalRoute] = &[$(GlobalRoute {
            method: Method::$method,
            path: $path,
            creates: creates!($($creates)?),
            handler: || web::method(Method::$method).to($handler),
        },)*];
    };
}

global_api_routes! {
    GET "/api/v1/openapi.json" => openapi::serve;
    GET "/api/v1/organizations/" => my_organizations::api_list;
    POST "/api/v1/organizations/" creates => my_organizations::api_add;
    GET "/api/v1/account/" => account::api_show;
    PATCH "/api/v1/account/" => account::api_update;
    POST "/api/v1/account/reauthenticate/" => reauth::api;
    GET "/api/v1/account/two-factor/" => two_factor_api::status;
    POST "/api/v1/account/two-factor/totp/" => two_factor_api::start_totp;
    DELETE "/api/v1/account/two-factor/totp/" => two_factor_api::delete_totp;
    POST "/api/v1/account/two-factor/totp/confirm/" => two_factor_api::confirm_totp;
    POST "/api/v1/account/two-factor/recovery-codes/" => two_factor_api::renew_codes;
    GET "/api/v1/account/two-factor/passkeys/" => two_factor_api::passkeys;
    POST "/api/v1/account/two-factor/passkeys/" creates => two_factor_api::register_passkey;
    POST "/api/v1/account/two-factor/passkeys/registration/" => two_factor_api::start_passkey;
    DELETE "/api/v1/account/two-factor/passkeys/{id}/" => two_factor_api::delete_passkey;
    GET "/api/v1/account/security-events/" => two_factor_api::events;
    GET "/api/v1/system/organizations/{id}/" => system::api_show;
    PATCH "/api/v1/system/organizations/{id}/" => system::api_update;
}

/// Whether `route` is one of Projects', the built-in example resource that
/// `projects.enabled = false` switches off.
pub fn is_projects_route(route: &TenantRoute) -> bool {
    route.path.starts_with("/projects/") || route.path.starts_with("/api/v1/projects/")
}

/// orgs' tenant routes as `settings` serve them: [`TENANT_ROUTES`], without Projects' when
/// `projects.enabled` is off. What the server registers, the OpenAPI document describes and
/// `orgs routes` prints, so none of them offers a route the others do not.
pub fn tenant_routes(settings: &Settings) -> Vec<TenantRoute> {
    TENANT_ROUTES
        .iter()
        .filter(|route| settings.projects.enabled || !is_projects_route(route))
        .cloned()
        .collect()
}

/// The access table of the tenant routes, as markdown: docs/serving.md carries it (a test keeps the
/// two equal), and `orgs routes` prints it (for its settings: [`tenant_routes`]).
pub fn access_table() -> String {
    access_table_of(TENANT_ROUTES)
}

/// The access table of `routes` (orgs' own and an embedding app's: `state.tenant_routes`).
pub fn access_table_of(routes: &[TenantRoute]) -> String {
    let mut out = String::from("| method | path | needs |\n| --- | --- | --- |\n");
    for route in routes {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            route.method,
            route.path,
            match route.feature {
                Some(feature) => format!("{} (plan feature `{feature}`)", route.needs.describe()),
                None => route.needs.describe(),
            }
        ));
    }
    out
}

/// The tenant routes: served at the tenant root of every organization, from [`TENANT_ROUTES`]
/// as `settings` serve them ([`tenant_routes`]; one resource per path, its methods in table
/// order).
pub fn configure_tenant(cfg: &mut web::ServiceConfig, settings: &Settings) {
    configure_tenant_routes(cfg, &tenant_routes(settings));
}

/// Serves `routes` at the tenant root of every organization, as orgs serves its own: the
/// server does it for the embedding app's table given to [`AppState::with_tenant_routes`]
/// (before orgs' own), so they are in the OpenAPI document and the access table too.
///
/// [`AppState::with_tenant_routes`]: crate::AppState::with_tenant_routes
pub fn configure_tenant_routes(cfg: &mut web::ServiceConfig, routes: &[TenantRoute]) {
    let routes = routes
        .iter()
        .map(|r| (r.path, r.handler, r.creates, Some((r.needs, r.feature))));
    register(cfg, routes.collect(), tenant);
}

/// A route's path, the maker of its actix route, whether it creates, and what a tenant route
/// needs (and the plan feature it is part of).
type PathRoute = (
    &'static str,
    fn() -> actix_web::Route,
    bool,
    Option<(Needs, Option<&'static str>)>,
);

/// The actix route of `handler`: a tenant route behind the wrapper that checks its `needs` and
/// settles its transaction (`web::ctx::checked`), a creating one behind the `Idempotency-Key`
/// middleware outside that (so the key's answer commits with the work).
fn route_of(
    handler: fn() -> actix_web::Route,
    creates: bool,
    needs: Option<(Needs, Option<&'static str>)>,
) -> actix_web::Route {
    let mut route = handler();
    if let Some((needs, feature)) = needs {
        route = route.wrap(actix_web::middleware::from_fn(move |req, next| {
            crate::web::ctx::checked(needs, feature, req, next)
        }));
    }
    if creates {
        route = route.wrap(actix_web::middleware::from_fn(
            crate::web::idempotency::idempotent,
        ));
    }
    route
}

/// One resource per path of `routes` (made by `resource`), its methods in table order; the
/// creating ones behind the `Idempotency-Key` middleware.
fn register<T>(
    cfg: &mut web::ServiceConfig,
    routes: Vec<PathRoute>,
    resource: impl Fn(&str) -> Resource<T>,
) where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<BoxBody>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
{
    let mut paths: Vec<&'static str> = Vec::new();
    for (path, ..) in &routes {
        if !paths.contains(path) {
            paths.push(path);
        }
    }
    for path in paths {
        let mut resource = resource(path);
        for (_, handler, creates, needs) in routes.iter().filter(|(p, ..)| *p == path) {
            resource = resource.route(route_of(*handler, *creates, *needs));
        }
        cfg.service(resource);
    }
}

/// Registers every route of orgs on an actix app: the probes, the tenant routes `settings`
/// serve, then the global ones.
pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    // Probes first: actix tries routes in order, and walking the tenant routes first would
    // slow the probes down. No tenant route has their paths.
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::metrics));
    scim::configure(cfg);
    configure_tenant(cfg, settings);
    cfg.route("/", web::get().to(home::home))
        .route("/static/app.css", web::get().to(home::stylesheet))
        .route("/static/passkeys.js", web::get().to(home::passkeys_script))
        // Bound to the host it was made for (see `auth::handoff`), so it answers on any.
        .route("/handoff/{token}/", web::get().to(auth::handoff))
        .route("/logout/", web::post().to(auth::logout));
    for page in pages::sign_in_pages() {
        cfg.service(sign_in_page(page));
    }
    let routes = GLOBAL_API_ROUTES
        .iter()
        .map(|r| (r.path, r.handler, r.creates, None));
    register(cfg, routes.collect(), |path| web::resource(path));
}

/// A global page that takes a password or starts a sign-in: on a host that is not the
/// service's own (a custom domain, a name nobody configured) it redirects to `server.public_url`
/// (see `web::hosts`), so no sign-in is ever made there.
fn sign_in_page(resource: Resource) -> impl actix_web::dev::HttpServiceFactory {
    resource.wrap(actix_web::middleware::from_fn(
        crate::web::hosts::service_host_only,
    ))
}

/// Answers what no route matched: 404 (JSON on API paths; the error-page middleware renders
/// the page elsewhere).
pub async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}
