//! The roles an invitation carries: written when it is sent (once they passed the grant rule,
//! `grants::record_invitation`), read for the pages and the API, and given to the member who
//! accepts it.

use entity::organization_invitation_role as invitation_role;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, QueryFilter, QueryOrder, QuerySelect,
};

use super::RoleView;
use crate::tenancy::TenantTxn;

/// The roles an invitation will give (for the pages and the API).
pub async fn invitation_keys(tx: &TenantTxn, invitation_id: i64) -> Result<Vec<String>, DbErr> {
    tx.select::<invitation_role::Entity>()
        .select_only()
        .column(invitation_role::Column::RoleKey)
        .filter(invitation_role::Column::InvitationId.eq(invitation_id))
        .order_by_asc(invitation_role::Column::Id)
        .into_tuple()
        .all(tx.conn())
        .await
}

/// Records the roles an invitation will give.
pub(in crate::organizations) async fn write_invitation_roles(
    tx: &TenantTxn,
    invitation_id: i64,
    roles: &[RoleView],
) -> Result<(), DbErr> {
    tx.delete_many::<invitation_role::Entity>()
        .filter(invitation_role::Column::InvitationId.eq(invitation_id))
        .exec(tx.conn())
        .await?;
    for role in roles {
        let mut row: invitation_role::ActiveModel = tx.new_active_model();
        row.invitation_id = Set(invitation_id);
        row.role_key = Set(role.key.clone());
        row.role_id = Set(role.id);
        row.insert(tx.conn()).await?;
    }
    Ok(())
}

/// The roles an invitation carries: each key with its custom role's id.
pub(crate) async fn invitation_role_rows(
    tx: &TenantTxn,
    invitation_id: i64,
) -> Result<Vec<(String, Option<i64>)>, DbErr> {
    tx.select::<invitation_role::Entity>()
        .select_only()
        .column(invitation_role::Column::RoleKey)
        .column(invitation_role::Column::RoleId)
        .filter(invitation_role::Column::InvitationId.eq(invitation_id))
        .order_by_asc(invitation_role::Column::Id)
        .into_tuple()
        .all(tx.conn())
        .await
}
