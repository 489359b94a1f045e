//! Organization rules (django-organizations' model methods): create, add and remove members,
//! change the owner, and the membership questions. Each rule runs in the [`TenantTxn`] it is
//! given (the request's, or a job's from `tenancy::door`), under the organization's row lock,
//! and its events fire after that transaction commits.

use entity::{organization, organization_member_role, organization_owner, organization_user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    PaginatorTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde_json::json;

use super::roles;
use crate::audit::{self, Target};
use crate::auth::users;
use crate::db::{OnUniqueViolation as _, is_unique_violation};
use crate::events::{Events, MembershipRef, OrgEvent};
use crate::permissions::BuiltinRole;
use crate::slug::{self, SlugError};
use crate::tenancy::{self, Actor, TenantTxn};

/// Longest organization name (the peer's `max_length`).
pub const MAX_NAME_LEN: usize = 200;

/// How many times a generated slug is retried when a concurrent create takes it first.
const SLUG_ATTEMPTS: usize = 8;
/// Attempts at the first free slug before the slug gets a random suffix.
const PLAIN_SLUG_ATTEMPTS: usize = 3;

/// Why an organization rule refused.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// No organization with that id.
    #[error("organization not found")]
    OrganizationNotFound,
    /// No user with that id.
    #[error("user not found")]
    UserNotFound,
    /// The user is not a member of the organization.
    #[error("the user is not a member of this organization")]
    NotMember,
    /// The user is already a member.
    #[error("the user is already a member of this organization")]
    AlreadyMember,
    /// The owner's membership cannot be removed (peer: `OwnershipRequired`).
    #[error(
        "the organization owner cannot be removed; transfer ownership or delete the organization first"
    )]
    OwnershipRequired,
    /// The owner's admin flag cannot be cleared (peer: "The organization owner must be an
    /// admin").
    #[error("the organization owner must be an admin")]
    OwnerMustBeAdmin,
    /// The new owner's membership is in another organization (peer: `OrganizationMismatch`).
    #[error("the new owner must be a member of this organization")]
    OrganizationMismatch,
    /// The name is empty or too long.
    #[error("{0}")]
    InvalidName(String),
    /// A typed slug breaks the rules.
    #[error("{0}")]
    InvalidSlug(#[from] SlugError),
    /// A typed slug belongs to another organization.
    #[error("this address is already taken")]
    SlugTaken,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl crate::fields::FieldError for OrgError {
    fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidName(_) => Some("name"),
            Self::InvalidSlug(_) | Self::SlugTaken => Some("slug"),
            Self::OwnerMustBeAdmin => Some("is_admin"),
            _ => None,
        }
    }
}

/// What `create_organization_with` makes.
#[derive(Clone, Debug)]
pub struct NewOrganization {
    /// Display name.
    pub name: String,
    /// A chosen slug; `None` derives one from the name.
    pub slug: Option<String>,
    /// Active organizations are listed and reachable.
    pub is_active: bool,
    /// Whether the owner's membership is an admin one (the peer's `org_user_defaults`).
    pub owner_is_admin: bool,
}

impl NewOrganization {
    /// An active organization with a derived slug and an admin owner.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            slug: None,
            is_active: true,
            owner_is_admin: true,
        }
    }
}

/// An organization with its founding membership and owner row.
#[derive(Clone, Debug)]
pub struct CreatedOrganization {
    /// The organization.
    pub organization: organization::Model,
    /// The owner's membership.
    pub membership: organization_user::Model,
    /// The owner row.
    pub owner: organization_owner::Model,
}

/// Checks and trims an organization name.
pub fn clean_name(name: &str) -> Result<String, OrgError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(OrgError::InvalidName("must not be empty".into()));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(OrgError::InvalidName(format!(
            "must be at most {MAX_NAME_LEN} characters long"
        )));
    }
    crate::text::check_name(name).map_err(|e| OrgError::InvalidName(e.to_string()))?;
    Ok(name.to_string())
}

