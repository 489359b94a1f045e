//! `AppError`: the one error type handlers return, turned into responses here and nowhere else.
//! JSON errors look like `{"error": {"code": "not_found", "message": "...", "fields": {...}}}`;
//! internal details are logged, never sent.
//!
//! Which error where:
//! - A service returns its own domain error (`OrgError`, `UserError`, `InviteError`,
//!   `AcceptError`, `DomainError`, `SignUpError`, `ResetError`, ...): one variant per reason a
//!   person could be told. One that is about an input field implements [`FieldError`]: the
//!   field is data and the message reads without it. A database failure is its `Db` variant,
//!   never wrapped in `anyhow`, so a database that does not answer is a 503 on every path.
//! - Each domain error becomes an `AppError` in one `From` impl below, beside `AppError`, and
//!   handlers return `AppError` with `?`. A form page that shows field errors beside its fields
//!   takes them with [`AppError::into_fields`] and passes every other error on.
//! - A unique violation that means "taken" becomes the domain's variant with
//!   [`crate::db::OnUniqueViolation::on_unique_violation`], never a hand-written match.
//! - `AppError::Internal` is for bugs and infrastructure: its cause is logged, the client sees
//!   "internal error". A database that does not answer is `Unavailable` (503), not a bug.
//!
//! [`FieldError`]: crate::error::FieldError

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

mod domain;

/// What `Retry-After` tells a client when a dependency does not answer: long enough for a
/// restarted database to take connections again, short enough that nobody gives up.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// Field name -> messages, for 422 answers.
pub use crate::fields::FieldErrors;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed request (400).
    #[error("{0}")]
    BadRequest(String),
    /// No credentials (401).
    #[error("authentication required")]
    Unauthorized,
    /// A page needs a signed-in user: 302 to the login page with `next` (the API gets 401).
    #[error("sign-in required")]
    LoginRequired {
        /// Where to come back to after signing in.
        next: String,
    },
    /// Credentials without the needed role (403).
    #[error("{0}")]
    Forbidden(String),
    /// A member without the permission the route needs (403); the JSON names it.
    #[error("You need the {0} permission for this.")]
    MissingPermission(crate::permissions::Permission),
    /// A member holding none of the permissions a route accepts (403); the JSON names the
    /// first, as for one.
    #[error("You need one of the permissions {} for this.", keys_of(.0))]
    MissingAnyOf(&'static [crate::permissions::Permission]),
    /// The organization requires two-factor and this sign-in (or the sign-in a token was made
    /// from) did not use a second factor (403 `two_factor_required`); a page is sent to
    /// `setup`, the account's security page naming the organization.
    #[error("{name} requires two-factor sign-in: set up a second factor, or sign in with yours")]
    TwoFactorRequired {
        /// The organization's name.
        name: String,
        /// On a page: where to set it up.
        setup: Option<String>,
    },
    /// The organization requires its single sign-on of this member, and this sign-in was not
    /// made by it (403 `sso_required`); a page is sent to start it.
    #[error("{name} requires its single sign-on of your address: sign in through it")]
    SignOnRequired {
        /// The organization's name.
        name: String,
        /// On a page: where the sign-on starts.
        start: Option<String>,
    },
    /// A dangerous action needs a password or second-factor confirmation within
    /// `auth.sudo_ttl_secs` (403 `reauthentication_required`); a page is sent to confirm and
    /// come back to `next`.
    #[error(
        "confirm it is you: this needs your password or a second-factor code from the last few minutes (POST /api/v1/account/reauthenticate/ with a browser session)"
    )]
    ReauthenticationRequired {
        /// On a page: where to come back to after confirming.
        next: Option<String>,
    },
    /// Unknown, or belonging to another tenant (404).
    #[error("not found")]
    NotFound,
    /// The address already has a pending invitation (409 `already_invited`, naming it).
    #[error("This address already has a pending invitation; resend it instead.")]
    AlreadyInvited {
        /// The pending invitation (`POST /api/v1/invitations/{id}/resend/` sends it again).
        invitation_id: i64,
    },
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// Every seat of the organization is taken (409 `seat_limit`, with `used` and `limit`).
    #[error("{0}")]
    SeatLimit(crate::organizations::seats::SeatLimit),
    /// The organization's plan does not include the feature the route needs (402
    /// `plan_required`, naming it).
    #[error("the organization's plan does not include {feature}")]
    PlanRequired {
        /// The feature's key.
        feature: &'static str,
    },
    /// The thing asked for is no longer available (410).
    #[error("{0}")]
    Gone(String),
    /// The body is not in a type the route reads (415).
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    /// The body is larger than the route reads (413).
    #[error("the body is too large")]
    PayloadTooLarge,
    /// `If-Match` named another version of the object (412).
    #[error("the object changed since you read it; read it again")]
    PreconditionFailed,
    /// Well-formed but invalid fields (422).
    #[error("{message}")]
    Invalid {
        /// Summary.
        message: String,
        /// Messages per field.
        fields: FieldErrors,
    },
    /// Throttled (429, with `Retry-After`, `RateLimit-Policy` and `RateLimit`).
    #[error("too many requests; try again in {} seconds", .0.reset_secs)]
    TooManyRequests(crate::auth::throttle::RateLimit),
    /// A dependency does not answer (503, with `Retry-After`).
    #[error("{0}")]
    Unavailable(String),
    /// A server the request needed answered badly or not at all, or may not be reached: an
    /// organization's identity provider (502, `upstream_failed`, the reason said).
    #[error("{0}")]
    BadGateway(String),
    /// A bug or an infrastructure failure (500); the cause is logged only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub use crate::fields::FieldError;

