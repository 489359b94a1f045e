//! Short names for the entities: `use entity::prelude::*`.

pub use super::api_token::Entity as ApiToken;
pub use super::audit_event::Entity as AuditEvent;
pub use super::email_outbox::Entity as EmailOutbox;
pub use super::login_throttle::Entity as LoginThrottle;
pub use super::organization::Entity as Organization;
pub use super::organization_api_key::Entity as OrganizationApiKey;
pub use super::organization_domain::Entity as OrganizationDomain;
pub use super::organization_invitation::Entity as OrganizationInvitation;
pub use super::organization_owner::Entity as OrganizationOwner;
pub use super::organization_role::Entity as OrganizationRole;
pub use super::organization_user::Entity as OrganizationUser;
pub use super::project::Entity as Project;
pub use super::user::Entity as User;
pub use super::user_session::Entity as UserSession;
pub use super::user_token::Entity as UserToken;
