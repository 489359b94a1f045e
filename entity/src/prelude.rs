//! Short names for the entities: `use entity::prelude::*`.

pub use super::email_outbox::Entity as EmailOutbox;
pub use super::organization::Entity as Organization;
pub use super::organization_invitation::Entity as OrganizationInvitation;
pub use super::organization_owner::Entity as OrganizationOwner;
pub use super::organization_user::Entity as OrganizationUser;
pub use super::project::Entity as Project;
pub use super::user::Entity as User;
