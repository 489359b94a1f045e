//! HTTP routes. Handlers are thin: parse, call a service, answer.

pub mod account;
pub mod auth;
pub mod health;
pub mod home;
pub mod invitations;
pub mod organizations;
pub mod people;
pub mod projects;
pub mod settings;

use actix_web::http::Method;
use actix_web::{Resource, guard, web};

use crate::error::AppError;
use crate::web::{Page, Tenant};

/// The base of every tenant page: the organization, the tenant root and the user's access.
pub fn tenant_page(template: &'static str, tenant: &Tenant) -> Page {
    let access = tenant.access();
    Page::new(template)
        .with("organization", tenant.organization())
        .with("root", tenant.root())
        .with("is_admin", access.is_admin || access.is_superuser)
        .with("is_owner", access.is_owner || access.is_superuser)
}

/// A route that exists only on a tenant (`acme.example.com/...` or `/o/acme/...`); elsewhere
/// routing falls through to the global routes. An embedding app mounts its tenant pages with it.
pub fn tenant(path: &str) -> Resource {
    web::resource(path).guard(guard::fn_guard(crate::web::has_tenant))
}

/// What a tenant route needs of the requester (the extractor its handler takes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// `OrgMember`.
    Member,
    /// `OrgMember`, refused to the owner (leaving).
    MemberNotOwner,
    /// `OrgAdmin`.
    Admin,
    /// `OrgOwner`.
    Owner,
}

/// One tenant route: the data both [`configure_tenant`] and the isolation test read, so a route
/// cannot be served without being in the matrix.
#[derive(Clone)]
pub struct TenantRoute {
    /// The HTTP method.
    pub method: Method,
    /// The path under the tenant root.
    pub path: &'static str,
    /// What the requester must be.
    pub needs: Needs,
    handler: fn() -> actix_web::Route,
}

impl std::fmt::Debug for TenantRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.needs)
    }
}

macro_rules! tenant_routes {
    ($($method:ident $path:literal $needs:ident => $handler:path;)*) => {
        /// Every tenant route, in registration order.
        pub const TENANT_ROUTES: &[TenantRoute] = &[$(TenantRoute {
            method: Method::$method,
            path: $path,
            needs: Needs::$needs,
            handler: || web::method(Method::$method).to($handler),
        },)*];
    };
}

tenant_routes! {
    GET "/" Member => projects::dashboard;
    GET "/projects/" Member => projects::list;
    GET "/projects/new/" Member => projects::new_form;
    POST "/projects/new/" Member => projects::create;
    GET "/projects/{id}/" Member => projects::detail;
    GET "/projects/{id}/edit/" Member => projects::edit_form;
    POST "/projects/{id}/edit/" Member => projects::edit;
    GET "/projects/{id}/delete/" Admin => projects::delete_form;
    POST "/projects/{id}/delete/" Admin => projects::delete;
    GET "/api/v1/projects/" Member => projects::api_list;
    POST "/api/v1/projects/" Member => projects::api_create;
    GET "/api/v1/projects/{id}/" Member => projects::api_detail;
    PATCH "/api/v1/projects/{id}/" Member => projects::api_update;
    DELETE "/api/v1/projects/{id}/" Admin => projects::api_delete;
    GET "/edit/" Admin => organizations::edit_form;
    POST "/edit/" Admin => organizations::edit;
    GET "/delete/" Owner => organizations::delete_form;
    POST "/delete/" Owner => organizations::delete;
    GET "/transfer/" Owner => organizations::transfer_form;
    POST "/transfer/" Owner => organizations::transfer;
    GET "/leave/" MemberNotOwner => organizations::leave_form;
    POST "/leave/" MemberNotOwner => organizations::leave;
    GET "/people/" Member => people::list;
    GET "/people/add/" Admin => people::add_form;
    POST "/people/add/" Admin => people::add;
    GET "/people/{user_id}/" Admin => people::detail;
    GET "/people/{user_id}/edit/" Admin => people::edit_form;
    POST "/people/{user_id}/edit/" Admin => people::edit;
    GET "/people/{user_id}/delete/" Admin => people::delete_form;
    POST "/people/{user_id}/delete/" Admin => people::delete;
    GET "/people/{user_id}/remind/" Admin => people::remind_form;
    POST "/people/{user_id}/remind/" Admin => people::remind;
    GET "/api/v1/organization/" Member => organizations::api_show;
    PATCH "/api/v1/organization/" Admin => organizations::api_update;
    DELETE "/api/v1/organization/" Owner => organizations::api_delete;
    POST "/api/v1/transfer/" Owner => organizations::api_transfer;
    POST "/api/v1/leave/" MemberNotOwner => organizations::api_leave;
    GET "/api/v1/people/" Member => people::api_list;
    POST "/api/v1/people/" Admin => people::api_invite;
    GET "/api/v1/people/{user_id}/" Admin => people::api_detail;
    PATCH "/api/v1/people/{user_id}/" Admin => people::api_update;
    DELETE "/api/v1/people/{user_id}/" Admin => people::api_delete;
    POST "/api/v1/people/{user_id}/remind/" Admin => people::api_remind;
    GET "/invitations/" Admin => invitations::list;
    POST "/invitations/{id}/revoke/" Admin => invitations::revoke;
    POST "/invitations/{id}/resend/" Admin => invitations::resend;
    GET "/settings/" Admin => settings::show;
    POST "/settings/api-keys/" Admin => settings::create_key;
    POST "/settings/api-keys/{id}/revoke/" Admin => settings::revoke_key;
    POST "/settings/domains/" Admin => settings::add_domain;
    POST "/settings/domains/{id}/verify/" Admin => settings::verify_domain;
    POST "/settings/domains/{id}/delete/" Admin => settings::delete_domain;
    GET "/api/v1/api-keys/" Admin => settings::api_list_keys;
    POST "/api/v1/api-keys/" Admin => settings::api_create_key;
    DELETE "/api/v1/api-keys/{id}/" Admin => settings::api_revoke_key;
    GET "/api/v1/domains/" Admin => settings::api_list_domains;
    POST "/api/v1/domains/" Admin => settings::api_add_domain;
    POST "/api/v1/domains/{id}/verify/" Admin => settings::api_verify_domain;
    DELETE "/api/v1/domains/{id}/" Admin => settings::api_delete_domain;
}

