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
use secrecy::ExposeSecret as _;
use sha2::{Digest, Sha512};

use crate::config::{SessionStore, Settings};
use crate::error::AppError;
use crate::events::Events;
use crate::session_store::AnyStore;
pub use crate::state::AppState;
use crate::web::csrf;
use crate::web::errors::render_error_page;
use crate::{db, routes};

/// Routes an embedding app adds to the server (registered before orgs' own, so they win): a
/// function or a closure, which may hold the app's own configuration (each HTTP worker calls
/// it once).
pub type ExtraRoutes = std::sync::Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    outbox_task: tokio::task::JoinHandle<()>,
    webhooks_task: tokio::task::JoinHandle<()>,
    jobs_task: tokio::task::JoinHandle<()>,
    stop_sender: tokio::sync::watch::Sender<bool>,
    metrics_server: Option<Server>,
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
            // The connection that migrates owns the tables: it stores the bound of every
            // audit prune, as `orgs migrate` does.
            crate::audit::retention::keep_configured(&db, settings.audit.retention_days)
                .await
                .map_err(|e| anyhow::anyhow!("audit.retention_days: cannot be stored: {e}"))?;
        }
        Self::build_with(AppState::new(settings, db, Events::new())?).await
    }

    /// Binds a server over prepared state (the database already migrated) and starts the
    /// outbox sender and the hourly jobs.
    pub async fn build_with(state: AppState) -> anyhow::Result<Self> {
        Self::build_with_routes(state, |_: &mut web::ServiceConfig| {}).await
    }

    /// Like [`Application::build_with`], with an embedding app's own routes mounted beside
    /// orgs' under the same middleware (sessions, CSRF, tenant resolution, error pages):
    /// `extra` is a `fn(&mut ServiceConfig)` or a closure capturing what the routes need
    /// (`move |cfg| notes::configure(cfg, &notes_settings)`).
    pub async fn build_with_routes(
        state: AppState,
        extra: impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static,
    ) -> anyhow::Result<Self> {
        let extra: ExtraRoutes = std::sync::Arc::new(extra);
        let address = state.settings.bind_address();
        let listener = TcpListener::bind(&address)
            .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
        let port = listener.local_addr()?.port();
        let store = session_store(&state.settings).await?;
        crate::cache::bus::start(&state.caches, &state.db, &state.settings);
        let server = run(listener, state.clone(), store, extra)?;
        let metrics_server = metrics_server(&state)?;
        let (stop_sender, stop) = tokio::sync::watch::channel(false);
        let outbox_task = crate::sender::spawn(state.outbox.clone(), stop.clone());
        let webhooks_task = crate::webhooks::deliver::spawn(state.dispatcher()?, stop.clone());
        let jobs_task = crate::jobs::spawn(
            state.db.connection().clone(),
            crate::jobs::Keep::from_settings(&state.settings),
            state.dns.clone(),
            stop,
        );
        Ok(Self {
            port,
            server,
            state,
            outbox_task,
            webhooks_task,
            jobs_task,
            stop_sender,
            metrics_server,
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
        self.outbox_task.abort_handle()
    }

    /// Stops the webhook dispatcher this application started.
    pub fn webhooks_task(&self) -> tokio::task::AbortHandle {
        self.webhooks_task.abort_handle()
    }

    /// Stops the hourly jobs this application started.
    pub fn jobs_task(&self) -> tokio::task::AbortHandle {
        self.jobs_task.abort_handle()
    }

    /// The state handlers see.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the server is stopped, through its handle or by SIGINT or SIGTERM, which
    /// drain: `/readyz` answers 503 at once (so a balancer stops sending), requests keep being
    /// served for `server.drain_delay_ms`, then the listener closes and requests in flight
    /// finish (for at most `server.shutdown_timeout_secs`). Last the outbox sender finishes the
    /// message it is sending, hands back the rest of its claim and stops, and the hourly jobs
    /// finish the job they are running and stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let draining = self.state.draining.clone();
        let delay = Duration::from_millis(self.state.settings.server.drain_delay_ms);
        let signals = tokio::spawn(async move {
            let signal = wait_for_signal().await;
            draining.store(true, std::sync::atomic::Ordering::Release);
            tracing::info!(signal, ?delay, "draining: /readyz answers 503");
            tokio::time::sleep(delay).await;
            handle.stop(true).await;
        });
        let metrics = self.metrics_server.map(|server| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        let served = self.server.await;
        signals.abort();
        if let Some(metrics) = metrics {
            metrics.stop(false).await;
        }
        let _ = self.stop_sender.send(true);
        self.state.outbox.wake();
        let grace = Duration::from_secs(self.state.settings.server.shutdown_timeout_secs.max(1));
        let deadline = tokio::time::Instant::now() + grace;
        match tokio::time::timeout_at(deadline, self.outbox_task).await {
            Ok(_) => tracing::info!("the outbox sender stopped"),
            Err(_) => tracing::warn!("the outbox sender did not stop in time; abandoned"),
        }
        self.state.outbox.wake_webhooks();
        match tokio::time::timeout_at(deadline, self.webhooks_task).await {
            Ok(_) => tracing::info!("the webhook dispatcher stopped"),
            Err(_) => tracing::warn!("the webhook dispatcher did not stop in time; abandoned"),
        }
        match tokio::time::timeout_at(deadline, self.jobs_task).await {
            Ok(_) => tracing::info!("the hourly jobs stopped"),
            Err(_) => tracing::warn!("the hourly jobs did not stop in time; abandoned"),
        }
        served
    }
}

/// The listener of `metrics.bind`, serving only `/metrics` (no token: only the scraper should
/// reach that address), when one is configured.
fn metrics_server(state: &AppState) -> anyhow::Result<Option<Server>> {
    let bind = state.settings.metrics.bind.trim();
    if !state.settings.metrics.enabled || bind.is_empty() {
        return Ok(None);
    }
    let listener = TcpListener::bind(bind)
        .map_err(|e| anyhow::anyhow!("metrics.bind: cannot listen on {bind}: {e}"))?;
    let data = web::Data::new(state.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/metrics",
            web::get().to(|state: web::Data<AppState>| async move {
                routes::metrics::serve(&state).await
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(Some(server))
}

/// Waits for SIGTERM or SIGINT (Ctrl-C); answers its name.
async fn wait_for_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

async fn session_store(settings: &Settings) -> anyhow::Result<AnyStore> {
    Ok(match settings.session.store {
        SessionStore::Cookie => AnyStore::cookie(),
        SessionStore::Redis => AnyStore::redis(settings.session.redis_url.expose_secret()).await?,
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
    let key = cookie_key(state.settings.session.secret_key.expose_secret());
    let session = state.settings.session.clone();
    let tenant_routes = state.tenant_routes.clone();
    let settings = state.settings.clone();
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
            .configure(|cfg| extra(cfg))
            .configure(|cfg| routes::configure_tenant_routes(cfg, &tenant_routes.routes))
            .configure(|cfg| routes::configure(cfg, &settings))
            .default_service(web::to(routes::not_found))
            .wrap(from_fn(csrf::protect))
            .wrap(from_fn(crate::web::resolve::resolve))
            .wrap(from_fn(crate::web::caching::invalidate_after_writes))
            .wrap(from_fn(crate::web::input::guard))
            .wrap(ErrorHandlers::new().default_handler(render_error_page))
            .wrap(IdentityMiddleware::default())
            .wrap(sessions)
            .wrap(from_fn(crate::web::security::headers))
            .wrap(from_fn(crate::web::observe::observe))
    })
    .workers(workers)
    // `run_until_stopped` handles the signals: it drains before it stops the server.
    .disable_signals()
    .shutdown_timeout(shutdown.as_secs())
    .listen(listener)?
    .run();
    Ok(server)
}
