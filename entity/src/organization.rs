//! `organizations`: the tenants. The slug is a DNS label used in `acme.example.com` and `/o/acme/`.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// An organization (tenant).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, utoipa::ToSchema)]
#[schema(as = Organization)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    #[sea_orm(unique)]
    pub slug: String,
    pub is_active: bool,
    /// The colour behind its initials, a palette name; none picks one from its id.
    pub color: Option<String>,
    /// Whether members must have signed in with a second factor to reach it.
    pub two_factor_required: bool,
    /// How many seats it may use; none is no limit, 0 is none at all. Set by billing only,
    /// shown to members who may invite (`orgs::organizations::seats`).
    #[serde(skip)]
    pub seat_limit: Option<i64>,
    /// Its plan's short key, set by billing; none is no plan (every feature on).
    #[serde(skip)]
    pub plan: Option<String>,
    /// Its plan's entitlements, a JSON object of feature flags (`{"sso": true}`), set by
    /// billing (`orgs::organizations::billing`).
    #[serde(skip)]
    pub entitlements: Option<String>,
    /// The email domains whose members must sign in through its single sign-on, a JSON
    /// array; none when sign-on is not enforced (kept by `orgs::sso::connection`).
    #[serde(skip)]
    pub sso_enforced: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTimeUtc,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::organization_user::Entity")]
    OrganizationUser,
    #[sea_orm(has_one = "super::organization_owner::Entity")]
    OrganizationOwner,
}

impl Related<super::organization_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrganizationUser.def()
    }
}

impl Related<super::organization_owner::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrganizationOwner.def()
    }
}

/// An organization's own row is scoped by its id.
impl crate::TenantOwned for Entity {
    fn organization_column() -> Column {
        Column::Id
    }
}

crate::timestamped!();
