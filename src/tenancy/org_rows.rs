//! The few queries on `organizations` that are not scoped by construction: resolving a tenant by
//! slug, custom domain or API key, the organizations of one user, slug availability, and locking
//! or deleting a whole tenant (through its [`super::TenantTxn`]). `organizations` is readable in
//! every context; the other tables these read are reached in the context each function names.

use entity::{OrganizationId, UserId};
use std::collections::{HashMap, HashSet};

use entity::{organization, organization_user};
use sea_orm::sea_query::{Condition, Expr, ExprTrait as _, JoinType, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait as _,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::db::{Keyset, ListPage, Position};

use super::door::SystemTxn;
use super::txn::{Context, Work};

/// The organization with this slug (tenant resolution).
#[expect(
    clippy::disallowed_methods,
    reason = "resolving the tenant precedes any scope"
)]
pub async fn by_slug<C: ConnectionTrait>(
    db: &C,
    slug: &str,
) -> Result<Option<organization::Model>, DbErr> {
    // What is not a slug names no organization: no query (a NUL would fail on PostgreSQL).
    if !crate::slug::is_well_formed(slug) {
        return Ok(None);
    }
    organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// The organization with this id.
#[expect(
    clippy::disallowed_methods,
    reason = "looking an organization up by its own id"
)]
pub async fn by_id<C: ConnectionTrait>(
    db: &C,
    id: OrganizationId,
) -> Result<Option<organization::Model>, DbErr> {
    organization::Entity::find_by_id(id.get()).one(db).await
}

/// The organization row, locked for the rest of the transaction (PostgreSQL; SQLite's write
/// transaction already excludes other writers).
#[expect(
    clippy::disallowed_methods,
    reason = "locking an organization by its own id"
)]
pub(super) async fn lock<C: ConnectionTrait>(
    db: &C,
    id: OrganizationId,
) -> Result<Option<organization::Model>, DbErr> {
    organization::Entity::find_by_id(id.get())
        .lock_exclusive()
        .one(db)
        .await
}

/// The slugs in use that start with `stem`.
#[expect(
    clippy::disallowed_methods,
    reason = "slug uniqueness spans every organization"
)]
pub async fn slugs_starting_with<C: ConnectionTrait>(
    db: &C,
    stem: &str,
) -> Result<HashSet<String>, DbErr> {
    Ok(organization::Entity::find()
        .select_only()
        .column(organization::Column::Slug)
        .filter(organization::Column::Slug.starts_with(stem))
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The organizations `user_id` is a member of, by name; inactive ones only when asked (the
/// peer's `get_for_user` and `active.get_for_user`). Runs in the user context: the person's own
/// memberships, in every organization.
#[expect(
    clippy::disallowed_methods,
    reason = "user-scoped: joined on the user's memberships"
)]
pub async fn of_user(
    db: &DatabaseConnection,
    user_id: UserId,
    include_inactive: bool,
) -> Result<Vec<organization::Model>, DbErr> {
    let work = Work::begin(db, Context::User(user_id), false).await?;
    // A membership the organization's directory suspended opens nothing: not listed.
    let mut query = organization::Entity::find()
        .inner_join(organization_user::Entity)
        .filter(organization_user::Column::UserId.eq(user_id))
        .filter(organization_user::Column::SuspendedAt.is_null());
    if !include_inactive {
        query = query.filter(organization::Column::IsActive.eq(true));
    }
    let found = query
        .order_by_asc(organization::Column::Name)
        .order_by_asc(organization::Column::Id)
        .all(work.conn())
        .await?;
    work.commit().await?;
    Ok(found)
}

/// One page of the active organizations `user_id` belongs to, by name then id (the user
/// context), with their count: after a cursor's position, or at a page number.
#[expect(
    clippy::disallowed_methods,
    reason = "user-scoped: joined on the user's memberships"
)]
pub async fn page_of_user(
    db: &DatabaseConnection,
    user_id: UserId,
    position: &Position,
    per_page: u64,
) -> Result<ListPage<organization::Model>, DbErr> {
    let work = Work::begin(db, Context::User(user_id), false).await?;
    let mine = organization::Entity::find()
        .inner_join(organization_user::Entity)
        .filter(organization_user::Column::UserId.eq(user_id))
        .filter(organization_user::Column::SuspendedAt.is_null())
        .filter(organization::Column::IsActive.eq(true));
    let total = mine.clone().count(work.conn()).await?;
    let mut query = mine;
    let (seek, order) = position.seek("organizations", "name", "id");
    if let Some(seek) = seek {
        query = query.filter(seek);
    }
    let mut query = query
        .order_by(organization::Column::Name, order.clone())
        .order_by(organization::Column::Id, order)
        .limit(per_page + 1);
    if let Position::Page(page) = position {
        query = query.offset(page.saturating_sub(1).saturating_mul(per_page));
    }
    let items = query.all(work.conn()).await?;
    work.commit().await?;
    Ok(ListPage::cut(items, position, per_page, Some(total), |o| {
        Keyset {
            key: o.name.clone(),
            id: o.id,
        }
    }))
}

