//! Invitations: an admin invites an email address; the invitation row (only the token's hash,
//! an expiry, the inviter) and its mail are written in one transaction. Inviting an address
//! that already has a pending invitation sends it again with a new token.

use chrono::Duration;
use entity::{organization, organization_invitation, organization_user, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, IntoActiveModel,
    JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
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
    /// Too many invitations from this organization in the last hour.
    #[error("too many invitations were sent in the last hour; try again later")]
    Throttled,
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
    // Every invitation and reminder is one outbox row tagged with the organization.
    let last_hour = crate::tenancy::global::select::<entity::email_outbox::Entity>()
        .filter(entity::email_outbox::Column::OrganizationId.eq(organization.id))
        .filter(
            entity::email_outbox::Column::CreatedAt.gt(entity::chrono_now() - Duration::hours(1)),
        )
        .count(&txn)
        .await?;
    if last_hour >= u64::from(state.settings.auth.invitations_per_hour) {
        return Err(InviteError::Throttled);
    }
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
    context.insert("inviter", &inviter.map(user::Model::display_name));
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

/// Why an invitation link cannot be used as asked.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// No such invitation.
    #[error("this invitation link is not valid")]
    Unknown,
    /// Past its expiry.
    #[error("this invitation has expired; ask for a new one")]
    Expired,
    /// Revoked (or declined).
    #[error("this invitation was withdrawn")]
    Revoked,
    /// Already accepted.
    #[error("this invitation has already been used")]
    Used,
    /// Signed in with another address than the invited one.
    #[error("this invitation is for {masked}; sign in with that address to accept it")]
    WrongAccount {
        /// The invited address, masked.
        masked: String,
    },
    /// An account exists for the invited address: sign in to accept.
    #[error("an account already uses this address; sign in to accept")]
    SignInFirst,
    /// The chosen password breaks a rule.
    #[error("password: {0}")]
    Password(#[from] crate::auth::password::PasswordError),
    /// The name is missing or too long.
    #[error("name: enter your name (at most 200 characters)")]
    Name,
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<DbErr> for AcceptError {
    fn from(error: DbErr) -> Self {
        Self::Other(error.into())
    }
}

/// `kurt@nirvana.com` -> `k***@n***.com`: enough to recognise one's own address, not to learn
/// someone else's.
pub fn mask_email(email: &str) -> String {
    let Some((local, domain)) = email.split_once('@') else {
        return "***".into();
    };
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let tld = if tld.is_empty() {
        String::new()
    } else {
        format!(".{tld}")
    };
    format!("{}***@{}***{tld}", first(local), first(host))
}

/// A usable invitation and its organization.
#[derive(Clone, Debug)]
pub struct Pending {
    /// The invitation.
    pub invitation: organization_invitation::Model,
    /// The organization it is for.
    pub organization: organization::Model,
}

/// The invitation a link names, if it can still be used.
#[expect(
    clippy::disallowed_methods,
    reason = "an invitation link is resolved before any tenant is known"
)]
pub async fn lookup<C: ConnectionTrait>(db: &C, secret: &str) -> Result<Pending, AcceptError> {
    use sea_orm::EntityTrait;
    let invitation = organization_invitation::Entity::find()
        .filter(organization_invitation::Column::TokenHash.eq(tokens::hash(secret.trim())))
        .one(db)
        .await?
        .ok_or(AcceptError::Unknown)?;
    if invitation.accepted_at.is_some() {
        return Err(AcceptError::Used);
    }
    if invitation.revoked_at.is_some() {
        return Err(AcceptError::Revoked);
    }
    if invitation.expires_at <= entity::chrono_now() {
        return Err(AcceptError::Expired);
    }
    let organization = crate::tenancy::organizations::by_id(db, invitation.organization_id)
        .await?
        .ok_or(AcceptError::Unknown)?;
    Ok(Pending {
        invitation,
        organization,
    })
}

