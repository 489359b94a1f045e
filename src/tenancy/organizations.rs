//! The few queries on `organizations` that are not scoped by construction: resolving a tenant by
//! slug, the organizations of one user, slug availability, and deleting a whole tenant.

use std::collections::HashSet;

use entity::{organization, organization_user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// The organization with this slug (tenant resolution).
#[expect(
    clippy::disallowed_methods,
    reason = "resolving the tenant precedes any scope"
)]
pub async fn by_slug<C: ConnectionTrait>(
    db: &C,
    slug: &str,
) -> Result<Option<organization::Model>, DbErr> {
    organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// Like [`by_slug`], reusing a recent answer from the application's caches.
pub async fn by_slug_cached(
    state: &crate::startup::AppState,
    slug: String,
) -> Result<Option<organization::Model>, DbErr> {
    let caches = &state.caches;
    caches
        .through(
            &caches.organizations,
            slug.clone(),
            by_slug(&state.db, &slug),
        )
        .await
}

/// The organization with this id.
#[expect(
    clippy::disallowed_methods,
    reason = "looking an organization up by its own id"
)]
pub async fn by_id<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<organization::Model>, DbErr> {
    organization::Entity::find_by_id(id).one(db).await
}

/// The organization row, locked for the rest of the transaction (PostgreSQL; SQLite's write
/// transaction already excludes other writers).
#[expect(
    clippy::disallowed_methods,
    reason = "locking an organization by its own id"
)]
pub async fn lock<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<organization::Model>, DbErr> {
    organization::Entity::find_by_id(id)
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

/// The organizations `user_id` is a member of, by name; inactive ones only when asked.
#[expect(
    clippy::disallowed_methods,
    reason = "user-scoped: joined on the user's memberships"
)]
pub async fn of_user<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    include_inactive: bool,
) -> Result<Vec<organization::Model>, DbErr> {
    let mut query = organization::Entity::find()
        .inner_join(organization_user::Entity)
        .filter(organization_user::Column::UserId.eq(user_id));
    if !include_inactive {
        query = query.filter(organization::Column::IsActive.eq(true));
    }
    query
        .order_by_asc(organization::Column::Name)
        .order_by_asc(organization::Column::Id)
        .all(db)
        .await
}

/// Deletes the organization (its tenant rows go by cascade). Returns whether it existed.
#[expect(
    clippy::disallowed_methods,
    reason = "deleting a whole tenant by its own id"
)]
pub async fn delete<C: ConnectionTrait>(db: &C, id: i64) -> Result<bool, DbErr> {
    Ok(organization::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// The organization that has verified `domain`.
#[expect(
    clippy::disallowed_methods,
    reason = "resolving the tenant by custom domain precedes any scope"
)]
pub async fn by_verified_domain<C: ConnectionTrait>(
    db: &C,
    domain: &str,
) -> Result<Option<organization::Model>, DbErr> {
    use entity::organization_domain;
    let Some(row) = organization_domain::Entity::find()
        .filter(organization_domain::Column::Domain.eq(domain))
        .filter(organization_domain::Column::VerifiedAt.is_not_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    by_id(db, row.organization_id).await
}

/// The organization and key of a working API key secret.
#[expect(
    clippy::disallowed_methods,
    reason = "resolving the tenant by API key precedes any scope"
)]
pub async fn by_api_key<C: ConnectionTrait>(
    db: &C,
    secret: &str,
) -> Result<Option<(organization::Model, entity::organization_api_key::Model)>, DbErr> {
    use entity::organization_api_key;
    let Some(key) = organization_api_key::Entity::find()
        .filter(organization_api_key::Column::TokenHash.eq(crate::auth::tokens::hash(secret)))
        .filter(organization_api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(by_id(db, key.organization_id).await?.map(|org| (org, key)))
}
