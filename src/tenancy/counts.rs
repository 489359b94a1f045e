//! How many members, pending invitations and projects an organization has, read from
//! `organization_counts` (kept by triggers in the transactions that change them; migration
//! `m20261201_000010_big_organizations`) instead of counting the organization's rows.

use entity::{organization_count, organization_invitation, organization_user};
use sea_orm::sea_query::{Expr, ExprTrait as _, QueryStatementBuilder as _};
use sea_orm::{ColumnTrait as _, DbErr, QueryFilter as _, QuerySelect as _, QueryTrait as _};

use super::TenantTxn;

/// An organization's counts, exact as of its transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Memberships.
    pub members: u64,
    /// Memberships the organization's directory suspended (of `members`; they hold no seat).
    pub suspended: u64,
    /// Invitations neither accepted, revoked nor expired.
    pub pending_invitations: u64,
    /// Projects.
    pub projects: u64,
}

/// The counts of the transaction's organization: one statement over one row, less the
/// invitations whose time ran out since the last sweep (`invitations::sweep_lapsed`), found
/// through the partial index of those alone (its predicate is [`migration::KEPT_PENDING`]).
pub async fn of(tx: &TenantTxn) -> Result<Counts, DbErr> {
    use organization_count::Column;
    let ran_out = tx
        .select::<organization_invitation::Entity>()
        .select_only()
        .column_as(Expr::cust("count(*)"), "n")
        .filter(Expr::cust(migration::KEPT_PENDING))
        .filter(organization_invitation::Column::ExpiresAt.lte(entity::chrono_now()))
        .into_query();
    let pending = Expr::col((organization_count::Entity, Column::PendingInvitations)).sub(
        Expr::SubQuery(None, Box::new(ran_out.into_sub_query_statement())),
    );
    // Through the partial index of the suspended alone.
    let suspended = tx
        .select::<organization_user::Entity>()
        .select_only()
        .column_as(Expr::cust("count(*)"), "n")
        .filter(organization_user::Column::SuspendedAt.is_not_null())
        .into_query();
    let row = tx
        .select::<organization_count::Entity>()
        .select_only()
        .column(Column::Members)
        .column_as(pending, "pending")
        .column(Column::Projects)
        .column_as(
            Expr::SubQuery(None, Box::new(suspended.into_sub_query_statement())),
            "suspended",
        )
        .into_tuple::<(i64, i64, i64, i64)>()
        .one(tx.conn())
        .await?;
    // Only an organization deleted inside this transaction has no row.
    let (members, pending, projects, suspended) = row.unwrap_or_default();
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(Counts {
        members: count(members),
        suspended: count(suspended),
        pending_invitations: count(pending),
        projects: count(projects),
    })
}
