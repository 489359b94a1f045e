//! SCIM's error answers (RFC 7644 section 3.12): `{"schemas": [Error], "status": "404",
//! "scimType": ..., "detail": ...}` as `application/scim+json`. Every error under a SCIM root is
//! in this shape, the middleware's and the router's included ([`envelope`], called by the error
//! handler for SCIM paths): a directory reads one shape.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::error::AppError;

/// A SCIM error: its status, its `scimType` when RFC 7644 names one, and a sentence.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
    retry_after: Option<u64>,
}

impl ScimError {
    /// An error of `status` with `scim_type`.
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// 400 with `scimType` (`invalidValue`, `invalidSyntax`, `invalidFilter`, `invalidPath`,
    /// `noTarget`, `mutability`, `tooMany`).
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, format!("{what} not found"))
    }

    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
    }

    /// 401: no token, a revoked one, another organization's, or one whose maker lost
    /// `sso.manage`.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "a valid SCIM token of this organization is required (Authorization: Bearer orgs_scim_...)",
        )
    }

    /// 412: `If-Match` names another version.
    pub fn precondition() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            "the resource changed since that version; read it again",
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `scimType`, if any.
    pub fn scim_type(&self) -> Option<&'static str> {
        self.scim_type
    }
}

impl From<AppError> for ScimError {
    fn from(error: AppError) -> Self {
        let status = error.status_code();
        let retry_after = match &error {
            AppError::TooManyRequests(limit) => Some(limit.reset_secs.max(1)),
            AppError::Unavailable(_) => Some(5),
            _ => None,
        };
        let scim_type = match &error {
            AppError::Invalid { .. } => Some("invalidValue"),
            AppError::BadRequest(_) => Some("invalidSyntax"),
            _ => None,
        };
        let detail = match &error {
            AppError::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        // The server's faults are logged here, as `AppError::error_response` logs them.
        match &error {
            AppError::Internal(cause) => tracing::error!(error = ?cause, "SCIM request failed"),
            AppError::Unavailable(reason) => tracing::warn!(%reason, "SCIM request refused"),
            _ => {}
        }
        Self {
            status: if status == StatusCode::FOUND {
                StatusCode::UNAUTHORIZED
            } else {
                status
            },
            scim_type,
            detail,
            retry_after,
        }
    }
}

impl From<sea_orm::DbErr> for ScimError {
    fn from(error: sea_orm::DbErr) -> Self {
        AppError::from(error).into()
    }
}

/// The SCIM error body of `status`.
fn body(status: StatusCode, scim_type: Option<&str>, detail: &str) -> serde_json::Value {
    let mut body = serde_json::json!({
        "schemas": [super::ERROR_SCHEMA],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    if let Some(scim_type) = scim_type {
        body["scimType"] = scim_type.into();
    }
    body
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type(super::CONTENT_TYPE);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"orgs-scim\""));
        }
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.body(body(self.status, self.scim_type, &self.detail).to_string())
    }
}

/// An error answer under a SCIM root that is not in SCIM's shape yet (the resolver's 404, the
/// router's 404 and 405, a 401, a 429), put in it; its other headers (`Retry-After`) are kept.
pub fn envelope<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    let is_scim = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(super::CONTENT_TYPE));
    if is_scim {
        return res.map_into_left_body();
    }
    let status = res.status();
    let detail = match res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
    {
        Some(AppError::Internal(_)) | None => {
            status.canonical_reason().unwrap_or("error").to_lowercase()
        }
        Some(error) => error.to_string(),
    };
    let (req, old) = res.into_parts();
    let mut response = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.append_header((name.clone(), value.clone()));
        }
    }
    let response = response
        .content_type(super::CONTENT_TYPE)
        .body(body(status, None, &detail).to_string());
    ServiceResponse::new(req, response).map_into_right_body()
}
