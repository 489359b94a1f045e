//! The cache bus: how the instances of one deployment keep each other's caches honest. Every
//! invalidation of this instance's caches is published (`cache.notify = "postgres"`:
//! `pg_notify` on channel `orgs_cache`; `"redis"`: `PUBLISH orgs:cache` on the session Redis);
//! each instance listens (PostgreSQL: `LISTEN` on its own connection to `database.listen_url`,
//! which must reach PostgreSQL directly, since a transaction pooler cannot carry a `LISTEN`) and
//! empties its caches when another instance's message arrives. While the listening connection is
//! down the caches are off, and when it is back they start empty: a change published meanwhile
//! is lost to this instance, and nothing it cached before can be trusted.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use secrecy::ExposeSecret as _;
use tokio::sync::mpsc;

use super::Caches;
use crate::config::{CacheNotify, Settings};

/// The PostgreSQL channel and the Redis channel.
const CHANNEL_PG: &str = "orgs_cache";
const CHANNEL_REDIS: &str = "orgs:cache";
/// The longest wait between two attempts to reconnect.
const RECONNECT_MAX: Duration = Duration::from_secs(2);

/// Starts publishing this instance's invalidations and listening to the others', as
/// `cache.notify` says (nothing for `none`). Returns at once: the caches stay off until the
/// listening connection is up.
pub fn start(caches: &Arc<Caches>, db: &DatabaseConnection, settings: &Settings) {
    if caches.ttl.is_zero() || settings.cache.notify == CacheNotify::None {
        return;
    }
    let instance = format!("{:016x}", rand::random::<u64>());
    let (sender, published) = mpsc::unbounded_channel();
    if caches.publish.set(sender).is_err() {
        return; // already started for these caches
    }
    caches.set_enabled(false);
    match settings.cache.notify {
        CacheNotify::None => {}
        CacheNotify::Postgres => {
            let url = settings.database.listen_url().to_string();
            tokio::spawn(publish_pg(db.clone(), instance.clone(), published));
            tokio::spawn(listen_pg(caches.clone(), url, instance));
        }
        CacheNotify::Redis => {
            match redis::Client::open(settings.session.redis_url.expose_secret().trim()) {
                Ok(client) => {
                    tokio::spawn(publish_redis(client.clone(), instance.clone(), published));
                    tokio::spawn(listen_redis(caches.clone(), client, instance));
                }
                // The settings were validated; a URL the client refuses leaves the caches off.
                Err(error) => {
                    tracing::error!(%error, "cache.notify: session.redis_url is unusable; caches stay off")
                }
            }
        }
    }
}

/// Takes every invalidation waiting in `published` (one message stands for all of them).
fn drain(published: &mut mpsc::UnboundedReceiver<()>) {
    while published.try_recv().is_ok() {}
}

async fn publish_pg(
    db: DatabaseConnection,
    instance: String,
    mut published: mpsc::UnboundedReceiver<()>,
) {
    let statement = format!("SELECT pg_notify('{CHANNEL_PG}', '{instance}')");
    while published.recv().await.is_some() {
        drain(&mut published);
        if let Err(error) = db.execute_unprepared(&statement).await {
            // The others then serve what they cached for at most `cache.ttl_ms`.
            tracing::warn!(%error, "cache invalidation not published");
        }
    }
}

/// Keeps one listening connection up for as long as the process runs: `connect` makes it (the
/// wait after a failure doubling from 50 ms to [`RECONNECT_MAX`]), `run` reads from it until it
/// is lost. The caches are on only while it is up, and empty whenever they come back.
async fn keep_listening<C, E, Connecting, Running>(
    caches: &Caches,
    what: &str,
    mut connect: impl FnMut() -> Connecting,
    mut run: impl FnMut(C) -> Running,
) where
    Connecting: Future<Output = Result<C, E>>,
    E: std::fmt::Display,
    Running: Future<Output = ()>,
{
    let mut wait = Duration::from_millis(50);
    loop {
        let connection = match connect().await {
            Ok(connection) => connection,
            Err(error) => {
                tracing::warn!(%error, ?wait, "cache bus: cannot listen on {what}; caches off");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RECONNECT_MAX);
                continue;
            }
        };
        wait = Duration::from_millis(50);
        caches.set_enabled(true);
        tracing::info!("cache bus: listening on {what}");
        run(connection).await;
        caches.set_enabled(false);
        tracing::warn!("cache bus: lost the {what} listener; caches off until it is back");
    }
}

async fn listen_pg(caches: Arc<Caches>, url: String, instance: String) {
    use sea_orm::sqlx::postgres::PgListener;
    let connect = || async {
        let mut listener = PgListener::connect(&url).await?;
        listener.listen(CHANNEL_PG).await?;
        Ok::<_, sea_orm::sqlx::Error>(listener)
    };
    let run = |mut listener: PgListener| {
        let (caches, instance) = (caches.clone(), instance.clone());
        async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(note)) if note.payload() != instance => caches.invalidate_here(),
                    Ok(Some(_)) => {}
                    Ok(None) => return,
                    Err(error) => {
                        tracing::warn!(%error, "cache bus: the PostgreSQL listener failed");
                        return;
                    }
                }
            }
        }
    };
    keep_listening(&caches, "PostgreSQL", connect, run).await;
}

async fn publish_redis(
    client: redis::Client,
    instance: String,
    mut published: mpsc::UnboundedReceiver<()>,
) {
    let mut connection = None;
    while published.recv().await.is_some() {
        drain(&mut published);
        if connection.is_none() {
            connection = client.get_multiplexed_async_connection().await.ok();
        }
        let Some(conn) = connection.as_mut() else {
            tracing::warn!("cache invalidation not published: Redis does not answer");
            continue;
        };
        let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(CHANNEL_REDIS)
            .arg(&instance)
            .query_async(conn)
            .await;
        if let Err(error) = sent {
            tracing::warn!(%error, "cache invalidation not published");
            connection = None;
        }
    }
}

async fn listen_redis(caches: Arc<Caches>, client: redis::Client, instance: String) {
    let connect = || async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(CHANNEL_REDIS).await?;
        Ok::<_, redis::RedisError>(pubsub)
    };
    let run = |mut pubsub: redis::aio::PubSub| {
        let (caches, instance) = (caches.clone(), instance.clone());
        async move {
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                if message.get_payload::<String>().ok().as_deref() != Some(instance.as_str()) {
                    caches.invalidate_here();
                }
            }
        }
    };
    keep_listening(&caches, "Redis", connect, run).await;
}