/// Creates an active organization named `name` with `owner_id` as its admin and owner.
pub async fn create_organization(
    db: &DatabaseConnection,
    events: &Events,
    owner_id: i64,
    name: &str,
) -> Result<CreatedOrganization, OrgError> {
    create_organization_with(db, events, owner_id, NewOrganization::named(name)).await
}

/// Creates an organization, its owner's membership and the owner row in one transaction, then
/// fires `UserAdded` for the owner. A slug left empty is made from the name and de-duplicated.
pub async fn create_organization_with(
    db: &DatabaseConnection,
    events: &Events,
    owner_id: i64,
    new: NewOrganization,
) -> Result<CreatedOrganization, OrgError> {
    #[expect(
        clippy::disallowed_methods,
        reason = "creating an organization precedes its tenant context"
    )]
    let txn = tenancy::door::system(db, "create organization")
        .await?
        .firing(events);
    let created = create_organization_in(&txn, owner_id, new).await?;
    txn.commit().await?;
    Ok(created)
}

/// Like [`create_organization_with`], inside a system transaction that may do more (sign-up
/// writes the account and its mail in the same one). `UserAdded` fires when it commits.
pub async fn create_organization_in(
    txn: &tenancy::door::SystemTxn,
    owner_id: i64,
    new: NewOrganization,
) -> Result<CreatedOrganization, OrgError> {
    let name = clean_name(&new.name)?;
    let chosen = match new.slug.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(typed) => {
            slug::validate(typed)?;
            Some(typed.to_string())
        }
    };
    let base = slug::slugify(&name);
    let Some(founder) = users::find_by_id(txn.conn(), owner_id).await? else {
        return Err(OrgError::UserNotFound);
    };
    let mut attempt = 0;
    let created = loop {
        attempt += 1;
        // A savepoint: a slug taken by a concurrent create is retried without losing the rest
        // of the transaction.
        let attempt_txn = txn.conn().begin().await?;
        // Racers for one name all see the same first free slug (none sees the others' rows
        // before they commit): after a few lost races, one of its own.
        let slug = match &chosen {
            Some(slug) => slug.clone(),
            None if attempt <= PLAIN_SLUG_ATTEMPTS => free_slug(&attempt_txn, &base).await?,
            None => slug::with_random_suffix(&base),
        };
        match insert_organization(txn, &attempt_txn, &name, &slug, &new, owner_id).await {
            Ok(created) => {
                attempt_txn.commit().await?;
                break created;
            }
            Err(e) if is_unique_violation(&e) => {
                attempt_txn.rollback().await?;
                if chosen.is_some() {
                    return Err(OrgError::SlugTaken);
                }
                if attempt >= SLUG_ATTEMPTS {
                    return Err(OrgError::Db(e));
                }
            }
            Err(e) => return Err(OrgError::Db(e)),
        }
    };
    audit::record_in_system(
        txn,
        &created.organization,
        &Actor::user(&founder),
        "organization.created",
        Some(Target::new(
            "organization",
            created.organization.id,
            &created.organization.name,
        )),
        Some(json!({ "slug": created.organization.slug, "owner": owner_id })),
    )
    .await?;
    txn.fire(OrgEvent::UserAdded {
        organization_id: created.organization.id,
        user_id: owner_id,
        membership_id: created.membership.id,
    });
    Ok(created)
}

