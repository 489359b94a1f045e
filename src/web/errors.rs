//! Error pages: for a page request that ends in 4xx or 5xx without a page of its own, the body
//! is replaced by `errors/error.html`. API and health paths keep JSON, and so does a script's
//! request that asks for JSON only. Internals never reach the page.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpMessage, HttpResponse, web};
use tera::Context;

use crate::error::AppError;
use crate::permissions::Catalog;
use crate::state::AppState;
use crate::web::ResolvedTenant;
use crate::web::user::is_api_path;

fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        401 => "Sign-in required",
        402 => "Not in your plan",
        403 => "Forbidden",
        404 => "Page not found",
        405 => "Method not allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Request too large",
        422 => "Invalid input",
        429 => "Too many requests",
        503 => "Service unavailable",
        s if s >= 500 => "Something went wrong",
        _ => "Error",
    }
}

fn message(res: &ServiceResponse<impl MessageBody>, catalog: &Catalog) -> String {
    let status = res.status().as_u16();
    let app_error = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>());
    match app_error {
        // The permission by its name, as the role pages show it.
        Some(AppError::MissingPermission(permission)) => format!(
            "You need the permission “{}” for this. Ask an owner or an admin of the \
             organization to give you a role that holds it.",
            catalog.name_of(*permission)
        ),
        Some(AppError::MissingAnyOf(permissions)) => {
            let names: Vec<String> = permissions
                .iter()
                .map(|p| format!("“{}”", catalog.name_of(*p)))
                .collect();
            let names = match names.as_slice() {
                [init @ .., last] if !init.is_empty() => format!("{} or {last}", init.join(", ")),
                _ => names.concat(),
            };
            format!(
                "You need one of the permissions {names} for this. Ask an owner or an admin of \
                 the organization to give you a role that holds one."
            )
        }
        // Messages written for people; a 500's cause stays in the log.
        Some(
            AppError::Forbidden(text)
            | AppError::Conflict(text)
            | AppError::Gone(text)
            | AppError::BadRequest(text),
        ) => text.clone(),
        Some(error @ (AppError::AlreadyInvited { .. } | AppError::Invalid { .. })) => {
            error.to_string()
        }
        Some(AppError::SeatLimit(full)) => crate::text::capitalized(&full.to_string()),
        Some(AppError::PlanRequired { feature }) => format!(
            "This organization's plan does not include {feature}. Whoever manages its \
             subscription can change the plan."
        ),
        Some(AppError::TooManyRequests(limit)) => {
            format!(
                "Too many attempts. Try again in {}.",
                crate::text::describe_ttl(limit.reset_secs)
            )
        }
        Some(AppError::BadGateway(reason)) => crate::text::capitalized(reason),
        Some(AppError::Unavailable(_)) => {
            "The service cannot reach its database just now. Try again in a few seconds.".into()
        }
        _ if status == 404 => "There is nothing here, or you do not have access to it.".into(),
        _ if status >= 500 => "An unexpected error occurred. It has been logged.".into(),
        _ => String::new(),
    }
}

/// An API error that did not come from `AppError` (a 405 of the router, say) in the envelope
/// every other error has; one already in JSON is left as it is.
fn api_envelope<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res.map_into_left_body();
    }
    let status = res.status();
    let code = match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        410 => "gone",
        412 => "precondition_failed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid",
        429 => "throttled",
        503 => "unavailable",
        _ if status.is_server_error() => "internal",
        _ => "error",
    };
    let message = match status.as_u16() {
        405 => "this method is not allowed on this path".to_string(),
        _ if status.is_server_error() => "internal error".to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let (req, old) = res.into_parts();
    let mut response = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.append_header((name.clone(), value.clone()));
        }
    }
    let response = response.json(serde_json::json!({"error": {"code": code, "message": message}}));
    ServiceResponse::new(req, response).map_into_right_body()
}

