//! `GET /healthz` (the process answers) and `GET /readyz` (and so does the database).

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::AppError;
use crate::state::AppState;

/// How long `/readyz` waits for the database before answering 503.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// 200 while the process serves requests.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when the database answers a ping within two seconds, 503 otherwise and while the
/// instance drains (after SIGTERM).
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if state.draining.load(std::sync::atomic::Ordering::Acquire) {
        return Err(AppError::Unavailable(
            "this instance is shutting down".into(),
        ));
    }
    match tokio::time::timeout(READY_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check: the database does not answer");
            Err(AppError::Unavailable("the database does not answer".into()))
        }
        Err(_) => {
            tracing::warn!("readiness check: the database timed out");
            Err(AppError::Unavailable("the database timed out".into()))
        }
    }
}
