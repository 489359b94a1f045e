//! How many members, pending invitations and projects an organization has, read from
//! `organization_counts` (kept by triggers in the transactions that change them; migration
//! `m20261201_000010_big_organizations`) instead of counting the organization's rows.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

use super::TenantTxn;

/// An organization's counts, exact as of its transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Memberships.
    pub members: u64,
    /// Invitations neither accepted, revoked nor expired.
    pub pending_invitations: u64,
    /// Projects.
    pub projects: u64,
}

/// The counts of the transaction's organization: one statement over one row, plus the
/// invitations whose time ran out since the last sweep (`invitations::sweep_lapsed`), found
/// through the partial index of those alone.
pub async fn of(tx: &TenantTxn) -> Result<Counts, DbErr> {
    let backend = tx.conn().get_database_backend();
    let (p1, p2, p3) = match backend {
        DbBackend::Postgres => ("$1", "$2", "$3"),
        _ => ("?", "?", "?"),
    };
    let kept = migration::KEPT_PENDING;
    let sql = format!(
        "SELECT members, pending_invitations - (SELECT count(*) FROM organization_invitations \
         WHERE organization_id = {p1} AND {kept} AND expires_at <= {p2}) AS pending, projects \
         FROM organization_counts WHERE organization_id = {p3}"
    );
    let organization: Value = tx.organization_id().into();
    let now: Value = entity::chrono_now().into();
    let row = tx
        .conn()
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [organization.clone(), now, organization],
        ))
        .await?;
    let Some(row) = row else {
        // Only an organization deleted inside this transaction has no row.
        return Ok(Counts::default());
    };
    let get = |index: usize| -> Result<u64, DbErr> {
        let n: i64 = row.try_get_by_index(index)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok(Counts {
        members: get(0)?,
        pending_invitations: get(1)?,
        projects: get(2)?,
    })
}
