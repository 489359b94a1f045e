//! Invitations: an admin invites an email address; the invitation row (only the token's hash,
//! an expiry, the inviter) and its mail are written in one transaction. Inviting an address
//! that already has a pending invitation sends it again with a new token. Accepting is one
//! transaction too: the claim, the new account (if any) and the membership commit together or
//! not at all.
//!
//! Sending is [`send`](crate::invitations::send), answering a link is
//! [`accept`](crate::invitations::accept); here is what both use: their errors, where an
//! invitation stands, the organization's invitations, revoking one, and the hourly sweep.

pub mod accept;
pub mod send;
pub mod shown;

use entity::organization_invitation;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, FromQueryResult,
    IntoActiveModel, QueryFilter, QueryOrder, QueryTrait,
};
use serde::Serialize;

use crate::audit::{self, Target};
use crate::db::{Keyset, ListPage, Position};
use crate::tenancy::TenantTxn;

/// Why an invitation was not sent.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// Not an email address.
    #[error("enter a valid email address")]
    InvalidEmail,
    /// Already in the organization.
    #[error("there is already an organization member with this email address")]
    AlreadyMember,
    /// No such invitation (or not pending).
    #[error("not found")]
    NotFound,
    /// Too many invitations from this organization, to this address or from this client in
    /// the last hour.
    #[error("too many invitations were sent in the last hour; try again later")]
    Throttled(crate::auth::throttle::RateLimit),
    /// The address has a pending invitation (when the caller asked not to send it again).
    #[error("this address has a pending invitation")]
    AlreadyInvited {
        /// The pending invitation.
        invitation_id: i64,
    },
    /// The person a reminder was asked for has joined already.
    #[error("this person has already joined")]
    AlreadyJoined,
    /// Every seat is taken.
    #[error(transparent)]
    SeatLimit(#[from] crate::organizations::seats::SeatLimit),
    /// The roles asked for are unknown, or not the inviter's to give.
    #[error(transparent)]
    Roles(#[from] crate::organizations::roles::RoleError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
    /// Anything else (composing the mail).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Whether a pending invitation is still usable.
fn pending(
    query: sea_orm::Select<organization_invitation::Entity>,
) -> sea_orm::Select<organization_invitation::Entity> {
    query
        .filter(organization_invitation::Column::AcceptedAt.is_null())
        .filter(organization_invitation::Column::RevokedAt.is_null())
}

/// Marks the invitations whose time ran out as lapsed, in every organization (the system
/// context): the kept count of pending invitations (`tenancy::counts`) lets them go in the same
/// statement, through the count triggers. Until then readers subtract them, so the count is
/// exact either way; the sweep only keeps that correction small. How many lapsed.
pub async fn sweep_lapsed(db: &sea_orm::DatabaseConnection) -> Result<u64, DbErr> {
    use sea_orm::sea_query::{Alias, Expr};
    #[expect(
        clippy::disallowed_methods,
        reason = "invitations of every organization run out"
    )]
    let txn = crate::tenancy::door::system(db, "sweep lapsed invitations").await?;
    let now = entity::chrono_now();
    // `lapsed_at` is the database's bookkeeping, not a field of the entity.
    let lapsed = txn
        .update_all::<organization_invitation::Entity>()
        .col_expr(Alias::new("lapsed_at"), Expr::value(now))
        .filter(Expr::cust(migration::KEPT_PENDING))
        .filter(organization_invitation::Column::ExpiresAt.lte(now))
        .exec(txn.conn())
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(lapsed)
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = InvitationStatus)]
pub enum Status {
    /// Usable.
    Pending,
    /// Someone joined with it.
    Accepted,
    /// Revoked by an admin or declined by the invited person.
    Revoked,
    /// Its time ran out before anyone used it.
    Expired,
}

impl Status {
    /// The status named `name` (`pending`, `accepted`, `revoked`, `expired`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "pending" => Self::Pending,
            "accepted" => Self::Accepted,
            "revoked" => Self::Revoked,
            "expired" => Self::Expired,
            _ => return None,
        })
    }

    /// Where `invitation` stands now.
    pub fn of(invitation: &organization_invitation::Model) -> Self {
        if invitation.accepted_at.is_some() {
            Self::Accepted
        } else if invitation.revoked_at.is_some() {
            Self::Revoked
        } else if invitation.expires_at <= entity::chrono_now() {
            Self::Expired
        } else {
            Self::Pending
        }
    }
}