/// The tenant routes: served at the tenant root of every organization, from [`TENANT_ROUTES`]
/// (one resource per path, its methods in table order).
pub fn configure_tenant(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for route in TENANT_ROUTES {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    for path in paths {
        let mut resource = tenant(path);
        for route in TENANT_ROUTES.iter().filter(|r| r.path == path) {
            resource = resource.route((route.handler)());
        }
        cfg.service(resource);
    }
}

/// Registers every route of orgs on an actix app: the probes, the tenant routes, then the
/// global ones.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Probes first: actix tries routes in order, and walking the tenant routes first would
    // slow the probes down. No tenant route has their paths.
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz));
    configure_tenant(cfg);
    cfg.route("/", web::get().to(home::home))
        .route("/static/app.css", web::get().to(home::stylesheet))
        .service(
            web::resource("/signup/")
                .route(web::get().to(auth::signup_form))
                .route(web::post().to(auth::signup)),
        )
        .route("/activate/{token}/", web::get().to(auth::activate))
        .route("/handoff/{token}/", web::get().to(auth::handoff))
        .route("/go/{slug}/", web::get().to(organizations::go))
        .service(
            web::resource("/invitations/{token}/")
                .route(web::get().to(invitations::show))
                .route(web::post().to(invitations::respond)),
        )
        .service(
            web::resource("/login/")
                .route(web::get().to(auth::login_form))
                .route(web::post().to(auth::login)),
        )
        .route("/logout/", web::post().to(auth::logout))
        .service(
            web::resource("/password-reset/")
                .route(web::get().to(auth::password_reset_form))
                .route(web::post().to(auth::password_reset_request)),
        )
        .service(
            web::resource("/password-reset/{token}/")
                .route(web::get().to(auth::password_reset_confirm_form))
                .route(web::post().to(auth::password_reset_confirm)),
        )
        .service(
            web::resource("/account/")
                .route(web::get().to(account::show))
                .route(web::post().to(account::update)),
        )
        .route("/organizations/", web::get().to(organizations::list))
        .service(
            web::resource("/organizations/add/")
                .route(web::get().to(organizations::add_form))
                .route(web::post().to(organizations::add)),
        )
        .service(
            web::resource("/api/v1/organizations/")
                .route(web::get().to(organizations::api_list))
                .route(web::post().to(organizations::api_add)),
        )
        .route("/account/tokens/", web::post().to(account::create_token))
        .route(
            "/account/tokens/{id}/revoke/",
            web::post().to(account::revoke_token),
        )
        .service(
            web::resource("/api/v1/account/")
                .route(web::get().to(account::api_show))
                .route(web::patch().to(account::api_update)),
        );
}

/// Answers what no route matched: 404 (JSON on API paths; the error-page middleware renders
/// the page elsewhere).
pub async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}