/// A person's roles in one of their organizations: whether they own it, and each role key
/// they hold with its custom role's name (`None` for a built-in role).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RolesHeld {
    /// They own the organization.
    pub is_owner: bool,
    /// `(key, custom role's name)`, built-in roles first, then custom ones, each by key.
    pub roles: Vec<(String, Option<String>)>,
}

/// The roles `user_id` holds in each of `organization_ids` they belong to, read in one
/// statement (for "my organizations" and the switcher).
pub(crate) async fn roles_of_user(
    db: &DatabaseConnection,
    user_id: UserId,
    organization_ids: &[i64],
) -> Result<HashMap<i64, RolesHeld>, DbErr> {
    let mut held: HashMap<i64, RolesHeld> = HashMap::new();
    if organization_ids.is_empty() {
        return Ok(held);
    }
    // The system context, read only, every row reached through the person's own memberships:
    // the user context's policy opens `organization_users` alone, and a policy opening the role
    // tables to it would sit beside the tenant check of every read of them in a tenant
    // context (the people page's roles among them).
    let txn = SystemTxn::begin(db, "the roles of a person's organizations", false).await?;
    let statement = db
        .get_database_backend()
        .build(&roles_query(user_id, organization_ids));
    let rows = txn.conn().query_all_raw(statement).await?;
    txn.commit().await?;
    for row in rows {
        let organization_id: i64 = row.try_get_by_index(0)?;
        let owner_row: Option<i64> = row.try_get_by_index(1)?;
        let key: Option<String> = row.try_get_by_index(2)?;
        let name: Option<String> = row.try_get_by_index(3)?;
        let entry = held.entry(organization_id).or_default();
        entry.is_owner |= owner_row.is_some();
        if let Some(key) = key {
            entry.roles.push((key, name));
        }
    }
    for entry in held.values_mut() {
        entry
            .roles
            .sort_by(|a, b| (a.1.is_some(), &a.0).cmp(&(b.1.is_some(), &b.0)));
    }
    Ok(held)
}

/// Each membership of `user_id` among `organization_ids` with its owner row and each role it
/// holds, a custom one with its name: one row per role.
fn roles_query(user_id: UserId, organization_ids: &[i64]) -> SelectStatement {
    use entity::{organization_member_role as member_role, organization_role as role};
    let membership = |column| Expr::col((organization_user::Entity, column));
    let custom_role = Condition::all()
        .add(
            Expr::col((role::Entity, role::Column::OrganizationId)).eq(Expr::col((
                member_role::Entity,
                member_role::Column::OrganizationId,
            ))),
        )
        .add(Expr::col((role::Entity, role::Column::Id)).eq(Expr::col((
            member_role::Entity,
            member_role::Column::RoleId,
        ))));
    Query::select()
        .expr(membership(organization_user::Column::OrganizationId))
        .expr(Expr::col((
            entity::organization_owner::Entity,
            entity::organization_owner::Column::Id,
        )))
        .expr(Expr::col((
            member_role::Entity,
            member_role::Column::RoleKey,
        )))
        .expr(Expr::col((role::Entity, role::Column::Name)))
        .from(organization_user::Entity)
        .join(
            JoinType::LeftJoin,
            entity::organization_owner::Entity,
            super::access::owner_row(),
        )
        .join(
            JoinType::LeftJoin,
            member_role::Entity,
            super::access::role_rows(),
        )
        .join(JoinType::LeftJoin, role::Entity, custom_role)
        .and_where(membership(organization_user::Column::UserId).eq(user_id))
        .and_where(
            membership(organization_user::Column::OrganizationId)
                .is_in(organization_ids.iter().copied()),
        )
        .to_owned()
}

