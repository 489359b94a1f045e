//! Rendering a page: the template, the handler's context, and the base context every page gets
//! (the signed-in user, the CSRF token, flash messages).

use actix_session::SessionExt;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tera::Context;

use super::flash;
use crate::auth::{MaybeUser, csrf};
use crate::error::AppError;
use crate::startup::AppState;

/// A page to render.
pub struct Page {
    template: &'static str,
    context: Context,
    status: StatusCode,
}

impl Page {
    /// The template with an empty context and status 200.
    pub fn new(template: &'static str) -> Self {
        Self {
            template,
            context: Context::new(),
            status: StatusCode::OK,
        }
    }

    /// Adds a value to the context.
    pub fn with(mut self, key: &'static str, value: impl Serialize) -> Self {
        self.context.insert(key, &value);
        self
    }

    /// Answers with another status.
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

/// What templates see of the signed-in user.
#[derive(Serialize)]
struct UserView<'a> {
    id: i64,
    name: &'a str,
    email: &'a str,
    is_superuser: bool,
}

/// Renders the page with the base context.
pub async fn render(req: &HttpRequest, page: Page) -> Result<HttpResponse, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?;
    let MaybeUser(user) = <MaybeUser as actix_web::FromRequest>::extract(req).await?;
    let session = req.get_session();
    let mut context = page.context;
    if let Some(user) = &user {
        context.insert(
            "user",
            &UserView {
                id: user.id,
                name: &user.name,
                email: &user.email,
                is_superuser: user.is_superuser,
            },
        );
    }
    context.insert("csrf_token", &csrf::token(&session));
    context.insert("messages", &flash::take(&session));
    context.insert("base_domain", &state.settings.tenant.base_domain);
    let html = state
        .templates
        .render(page.template, &context)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering {}: {e:?}", page.template)))?;
    Ok(HttpResponse::build(page.status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// A 303 redirect (after a POST, the browser follows with GET).
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}
