//! Server-side login sessions: the cookie holds a random key, `user_sessions` its hash. A sign-in
//! is valid only while its row exists and has not expired, so sign-out is real even with the
//! cookie store.

use chrono::Duration;
use entity::UserId;
use entity::{user, user_session};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, QueryFilter,
    QuerySelect, sea_query::Expr,
};

use crate::tenancy::global;
use crate::tokens;

/// What a sign-in proved, and when: a second factor (a session completed with TOTP, a recovery
/// code or a passkey with user verification) and the person's last confirmation (a password
/// or a second factor), which dangerous actions need to be recent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Proof {
    /// When a second factor completed this sign-in.
    pub second_factor_at: Option<DateTimeUtc>,
    /// When the person last confirmed it was them in it.
    pub confirmed_at: Option<DateTimeUtc>,
    /// The organization whose single sign-on made the sign-in, if one did.
    pub sso_organization_id: Option<i64>,
    /// That organization trusts its provider's second factor, and the provider asserted one:
    /// it counts as a second factor there and nowhere else.
    pub sso_second_factor: bool,
}

impl Proof {
    /// A password just typed.
    pub fn password() -> Self {
        Self {
            second_factor_at: None,
            confirmed_at: Some(entity::chrono_now()),
            sso_organization_id: None,
            sso_second_factor: false,
        }
    }

    /// A second factor just used (after the password, or a passkey on its own).
    pub fn second_factor() -> Self {
        let now = entity::chrono_now();
        Self {
            second_factor_at: Some(now),
            confirmed_at: Some(now),
            sso_organization_id: None,
            sso_second_factor: false,
        }
    }

    /// Whether a second factor completed the sign-in.
    pub fn has_second_factor(&self) -> bool {
        self.second_factor_at.is_some()
    }

    /// Whether the sign-in counts as made with a second factor for `organization_id`: its own,
    /// or the provider's of that organization's sign-on when it trusts it.
    pub fn has_second_factor_for(&self, organization_id: i64) -> bool {
        self.has_second_factor()
            || (self.sso_second_factor && self.sso_organization_id == Some(organization_id))
    }

    /// Whether the last confirmation is less than `ttl_secs` old.
    pub fn confirmed_within(&self, ttl_secs: u64) -> bool {
        let ttl = Duration::seconds(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 1000));
        self.confirmed_at
            .is_some_and(|at| at + ttl > entity::chrono_now())
    }

    /// What the sign-in `session` proved.
    pub fn of(session: &user_session::Model) -> Self {
        Self {
            second_factor_at: session.second_factor_at,
            confirmed_at: session.confirmed_at,
            sso_organization_id: session.sso_organization_id,
            sso_second_factor: session.sso_second_factor,
        }
    }
}

/// Records a new sign-in for the user, with what it proved, and returns the key to put in the
/// session: in `family` (a handoff's), or a family of its own.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    ttl_hours: u32,
    family: Option<String>,
    proof: Proof,
) -> Result<String, DbErr> {
    let key = tokens::generate();
    let hash = tokens::hash(&key);
    user_session::ActiveModel {
        user_id: Set(user_id.get()),
        family: Set(Some(family.unwrap_or_else(|| hash.clone()))),
        token_hash: Set(hash),
        expires_at: Set(entity::chrono_now() + Duration::hours(i64::from(ttl_hours))),
        second_factor_at: Set(proof.second_factor_at),
        sso_organization_id: Set(proof.sso_organization_id),
        sso_second_factor: Set(proof.sso_second_factor),
        confirmed_at: Set(proof.confirmed_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(key)
}

/// The active user signed in with this key, and what the sign-in proved, if it is still valid.
pub async fn resolve<C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> Result<Option<(user::Model, Proof)>, DbErr> {
    let found = global::select::<user_session::Entity>()
        .find_also_related(user::Entity)
        .filter(user_session::Column::TokenHash.eq(tokens::hash(key)))
        .filter(user_session::Column::ExpiresAt.gt(entity::chrono_now()))
        .filter(user::Column::IsActive.eq(true))
        .one(db)
        .await?;
    Ok(found.and_then(|(session, user)| user.map(|user| (user, Proof::of(&session)))))
}

/// The sign-in with this key, while it is valid.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> Result<Option<user_session::Model>, DbErr> {
    global::select::<user_session::Entity>()
        .filter(user_session::Column::TokenHash.eq(tokens::hash(key)))
        .filter(user_session::Column::ExpiresAt.gt(entity::chrono_now()))
        .one(db)
        .await
}

/// The family of the sign-in with this key.
pub async fn family_of<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<String>, DbErr> {
    Ok(find(db, key).await?.and_then(|session| session.family))
}

/// Records that the person `user_id` confirmed it was them in their sign-in with this key just
/// now (another person's sign-in is left alone): with
/// a second factor (`second_factor`) the sign-in counts as completed with one from now on.
pub async fn confirm<C: ConnectionTrait>(
    db: &C,
    key: &str,
    user_id: UserId,
    second_factor: bool,
) -> Result<bool, DbErr> {
    let now = entity::chrono_now();
    let mut update = global::update_many::<user_session::Entity>()
        .col_expr(user_session::Column::ConfirmedAt, Expr::value(now))
        .col_expr(user_session::Column::UpdatedAt, Expr::value(now));
    if second_factor {
        update = update.col_expr(user_session::Column::SecondFactorAt, Expr::value(now));
    }
    let result = update
        .filter(user_session::Column::TokenHash.eq(tokens::hash(key)))
        .filter(user_session::Column::UserId.eq(user_id.get()))
        .filter(user_session::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks every sign-in of the user as made without a second factor (they have none left).
pub async fn forget_second_factor<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
) -> Result<u64, DbErr> {
    let result = global::update_many::<user_session::Entity>()
        .col_expr(
            user_session::Column::SecondFactorAt,
            Expr::value(Option::<DateTimeUtc>::None),
        )
        .filter(user_session::Column::UserId.eq(user_id.get()))
        .filter(user_session::Column::SecondFactorAt.is_not_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Whether a sign-in of `family` is still valid.
pub async fn family_alive<C: ConnectionTrait>(db: &C, family: &str) -> Result<bool, DbErr> {
    use sea_orm::PaginatorTrait;
    let alive = global::select::<user_session::Entity>()
        .filter(user_session::Column::Family.eq(family))
        .filter(user_session::Column::ExpiresAt.gt(entity::chrono_now()))
        .count(db)
        .await?;
    Ok(alive > 0)
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