/// Whether `user_id` is a member of the organization (the user context).
#[expect(
    clippy::disallowed_methods,
    reason = "user-scoped: the user's own membership"
)]
pub async fn is_member(
    db: &DatabaseConnection,
    organization_id: OrganizationId,
    user_id: UserId,
) -> Result<bool, DbErr> {
    let work = Work::begin(db, Context::User(user_id), false).await?;
    let found = organization_user::Entity::find()
        .filter(organization_user::Column::OrganizationId.eq(organization_id))
        .filter(organization_user::Column::UserId.eq(user_id))
        .one(work.conn())
        .await?
        .is_some();
    work.commit().await?;
    Ok(found)
}

/// Deletes the organization (its tenant rows go by cascade). Returns whether it existed.
#[expect(
    clippy::disallowed_methods,
    reason = "deleting a whole tenant by its own id"
)]
pub(super) async fn delete<C: ConnectionTrait>(db: &C, id: OrganizationId) -> Result<bool, DbErr> {
    Ok(organization::Entity::delete_by_id(id.get())
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// The organization that has verified `domain` (looked up in the system context, read only).
#[expect(
    clippy::disallowed_methods,
    reason = "resolving the tenant by custom domain precedes any scope"
)]
pub async fn by_verified_domain(
    db: &DatabaseConnection,
    domain: &str,
) -> Result<Option<organization::Model>, DbErr> {
    use entity::organization_domain;
    let txn = SystemTxn::begin(db, "resolve a custom domain", false).await?;
    let row = organization_domain::Entity::find()
        .filter(organization_domain::Column::Domain.eq(domain))
        .filter(organization_domain::Column::VerifiedAt.is_not_null())
        .one(txn.conn())
        .await?;
    let found = match row {
        Some(row) => by_id(txn.conn(), OrganizationId(row.organization_id)).await?,
        None => None,
    };
    txn.commit().await?;
    Ok(found)
}

/// The organization that has verified the email domain `domain`, with its claim (looked up in
/// the system context, read only): one at most.
#[expect(
    clippy::disallowed_methods,
    reason = "an address's domain names its organization before any scope"
)]
pub async fn by_verified_email_domain(
    db: &DatabaseConnection,
    domain: &str,
) -> Result<Option<(organization::Model, entity::email_domain::Model)>, DbErr> {
    use entity::email_domain;
    let txn = SystemTxn::begin(db, "find an email domain's organization", false).await?;
    let row = email_domain::Entity::find()
        .filter(email_domain::Column::Domain.eq(domain))
        .filter(email_domain::Column::State.eq("verified"))
        .one(txn.conn())
        .await?;
    let found = match row {
        Some(row) => by_id(txn.conn(), OrganizationId(row.organization_id))
            .await?
            .map(|org| (org, row)),
        None => None,
    };
    txn.commit().await?;
    Ok(found)
}

/// The organization and key of a working API key secret (looked up in the system context, read
/// only).
#[expect(
    clippy::disallowed_methods,
    reason = "resolving the tenant by API key precedes any scope"
)]
pub async fn by_api_key(
    db: &DatabaseConnection,
    secret: &str,
) -> Result<Option<ApiKeyFound>, DbErr> {
    use entity::{organization_api_key, organization_api_key_permission as key_permission};
    let txn = SystemTxn::begin(db, "resolve an API key", false).await?;
    let key = organization_api_key::Entity::find()
        .filter(organization_api_key::Column::TokenHash.eq(crate::tokens::hash(secret)))
        .filter(organization_api_key::Column::RevokedAt.is_null())
        .one(txn.conn())
        .await?;
    let found = match key {
        Some(key) => match by_id(txn.conn(), OrganizationId(key.organization_id)).await? {
            Some(organization) => {
                let permissions = key_permission::Entity::find()
                    .select_only()
                    .column(key_permission::Column::Permission)
                    .filter(key_permission::Column::OrganizationId.eq(key.organization_id))
                    .filter(key_permission::Column::ApiKeyId.eq(key.id))
                    .into_tuple::<String>()
                    .all(txn.conn())
                    .await?;
                Some(ApiKeyFound {
                    organization,
                    key,
                    permissions,
                })
            }
            None => None,
        },
        None => None,
    };
    txn.commit().await?;
    Ok(found)
}

/// A working organization API key with its organization and the names of its permissions.
#[derive(Clone, Debug)]
pub struct ApiKeyFound {
    /// The key's organization.
    pub organization: organization::Model,
    /// The key.
    pub key: entity::organization_api_key::Model,
    /// What it may do.
    pub permissions: Vec<String>,
}
