//! Building and running the HTTP server: `Application::build` connects, migrates and binds;
//! `run_until_stopped` serves until a signal.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use sea_orm::DatabaseConnection;
use tracing_actix_web::TracingLogger;

use crate::auth::PasswordHasher;
use crate::config::Settings;
use crate::events::Events;
use crate::{db, routes};

/// What every handler can reach, shared as one `web::Data`.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// The settings the app started with.
    pub settings: Arc<Settings>,
    /// Where membership events go.
    pub events: Events,
    /// Password hashing with the configured cost.
    pub hasher: PasswordHasher,
}

impl AppState {
    /// State over an open connection.
    pub fn new(settings: Settings, db: DatabaseConnection, events: Events) -> anyhow::Result<Self> {
        let hasher = PasswordHasher::new(&settings.auth)?;
        Ok(Self {
            db,
            settings: Arc::new(settings),
            events,
            hasher,
        })
    }
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Connects to the configured database, applies migrations, and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = db::connect(&settings.database).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot open the database {}: {e}",
                crate::config::redact_url(&settings.database.url)
            )
        })?;
        db::migrate(&db)
            .await
            .map_err(|e| anyhow::anyhow!("migrating the database failed: {e}"))?;
        Self::build_with(AppState::new(settings, db, Events::new())?)
    }

    /// Binds a server over prepared state (the database already migrated).
    pub fn build_with(state: AppState) -> anyhow::Result<Self> {
        let address = state.settings.bind_address();
        let listener = TcpListener::bind(&address)
            .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
        let port = listener.local_addr()?.port();
        let server = run(listener, state.clone())?;
        Ok(Self {
            port,
            server,
            state,
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

    /// The state handlers see.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the server is stopped (SIGINT or SIGTERM).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn run(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let workers = match state.settings.server.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let shutdown = Duration::from_secs(state.settings.server.shutdown_timeout_secs);
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::default())
            .app_data(data.clone())
            .configure(routes::configure)
    })
    .workers(workers)
    .shutdown_timeout(shutdown.as_secs())
    .listen(listener)?
    .run();
    Ok(server)
}
