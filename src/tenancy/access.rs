//! What a user may do in an organization: member, owner, superuser and the permissions of the
//! roles they hold, read in the organization's tenant context in one query. Resolved for the
//! organization of the request, never carried over from another one.

use entity::{OrganizationId, UserId};
use entity::{
    organization_member_role as member_role, organization_owner, organization_role_permission,
    organization_user, user,
};
use sea_orm::sea_query::{Condition, Expr, ExprTrait as _, JoinType, Query};
use std::sync::OnceLock;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use super::txn::TenantTxn;
use crate::permissions::{BuiltinRole, Catalog, PermissionSet};

/// What the requesting user may do in the organization.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Has a membership.
    pub is_member: bool,
    /// Holds the built-in `admin` role.
    pub is_admin: bool,
    /// Is the owner.
    pub is_owner: bool,
    /// Is a superuser (passes every check).
    pub is_superuser: bool,
    /// The permissions of every role held (all of them for the owner and superusers).
    pub permissions: PermissionSet,
}

impl Access {
    /// The user's access to the organization, read in its tenant context.
    pub async fn load(
        db: &DatabaseConnection,
        catalog: &Catalog,
        organization_id: OrganizationId,
        user: &user::Model,
    ) -> Result<Self, DbErr> {
        let txn = TenantTxn::begin(db, organization_id, false).await?;
        let access = Self::load_in(txn.conn(), catalog, organization_id, user).await?;
        txn.commit().await?;
        Ok(access)
    }

    /// The user's access, read in `tx` (fresh, for a check made under the organization's lock).
    pub async fn in_txn(
        tx: &TenantTxn,
        catalog: &Catalog,
        user: &user::Model,
    ) -> Result<Self, DbErr> {
        Self::load_in(tx.conn(), catalog, tx.organization_id(), user).await
    }

    /// Whether every permission of `wanted` is held (superusers hold everything).
    pub fn holds(&self, wanted: PermissionSet) -> bool {
        self.permissions.contains_all(wanted)
    }

    async fn load_in<C: ConnectionTrait>(
        db: &C,
        catalog: &Catalog,
        organization_id: OrganizationId,
        user: &user::Model,
    ) -> Result<Self, DbErr> {
        let rows = db
            .query_all_raw(access_statement(
                db.get_database_backend(),
                organization_id,
                user.id(),
            ))
            .await?;
        let mut access = Self {
            is_superuser: user.is_superuser,
            ..Self::default()
        };
        let mut custom: Vec<String> = Vec::new();
        for row in &rows {
            access.is_member = true;
            let owner_row: Option<i64> = row.try_get_by_index(0)?;
            access.is_owner |= owner_row.is_some();
            let role_key: Option<String> = row.try_get_by_index(1)?;
            match role_key.as_deref().and_then(BuiltinRole::from_key) {
                Some(role) => {
                    access.is_admin |= role == BuiltinRole::Admin;
                    access.permissions = access.permissions.union(catalog.builtin(role));
                }
                None => {
                    if let Some(permission) = row.try_get_by_index::<Option<String>>(2)? {
                        custom.push(permission);
                    }
                }
            }
        }
        // A custom role never carries the owner's own permissions, whatever its rows say.
        let custom = catalog
            .set_of(custom.iter().map(String::as_str))
            .intersection(catalog.assignable());
        access.permissions = access.permissions.union(custom);
        if access.is_owner || access.is_superuser {
            access.permissions = catalog.everything();
        }
        Ok(access)
    }
}

/// The SQL of [`access_query`] per backend, built once: every write checks access again, and
/// building the statement cost more than running it.
static ACCESS_SQL: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];

/// [`access_query`] for `organization_id` and `user_id` on `backend`.
fn access_statement(
    backend: DbBackend,
    organization_id: OrganizationId,
    user_id: UserId,
) -> Statement {
    let slot = match backend {
        DbBackend::Sqlite => &ACCESS_SQL[0],
        DbBackend::Postgres => &ACCESS_SQL[1],
        _ => return backend.build(&access_query(organization_id, user_id)),
    };
    let sql = slot.get_or_init(|| {
        backend
            .build(&access_query(OrganizationId(0), UserId(0)))
            .sql
    });
    // The placeholders, in order: the organization, then the user (a test checks it).
    Statement::from_sql_and_values(
        backend,
        sql.clone(),
        [organization_id.into(), user_id.into()],
    )
}

