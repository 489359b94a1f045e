//! The caches' middleware: after an unsafe request, every cached lookup is forgotten.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

/// Middleware: after an unsafe request, forget every cached lookup (it may have signed someone
/// out, removed a member or renamed an organization).
pub async fn invalidate_after_writes<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let unsafe_method = !req.method().is_safe();
    let state = unsafe_method
        .then(|| req.app_data::<web::Data<AppState>>().cloned())
        .flatten();
    let result = next.call(req).await;
    if let Some(state) = state {
        state.caches.invalidate();
    }
    result
}
