//! HTTP routes. Handlers are thin: parse, call a service, answer.

pub mod account;
pub mod auth;
pub mod health;
pub mod home;

use actix_web::web;

use crate::error::AppError;

/// Registers every route of orgs on an actix app or scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/", web::get().to(home::home))
        .service(
            web::resource("/signup/")
                .route(web::get().to(auth::signup_form))
                .route(web::post().to(auth::signup)),
        )
        .route("/activate/{token}/", web::get().to(auth::activate))
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
