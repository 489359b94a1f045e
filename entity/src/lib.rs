//! sea-orm entities for the orgs tables, and the `TenantOwned` trait that marks tables scoped to
//! an organization.

pub mod api_token;
pub mod audit_event;
pub mod auth_challenge;
pub mod email_domain;
pub mod email_outbox;
pub mod idempotency_key;
pub mod ids;
pub mod login_throttle;
pub mod organization;
pub mod organization_api_key;
pub mod organization_api_key_permission;
pub mod organization_count;
pub mod organization_domain;
pub mod organization_invitation;
pub mod organization_invitation_role;
pub mod organization_member_role;
pub mod organization_owner;
pub mod organization_role;
pub mod organization_role_permission;
pub mod organization_user;
pub mod passkey;
pub mod prelude;
pub mod project;
pub mod recovery_code;
pub mod scim_group;
pub mod scim_group_member;
pub mod scim_group_role;
pub mod scim_token;
pub mod scim_user;
pub mod security_event;
pub mod sso_connection;
pub mod sso_identity;
pub mod tenant;
pub mod user;
pub mod user_session;
pub mod user_token;
pub mod user_two_factor;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_message;

pub use ids::{MembershipId, OrganizationId, UserId};
pub use tenant::TenantOwned;

/// Implements `ActiveModelBehavior` so that `created_at` is set on insert and `updated_at` on
/// every save made through an ActiveModel. Bulk inserts set both themselves.
macro_rules! timestamped {
    () => {
        #[sea_orm::prelude::async_trait::async_trait]
        impl sea_orm::ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, sea_orm::DbErr>
            where
                C: sea_orm::ConnectionTrait,
            {
                let now = $crate::chrono_now();
                if insert && self.created_at.is_not_set() {
                    self.created_at = sea_orm::ActiveValue::Set(now);
                }
                if insert || !self.updated_at.is_set() {
                    self.updated_at = sea_orm::ActiveValue::Set(now);
                }
                Ok(self)
            }
        }
    };
}
pub(crate) use timestamped;

/// The current time, truncated to microseconds so that a value read back from PostgreSQL
/// (which keeps microseconds) equals the value written.
pub fn chrono_now() -> sea_orm::prelude::DateTimeUtc {
    let now = sea_orm::prelude::ChronoUtc::now();
    sea_orm::prelude::DateTimeUtc::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
