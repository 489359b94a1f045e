//! `GET /metrics`: the Prometheus text of [`crate::metrics`], on the main port (behind
//! `metrics.token` when one is set) or alone on `metrics.bind`.

use actix_web::{HttpRequest, HttpResponse, web};
use entity::email_outbox;
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};

use crate::error::AppError;
use crate::metrics::{Gauges, pool};
use crate::state::AppState;
use crate::tenancy::door;
use crate::tokens;
use secrecy::ExposeSecret as _;

/// The metrics; 401 without the configured bearer token.
/// 404 when `metrics.enabled` is off or `metrics.bind` serves them elsewhere.
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let settings = &state.settings.metrics;
    if !settings.enabled || !settings.bind.trim().is_empty() {
        return Err(AppError::NotFound);
    }
    let token = settings.token.expose_secret().trim();
    if !token.is_empty() {
        let given = crate::web::user::bearer(&req).unwrap_or("");
        if !tokens::same_secret(given, token) {
            return Err(AppError::Unauthorized);
        }
    }
    serve(&state).await
}

/// The text itself (the metrics listener asks for no token: it is bound where only the
/// scraper reaches).
pub async fn serve(state: &AppState) -> Result<HttpResponse, AppError> {
    let (outbox_sent, outbox_failed) = state.outbox.counts();
    let gauges = Gauges {
        pool: pool(&state.db),
        outbox_backlog: backlog(state).await.ok(),
        outbox_sent,
        outbox_failed,
        webhook_queue: crate::webhooks::log::queue(&state.db).await.ok(),
        webhook_attempts: state.webhooks.counts.get(),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.caches, &gauges)))
}

/// Unsent messages, across organizations.
async fn backlog(state: &AppState) -> Result<u64, sea_orm::DbErr> {
    #[expect(
        clippy::disallowed_methods,
        reason = "the outbox backlog is one number across organizations"
    )]
    let read = door::system_read(&state.db, "metrics").await?;
    let count = read
        .select_all::<email_outbox::Entity>()
        .filter(email_outbox::Column::SentAt.is_null())
        .count(read.conn())
        .await?;
    read.commit().await?;
    Ok(count)
}
