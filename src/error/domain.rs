//! Each service's domain error as an [`AppError`]: one `From` impl per error type, the one
//! place a reason a person could be told becomes a status and a code.

use super::AppError;
use crate::auth::UserError;
use crate::auth::password_reset::ResetError;
use crate::auth::user_tokens::TokenError;
use crate::invitations::{AcceptError, InviteError};
use crate::organizations::OrgError;
use crate::organizations::billing::BillingError;
use crate::organizations::domains::DomainError;
use crate::organizations::roles::RoleError;
use crate::registration::{ActivationError, SignUpError};

impl From<crate::auth::passkeys::PasskeyError> for AppError {
    fn from(error: crate::auth::passkeys::PasskeyError) -> Self {
        use crate::auth::passkeys::PasskeyError;
        match error {
            PasskeyError::Name(message) => Self::field("name", message),
            PasskeyError::Refused(_) => Self::field("credential", error.to_string()),
            PasskeyError::Expired | PasskeyError::Taken | PasskeyError::NoPasskey => {
                Self::Conflict(error.to_string())
            }
            PasskeyError::Inactive => Self::Forbidden(error.to_string()),
            PasskeyError::Db(e) => e.into(),
            PasskeyError::Other(e) => e.into(),
        }
    }
}

impl From<RoleError> for AppError {
    fn from(error: RoleError) -> Self {
        match error {
            RoleError::NotHeld(permission) => Self::MissingPermission(permission),
            RoleError::NotFound => Self::NotFound,
            RoleError::Builtin | RoleError::InUse { .. } | RoleError::OwnerRoles => {
                Self::Conflict(error.to_string())
            }
            RoleError::Org(e) => e.into(),
            RoleError::Db(e) => e.into(),
            error => Self::from_field_error(&error),
        }
    }
}

impl From<OrgError> for AppError {
    fn from(error: OrgError) -> Self {
        match error {
            OrgError::OrganizationNotFound | OrgError::UserNotFound | OrgError::NotMember => {
                Self::NotFound
            }
            OrgError::AlreadyMember
            | OrgError::OwnershipRequired
            | OrgError::OrganizationMismatch => Self::Conflict(error.to_string()),
            OrgError::SeatLimit(full) => Self::SeatLimit(full),
            OrgError::Db(e) => e.into(),
            error => Self::from_field_error(&error),
        }
    }
}

impl From<UserError> for AppError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Db(e) => e.into(),
            UserError::Other(e) => e.into(),
            error => Self::from_field_error(&error),
        }
    }
}

impl From<SignUpError> for AppError {
    fn from(error: SignUpError) -> Self {
        match error {
            SignUpError::Closed => Self::NotFound,
            SignUpError::Fields(fields) => Self::invalid_fields(fields),
            SignUpError::Organization(OrgError::InvalidName(_)) => Self::from_field_error(&error),
            SignUpError::Organization(error) => error.into(),
            SignUpError::User(error) => error.into(),
        }
    }
}

impl From<InviteError> for AppError {
    fn from(error: InviteError) -> Self {
        match error {
            InviteError::NotFound => Self::NotFound,
            InviteError::Throttled(limit) => Self::TooManyRequests(limit),
            InviteError::AlreadyInvited { invitation_id } => Self::AlreadyInvited { invitation_id },
            InviteError::AlreadyJoined => Self::Gone("This person has already joined.".into()),
            InviteError::SeatLimit(full) => Self::SeatLimit(full),
            InviteError::Roles(e) => e.into(),
            InviteError::Db(e) => e.into(),
            InviteError::Other(e) => e.into(),
            error => Self::from_field_error(&error),
        }
    }
}

impl From<AcceptError> for AppError {
    fn from(error: AcceptError) -> Self {
        match error {
            AcceptError::Unknown => Self::NotFound,
            AcceptError::Expired | AcceptError::Revoked | AcceptError::Used => {
                Self::Gone(error.to_string())
            }
            AcceptError::SeatLimit(full) => Self::SeatLimit(full),
            AcceptError::Db(e) => e.into(),
            AcceptError::Other(e) => e.into(),
            AcceptError::Password(_) | AcceptError::Name(_) => Self::from_field_error(&error),
            AcceptError::WrongAccount { .. }
            | AcceptError::SignInFirst
            | AcceptError::InviterLacks => Self::Forbidden(error.to_string()),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::NotFound => Self::NotFound,
            DomainError::NotVerified { .. } => Self::Conflict(error.to_string()),
            DomainError::Lookup(_) => Self::Unavailable(error.to_string()),
            DomainError::Db(e) => e.into(),
            error => Self::from_field_error(&error),
        }
    }
}

impl From<TokenError> for AppError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Unknown => Self::NotFound,
            TokenError::Expired | TokenError::Used => Self::Gone(error.to_string()),
        }
    }
}

impl From<ResetError> for AppError {
    fn from(error: ResetError) -> Self {
        match error {
            ResetError::Token(reason) => reason.into(),
            ResetError::Db(e) => e.into(),
            ResetError::Other(e) => e.into(),
            error @ ResetError::Password(_) => Self::from_field_error(&error),
        }
    }
}

impl From<ActivationError> for AppError {
    fn from(error: ActivationError) -> Self {
        match error {
            ActivationError::Token(reason) => reason.into(),
            ActivationError::Db(e) => e.into(),
        }
    }
}

impl From<BillingError> for AppError {
    fn from(error: BillingError) -> Self {
        match error {
            BillingError::Fields(fields) => Self::invalid_fields(fields),
            BillingError::NotFound => Self::NotFound,
            BillingError::Db(e) => e.into(),
        }
    }
}

impl From<crate::organizations::email_domains::EmailDomainError> for AppError {
    fn from(error: crate::organizations::email_domains::EmailDomainError) -> Self {
        use crate::organizations::email_domains::EmailDomainError as E;
        match error {
            E::NotFound => Self::NotFound,
            E::NotVerified { .. } => Self::Conflict(error.to_string()),
            E::Lookup(_) => Self::Unavailable(error.to_string()),
            E::Role(e) => e.into(),
            E::Db(e) => e.into(),
            E::Taken => Self::Conflict(error.to_string()),
            error => Self::from_field_error(&error),
        }
    }
}

impl From<crate::organizations::join_by_domain::JoinError> for AppError {
    fn from(error: crate::organizations::join_by_domain::JoinError) -> Self {
        use crate::organizations::join_by_domain::JoinError as E;
        match error {
            // As for an organization that does not exist: no telling which do.
            E::NotOffered => Self::NotFound,
            E::SetterLacks => Self::Conflict(error.to_string()),
            E::Org(e) => e.into(),
            E::Db(e) => e.into(),
        }
    }
}

impl From<crate::sso::SsoError> for AppError {
    fn from(error: crate::sso::SsoError) -> Self {
        use crate::sso::SsoError as E;
        match error {
            E::NotConfigured => Self::NotFound,
            E::NotEntitled => Self::PlanRequired { feature: "sso" },
            E::Provider(_) => Self::BadGateway(error.to_string()),
            E::Refused(_) => Self::Forbidden(error.to_string()),
            E::Role(e) => e.into(),
            E::Db(e) => e.into(),
            error => Self::from_field_error(&error),
        }
    }
}