/// Whether a page path was asked for JSON (`Accept: application/json`, without HTML): a
/// page's script (`/static/passkeys.js`) reads the error envelope, not an error page.
fn asks_for_json(req: &actix_web::HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    accept.contains("application/json") && !accept.contains("text/html")
}

/// The `ErrorHandlers` default handler.
pub fn render_error_page<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    let already_a_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with(crate::scim::CONTENT_TYPE));
    if !(status.is_client_error() || status.is_server_error()) || already_a_page {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    // A directory reads SCIM's error shape, whoever answered (the resolver, the router).
    if crate::scim::is_scim_path(res.request().path()) {
        return Ok(ErrorHandlerResponse::Response(
            crate::scim::error::envelope(res),
        ));
    }
    if is_api_path(res.request().path()) || asks_for_json(res.request()) {
        return Ok(ErrorHandlerResponse::Response(api_envelope(res)));
    }
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        Ok(error_page(res, state).await)
    })))
}

/// Inside an organization the requester is a member of, the page keeps that organization's
/// navigation (its name, its sections as the requester's permissions show them): a 403 or a 409
/// there is a page of that organization. For anyone else nothing is put in: a 404 must not
/// confirm that the organization exists.
async fn insert_member_chrome(
    context: &mut Context,
    req: &actix_web::HttpRequest,
    state: &AppState,
    user: &entity::user::Model,
) {
    let Some(resolved) = req.extensions().get::<ResolvedTenant>().cloned() else {
        return;
    };
    if resolved.api_key.is_some() {
        return;
    }
    let organization_id = resolved.organization.id();
    let Ok(access) = crate::web::tenant::access_cached(state, organization_id, user).await else {
        return;
    };
    if !(access.is_member || access.is_superuser) {
        return;
    }
    let can: Vec<&str> = state
        .permissions
        .list(access.permissions)
        .into_iter()
        .map(crate::permissions::Permission::name)
        .collect();
    if let Ok(switcher) =
        crate::web::render::switcher(state, user.id(), &resolved.organization.slug).await
    {
        context.insert("switcher", &switcher);
    }
    context.insert("nav_items", state.nav.as_slice());
    context.insert("can", &can);
    let holds = |p| access.is_superuser || access.holds(state.permissions.one(p));
    context.insert(
        "settings_link",
        &crate::route_table::settings_open_to(holds),
    );
    context.insert("is_owner", &(access.is_owner || access.is_superuser));
    context.insert("root", &resolved.root);
    context.insert("organization", &resolved.organization);
    context.insert("section", "-");
}

/// The error page: the person's own navigation when signed in, the organization's too when they
/// are its member (never an organization they are not in: a 404 must not confirm that it
/// exists), "Log in" only to visitors; its links lead to the site itself.
async fn error_page<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    state: web::Data<AppState>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    let status = res.status();
    let mut context = Context::new();
    let user = <crate::web::MaybeUser as actix_web::FromRequest>::extract(res.request())
        .await
        .ok()
        .and_then(|found| found.0);
    if let Some(user) = &user {
        crate::web::render::insert_user(&mut context, user);
        let session = actix_session::SessionExt::get_session(res.request());
        context.insert("csrf_token", &crate::web::csrf::token(&session));
        insert_member_chrome(&mut context, res.request(), &state, user).await;
    }
    context.insert("site", &state.settings.server.public_url);
    context.insert("product_name", &state.settings.ui.product_name);
    context.insert("status", &status.as_u16());
    context.insert("title", title(status.as_u16()));
    context.insert("message", &message(&res, &state.permissions));
    context.insert("base_domain", &state.settings.tenant.base_domain);
    let html = state
        .templates
        .render("errors/error.html", &context)
        .unwrap_or_else(|_| format!("<h1>{} {}</h1>", status.as_u16(), title(status.as_u16())));
    let (req, old) = res.into_parts();
    let mut response = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.append_header((name.clone(), value.clone()));
        }
    }
    let response = response.content_type("text/html; charset=utf-8").body(html);
    ServiceResponse::new(req, response).map_into_right_body()
}
