//! Invitations: an admin invites an email address; the invitation row (only the token's hash,
//! an expiry, the inviter) and its mail are written in one transaction. Inviting an address
//! that already has a pending invitation sends it again with a new token. Accepting is one
//! transaction too: the claim, the new account (if any) and the membership commit together or
//! not at all.

pub mod send;

use chrono::Duration;
use entity::{organization, organization_invitation, organization_user, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, IntoActiveModel,
    JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use serde::Serialize;
use tera::Context;

use crate::audit::{self, Target};
use crate::auth::{NewUser, PasswordHasher, UserError, users};
use crate::config::AuthSettings;
use crate::events::Events;
use crate::mail::Mailer;
use crate::organizations::grants;
use crate::permissions::Catalog;
use crate::tenancy::{Actor, TenantTxn};
use crate::text::describe_ttl;
use crate::tokens;

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

/// Where the organization stands against its hourly invitation quota (`auth.invitations_per_hour`):
/// every invitation and reminder is one outbox row tagged with the organization.
pub async fn quota(
    tx: &TenantTxn,
    auth: &AuthSettings,
) -> Result<crate::auth::throttle::RateLimit, DbErr> {
    let hour_ago = entity::chrono_now() - Duration::hours(1);
    let last_hour = tx
        .select::<entity::email_outbox::Entity>()
        .filter(entity::email_outbox::Column::CreatedAt.gt(hour_ago))
        .order_by_asc(entity::email_outbox::Column::CreatedAt)
        .limit(u64::from(auth.invitations_per_hour))
        .all(tx.conn())
        .await?;
    let used = u32::try_from(last_hour.len()).unwrap_or(u32::MAX);
    // More is allowed once the oldest of the hour is an hour old.
    let reset = last_hour.first().map_or(0, |oldest| {
        (oldest.created_at - hour_ago).num_seconds().max(1)
    });
    Ok(crate::auth::throttle::RateLimit {
        policy: "invitations",
        quota: auth.invitations_per_hour,
        window_secs: 3_600,
        remaining: auth.invitations_per_hour.saturating_sub(used),
        reset_secs: u64::try_from(reset).unwrap_or(1).max(1),
    })
}

/// Invites `email` to the organization, or re-sends its pending invitation with a new token.
/// The invitation and its mail are written in the request's transaction.
pub async fn invite(
    tx: &TenantTxn,
    mailer: &Mailer,
    auth: &AuthSettings,
    organization: &organization::Model,
    inviter: Option<&user::Model>,
    email: &str,
) -> Result<organization_invitation::Model, InviteError> {
    if organization.id != tx.organization_id() {
        return Err(InviteError::NotFound);
    }
    let email = users::normalize_email(email).map_err(|_| InviteError::InvalidEmail)?;
    let limit = quota(tx, auth).await?;
    if limit.remaining == 0 {
        return Err(InviteError::Throttled(limit));
    }
    // And every one counts against its address and its requester's, across organizations.
    let client = tx.client().unwrap_or("job");
    if let Err(limit) = crate::auth::throttle::mail(tx.conn(), &email, client, auth).await? {
        return Err(InviteError::Throttled(limit));
    }
    let member = tx
        .select::<organization_user::Entity>()
        .join(JoinType::InnerJoin, organization_user::Relation::User.def())
        .filter(user::Column::Email.eq(email.as_str()))
        .one(tx.conn())
        .await?;
    if member.is_some() {
        return Err(InviteError::AlreadyMember);
    }
    let existing = pending(tx.select::<organization_invitation::Entity>())
        .filter(organization_invitation::Column::Email.eq(email.as_str()))
        .one(tx.conn())
        .await?;
    let secret = tokens::generate();
    let ttl = auth.invitation_ttl_secs;
    let expires_at =
        entity::chrono_now() + Duration::seconds(i64::try_from(ttl).unwrap_or(604_800));
    let resent = existing.is_some();
    let invitation = match existing {
        Some(row) => {
            let mut row = row.into_active_model();
            row.token_hash = Set(tokens::hash(&secret));
            row.expires_at = Set(expires_at);
            row.update(tx.conn()).await?
        }
        None => {
            let mut row: organization_invitation::ActiveModel = tx.new_active_model();
            row.email = Set(email.clone());
            row.invited_by_id = Set(inviter.map(|u| u.id));
            row.token_hash = Set(tokens::hash(&secret));
            row.expires_at = Set(expires_at);
            row.accepted_at = Set(None);
            row.accepted_by_id = Set(None);
            row.revoked_at = Set(None);
            row.insert(tx.conn()).await?
        }
    };
    let mut context = Context::new();
    context.insert("organization", &organization.name);
    context.insert("inviter", &inviter.map(user::Model::display_name));
    context.insert("link", &mailer.link(&format!("/invitations/{secret}/")));
    context.insert("expires_in", &describe_ttl(ttl));
    mailer
        .send(
            tx,
            "invitation",
            &email,
            format!("You're invited to join {} on orgs", organization.name),
            &context,
        )
        .await?;
    audit::record(
        tx,
        if resent {
            "invitation.resent"
        } else {
            "invitation.created"
        },
        Some(Target::new("invitation", invitation.id, &invitation.email)),
        None,
    )
    .await?;
    Ok(invitation)
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

/// Whether the invitation can still be used, and why not.
fn usable(invitation: &organization_invitation::Model) -> Result<(), AcceptError> {
    if invitation.accepted_at.is_some() {
        return Err(AcceptError::Used);
    }
    if invitation.revoked_at.is_some() {
        return Err(AcceptError::Revoked);
    }
    if invitation.expires_at <= entity::chrono_now() {
        return Err(AcceptError::Expired);
    }
    Ok(())
}

/// The usable invitation a link names, with the transaction of its organization (`write` to
/// accept or decline it in that same transaction).
async fn open(
    db: &DatabaseConnection,
    events: &Events,
    secret: &str,
    write: bool,
) -> Result<(TenantTxn, Pending), AcceptError> {
    #[expect(
        clippy::disallowed_methods,
        reason = "an invitation link is resolved before any tenant is known"
    )]
    let found =
        crate::tenancy::door::invitation(db, events, &tokens::hash(secret.trim()), write).await?;
    let (tx, invitation) = found.ok_or(AcceptError::Unknown)?;
    usable(&invitation)?;
    let organization = tx.organization().await?.ok_or(AcceptError::Unknown)?;
    Ok((
        tx,
        Pending {
            invitation,
            organization,
        },
    ))
}

