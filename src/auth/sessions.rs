//! Server-side login sessions: the cookie holds a random key, `user_sessions` its hash. A sign-in
//! is valid only while its row exists and has not expired, so sign-out is real even with the
//! cookie store.

use chrono::Duration;
use entity::UserId;
use entity::{user, user_session};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, QueryFilter,
    QuerySelect, RelationTrait, sea_query::JoinType,
};

use crate::tenancy::global;
use crate::tokens;

/// Records a new sign-in for the user and returns the key to put in the session: in `family`
/// (a handoff's), or a family of its own.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    ttl_hours: u32,
    family: Option<String>,
) -> Result<String, DbErr> {
    let key = tokens::generate();
    let hash = tokens::hash(&key);
    user_session::ActiveModel {
        user_id: Set(user_id.get()),
        family: Set(Some(family.unwrap_or_else(|| hash.clone()))),
        token_hash: Set(hash),
        expires_at: Set(entity::chrono_now() + Duration::hours(i64::from(ttl_hours))),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(key)
}

/// The active user signed in with this key, if the sign-in is still valid.
pub async fn resolve<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<user::Model>, DbErr> {
    global::select::<user::Entity>()
        .join(JoinType::InnerJoin, user::Relation::UserSession.def())
        .filter(user_session::Column::TokenHash.eq(tokens::hash(key)))
        .filter(user_session::Column::ExpiresAt.gt(entity::chrono_now()))
        .filter(user::Column::IsActive.eq(true))
        .one(db)
        .await
}

/// The family of the sign-in with this key.
pub async fn family_of<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<String>, DbErr> {
    Ok(global::select::<user_session::Entity>()
        .filter(user_session::Column::TokenHash.eq(tokens::hash(key)))
        .one(db)
        .await?
        .and_then(|session| session.family))
}

/// Ends the sign-in with this key and every sign-in of its family (the same browser on the
/// organizations' hosts it was handed to); how many ended.
pub async fn delete_family<C: ConnectionTrait>(db: &C, key: &str) -> Result<u64, DbErr> {
    let mut ended = 0;
    if let Some(family) = family_of(db, key).await? {
        ended += global::delete_many::<user_session::Entity>()
            .filter(user_session::Column::Family.eq(family))
            .exec(db)
            .await?
            .rows_affected;
    }
    delete(db, key).await?;
    Ok(ended.max(1))
}

/// Ends the sign-in with this key.
pub async fn delete<C: ConnectionTrait>(db: &C, key: &str) -> Result<(), DbErr> {
    global::delete_many::<user_session::Entity>()
        .filter(user_session::Column::TokenHash.eq(tokens::hash(key)))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every sign-in of the user except the one with `keep` (after a password change).
pub async fn delete_all_for_user<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    keep: Option<&str>,
) -> Result<(), DbErr> {
    let mut query = global::delete_many::<user_session::Entity>()
        .filter(user_session::Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        query = query.filter(user_session::Column::TokenHash.ne(tokens::hash(keep)));
    }
    query.exec(db).await?;
    Ok(())
}

/// How many sign-ins the user has (for tests and the account page).
pub async fn count_for_user<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    global::select::<user_session::Entity>()
        .filter(user_session::Column::UserId.eq(user_id))
        .select_only()
        .column(user_session::Column::Id)
        .count(db)
        .await
}
