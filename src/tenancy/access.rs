//! What a user may do in an organization: member, admin, owner, superuser, read in the
//! organization's tenant context in one query.

use entity::{organization_owner, organization_user, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, JoinType, QueryFilter, QuerySelect,
    RelationTrait,
};

use super::Scope;
use super::txn::TenantTxn;

/// What the requesting user may do in the organization.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Has a membership.
    pub is_member: bool,
    /// The membership has the admin flag.
    pub is_admin: bool,
    /// Is the owner.
    pub is_owner: bool,
    /// Is a superuser (passes every check).
    pub is_superuser: bool,
}

impl Access {
    /// The user's access to the organization, read in its tenant context.
    pub async fn load(
        db: &DatabaseConnection,
        organization_id: i64,
        user: &user::Model,
    ) -> Result<Self, DbErr> {
        let txn = TenantTxn::begin(db, organization_id, false).await?;
        let access = Self::load_in(txn.conn(), organization_id, user).await?;
        txn.commit().await?;
        Ok(access)
    }

    /// The user's access, read in `tx` (fresh, for a check made under the organization's lock).
    pub async fn in_txn(tx: &TenantTxn, user: &user::Model) -> Result<Self, DbErr> {
        Self::load_in(tx.conn(), tx.organization_id(), user).await
    }

    async fn load_in<C: ConnectionTrait>(
        db: &C,
        organization_id: i64,
        user: &user::Model,
    ) -> Result<Self, DbErr> {
        // One query: the membership and, joined, whether it is the owner's.
        let membership: Option<(bool, Option<i64>)> = Scope::new(organization_id)
            .select::<organization_user::Entity>()
            .select_only()
            .column(organization_user::Column::IsAdmin)
            .column_as(
                Expr::col((organization_owner::Entity, organization_owner::Column::Id)),
                "owner_row",
            )
            .join(
                JoinType::LeftJoin,
                organization_user::Relation::OrganizationOwner.def(),
            )
            .filter(organization_user::Column::UserId.eq(user.id))
            .into_tuple()
            .one(db)
            .await?;
        Ok(Self {
            is_member: membership.is_some(),
            is_admin: membership.is_some_and(|(is_admin, _)| is_admin),
            is_owner: membership.is_some_and(|(_, owner_row)| owner_row.is_some()),
            is_superuser: user.is_superuser,
        })
    }
}
