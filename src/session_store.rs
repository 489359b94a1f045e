//! The session store chosen by `session.store`: the signed, encrypted cookie or Redis, behind
//! one type so the app is built the same way with either.

use std::collections::HashMap;

use actix_session::storage::{
    CookieSessionStore, LoadError, RedisSessionStore, SaveError, SessionKey, SessionStore,
    UpdateError,
};
use actix_web::cookie::time::Duration;

/// Either store.
#[derive(Clone)]
pub enum AnyStore {
    /// Session data in the cookie (the store itself holds nothing).
    Cookie,
    /// Session data in Redis.
    Redis(RedisSessionStore),
}

impl AnyStore {
    /// The cookie store.
    pub fn cookie() -> Self {
        Self::Cookie
    }

    /// The Redis store at `url`; fails when Redis does not answer.
    pub async fn redis(url: &str) -> anyhow::Result<Self> {
        let store = RedisSessionStore::new(url.trim())
            .await
            .map_err(|e| anyhow::anyhow!("session.redis_url: cannot reach Redis: {e}"))?;
        Ok(Self::Redis(store))
    }
}

impl SessionStore for AnyStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        match self {
            Self::Cookie => CookieSessionStore::default().load(key).await,
            Self::Redis(store) => store.load(key).await,
        }
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        match self {
            Self::Cookie => CookieSessionStore::default().save(state, ttl).await,
            Self::Redis(store) => store.save(state, ttl).await,
        }
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        match self {
            Self::Cookie => CookieSessionStore::default().update(key, state, ttl).await,
            Self::Redis(store) => store.update(key, state, ttl).await,
        }
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        match self {
            Self::Cookie => CookieSessionStore::default().update_ttl(key, ttl).await,
            Self::Redis(store) => store.update_ttl(key, ttl).await,
        }
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        match self {
            Self::Cookie => CookieSessionStore::default().delete(key).await,
            Self::Redis(store) => store.delete(key).await,
        }
    }
}