/// The membership's owner row, each role key it holds and, for custom roles, each permission:
/// one row per (role, permission), all in the organization's index order.
fn access_query(
    organization_id: OrganizationId,
    user_id: UserId,
) -> sea_orm::sea_query::SelectStatement {
    use organization_role_permission as permission;
    Query::select()
        .expr(Expr::col((
            organization_owner::Entity,
            organization_owner::Column::Id,
        )))
        .expr(Expr::col((
            member_role::Entity,
            member_role::Column::RoleKey,
        )))
        .expr(Expr::col((
            permission::Entity,
            permission::Column::Permission,
        )))
        .from(organization_user::Entity)
        .join(JoinType::LeftJoin, organization_owner::Entity, owner_row())
        .join(JoinType::LeftJoin, member_role::Entity, role_rows())
        .join(JoinType::LeftJoin, permission::Entity, permission_rows())
        .and_where(
            Expr::col((
                organization_user::Entity,
                organization_user::Column::OrganizationId,
            ))
            .eq(organization_id),
        )
        .and_where(
            Expr::col((organization_user::Entity, organization_user::Column::UserId)).eq(user_id),
        )
        // A membership the organization's directory suspended gives no access at all.
        .and_where(
            Expr::col((
                organization_user::Entity,
                organization_user::Column::SuspendedAt,
            ))
            .is_null(),
        )
        .to_owned()
}

/// The owner row of the membership, if it is the owner's (joined within its organization).
pub(super) fn owner_row() -> Condition {
    Condition::all()
        .add(
            Expr::col((
                organization_owner::Entity,
                organization_owner::Column::OrganizationId,
            ))
            .eq(Expr::col((
                organization_user::Entity,
                organization_user::Column::OrganizationId,
            ))),
        )
        .add(
            Expr::col((
                organization_owner::Entity,
                organization_owner::Column::OrganizationUserId,
            ))
            .eq(Expr::col((
                organization_user::Entity,
                organization_user::Column::Id,
            ))),
        )
}

/// The role rows of the membership (joined within its organization).
pub(super) fn role_rows() -> Condition {
    Condition::all()
        .add(
            Expr::col((member_role::Entity, member_role::Column::OrganizationId)).eq(Expr::col((
                organization_user::Entity,
                organization_user::Column::OrganizationId,
            ))),
        )
        .add(
            Expr::col((member_role::Entity, member_role::Column::OrganizationUserId)).eq(
                Expr::col((organization_user::Entity, organization_user::Column::Id)),
            ),
        )
}

/// The permission rows of each custom role held (joined within its organization).
fn permission_rows() -> Condition {
    use organization_role_permission as permission;
    Condition::all()
        .add(
            Expr::col((permission::Entity, permission::Column::OrganizationId)).eq(Expr::col((
                member_role::Entity,
                member_role::Column::OrganizationId,
            ))),
        )
        .add(
            Expr::col((permission::Entity, permission::Column::RoleId)).eq(Expr::col((
                member_role::Entity,
                member_role::Column::RoleId,
            ))),
        )
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, Value};

    #[test]
    fn the_access_statement_is_built_once_and_binds_the_organization_then_the_user() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let fresh = backend.build(&super::access_query(
                entity::OrganizationId(7),
                entity::UserId(9),
            ));
            let reused =
                super::access_statement(backend, entity::OrganizationId(7), entity::UserId(9));
            assert_eq!(reused.sql, fresh.sql);
            let values = |s: &sea_orm::Statement| s.values.clone().unwrap().0;
            assert_eq!(values(&reused), values(&fresh));
            assert_eq!(
                values(&fresh),
                [Value::BigInt(Some(7)), Value::BigInt(Some(9))]
            );
            assert!(super::ACCESS_SQL.iter().any(|slot| slot.get().is_some()));
        }
    }
}
