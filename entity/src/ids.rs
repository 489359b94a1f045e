//! Typed ids: an organization's, a user's and a membership's id are different types, so a
//! function taking `(OrganizationId, UserId)` does not compile with its arguments swapped. They
//! bind in queries as their number (sea-orm's `DeriveValueType`) and serialize as one.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $model:path) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, DeriveValueType, Serialize,
            Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The number, for a column that is not typed.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl PartialEq<i64> for $name {
            fn eq(&self, other: &i64) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for i64 {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl $model {
            /// Its id, typed.
            pub fn id(&self) -> $name {
                $name(self.id)
            }
        }
    };
}

id_type!(
    /// An organization's id (`organizations.id`, and every `organization_id` column).
    OrganizationId,
    crate::organization::Model
);
id_type!(
    /// A user's id (`users.id`, and the columns naming a person).
    UserId,
    crate::user::Model
);
id_type!(
    /// A membership's id (`organization_users.id`).
    MembershipId,
    crate::organization_user::Model
);