/// Marks the invitation accepted by `user_id` if nobody did first: the single-use guarantee,
/// one conditional UPDATE that exactly one of any number of racing requests wins.
async fn claim<C: ConnectionTrait>(
    db: &C,
    invitation: &organization_invitation::Model,
    user_id: Option<i64>,
) -> Result<bool, DbErr> {
    let now = entity::chrono_now();
    let mut update = Scope::new(invitation.organization_id)
        .update_many::<organization_invitation::Entity>()
        .col_expr(
            organization_invitation::Column::AcceptedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            organization_invitation::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        );
    if let Some(user_id) = user_id {
        update = update.col_expr(
            organization_invitation::Column::AcceptedById,
            sea_orm::sea_query::Expr::value(user_id),
        );
    }
    let result = update
        .filter(organization_invitation::Column::Id.eq(invitation.id))
        .filter(organization_invitation::Column::AcceptedAt.is_null())
        .filter(organization_invitation::Column::RevokedAt.is_null())
        .filter(organization_invitation::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// After a successful claim: the membership (`UserAdded`), then `InvitationAccepted`.
async fn join(state: &AppState, pending: &Pending, user_id: i64) -> Result<(), AcceptError> {
    crate::organizations::get_or_add_user(
        &state.db,
        &state.events,
        pending.organization.id,
        user_id,
        false,
    )
    .await
    .map_err(|e| AcceptError::Other(e.into()))?;
    state
        .events
        .emit(crate::events::OrgEvent::InvitationAccepted {
            organization_id: pending.organization.id,
            invitation_id: pending.invitation.id,
            user_id,
        });
    Ok(())
}

/// Joins the organization as `user`, whose address must be the invited one. Fires
/// `UserAdded` and `InvitationAccepted`.
pub async fn accept(
    state: &AppState,
    secret: &str,
    user: &user::Model,
) -> Result<Pending, AcceptError> {
    let pending = lookup(&state.db, secret).await?;
    if !pending.invitation.email.eq_ignore_ascii_case(&user.email) {
        return Err(AcceptError::WrongAccount {
            masked: mask_email(&pending.invitation.email),
        });
    }
    if !claim(&state.db, &pending.invitation, Some(user.id)).await? {
        return Err(AcceptError::Used);
    }
    join(state, &pending, user.id).await?;
    Ok(pending)
}

/// Creates the invited person's account (active, the address proven by the link), joins the
/// organization, and returns the new user. No personal organization is made.
pub async fn accept_as_new_user(
    state: &AppState,
    secret: &str,
    name: &str,
    password: &str,
) -> Result<(Pending, user::Model), AcceptError> {
    let pending = lookup(&state.db, secret).await?;
    let email = pending.invitation.email.clone();
    if users::find_by_email(&state.db, &email).await?.is_some() {
        return Err(AcceptError::SignInFirst);
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AcceptError::Name);
    }
    state.hasher.check_rules(password, &email)?;
    let hash = state.hasher.hash(password).await?;
    let txn = begin_write(&state.db).await?;
    if !claim(&txn, &pending.invitation, None).await? {
        return Err(AcceptError::Used);
    }
    let user = user::ActiveModel {
        email: Set(email),
        name: Set(name.to_string()),
        password_hash: Set(Some(hash)),
        is_active: Set(true),
        is_superuser: Set(false),
        email_verified_at: Set(Some(entity::chrono_now())),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            AcceptError::SignInFirst
        } else {
            AcceptError::from(e)
        }
    })?;
    Scope::new(pending.organization.id)
        .update_many::<organization_invitation::Entity>()
        .col_expr(
            organization_invitation::Column::AcceptedById,
            sea_orm::sea_query::Expr::value(user.id),
        )
        .filter(organization_invitation::Column::Id.eq(pending.invitation.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    join(state, &pending, user.id).await?;
    Ok((pending, user))
}

/// Declines: the invitation stops working.
pub async fn decline(state: &AppState, secret: &str) -> Result<Pending, AcceptError> {
    let pending = lookup(&state.db, secret).await?;
    revoke(
        &state.db,
        Scope::new(pending.organization.id),
        pending.invitation.id,
    )
    .await?;
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::mask_email;

    #[test]
    fn masked_addresses_keep_only_first_letters_and_the_tld() {
        assert_eq!(mask_email("kurt@nirvana.com"), "k***@n***.com");
        assert_eq!(mask_email("a@b"), "a***@b***");
        assert_eq!(mask_email("nonsense"), "***");
    }
}
