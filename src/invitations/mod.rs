//! Invitations: an admin invites an email address; the invitation row (only the token's hash,
//! an expiry, the inviter) and its mail are written in one transaction. Inviting an address
//! that already has a pending invitation sends it again with a new token.

use chrono::Duration;
use entity::{organization, organization_invitation, organization_user, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, IntoActiveModel,
    JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use tera::Context;

use crate::auth::{tokens, users};
use crate::db::begin_write;
use crate::mail;
use crate::registration::describe_ttl;
use crate::startup::AppState;
use crate::tenancy::Scope;

/// Why an invitation was not sent.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// Not an email address.
    #[error("email: enter a valid email address")]
    InvalidEmail,
    /// Already in the organization.
    #[error("email: there is already an organization member with this email address")]
    AlreadyMember,
    /// No such invitation (or not pending).
    #[error("not found")]
    NotFound,
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<DbErr> for InviteError {
    fn from(error: DbErr) -> Self {
        Self::Other(error.into())
    }
}

/// Whether a pending invitation is still usable.
fn pending(
    query: sea_orm::Select<organization_invitation::Entity>,
) -> sea_orm::Select<organization_invitation::Entity> {
    query
        .filter(organization_invitation::Column::AcceptedAt.is_null())
        .filter(organization_invitation::Column::RevokedAt.is_null())
}

/// Invites `email` to the organization, or re-sends its pending invitation with a new token.
pub async fn invite(
    state: &AppState,
    organization: &organization::Model,
    inviter: Option<&user::Model>,
    email: &str,
) -> Result<organization_invitation::Model, InviteError> {
    let email = users::normalize_email(email).map_err(|_| InviteError::InvalidEmail)?;
    let scope = Scope::new(organization.id);
    let txn = begin_write(&state.db).await?;
    let member = scope
        .select::<organization_user::Entity>()
        .join(JoinType::InnerJoin, organization_user::Relation::User.def())
        .filter(user::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?;
    if member.is_some() {
        return Err(InviteError::AlreadyMember);
    }
    let existing = pending(scope.select::<organization_invitation::Entity>())
        .filter(organization_invitation::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?;
    let secret = tokens::generate();
    let ttl = state.settings.auth.invitation_ttl_secs;
    let expires_at =
        entity::chrono_now() + Duration::seconds(i64::try_from(ttl).unwrap_or(604_800));
    let invitation = match existing {
        Some(row) => {
            let mut row = row.into_active_model();
            row.token_hash = Set(tokens::hash(&secret));
            row.expires_at = Set(expires_at);
            row.update(&txn).await?
        }
        None => {
            let mut row: organization_invitation::ActiveModel = scope.new_active_model();
            row.email = Set(email.clone());
            row.invited_by_id = Set(inviter.map(|u| u.id));
            row.token_hash = Set(tokens::hash(&secret));
            row.expires_at = Set(expires_at);
            row.accepted_at = Set(None);
            row.accepted_by_id = Set(None);
            row.revoked_at = Set(None);
            row.insert(&txn).await?
        }
    };
    let mut context = Context::new();
    context.insert("organization", &organization.name);
    context.insert(
        "inviter",
        &inviter.map(|u| {
            if u.name.is_empty() {
                u.email.clone()
            } else {
                u.name.clone()
            }
        }),
    );
    context.insert(
        "link",
        &format!("{}/invitations/{secret}/", state.settings.server.public_url),
    );
    context.insert("expires_in", &describe_ttl(ttl));
    let mut message = mail::compose(
        &state.templates,
        "invitation",
        &email,
        format!("You're invited to join {} on orgs", organization.name),
        &context,
    )?;
    message.organization_id = Some(organization.id);
    mail::enqueue(&txn, message).await?;
    txn.commit().await?;
    state.outbox.wake();
    Ok(invitation)
}

/// The organization's pending invitations, newest first.
pub async fn list_pending<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
) -> Result<Vec<organization_invitation::Model>, DbErr> {
    pending(scope.select::<organization_invitation::Entity>())
        .order_by_desc(organization_invitation::Column::Id)
        .all(db)
        .await
}

/// The pending invitation of the organization for `email`, if any.
pub async fn pending_for_email<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    email: &str,
) -> Result<Option<organization_invitation::Model>, DbErr> {
    pending(scope.select::<organization_invitation::Entity>())
        .filter(organization_invitation::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await
}

/// Revokes a pending invitation; its link stops working.
pub async fn revoke<C: ConnectionTrait>(db: &C, scope: Scope, id: i64) -> Result<bool, DbErr> {
    let Some(row) = pending(scope.select::<organization_invitation::Entity>())
        .filter(organization_invitation::Column::Id.eq(id))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let mut row = row.into_active_model();
    row.revoked_at = Set(Some(entity::chrono_now()));
    row.update(db).await?;
    Ok(true)
}

/// Sends a pending invitation again with a new token (the old link stops working).
pub async fn resend(
    state: &AppState,
    organization: &organization::Model,
    inviter: Option<&user::Model>,
    id: i64,
) -> Result<organization_invitation::Model, InviteError> {
    let row = pending(Scope::new(organization.id).select::<organization_invitation::Entity>())
        .filter(organization_invitation::Column::Id.eq(id))
        .one(&state.db)
        .await?
        .ok_or(InviteError::NotFound)?;
    invite(state, organization, inviter, &row.email).await
}
