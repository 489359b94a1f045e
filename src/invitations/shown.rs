//! What the pages show of invitations: the roles each offers and the name of the person who
//! sent it, read for a whole page of invitations in at most three queries, however many it
//! holds (the roles, the custom roles' names, the senders).

use std::collections::HashMap;

use entity::{organization_invitation, organization_invitation_role as invitation_role, user};
use sea_orm::{ColumnTrait, DbErr, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::organizations::role_labels::{RoleLabel, RoleNames};
use crate::permissions::BuiltinRole;
use crate::tenancy::TenantTxn;

/// An invitation as a page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct InvitationLine {
    /// The row (never its token).
    #[serde(flatten)]
    pub invitation: organization_invitation::Model,
    /// The roles it gives on accepting (`Member` when it names none).
    pub roles: Vec<RoleLabel>,
    /// The name of the person who sent it; `None` when an API key or a job did, or their
    /// account is gone.
    pub inviter: Option<String>,
}

/// Each of `invitations` with its roles and its sender's name, in their order.
pub async fn lines(
    tx: &TenantTxn,
    invitations: Vec<organization_invitation::Model>,
) -> Result<Vec<InvitationLine>, DbErr> {
    if invitations.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = invitations.iter().map(|i| i.id).collect();
    let rows: Vec<(i64, String)> = tx
        .select::<invitation_role::Entity>()
        .select_only()
        .column(invitation_role::Column::InvitationId)
        .column(invitation_role::Column::RoleKey)
        .filter(invitation_role::Column::InvitationId.is_in(ids))
        .order_by_asc(invitation_role::Column::Id)
        .into_tuple()
        .all(tx.conn())
        .await?;
    let names = RoleNames::of(tx, rows.iter().map(|(_, key)| key.as_str())).await?;
    let mut roles: HashMap<i64, Vec<RoleLabel>> = HashMap::new();
    for (invitation_id, key) in &rows {
        roles
            .entry(*invitation_id)
            .or_default()
            .push(names.label(key));
    }
    let inviters = inviter_names(tx, &invitations).await?;
    Ok(invitations
        .into_iter()
        .map(|invitation| InvitationLine {
            roles: roles
                .remove(&invitation.id)
                .unwrap_or_else(|| vec![names.label(BuiltinRole::Member.key())]),
            inviter: invitation
                .invited_by_id
                .and_then(|id| inviters.get(&id).cloned()),
            invitation,
        })
        .collect())
}

/// The display names of the people who sent `invitations`, by user id (one query).
async fn inviter_names(
    tx: &TenantTxn,
    invitations: &[organization_invitation::Model],
) -> Result<HashMap<i64, String>, DbErr> {
    let mut ids: Vec<i64> = invitations.iter().filter_map(|i| i.invited_by_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String)> = crate::tenancy::global::select::<user::Entity>()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Name)
        .column(user::Column::Email)
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, email)| (id, user::display_name(&name, &email).to_string()))
        .collect())
}
