//! `organization_counts`: how many members, pending invitations and projects an organization
//! has, kept by database triggers in the transaction that changes them (never written by the
//! application). `pending_invitations` still counts invitations whose time ran out since the
//! last sweep marked them lapsed; `orgs::tenancy::counts` subtracts those.

use sea_orm::entity::prelude::*;

/// One organization's counts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: i64,
    pub members: i64,
    pub pending_invitations: i64,
    pub projects: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::tenant_owned!(Column::OrganizationId);
