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

use actix_web::{Resource, guard, web};

use crate::error::AppError;
use crate::tenancy::Tenant;
use crate::web::Page;

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
    web::resource(path).guard(guard::fn_guard(crate::tenancy::has_tenant))
}

/// The tenant routes: served at the tenant root of every organization.
pub fn configure_tenant(cfg: &mut web::ServiceConfig) {
    cfg.service(tenant("/").route(web::get().to(projects::dashboard)))
        .service(tenant("/projects/").route(web::get().to(projects::list)))
        .service(
            tenant("/projects/new/")
                .route(web::get().to(projects::new_form))
                .route(web::post().to(projects::create)),
        )
        .service(tenant("/projects/{id}/").route(web::get().to(projects::detail)))
        .service(
            tenant("/projects/{id}/edit/")
                .route(web::get().to(projects::edit_form))
                .route(web::post().to(projects::edit)),
        )
        .service(
            tenant("/projects/{id}/delete/")
                .route(web::get().to(projects::delete_form))
                .route(web::post().to(projects::delete)),
        )
        .service(
            tenant("/api/v1/projects/")
                .route(web::get().to(projects::api_list))
                .route(web::post().to(projects::api_create)),
        )
        .service(
            tenant("/api/v1/projects/{id}/")
                .route(web::get().to(projects::api_detail))
                .route(web::patch().to(projects::api_update))
                .route(web::delete().to(projects::api_delete)),
        )
        .service(
            tenant("/edit/")
                .route(web::get().to(organizations::edit_form))
                .route(web::post().to(organizations::edit)),
        )
        .service(
            tenant("/delete/")
                .route(web::get().to(organizations::delete_form))
                .route(web::post().to(organizations::delete)),
        )
        .service(
            tenant("/transfer/")
                .route(web::get().to(organizations::transfer_form))
                .route(web::post().to(organizations::transfer)),
        )
        .service(
            tenant("/leave/")
                .route(web::get().to(organizations::leave_form))
                .route(web::post().to(organizations::leave)),
        )
        .service(tenant("/people/").route(web::get().to(people::list)))
        .service(
            tenant("/people/add/")
                .route(web::get().to(people::add_form))
                .route(web::post().to(people::add)),
        )
        .service(tenant("/people/{user_id}/").route(web::get().to(people::detail)))
        .service(
            tenant("/people/{user_id}/edit/")
                .route(web::get().to(people::edit_form))
                .route(web::post().to(people::edit)),
        )
        .service(
            tenant("/people/{user_id}/delete/")
                .route(web::get().to(people::delete_form))
                .route(web::post().to(people::delete)),
        )
        .service(
            tenant("/people/{user_id}/remind/")
                .route(web::get().to(people::remind_form))
                .route(web::post().to(people::remind)),
        )
        .service(
            tenant("/api/v1/organization/")
                .route(web::get().to(organizations::api_show))
                .route(web::patch().to(organizations::api_update))
                .route(web::delete().to(organizations::api_delete)),
        )
        .service(tenant("/api/v1/transfer/").route(web::post().to(organizations::api_transfer)))
        .service(tenant("/api/v1/leave/").route(web::post().to(organizations::api_leave)))
        .service(
            tenant("/api/v1/people/")
                .route(web::get().to(people::api_list))
                .route(web::post().to(people::api_invite)),
        )
        .service(
            tenant("/api/v1/people/{user_id}/")
                .route(web::get().to(people::api_detail))
                .route(web::patch().to(people::api_update))
                .route(web::delete().to(people::api_delete)),
        )
        .service(
            tenant("/api/v1/people/{user_id}/remind/").route(web::post().to(people::api_remind)),
        )
        .service(tenant("/invitations/").route(web::get().to(invitations::list)))
        .service(tenant("/invitations/{id}/revoke/").route(web::post().to(invitations::revoke)))
        .service(tenant("/invitations/{id}/resend/").route(web::post().to(invitations::resend)))
        .service(tenant("/settings/").route(web::get().to(settings::show)))
        .service(tenant("/settings/api-keys/").route(web::post().to(settings::create_key)))
        .service(
            tenant("/settings/api-keys/{id}/revoke/").route(web::post().to(settings::revoke_key)),
        )
        .service(tenant("/settings/domains/").route(web::post().to(settings::add_domain)))
        .service(
            tenant("/settings/domains/{id}/verify/").route(web::post().to(settings::verify_domain)),
        )
        .service(
            tenant("/settings/domains/{id}/delete/").route(web::post().to(settings::delete_domain)),
        )
        .service(
            tenant("/api/v1/api-keys/")
                .route(web::get().to(settings::api_list_keys))
                .route(web::post().to(settings::api_create_key)),
        )
        .service(tenant("/api/v1/api-keys/{id}/").route(web::delete().to(settings::api_revoke_key)))
        .service(
            tenant("/api/v1/domains/")
                .route(web::get().to(settings::api_list_domains))
                .route(web::post().to(settings::api_add_domain)),
        )
        .service(
            tenant("/api/v1/domains/{id}/verify/")
                .route(web::post().to(settings::api_verify_domain)),
        )
        .service(
            tenant("/api/v1/domains/{id}/").route(web::delete().to(settings::api_delete_domain)),
        );
}

/// Registers every route of orgs on an actix app: the probes, the tenant routes, then the
/// global ones.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Probes first: actix tries routes in order, and walking the ~50 tenant routes cost
    // /healthz a third of its instructions. No tenant route has their paths.
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
