//! `ETag` and `If-Match` for the API's single objects: a GET carries the object's tag (a hash of
//! the JSON it answers), and a PATCH or DELETE that sends `If-Match` goes ahead only while the
//! object is as the client last read it (else 412), so two people editing one object cannot
//! overwrite each other silently. Without `If-Match` a write goes ahead as before.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::AppError;

/// The strong tag of `value` as the API answers it.
pub fn of<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let digest = crate::tokens::hash_bytes(&json);
    format!("\"{}\"", &digest[..20])
}

/// `200` with `value` as JSON and its `ETag`.
pub fn json<T: Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, of(value)))
        .json(value)
}

/// Whether the request's `If-Match` (if any) names `current`'s tag (or `*`); a stale one is
/// 412.
pub fn check_if_match<T: Serialize>(req: &HttpRequest, current: &T) -> Result<(), AppError> {
    let Some(wanted) = req
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(());
    };
    let tag = of(current);
    let matches = wanted
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate == tag);
    if matches {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed)
    }
}

/// The `If-Match` header as the OpenAPI document describes it (the handlers read it with
/// [`check_if_match`]).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The `ETag` last read (or `*`); another version is 412 and changes nothing. Left out, the
    /// write goes ahead.
    #[param(rename = "If-Match")]
    #[expect(dead_code, reason = "only described")]
    if_match: Option<String>,
}
