//! The start page.

use actix_web::{HttpRequest, HttpResponse};

use crate::error::AppError;
use crate::web::{Page, render};

/// `GET /`
pub async fn home(req: HttpRequest) -> Result<HttpResponse, AppError> {
    render(&req, Page::new("home.html")).await
}
