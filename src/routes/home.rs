//! The start page and the stylesheet.

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