/// The invitation a link names, if it can still be used.
pub async fn lookup(db: &DatabaseConnection, secret: &str) -> Result<Pending, AcceptError> {
    // A read: nothing is fired.
    let (_read, pending) = open(db, &Events::new(), secret, false).await?;
    Ok(pending)
}

/// Marks the invitation accepted by `user_id` if nobody did first: the single-use guarantee,
/// one conditional UPDATE that exactly one of any number of racing requests wins.
async fn claim(
    tx: &TenantTxn,
    invitation: &organization_invitation::Model,
    user_id: Option<i64>,
) -> Result<bool, DbErr> {
    let now = entity::chrono_now();
    let update = tx
        .update_many::<organization_invitation::Entity>()
        .col_expr(
            organization_invitation::Column::AcceptedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            organization_invitation::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            organization_invitation::Column::AcceptedById,
            sea_orm::sea_query::Expr::value(user_id),
        );
    let result = update
        .filter(organization_invitation::Column::Id.eq(invitation.id))
        .filter(organization_invitation::Column::AcceptedAt.is_null())
        .filter(organization_invitation::Column::RevokedAt.is_null())
        .filter(organization_invitation::Column::ExpiresAt.gt(now))
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Adds the membership of a claimed invitation, in `tx`, once its inviter is found to hold, as
/// they are now, every permission it gives (the grant rule); `UserAdded` and
/// `InvitationAccepted` fire when it commits.
async fn join(
    tx: &TenantTxn,
    catalog: &Catalog,
    pending: &Pending,
    user_id: i64,
) -> Result<(), AcceptError> {
    if !grants::inviter_still_grants(tx, catalog, &pending.invitation).await? {
        return Err(AcceptError::InviterLacks);
    }
    let carried =
        crate::organizations::roles::invitation_role_rows(tx, pending.invitation.id).await?;
    let (membership, _) =
        crate::organizations::get_or_add_user_holding(tx, user_id, false, &carried)
            .await
            .map_err(|e| match e {
                crate::organizations::OrgError::Db(e) => AcceptError::Db(e),
                other => AcceptError::Other(other.into()),
            })?;
    let roles = crate::organizations::roles::keys_of(tx, &[membership.id])
        .await?
        .remove(&membership.id)
        .unwrap_or_default();
    audit::record(
        tx,
        "invitation.accepted",
        Some(Target::new(
            "invitation",
            pending.invitation.id,
            &pending.invitation.email,
        )),
        Some(serde_json::json!({ "user_id": user_id, "roles": roles })),
    )
    .await?;
    tx.fire(crate::events::OrgEvent::InvitationAccepted {
        organization_id: pending.organization.id,
        invitation_id: pending.invitation.id,
        user_id,
    });
    Ok(())
}

/// Joins the organization as `user`, whose address must be the invited one: the claim and the
/// membership in one transaction. Fires `UserAdded` and `InvitationAccepted`.
pub async fn accept(
    db: &DatabaseConnection,
    events: &Events,
    catalog: &Catalog,
    secret: &str,
    user: &user::Model,
) -> Result<Pending, AcceptError> {
    let (tx, pending) = open(db, events, secret, true).await?;
    let tx = tx.acting_for(Actor::user(user));
    if !pending.invitation.email.eq_ignore_ascii_case(&user.email) {
        return Err(AcceptError::WrongAccount {
            masked: mask_email(&pending.invitation.email),
        });
    }
    if !claim(&tx, &pending.invitation, Some(user.id)).await? {
        return Err(AcceptError::Used);
    }
    join(&tx, catalog, &pending, user.id).await?;
    tx.commit().await?;
    Ok(pending)
}

/// Creates the invited person's account (active, the address proven by the link), joins the
/// organization, and returns the new user: the claim, the account and the membership in one
/// transaction. No personal organization is made.
pub async fn accept_as_new_user(
    db: &DatabaseConnection,
    events: &Events,
    catalog: &Catalog,
    hasher: &PasswordHasher,
    secret: &str,
    name: &str,
    password: &str,
) -> Result<(Pending, user::Model), AcceptError> {
    let email = lookup(db, secret).await?.invitation.email;
    if name.trim().is_empty() {
        return Err(AcceptError::Name("enter your name".into()));
    }
    // Checked and hashed before the transaction opens: it takes a while, and holds no lock
    // meanwhile.
    let account = NewUser {
        email,
        name: name.to_string(),
        password: Some(password.to_string()),
        is_superuser: false,
    }
    .check(hasher)
    .await
    .map_err(|error| match error {
        UserError::InvalidPassword(reason) => AcceptError::Password(reason),
        UserError::Db(e) => AcceptError::Db(e),
        UserError::Other(e) => AcceptError::Other(e),
        other => AcceptError::Name(other.to_string()),
    })?
    .verified();
    let (tx, pending) = open(db, events, secret, true).await?;
    // The claim first: of racing acceptances one wins, the others wait for it and find it used.
    if !claim(&tx, &pending.invitation, None).await? {
        return Err(AcceptError::Used);
    }
    if users::find_by_email(tx.conn(), account.email())
        .await?
        .is_some()
    {
        return Err(AcceptError::SignInFirst);
    }
    let user = account
        .insert(tx.conn())
        .await?
        .ok_or(AcceptError::SignInFirst)?;
    tx.update_many::<organization_invitation::Entity>()
        .col_expr(
            organization_invitation::Column::AcceptedById,
            sea_orm::sea_query::Expr::value(user.id),
        )
        .filter(organization_invitation::Column::Id.eq(pending.invitation.id))
        .exec(tx.conn())
        .await?;
    let tx = tx.acting_for(Actor::user(&user));
    join(&tx, catalog, &pending, user.id).await?;
    tx.commit().await?;
    Ok((pending, user))
}

/// Declines: the invitation stops working.
pub async fn decline(
    db: &DatabaseConnection,
    events: &Events,
    secret: &str,
) -> Result<Pending, AcceptError> {
    let (tx, pending) = open(db, events, secret, true).await?;
    // Whoever holds the link declines; they may have no account.
    let tx = tx.acting_for(Actor {
        kind: crate::tenancy::ActorKind::User,
        name: pending.invitation.email.clone(),
        ..Actor::default()
    });
    end(&tx, pending.invitation.id, "invitation.declined").await?;
    tx.commit().await?;
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
