//! Organizations: the membership rules, roles, keys, domains and slugs.

pub mod api_keys;
pub mod domains;
pub mod grants;
pub mod members;
pub mod roles;
pub mod service;

pub use service::{
    CreatedOrganization, NewOrganization, OrgError, add_user, change_owner, create_organization,
    create_organization_with, delete_organization, get_or_add_user, is_admin, is_member, is_owner,
    remove_member, remove_user,
};