async fn insert_organization<C: ConnectionTrait>(
    system: &tenancy::door::SystemTxn,
    txn: &C,
    name: &str,
    slug: &str,
    new: &NewOrganization,
    owner_id: i64,
) -> Result<CreatedOrganization, sea_orm::DbErr> {
    let organization = organization::ActiveModel {
        name: Set(name.to_string()),
        slug: Set(slug.to_string()),
        is_active: Set(new.is_active),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let scope = system.scope(organization.id);
    let mut membership: organization_user::ActiveModel = scope.new_active_model();
    membership.user_id = Set(owner_id);
    let membership = membership.insert(txn).await?;
    let mut role: organization_member_role::ActiveModel = scope.new_active_model();
    role.organization_user_id = Set(membership.id);
    role.role_key = Set(if new.owner_is_admin {
        BuiltinRole::Admin.key().to_string()
    } else {
        BuiltinRole::Member.key().to_string()
    });
    role.role_id = Set(None);
    role.insert(txn).await?;
    let mut owner: organization_owner::ActiveModel = scope.new_active_model();
    owner.organization_user_id = Set(membership.id);
    let owner = owner.insert(txn).await?;
    Ok(CreatedOrganization {
        organization,
        membership,
        owner,
    })
}

/// The first free slug for `base`, looking at the slugs already stored.
async fn free_slug<C: ConnectionTrait>(db: &C, base: &str) -> Result<String, sea_orm::DbErr> {
    // Any candidate `base[..k]-N` starts with the first 48 characters of the base.
    let stem: String = base.chars().take(48).collect();
    let taken = tenancy::org_rows::slugs_starting_with(db, &stem).await?;
    Ok(slug::first_free(base, &taken))
}

/// Locks the organization row for the rest of the transaction and checks that it exists.
async fn lock_organization(tx: &TenantTxn) -> Result<organization::Model, OrgError> {
    tx.lock_organization()
        .await?
        .ok_or(OrgError::OrganizationNotFound)
}

async fn find_owner(tx: &TenantTxn) -> Result<Option<organization_owner::Model>, sea_orm::DbErr> {
    tx.select::<organization_owner::Entity>()
        .one(tx.conn())
        .await
}

/// Adds `user_id` to the organization. The first member of an empty organization becomes an
/// admin and its owner. A user who is already a member is `AlreadyMember`.
pub async fn add_user(
    tx: &TenantTxn,
    user_id: i64,
    is_admin: bool,
) -> Result<organization_user::Model, OrgError> {
    match get_or_add_user(tx, user_id, is_admin).await? {
        (membership, true) => Ok(membership),
        (_, false) => Err(OrgError::AlreadyMember),
    }
}

/// The user's membership, adding it (as `add_user` does) when missing. The flag says whether it
/// was added; `UserAdded` fires (after the commit) only then.
pub async fn get_or_add_user(
    tx: &TenantTxn,
    user_id: i64,
    is_admin: bool,
) -> Result<(organization_user::Model, bool), OrgError> {
    get_or_add_user_holding(tx, user_id, is_admin, &[]).await
}

/// [`get_or_add_user`], a new membership holding `roles` (each a role key and, for a custom
/// role, its id) instead of a built-in role when any are given; the first member of an empty
/// organization becomes its admin and owner all the same. The caller checked the grant rule.
pub(crate) async fn get_or_add_user_holding(
    tx: &TenantTxn,
    user_id: i64,
    is_admin: bool,
    roles: &[(String, Option<i64>)],
) -> Result<(organization_user::Model, bool), OrgError> {
    let organization_id = tx.organization_id();
    lock_organization(tx).await?;
    if let Some(existing) = membership(tx, user_id).await? {
        return Ok((existing, false));
    }
    let Some(user) = users::find_by_id(tx.conn(), user_id).await? else {
        return Err(OrgError::UserNotFound);
    };
    let empty = tx
        .select::<organization_user::Entity>()
        .count(tx.conn())
        .await?
        == 0;
    let mut membership: organization_user::ActiveModel = tx.new_active_model();
    membership.user_id = Set(user_id);
    let membership = membership
        .insert(tx.conn())
        .await
        .on_unique_violation(OrgError::AlreadyMember)?;
    let held: Vec<&str> = if roles.is_empty() || is_admin || empty {
        let role = if is_admin || empty {
            BuiltinRole::Admin
        } else {
            BuiltinRole::Member
        };
        roles::add_builtin(tx, membership.id, role).await?;
        vec![role.key()]
    } else {
        roles::write_role_rows(tx, membership.id, roles).await?;
        roles.iter().map(|(key, _)| key.as_str()).collect()
    };
    audit::record(
        tx,
        "member.added",
        Some(Target::new("member", user_id, user.display_name())),
        Some(json!({ "roles": held })),
    )
    .await?;
    tx.fire(OrgEvent::UserAdded {
        organization_id,
        user_id,
        membership_id: membership.id,
    });
    if empty && find_owner(tx).await?.is_none() {
        let mut owner: organization_owner::ActiveModel = tx.new_active_model();
        owner.organization_user_id = Set(membership.id);
        owner.insert(tx.conn()).await?;
        tx.fire(OrgEvent::OwnerChanged {
            organization_id,
            old: None,
            new: MembershipRef {
                membership_id: membership.id,
                user_id,
            },
        });
    }
    Ok((membership, true))
}

/// Removes `user_id` from the organization. The owner cannot be removed (`OwnershipRequired`);
/// someone who is not a member is `NotMember`.
pub async fn remove_user(tx: &TenantTxn, user_id: i64) -> Result<(), OrgError> {
    lock_organization(tx).await?;
    let membership = membership(tx, user_id).await?.ok_or(OrgError::NotMember)?;
    if let Some(owner) = find_owner(tx).await?
        && owner.organization_user_id == membership.id
    {
        return Err(OrgError::OwnershipRequired);
    }
    tx.delete_many::<organization_user::Entity>()
        .filter(organization_user::Column::Id.eq(membership.id))
        .exec(tx.conn())
        .await?;
    let actor = tx.actor();
    let left = actor.kind == crate::tenancy::ActorKind::User && actor.id == Some(user_id);
    let label = label_of(tx, user_id).await?;
    audit::record(
        tx,
        if left {
            "member.left"
        } else {
            "member.removed"
        },
        Some(Target::new("member", user_id, label)),
        None,
    )
    .await?;
    // Keys the member made cannot outlive their membership.
    super::api_keys::revoke_made_by(tx, user_id).await?;
    tx.fire(OrgEvent::UserRemoved {
        organization_id: tx.organization_id(),
        user_id,
    });
    Ok(())
}

/// Removes the member `user_id` on someone else's behalf: besides the rules of
/// [`remove_user`], the `grant` must hold every permission the member holds (the grant rule,
/// [`super::grants::may_act_on`]).
pub async fn remove_member(
    tx: &TenantTxn,
    grant: &crate::tenancy::Grant,
    user_id: i64,
) -> Result<(), super::roles::RoleError> {
    lock_organization(tx).await?;
    super::grants::may_act_on(tx, grant, user_id).await?;
    Ok(remove_user(tx, user_id).await?)
}

/// Makes the membership `new_owner_membership_id` the owner, and an admin. A membership of
/// another organization is `OrganizationMismatch`. Fires `OwnerChanged` unless it already was
/// the owner.
pub async fn change_owner(
    tx: &TenantTxn,
    new_owner_membership_id: i64,
) -> Result<organization_owner::Model, OrgError> {
    lock_organization(tx).await?;
    let Some(new_membership) = tx
        .select::<organization_user::Entity>()
        .filter(organization_user::Column::Id.eq(new_owner_membership_id))
        .one(tx.conn())
        .await?
    else {
        // Parity: the peer raises OrganizationMismatch for a membership of another
        // organization; an id that is no membership at all gets the same answer.
        return Err(OrgError::OrganizationMismatch);
    };
    let new_ref = MembershipRef {
        membership_id: new_membership.id,
        user_id: new_membership.user_id,
    };
    let (owner, old_ref) = match find_owner(tx).await? {
        Some(owner) if owner.organization_user_id == new_membership.id => return Ok(owner),
        Some(owner) => {
            let old_user = tx
                .select::<organization_user::Entity>()
                .filter(organization_user::Column::Id.eq(owner.organization_user_id))
                .one(tx.conn())
                .await?
                .map(|m| MembershipRef {
                    membership_id: m.id,
                    user_id: m.user_id,
                });
            let mut active: organization_owner::ActiveModel = owner.into();
            active.organization_user_id = Set(new_membership.id);
            (active.update(tx.conn()).await?, old_user)
        }
        None => {
            let mut owner: organization_owner::ActiveModel = tx.new_active_model();
            owner.organization_user_id = Set(new_membership.id);
            (owner.insert(tx.conn()).await?, None)
        }
    };
    roles::add_builtin(tx, new_membership.id, BuiltinRole::Admin).await?;
    audit::record(
        tx,
        "ownership.transferred",
        Some(Target::new(
            "member",
            new_ref.user_id,
            label_of(tx, new_ref.user_id).await?,
        )),
        Some(json!({ "from": old_ref.as_ref().map(|r| r.user_id), "to": new_ref.user_id })),
    )
    .await?;
    tx.fire(OrgEvent::OwnerChanged {
        organization_id: tx.organization_id(),
        old: old_ref,
        new: new_ref,
    });
    Ok(owner)
}

/// Deletes the organization and, by cascade, its memberships, owner row, invitations and every
/// tenant row; users stay. Fires `OrganizationDeleted`.
pub async fn delete_organization(tx: &TenantTxn) -> Result<(), OrgError> {
    let organization = lock_organization(tx).await?;
    // The event stays: audit rows have no foreign key to the organization.
    audit::record(
        tx,
        "organization.deleted",
        Some(Target::new(
            "organization",
            organization.id,
            &organization.name,
        )),
        Some(json!({ "slug": organization.slug })),
    )
    .await?;
    if !tx.delete_organization().await? {
        return Err(OrgError::OrganizationNotFound);
    }
    tx.fire(OrgEvent::OrganizationDeleted {
        organization_id: tx.organization_id(),
    });
    Ok(())
}

/// How an audit event names the person `user_id`.
pub(crate) async fn label_of(tx: &TenantTxn, user_id: i64) -> Result<String, sea_orm::DbErr> {
    Ok(users::find_by_id(tx.conn(), user_id)
        .await?
        .map(|u| u.display_name().to_string())
        .unwrap_or_default())
}

/// The membership of `user_id` in the organization, if any.
pub async fn membership(
    tx: &TenantTxn,
    user_id: i64,
) -> Result<Option<organization_user::Model>, sea_orm::DbErr> {
    tx.select::<organization_user::Entity>()
        .filter(organization_user::Column::UserId.eq(user_id))
        .one(tx.conn())
        .await
}

/// Whether the user is a member.
pub async fn is_member(tx: &TenantTxn, user_id: i64) -> Result<bool, sea_orm::DbErr> {
    Ok(membership(tx, user_id).await?.is_some())
}

/// Whether the user is a member holding the built-in `admin` role.
pub async fn is_admin(tx: &TenantTxn, user_id: i64) -> Result<bool, sea_orm::DbErr> {
    let Some(membership) = membership(tx, user_id).await? else {
        return Ok(false);
    };
    let keys = roles::keys_of(tx, &[membership.id]).await?;
    Ok(keys
        .get(&membership.id)
        .is_some_and(|k| k.iter().any(|k| k == BuiltinRole::Admin.key())))
}

/// Whether the user is the organization's owner. An organization without an owner row has none.
pub async fn is_owner(tx: &TenantTxn, user_id: i64) -> Result<bool, sea_orm::DbErr> {
    Ok(owner_user_id(tx).await? == Some(user_id))
}

/// The user id of the organization's owner, if it has one.
pub async fn owner_user_id(tx: &TenantTxn) -> Result<Option<i64>, sea_orm::DbErr> {
    let Some(owner) = find_owner(tx).await? else {
        return Ok(None);
    };
    let user_id = tx
        .select::<organization_user::Entity>()
        .select_only()
        .column(organization_user::Column::UserId)
        .filter(organization_user::Column::Id.eq(owner.organization_user_id))
        .into_tuple::<i64>()
        .one(tx.conn())
        .await?;
    Ok(user_id)
}
