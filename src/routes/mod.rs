//! HTTP routes. Handlers are thin: parse, call a service, answer.

pub mod health;

use actix_web::web;

/// Registers every route of orgs on an actix app or scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz));
}