impl AppError {
    /// A 422 about the error's field, or a 500 for an error about none (a bug: only errors with
    /// a field are passed here).
    fn from_field_error(error: &dyn FieldError) -> Self {
        match error.field() {
            Some(field) => Self::field(field, error.to_string()),
            None => Self::Internal(anyhow::anyhow!("{error}")),
        }
    }

    /// The field messages of a 422, for a form page to show beside its fields; any other
    /// error is given back.
    pub fn into_fields(self) -> Result<FieldErrors, Self> {
        match self {
            Self::Invalid { fields, .. } => Ok(fields),
            other => Err(other),
        }
    }

    /// A 422 about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = FieldErrors::new();
        fields.insert(field.to_string(), vec![message.clone()]);
        Self::Invalid {
            message: format!("{field}: {message}"),
            fields,
        }
    }

    /// Stable snake_case code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized | Self::LoginRequired { .. } => "unauthorized",
            Self::Forbidden(_) | Self::MissingPermission(_) | Self::MissingAnyOf(_) => "forbidden",
            Self::TwoFactorRequired { .. } => "two_factor_required",
            Self::SignOnRequired { .. } => "sso_required",
            Self::ReauthenticationRequired { .. } => "reauthentication_required",
            Self::NotFound => "not_found",
            Self::Conflict(_) => "conflict",
            Self::AlreadyInvited { .. } => "already_invited",
            Self::SeatLimit(_) => "seat_limit",
            Self::PlanRequired { .. } => "plan_required",
            Self::Gone(_) => "gone",
            Self::Invalid { .. } => "invalid",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::TooManyRequests { .. } => "throttled",
            Self::Unavailable(_) => "unavailable",
            Self::BadGateway(_) => "upstream_failed",
            Self::Internal(_) => "internal",
        }
    }
}

/// The error envelope, every JSON error's body (`Error` in the OpenAPI document).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

