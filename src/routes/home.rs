//! The start page, the stylesheet and the passkeys' script.

use actix_web::{HttpRequest, HttpResponse};

use crate::error::AppError;
use crate::web::{Page, render};

/// `GET /`
pub async fn home(req: HttpRequest) -> Result<HttpResponse, AppError> {
    render(&req, Page::new("home.html")).await
}

/// The stylesheet, compiled into the binary.
const STYLESHEET: &str = include_str!("../../static/app.css");

/// `GET /static/app.css`
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(STYLESHEET)
}

/// The passkey ceremonies' script, compiled into the binary: the pages allow no inline script
/// (`web::security`), so they load this one and it finds its controls by their data attributes.
const PASSKEYS_SCRIPT: &str = include_str!("../../static/passkeys.js");

/// `GET /static/passkeys.js`
pub async fn passkeys_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(PASSKEYS_SCRIPT)
}
