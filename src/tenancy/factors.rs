//! Which of an organization's members have a second factor (an authenticator app or a
//! passkey): what its Security settings say turning the requirement on would stop, and the
//! people page's mark beside each name.

use entity::{organization_user, user, user_two_factor};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, DbErr, JoinType, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, RelationTrait as _,
};

use super::{TenantTxn, global};

/// A membership whose person has no second factor at all.
const WITHOUT_A_FACTOR: &str = "NOT EXISTS (SELECT 1 FROM user_two_factor t \
     WHERE t.user_id = organization_users.user_id AND t.totp_secret IS NOT NULL) \
     AND NOT EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = organization_users.user_id)";

/// How many members have no second factor, and the first `limit` of them (id, name, email) by
/// id.
pub async fn members_without(
    tx: &TenantTxn,
    limit: u64,
) -> Result<(u64, Vec<(i64, String, String)>), DbErr> {
    let count = tx
        .select::<organization_user::Entity>()
        .filter(Expr::cust(WITHOUT_A_FACTOR))
        .count(tx.conn())
        .await?;
    let first = tx
        .select::<organization_user::Entity>()
        .filter(Expr::cust(WITHOUT_A_FACTOR))
        .join(JoinType::InnerJoin, organization_user::Relation::User.def())
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Name)
        .column(user::Column::Email)
        .order_by_asc(user::Column::Id)
        .limit(limit)
        .into_tuple::<(i64, String, String)>()
        .all(tx.conn())
        .await?;
    Ok((count, first))
}

/// Which of `user_ids` have a second factor.
pub async fn with_a_factor(
    tx: &TenantTxn,
    user_ids: &[i64],
) -> Result<std::collections::HashSet<i64>, DbErr> {
    if user_ids.is_empty() {
        return Ok(Default::default());
    }
    let mut found: std::collections::HashSet<i64> = global::select::<user_two_factor::Entity>()
        .filter(user_two_factor::Column::UserId.is_in(user_ids.iter().copied()))
        .filter(user_two_factor::Column::TotpSecret.is_not_null())
        .select_only()
        .column(user_two_factor::Column::UserId)
        .into_tuple::<i64>()
        .all(tx.conn())
        .await?
        .into_iter()
        .collect();
    found.extend(
        global::select::<entity::passkey::Entity>()
            .filter(entity::passkey::Column::UserId.is_in(user_ids.iter().copied()))
            .select_only()
            .column(entity::passkey::Column::UserId)
            .distinct()
            .into_tuple::<i64>()
            .all(tx.conn())
            .await?,
    );
    Ok(found)
}