/// What went wrong.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail<'a> {
    /// Stable snake_case code: `bad_request`, `unauthorized`, `forbidden`,
    /// `two_factor_required`, `reauthentication_required`, `not_found`,
    /// `conflict`, `already_invited`, `seat_limit`, `plan_required`, `gone`,
    /// `precondition_failed`, `payload_too_large`,
    /// `unsupported_media_type`, `invalid`, `throttled`, `unavailable`, `internal`.
    #[schema(value_type = String, example = "invalid")]
    code: &'a str,
    /// For people; may change.
    message: String,
    /// On a 422: the messages per field (`name`, `roles[0]`, `body` for the whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeMap<String, Vec<String>>>)]
    fields: Option<&'a FieldErrors>,
    /// On a 403 for a missing permission: which.
    #[serde(skip_serializing_if = "Option::is_none")]
    permission: Option<crate::permissions::Permission>,
    /// On a 409 `already_invited`: the pending invitation.
    #[serde(skip_serializing_if = "Option::is_none")]
    invitation_id: Option<i64>,
    /// On a 409 `seat_limit`: the seats used (members and pending invitations).
    #[serde(skip_serializing_if = "Option::is_none")]
    used: Option<u64>,
    /// On a 409 `seat_limit`: the organization's seat limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u64>,
    /// On a 402 `plan_required`: the feature the plan lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    feature: Option<&'a str>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::LoginRequired { .. } => StatusCode::FOUND,
            Self::Forbidden(_)
            | Self::MissingPermission(_)
            | Self::MissingAnyOf(_)
            | Self::TwoFactorRequired { .. }
            | Self::SignOnRequired { .. }
            | Self::ReauthenticationRequired { .. } => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::AlreadyInvited { .. } | Self::SeatLimit(_) => {
                StatusCode::CONFLICT
            }
            Self::PlanRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            Self::Gone(_) => StatusCode::GONE,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // The one place a failed request is logged: the server's faults only, not the
        // visitor's (a 4xx or the redirect to sign in).
        match self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            Self::Unavailable(reason) => tracing::warn!(%reason, "request refused: unavailable"),
            Self::BadGateway(reason) => tracing::warn!(%reason, "an upstream server failed"),
            _ => {}
        }
        if let Self::LoginRequired { next } = self {
            let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
            // Parity: Django's login_required answers 302.
            return HttpResponse::Found()
                .insert_header((header::LOCATION, format!("/login/?{query}")))
                .finish();
        }
        let page = match self {
            Self::TwoFactorRequired { setup, .. } => setup.clone(),
            Self::SignOnRequired { start, .. } => start.clone(),
            Self::ReauthenticationRequired { next: Some(next) } => {
                let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Some(format!("/reauthenticate/?{query}"))
            }
            _ => None,
        };
        if let Some(page) = page {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, page))
                .finish();
        }
        let fields = match self {
            Self::Invalid { fields, .. } => Some(fields),
            _ => None,
        };
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"orgs\""));
            }
            Self::TooManyRequests(limit) => {
                response.insert_header((header::RETRY_AFTER, limit.reset_secs.max(1).to_string()));
                for header in limit.headers() {
                    response.insert_header(header);
                }
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_SECS.to_string()));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                fields,
                permission: match self {
                    Self::MissingPermission(permission) => Some(*permission),
                    Self::MissingAnyOf(permissions) => permissions.first().copied(),
                    _ => None,
                },
                invitation_id: match self {
                    Self::AlreadyInvited { invitation_id } => Some(*invitation_id),
                    _ => None,
                },
                used: match self {
                    Self::SeatLimit(full) => Some(full.used),
                    _ => None,
                },
                limit: match self {
                    Self::SeatLimit(full) => Some(full.limit),
                    _ => None,
                },
                feature: match self {
                    Self::PlanRequired { feature } => Some(feature),
                    _ => None,
                },
            },
        })
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(error: sea_orm::DbErr) -> Self {
        // The database is down, saturated or ended the connection (`db::is_unavailable`), which
        // a retry may cure; not a bug of ours.
        if crate::db::is_unavailable(&error) {
            tracing::warn!(%error, "no database connection");
            return Self::Unavailable("the database does not answer; try again shortly".into());
        }
        Self::Internal(error.into())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        // A database error that came through a helper answering `anyhow` (the mailer's queue)
        // is still the database's.
        match error.downcast::<sea_orm::DbErr>() {
            Ok(db) => db.into(),
            Err(error) => Self::Internal(error),
        }
    }
}

/// `a`, `a or b`, `a, b or c`: permission keys in a sentence.
fn keys_of(permissions: &[crate::permissions::Permission]) -> String {
    match permissions {
        [] => String::new(),
        [one] => one.name().to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(|p| p.name()).collect();
            format!("{} or {}", init.join(", "), last.name())
        }
    }
}

impl AppError {
    /// A 422 naming every field of `fields` with its messages.
    pub fn invalid_fields(fields: FieldErrors) -> Self {
        Self::Invalid {
            message: crate::fields::summary(&fields),
            fields,
        }
    }
}
