//! Organizations: the organization's own lifecycle (create, rename, delete) and its membership
//! rules (add, remove, hand over ownership), the django-organizations model methods, as functions
//! over the [`TenantTxn`](crate::tenancy::TenantTxn) they run in (or a connection, to create one);
//! beside them the people of an organization, roles, the grant rule, API keys and custom domains.
//!
//! `membership` uses `roles` and never the other way: what both read of a member (their
//! membership row, the owner, how the audit log names them) is in `members`, which uses neither.

pub mod api_keys;
pub mod appearance;
pub mod billing;
pub mod domain_checks;
pub mod domains;
pub mod email_domains;
pub mod grants;
pub mod group_roles;
pub mod join_by_domain;
mod lifecycle;
pub mod members;
mod membership;
pub mod role_labels;
pub mod roles;
pub mod seats;
pub mod security;

pub use lifecycle::{
    CreatedOrganization, MAX_NAME_LEN, NewOrganization, clean_name, create_organization,
    create_organization_in, create_organization_with, delete_organization, update_organization,
};
pub(crate) use membership::get_or_add_user_holding;
pub use membership::{
    add_user, change_owner, get_or_add_user, is_admin, is_member, is_owner, remove_member,
    remove_user, set_admin, set_suspended, transfer,
};

/// Why an organization rule refused.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// No organization with that id.
    #[error("organization not found")]
    OrganizationNotFound,
    /// No user with that id.
    #[error("user not found")]
    UserNotFound,
    /// The user is not a member of the organization.
    #[error("the user is not a member of this organization")]
    NotMember,
    /// The user is already a member.
    #[error("the user is already a member of this organization")]
    AlreadyMember,
    /// The owner's membership cannot be removed (peer: `OwnershipRequired`).
    #[error(
        "the organization owner cannot be removed; transfer ownership or delete the organization first"
    )]
    OwnershipRequired,
    /// The owner's admin flag cannot be cleared (peer: "The organization owner must be an
    /// admin").
    #[error("the organization owner must be an admin")]
    OwnerMustBeAdmin,
    /// The new owner's membership is in another organization (peer: `OrganizationMismatch`).
    #[error("the new owner must be a member of this organization")]
    OrganizationMismatch,
    /// The name is empty or too long.
    #[error("{0}")]
    InvalidName(String),
    /// A typed slug breaks the rules.
    #[error("{0}")]
    InvalidSlug(#[from] crate::slug::SlugError),
    /// A typed slug belongs to another organization.
    #[error("this address is already taken")]
    SlugTaken,
    /// A colour that is not one of the palette's.
    #[error("choose one of the colours offered")]
    InvalidColor,
    /// Only someone who signed in with a second factor may require one of every member.
    #[error("set up a second factor and sign in with it before requiring one of every member")]
    TwoFactorNotYours,
    /// Every seat is taken.
    #[error(transparent)]
    SeatLimit(#[from] seats::SeatLimit),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl crate::fields::FieldError for OrgError {
    fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidName(_) => Some("name"),
            Self::InvalidSlug(_) | Self::SlugTaken => Some("slug"),
            Self::InvalidColor => Some("color"),
            Self::OwnerMustBeAdmin => Some("is_admin"),
            Self::TwoFactorNotYours => Some("two_factor_required"),
            _ => None,
        }
    }
}