/// Up to `limit` of the organization's invitations in `status`, newest first, older than the
/// invitation `before` when given.
pub async fn list_by_status(
    tx: &TenantTxn,
    status: Status,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<organization_invitation::Model>, DbErr> {
    use organization_invitation::Column;
    let now = entity::chrono_now();
    let mut query = tx.select::<organization_invitation::Entity>();
    query = match status {
        Status::Pending => pending(query).filter(Column::ExpiresAt.gt(now)),
        Status::Expired => pending(query).filter(Column::ExpiresAt.lte(now)),
        Status::Accepted => query.filter(Column::AcceptedAt.is_not_null()),
        Status::Revoked => query
            .filter(Column::AcceptedAt.is_null())
            .filter(Column::RevokedAt.is_not_null()),
    };
    if let Some(before) = before {
        query = query.filter(Column::Id.lt(before));
    }
    crate::db::first_rows(tx.conn(), query.order_by_desc(Column::Id), limit).await
}

/// One page of the organization's pending invitations, newest first, at `position` (its
/// keysets are the invitations' ids alone: the key is empty), with their kept count
/// (`tenancy::counts`).
pub async fn pending_page(
    tx: &TenantTxn,
    position: &Position,
    per_page: u64,
) -> Result<ListPage<organization_invitation::Model>, DbErr> {
    use organization_invitation::Column;
    let query = pending(tx.select::<organization_invitation::Entity>())
        .filter(Column::ExpiresAt.gt(entity::chrono_now()));
    let query = position.newest_first(query, Column::Id);
    let backend = tx.conn().get_database_backend();
    let statement = crate::db::page_at(query.build(backend), position, per_page);
    let rows = organization_invitation::Model::find_by_statement(statement)
        .all(tx.conn())
        .await?;
    let total = crate::tenancy::counts::of(tx).await?.pending_invitations;
    Ok(ListPage::cut(
        rows,
        position,
        per_page,
        Some(total),
        |row| Keyset {
            key: String::new(),
            id: row.id,
        },
    ))
}

/// The organization's invitation `id`, whatever its status.
pub async fn by_id(
    tx: &TenantTxn,
    id: i64,
) -> Result<Option<organization_invitation::Model>, DbErr> {
    tx.select::<organization_invitation::Entity>()
        .filter(organization_invitation::Column::Id.eq(id))
        .one(tx.conn())
        .await
}

/// The pending invitation of the organization for `email`, if any.
pub async fn pending_for_email(
    tx: &TenantTxn,
    email: &str,
) -> Result<Option<organization_invitation::Model>, DbErr> {
    pending(tx.select::<organization_invitation::Entity>())
        .filter(organization_invitation::Column::Email.eq(email.trim().to_lowercase()))
        .one(tx.conn())
        .await
}

/// Revokes a pending invitation (recorded as `invitation.revoked`); its link stops working.
pub async fn revoke(tx: &TenantTxn, id: i64) -> Result<bool, DbErr> {
    end(tx, id, "invitation.revoked").await
}

async fn end(tx: &TenantTxn, id: i64, action: &str) -> Result<bool, DbErr> {
    let Some(row) = pending(tx.select::<organization_invitation::Entity>())
        .filter(organization_invitation::Column::Id.eq(id))
        .one(tx.conn())
        .await?
    else {
        return Ok(false);
    };
    let target = Target::new("invitation", row.id, &row.email);
    let mut row = row.into_active_model();
    row.revoked_at = Set(Some(entity::chrono_now()));
    row.update(tx.conn()).await?;
    audit::record(tx, action, Some(target), None).await?;
    Ok(true)
}

/// The organization's pending invitation `id`, if any (to send again: inviting its address
/// rotates its token and mails the new link).
pub async fn pending_by_id(
    tx: &TenantTxn,
    id: i64,
) -> Result<Option<organization_invitation::Model>, DbErr> {
    pending(tx.select::<organization_invitation::Entity>())
        .filter(organization_invitation::Column::Id.eq(id))
        .one(tx.conn())
        .await
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
    /// Whoever sent it no longer holds every permission it would give.
    #[error(
        "this invitation was sent by someone who can no longer give the roles it carries; ask an administrator to send it again"
    )]
    InviterLacks,
    /// The organization's seats were lowered below its use since the invitation was sent, and
    /// none is free: the invitation stays pending.
    #[error(transparent)]
    SeatLimit(#[from] crate::organizations::seats::SeatLimit),
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
    #[error("{0}")]
    Password(#[from] crate::auth::password::PasswordError),
    /// The name is missing, too long, or holds characters a name may not.
    #[error("{0}")]
    Name(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
    /// Anything else (hashing the password).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl crate::fields::FieldError for InviteError {
    fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidEmail | Self::AlreadyMember => Some("email"),
            _ => None,
        }
    }
}

impl crate::fields::FieldError for AcceptError {
    fn field(&self) -> Option<&'static str> {
        match self {
            Self::Password(_) => Some("password"),
            Self::Name(_) => Some("name"),
            _ => None,
        }
    }
}
