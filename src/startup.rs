//! Building and running the HTTP server: `Application::build` connects, migrates and binds;
//! `run_until_stopped` serves until a signal.

use std::net::TcpListener;
use std::time::Duration;

use actix_identity::IdentityMiddleware;
use actix_session::SessionMiddleware;
use actix_session::config::PersistentSession;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use sha2::{Digest, Sha512};
use tracing_actix_web::TracingLogger;

use crate::config::{SessionStore, Settings};
use crate::error::AppError;
use crate::events::Events;
use crate::session_store::AnyStore;
pub use crate::state::AppState;
use crate::web::csrf;
use crate::web::errors::render_error_page;
use crate::{db, routes};

/// Routes an embedding app adds to the server (registered before orgs' own, so they win).
pub type ExtraRoutes = fn(&mut web::ServiceConfig);

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    outbox_task: tokio::task::AbortHandle,
}

impl Application {
    /// Connects to the configured database, applies migrations (unless
    /// `database.migrate_on_start` is off), and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = db::connect(&settings.database).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot open the database {}: {e}",
                crate::config::redact_url(&settings.database.url)
            )
        })?;
        if settings.database.migrate_on_start {
            db::migrate(&db)
                .await
                .map_err(|e| anyhow::anyhow!("migrating the database failed: {e}"))?;
        }
        Self::build_with(AppState::new(settings, db, Events::new())?).await
    }

    /// Binds a server over prepared state (the database already migrated) and starts the
    /// outbox sender.
    pub async fn build_with(state: AppState) -> anyhow::Result<Self> {
        Self::build_with_routes(state, |_| {}).await
    }

    /// Like [`Application::build_with`], with an embedding app's own routes mounted beside
    /// orgs' under the same middleware (sessions, CSRF, tenant resolution, error pages).
    pub async fn build_with_routes(state: AppState, extra: ExtraRoutes) -> anyhow::Result<Self> {
        let address = state.settings.bind_address();
        let listener = TcpListener::bind(&address)
            .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
        let port = listener.local_addr()?.port();
        let store = session_store(&state.settings).await?;
        let server = run(listener, state.clone(), store, extra)?;
        let outbox_task =
            crate::sender::spawn(state.outbox.clone(), state.settings.audit.retention_days)
                .abort_handle();
        Ok(Self {
            port,
            server,
            state,
            outbox_task,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that can stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Stops the outbox sender this application started (the server stops through its handle).
    pub fn outbox_task(&self) -> tokio::task::AbortHandle {
        self.outbox_task.clone()
    }

    /// The state handlers see.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the server is stopped (SIGINT or SIGTERM).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn session_store(settings: &Settings) -> anyhow::Result<AnyStore> {
    Ok(match settings.session.store {
        SessionStore::Cookie => AnyStore::cookie(),
        SessionStore::Redis => AnyStore::redis(&settings.session.redis_url).await?,
    })
}

/// The signing and encryption key of session cookies, derived from `session.secret_key` so any
/// length of secret gives the 64 bytes actix needs.
fn cookie_key(secret: &str) -> Key {
    Key::from(&Sha512::digest(secret.as_bytes()))
}

fn run(
    listener: TcpListener,
    state: AppState,
    store: AnyStore,
    extra: ExtraRoutes,
) -> anyhow::Result<Server> {
    let workers = match state.settings.server.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let shutdown = Duration::from_secs(state.settings.server.shutdown_timeout_secs);
    let key = cookie_key(&state.settings.session.secret_key);
    let session = state.settings.session.clone();
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(store.clone(), key.clone())
            .cookie_name("orgs_session".into())
            .cookie_secure(session.cookie_secure)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .session_lifecycle(PersistentSession::default().session_ttl(
                actix_web::cookie::time::Duration::hours(i64::from(session.ttl_hours)),
            ))
            .build();
        App::new()
            .app_data(data.clone())
            .app_data(web::FormConfig::default().error_handler(|error, _| {
                AppError::BadRequest(format!("the form could not be read: {error}")).into()
            }))
            .app_data(web::JsonConfig::default().error_handler(|error, _| {
                AppError::BadRequest(format!("the JSON body could not be read: {error}")).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
            .app_data(web::QueryConfig::default().error_handler(|error, _| {
                AppError::BadRequest(format!("the query string could not be read: {error}")).into()
            }))
            .configure(extra)
            .configure(routes::configure)
            .default_service(web::to(routes::not_found))
            .wrap(from_fn(csrf::protect))
            .wrap(from_fn(crate::web::resolve::resolve))
            .wrap(from_fn(crate::web::caching::invalidate_after_writes))
            .wrap(ErrorHandlers::new().default_handler(render_error_page))
            .wrap(IdentityMiddleware::default())
            .wrap(sessions)
            .wrap(from_fn(crate::web::security::headers))
            .wrap(TracingLogger::default())
    })
    .workers(workers)
    .shutdown_timeout(shutdown.as_secs())
    .listen(listener)?
    .run();
    Ok(server)
}
