//! The organization's own lifecycle: created (with its owner's membership and owner row, its
//! slug made from the name when none is typed), renamed or given a new address, deleted with
//! everything in it. Each runs in the transaction it is given and records itself in the audit
//! log; the events fire after that transaction commits.

use entity::UserId;
use entity::{organization, organization_member_role, organization_owner, organization_user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, IntoActiveModel,
    TransactionTrait,
};
use serde_json::json;

use super::OrgError;
use crate::audit::{self, Target};
use crate::auth::users;
use crate::db::{OnUniqueViolation as _, is_unique_violation};
use crate::events::{Events, OrgEvent};
use crate::permissions::BuiltinRole;
use crate::slug;
use crate::tenancy::{self, Actor, TenantTxn};

/// Longest organization name (the peer's `max_length`).
pub const MAX_NAME_LEN: usize = 200;

/// How many times a generated slug is retried when a concurrent create takes it first.
const SLUG_ATTEMPTS: usize = 8;
/// Attempts at the first free slug before the slug gets a random suffix.
const PLAIN_SLUG_ATTEMPTS: usize = 3;

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
    let Some(founder) = users::find_by_id(txn.conn(), UserId(owner_id)).await? else {
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
    let scope = system.scope(organization.id());
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
pub(super) async fn lock_organization(tx: &TenantTxn) -> Result<organization::Model, OrgError> {
    tx.lock_organization()
        .await?
        .ok_or(OrgError::OrganizationNotFound)
}

/// Renames the organization and, when a new slug is given, changes its address; when a colour
/// is given, sets the colour behind its initials (empty: the one its id picks).
pub async fn update_organization(
    tx: &TenantTxn,
    name: &str,
    new_slug: Option<&str>,
    color: Option<&str>,
) -> Result<organization::Model, OrgError> {
    let name = clean_name(name)?;
    let color = match color.map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(chosen) if super::appearance::is_color(chosen) => Some(Some(chosen.to_string())),
        Some(_) => return Err(OrgError::InvalidColor),
    };
    let organization = lock_organization(tx).await?;
    let mut row = organization.clone().into_active_model();
    row.name = Set(name);
    if let Some(color) = color {
        row.color = Set(color);
    }
    if let Some(new_slug) = new_slug
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != organization.slug)
    {
        slug::validate(new_slug)?;
        row.slug = Set(new_slug.to_string());
    }
    // A savepoint: a slug already taken is answered without aborting the request's
    // transaction (PostgreSQL refuses every later statement of a failed one).
    let attempt = tx.conn().begin().await?;
    let updated = row
        .update(&attempt)
        .await
        .on_unique_violation(OrgError::SlugTaken)?;
    attempt.commit().await?;
    let mut changes = serde_json::Map::new();
    if updated.name != organization.name {
        changes.insert(
            "name".into(),
            json!({ "from": organization.name, "to": updated.name }),
        );
    }
    if updated.slug != organization.slug {
        changes.insert(
            "slug".into(),
            json!({ "from": organization.slug, "to": updated.slug }),
        );
    }
    if updated.color != organization.color {
        changes.insert(
            "color".into(),
            json!({ "from": organization.color, "to": updated.color }),
        );
    }
    audit::record(
        tx,
        "organization.updated",
        Some(Target::new("organization", updated.id, &updated.name)),
        Some(serde_json::Value::Object(changes)),
    )
    .await?;
    Ok(updated)
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
        organization_id: tx.organization_id().get(),
    });
    Ok(())
}
