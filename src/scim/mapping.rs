//! The roles of the directory's groups, which holders of `sso.manage` set (the API's
//! `/api/v1/scim-groups/`): [`set_roles`] under the grant rule (only roles the setter could
//! grant, and only over roles they could grant; never `owner`), each member's roles following
//! at once; [`views`] for the settings and the API.

use entity::{scim_group, scim_group_member, scim_group_role, scim_user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;

use super::groups::{find, sync_accounts};
use crate::audit::{self, Target};
use crate::error::AppError;
use crate::organizations::{grants, roles};
use crate::tenancy::{Grant, TenantTxn};

/// A group as the API shows it: its SCIM id, name, member count and mapped roles.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ScimGroup)]
pub struct GroupView {
    /// Its SCIM id (the API's `{id}`).
    pub id: String,
    /// `displayName`.
    pub display_name: String,
    /// How many Users are in it.
    pub members: u64,
    /// The role keys its members get.
    pub roles: Vec<String>,
}

async fn view(tx: &TenantTxn, group: scim_group::Model) -> Result<GroupView, DbErr> {
    let members = tx
        .select::<scim_group_member::Entity>()
        .filter(scim_group_member::Column::GroupId.eq(group.id))
        .count(tx.conn())
        .await?;
    let roles = tx
        .select::<scim_group_role::Entity>()
        .filter(scim_group_role::Column::GroupId.eq(group.id))
        .order_by_asc(scim_group_role::Column::RoleKey)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|r| r.role_key)
        .collect();
    Ok(GroupView {
        id: group.scim_id,
        display_name: group.display_name,
        members,
        roles,
    })
}

/// The organization's groups (by name, at most 500).
pub async fn views(tx: &TenantTxn) -> Result<Vec<GroupView>, DbErr> {
    let groups = tx
        .select::<scim_group::Entity>()
        .order_by_asc(scim_group::Column::DisplayName)
        .limit(500)
        .all(tx.conn())
        .await?;
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        out.push(view(tx, group).await?);
    }
    Ok(out)
}

/// Maps the group `id` (its SCIM id) to exactly the roles `keys` (none: no roles), for the
/// person `setter`: they must hold every permission of the roles given and of the roles it gave
/// (the grant rule); `owner` is no group's. Its members' roles follow at once.
pub async fn set_roles(
    tx: &TenantTxn,
    grant: &Grant,
    id: &str,
    keys: &[String],
    setter: Option<i64>,
) -> Result<GroupView, AppError> {
    let catalog = grant.catalog();
    tx.lock_organization().await?;
    let group = find(tx, id).await.map_err(|_| AppError::NotFound)?;
    let wanted = if keys.is_empty() {
        Vec::new()
    } else {
        roles::resolve(tx, catalog, keys).await?
    };
    let before = view(tx, group.clone()).await?.roles;
    grants::may_grant(
        grant,
        roles::permissions_of_keys(tx, catalog, &before).await?,
    )?;
    grants::may_grant(grant, roles::permissions_of(&wanted))?;
    tx.delete_many::<scim_group_role::Entity>()
        .filter(scim_group_role::Column::GroupId.eq(group.id))
        .exec(tx.conn())
        .await?;
    for role in &wanted {
        let mut row: scim_group_role::ActiveModel = tx.new_active_model();
        row.group_id = Set(group.id);
        row.role_key = Set(role.key.clone());
        row.role_id = Set(role.id);
        row.set_by_id = Set(setter);
        row.insert(tx.conn()).await?;
    }
    let members: Vec<i64> = tx
        .select::<scim_group_member::Entity>()
        .select_only()
        .column(scim_group_member::Column::ScimUserId)
        .filter(scim_group_member::Column::GroupId.eq(group.id))
        .into_tuple()
        .all(tx.conn())
        .await?;
    let accounts: Vec<i64> = tx
        .select::<scim_user::Entity>()
        .select_only()
        .column(scim_user::Column::UserId)
        .filter(scim_user::Column::Id.is_in(members))
        .into_tuple::<Option<i64>>()
        .all(tx.conn())
        .await?
        .into_iter()
        .flatten()
        .collect();
    sync_accounts(tx, grant, &accounts).await?;
    let after: Vec<String> = wanted.iter().map(|r| r.key.clone()).collect();
    audit::record(
        tx,
        "scim.group_roles_changed",
        Some(Target::new("scim_group", group.id, &group.display_name)),
        Some(json!({ "from": before, "to": after })),
    )
    .await?;
    Ok(view(tx, group).await?)
}
