//! Test scaffolding: a fresh database per test (an SQLite file in a temporary folder, or a new
//! PostgreSQL database when `TEST_DATABASE_URL` names a server), the real app on port 0, and the
//! django-organizations fixture world built through the services.

use entity::OrganizationId;
use std::sync::atomic::{AtomicU32, Ordering};

use entity::{organization, user};
use orgs::auth::{NewUser, PasswordHasher, users};
use orgs::config::{Environment, Settings};
use orgs::events::Events;
use orgs::mail::{MemoryMailbox, SentEmail};
use orgs::organizations::{self, NewOrganization};
use orgs::startup::{AppState, Application};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    /// The owner's URL: migrations and fixtures.
    pub url: String,
    /// The URL the app under test connects with: on PostgreSQL as [`APP_ROLE`], an ordinary
    /// role that owns nothing, so row-level security binds it; on SQLite the same file.
    pub app_url: String,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The migrated template every PostgreSQL test database is cloned from: made once per test
/// process (migrated as the owner, with [`APP_ROLE`] granted), like crates.io's test databases.
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    )
}

fn with_database(admin_url: &str, name: &str) -> String {
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base.to_string())
        .expect("TEST_DATABASE_URL ends in /database");
    format!("{base}/{name}")
}

/// Drops the test databases of test processes that are gone (a run that was killed).
async fn drop_stale(admin: &DatabaseConnection) {
    let Ok(rows) = admin
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT datname::text FROM pg_database \
             WHERE datname LIKE 'orgs\\_test\\_%' OR datname LIKE 'orgs\\_template\\_%'",
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get_by_index::<String>(0) else {
            continue;
        };
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

async fn template(admin_url: &str) -> String {
    TEMPLATE
        .get_or_init(|| async {
            let admin = sea_orm::Database::connect(admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            drop_stale(&admin).await;
            let name = unique_name("orgs_template");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the template database");
            admin.close().await.ok();
            let owner = sea_orm::Database::connect(with_database(admin_url, &name))
                .await
                .expect("connect to the template");
            orgs::db::migrate(&owner)
                .await
                .expect("migrate the template");
            orgs::tenancy::rls::create_app_role(&owner, APP_ROLE, None)
                .await
                .expect("create the app role");
            owner.close().await.ok();
            name
        })
        .await
        .clone()
}

impl TestDb {
    /// A new, empty database (not migrated).
    pub async fn new() -> Self {
        Self::create(false).await
    }

    /// A database with orgs' migrations applied: on PostgreSQL a clone of the migrated
    /// template; on SQLite an empty file that the app migrates when it starts.
    pub async fn migrated() -> Self {
        Self::create(true).await
    }

    /// Whether it is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    async fn create(migrated: bool) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = unique_name("orgs_test");
                let from = match migrated {
                    true => format!(" TEMPLATE {}", template(&admin_url).await),
                    false => String::new(),
                };
                let admin = sea_orm::Database::connect(&admin_url)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}{from}"))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                let url = with_database(&admin_url, &name);
                Self {
                    app_url: if migrated {
                        as_app_role(&url)
                    } else {
                        url.clone()
                    },
                    url,
                    postgres: Some((admin_url, name)),
                    _dir: dir,
                }
            }
            _ => {
                let path = dir.path().join("orgs.db");
                let url = format!("sqlite://{}", path.display());
                Self {
                    app_url: url.clone(),
                    url,
                    postgres: None,
                    _dir: dir,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside any async context we can rely on, so use a runtime of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// The test settings pointed at `db` as the app connects to it: on PostgreSQL as the app role,
/// the database already migrated by its owner.
pub fn test_settings(db: &TestDb) -> Settings {
    let mut settings = Settings::for_environment(Environment::Test).expect("test settings");
    settings.database.url = db.app_url.clone();
    settings.database.migrate_on_start = !db.is_postgres();
    settings.database.max_connections = 5;
    // The tests' identity provider (tests/oidc) listens on loopback over plain http.
    settings.sso.allow_private_networks = vec!["127.0.0.0/8".parse().expect("a network")];
    settings.sso.allow_insecure_issuers = true;
    // `TEST_POOLER=127.0.0.1:6434`: the app (not the fixtures) reaches PostgreSQL through a
    // transaction-pooling pgbouncer there, as `deploy/cluster` runs it.
    if let Ok(pooler) = std::env::var("TEST_POOLER")
        && db.is_postgres()
    {
        settings.database.listen_url = db.app_url.clone();
        settings.database.url = db.app_url.replacen("127.0.0.1:5432", &pooler, 1);
        settings.database.statement_cache_capacity = 0;
    }
    settings
}

/// A running app on a free port with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// What the handlers share: the pool, events, settings.
    pub state: AppState,
    /// A client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    /// The owner's connection: fixtures and inspection (the app under test uses `state.db`).
    owner: DatabaseConnection,
    owner_url: String,
    handle: actix_web::dev::ServerHandle,
    outbox_task: tokio::task::AbortHandle,
    webhooks_task: tokio::task::AbortHandle,
    jobs_task: tokio::task::AbortHandle,
    // Declared last: dropped (and a PostgreSQL database removed) after the server stops; `None`
    // for a restarted app that shares another's database.
    _db: Option<TestDb>,
}

impl TestApp {
    /// Starts the app on port 0 over a fresh, migrated database.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like `spawn`, with the settings changed first.
    pub async fn spawn_with(change: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::migrated().await;
        let mut settings = test_settings(&db);
        change(&mut settings);
        let mut app = Self::serve_with(settings, &db.url, |_| {}).await;
        app._db = Some(db);
        app
    }

    /// Like `spawn`, with the state changed before serving (an embedding app's replaced flows).
    pub async fn spawn_with_state(change: impl FnOnce(&mut AppState)) -> Self {
        let db = TestDb::migrated().await;
        let settings = test_settings(&db);
        let mut app = Self::serve_with(settings, &db.url, change).await;
        app._db = Some(db);
        app
    }

    /// Like `spawn_with_state`, with an embedding app's own routes mounted beside orgs' (as
    /// `Application::build_with_routes` does).
    pub async fn spawn_with_routes(
        change: impl FnOnce(&mut AppState),
        extra: impl Fn(&mut actix_web::web::ServiceConfig) + Send + Sync + 'static,
    ) -> Self {
        let db = TestDb::migrated().await;
        let settings = test_settings(&db);
        let mut app = Self::serve(settings, &db.url, change, extra).await;
        app._db = Some(db);
        app
    }

    /// A second app over this app's database (as after a restart), with changed settings.
    pub async fn restart_with(&self, change: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = (*self.state.settings).clone();
        change(&mut settings);
        Self::serve_with(settings, &self.owner_url, |_| {}).await
    }

    /// Stops the server, its outbox sender and its hourly jobs (the database stays).
    pub fn shutdown(&self) {
        self.outbox_task.abort();
        self.webhooks_task.abort();
        self.jobs_task.abort();
        drop(self.handle.stop(false));
    }

    async fn serve_with(
        settings: Settings,
        owner_url: &str,
        change: impl FnOnce(&mut AppState),
    ) -> Self {
        // `TEST_LOG=1`: the app's log on stderr (`--nocapture`), to see why a request failed.
        if std::env::var_os("TEST_LOG").is_some() {
            orgs::telemetry::init(&settings.log);
        }
        Self::serve(settings, owner_url, change, |_| {}).await
    }

    async fn serve(
        settings: Settings,
        owner_url: &str,
        change: impl FnOnce(&mut AppState),
        extra: impl Fn(&mut actix_web::web::ServiceConfig) + Send + Sync + 'static,
    ) -> Self {
        let connection = orgs::db::connect(&settings.database)
            .await
            .expect("connect to the test database");
        if settings.database.migrate_on_start {
            orgs::db::migrate(&connection).await.expect("migrate");
        }
        let mut owner_settings = settings.database.clone();
        owner_settings.url = owner_url.to_string();
        let owner = orgs::db::connect(&owner_settings)
            .await
            .expect("connect as the owner");
        let mut state = AppState::new(settings, connection, Events::new()).expect("state");
        change(&mut state);
        let app = Application::build_with_routes(state.clone(), extra)
            .await
            .expect("build the app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let outbox_task = app.outbox_task();
        let webhooks_task = app.webhooks_task();
        let jobs_task = app.jobs_task();
        tokio::spawn(app.run_until_stopped());
        let client = browser();
        Self {
            address,
            state,
            client,
            owner,
            owner_url: owner_url.to_string(),
            handle,
            outbox_task,
            webhooks_task,
            jobs_task,
            _db: None,
        }
    }

    /// The URL of this test's database, as its owner.
    pub fn database_url(&self) -> &str {
        &self.owner_url
    }

    /// The URL the app under test connects with (the app role on PostgreSQL).
    pub fn app_database_url(&self) -> &str {
        // Direct, also when the app goes through a pooler (`TEST_POOLER`): the tests that
        // connect as the app role run their own statements outside transactions.
        self.state.settings.database.listen_url()
    }

    /// `orgs ARGS` against this app's database as the app connects, with the test
    /// configuration: run off the test's one runtime thread, so the server in this process
    /// (its mail sender among it) keeps running while the command waits for the database.
    pub async fn orgs(&self, args: &[&str]) -> std::process::Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_orgs"));
        command
            .args(args)
            .env("ORGS_ENV", "test")
            .env("ORGS_DATABASE__URL", self.app_database_url())
            .env_remove("RUST_LOG");
        tokio::task::spawn_blocking(move || command.output().expect("run orgs"))
            .await
            .expect("the command's thread")
    }

    /// Whether the test runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.owner.get_database_backend() == sea_orm::DbBackend::Postgres
    }

    /// The owner's connection (fixtures, inspection, corrupting rows on purpose).
    pub fn conn(&self) -> &DatabaseConnection {
        &self.owner
    }

    /// The first column of every row `sql` gives, read through the owner's connection.
    pub async fn column<T: sea_orm::TryGetable>(&self, sql: &str) -> Vec<T> {
        use sea_orm::ConnectionTrait as _;
        let backend = self.owner.get_database_backend();
        self.owner
            .query_all_raw(sea_orm::Statement::from_string(backend, sql.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|row| row.try_get_by_index::<T>(0).expect("the first column"))
            .collect()
    }

    /// The event hub.
    pub fn events(&self) -> &Events {
        &self.state.events
    }

    /// This app's own browser (`client`) as a [`Visitor`], with `csrf` as its token.
    fn browser_with(&self, csrf: String) -> Visitor {
        Visitor {
            client: self.client.clone(),
            csrf,
            address: self.address.clone(),
        }
    }

    /// This app's own browser as a [`Visitor`], its CSRF token read fresh (it rotates at
    /// sign-in): what the app's request helpers below go through.
    pub async fn browser(&self) -> Visitor {
        let csrf = self.csrf_token().await;
        self.browser_with(csrf)
    }

    /// `GET {address}{path}` with this app's browser: the response.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.browser_with(String::new())
            .send(reqwest::Method::GET, path, None)
            .await
    }

    /// Creates an active user with the password [`PASSWORD`].
    pub async fn user(&self, email: &str, name: &str) -> user::Model {
        create_user(&self.owner, &self.state.hasher, email, name, false).await
    }

    /// `GET` with this app's browser; the status and the body.
    pub async fn page(&self, path: &str) -> (u16, String) {
        self.browser_with(String::new()).get(path).await
    }

    /// The CSRF token of this browser's session (read from a page).
    pub async fn csrf_token(&self) -> String {
        let (_, body) = self.page("/").await;
        csrf_from(&body)
    }

    /// `POST` a form with this browser, the session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.browser().await.post_form(path, fields).await
    }

    /// Signs this browser in.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form("/login/", &[("email", email), ("password", password)])
            .await
    }

    /// The memory mailbox.
    pub fn mailbox(&self) -> MemoryMailbox {
        self.state
            .mailbox()
            .expect("the test config uses the memory mail backend")
    }

    /// Waits (up to five seconds) until `count` messages have reached `to`.
    pub async fn wait_for_mail(&self, to: &str, count: usize) -> Vec<SentEmail> {
        for _ in 0..100 {
            let mail = self.mailbox().to(to);
            if mail.len() >= count {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "no {count} message(s) for {to}; have {:?}",
            self.mailbox().messages()
        );
    }
}

/// The ordinary PostgreSQL role the app under test connects as (`orgs db create-app-role`).
pub const APP_ROLE: &str = "orgs_test_app";

/// `url` with [`APP_ROLE`] as the user.
pub fn as_app_role(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let rest = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{APP_ROLE}@{rest}")
}

/// The password of users made by [`create_user`].
pub const PASSWORD: &str = "correct horse battery";

/// A client like a browser: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .user_agent("orgs-tests/1")
        .build()
        .expect("http client")
}

/// The CSRF token in a page.
pub fn csrf_from(body: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = body.find(marker).expect("a csrf-token meta tag") + marker.len();
    body[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The first link in `text` that contains `path`.
pub fn link_in(text: &str, path: &str) -> String {
    text.split_whitespace()
        .find(|word| word.contains(path) && word.starts_with("http"))
        .unwrap_or_else(|| panic!("no link with {path} in {text}"))
        .to_string()
}

/// The path (and query) of a URL.
pub fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/')
        .map_or("/".to_string(), |i| rest[i..].to_string())
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the returned future only waits for it.
        self.shutdown();
    }
}

/// Creates an active user with the password [`PASSWORD`].
pub async fn create_user(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    email: &str,
    name: &str,
    is_superuser: bool,
) -> user::Model {
    users::create_user(
        db,
        hasher,
        NewUser {
            email: email.into(),
            name: name.into(),
            password: Some(PASSWORD.into()),
            is_superuser,
        },
    )
    .await
    .expect("create user")
}

/// The peer's fixture world (`users.json`, `orgs.json`).
pub struct World {
    /// Superuser; admin-owner of Foo Fighters and Scream, non-admin member of Nirvana.
    pub dave: user::Model,
    /// Admin of Nirvana.
    pub krist: user::Model,
    /// Owner and admin of Nirvana.
    pub kurt: user::Model,
    /// No memberships.
    pub duder: user::Model,
    /// Active, owned by dave.
    pub foo_fighters: organization::Model,
    /// Active, owned by kurt.
    pub nirvana: organization::Model,
    /// Inactive, owned by dave.
    pub scream: organization::Model,
}

impl World {
    /// Builds the world through the services (no events are observed while building).
    pub async fn build(app: &TestApp) -> Self {
        let db = app.conn();
        let hasher = &app.state.hasher;
        let quiet = Events::new();
        let dave = create_user(db, hasher, "dave@foo.com", "Dave Grohl", true).await;
        let krist = create_user(db, hasher, "krist@nirvana.com", "Krist Novoselic", false).await;
        let kurt = create_user(db, hasher, "kurt@nirvana.com", "Kurt Cobain", false).await;
        let duder = create_user(db, hasher, "duder@testing.com", "The Duder", false).await;
        let foo_fighters = organizations::create_organization(db, &quiet, dave.id, "Foo Fighters")
            .await
            .expect("foo")
            .organization;
        let nirvana = organizations::create_organization(db, &quiet, kurt.id, "Nirvana")
            .await
            .expect("nirvana")
            .organization;
        crate::rules::add_user(db, &quiet, nirvana.id, krist.id, true)
            .await
            .expect("krist joins nirvana");
        crate::rules::add_user(db, &quiet, nirvana.id, dave.id, false)
            .await
            .expect("dave joins nirvana");
        let scream = organizations::create_organization_with(
            db,
            &quiet,
            dave.id,
            NewOrganization {
                is_active: false,
                ..NewOrganization::named("Scream")
            },
        )
        .await
        .expect("scream")
        .organization;
        Self {
            dave,
            krist,
            kurt,
            duder,
            foo_fighters,
            nirvana,
            scream,
        }
    }
}

/// The one client of the suite: a browser of its own on one app, signed in (or anonymous with
/// `None`), with its CSRF token, speaking pages, forms and the JSON API.
#[derive(Clone)]
pub struct Visitor {
    /// The browser.
    pub client: reqwest::Client,
    /// The session's CSRF token (rotated at sign-in, so read after it).
    pub csrf: String,
    /// `http://127.0.0.1:PORT` of the app.
    pub address: String,
}

impl Visitor {
    /// `GET` a page: its status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// A `GET` to `path` on `host`, sent to the app's address (as a browser resolving
    /// `*.localhost` to loopback would).
    pub async fn get_on(&self, host: &str, path: &str) -> reqwest::Response {
        get_on_address(&self.address, &self.client, host, path).await
    }

    /// `POST` a form on `host` (its `Host` header), the CSRF token added.
    pub async fn post_form_on(
        &self,
        host: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", self.csrf.as_str()));
        self.client
            .post(format!("{}{path}", self.address))
            .header("host", host)
            .form(&fields)
            .send()
            .await
            .expect("request")
    }

    /// `POST` a form, the CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", self.csrf.as_str()));
        self.client
            .post(format!("{}{path}", self.address))
            .form(&fields)
            .send()
            .await
            .expect("request")
    }

    /// A JSON API request with the CSRF header (and `body` as JSON): the raw response.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// [`Visitor::send`]: the status and the body as JSON (`Null` when it is none).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let response = self.send(method, path, body).await;
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }
}

/// Asserts a redirect with `status` (302, 303, 308 ...) to `path`.
#[track_caller]
pub fn assert_redirect_to(response: &reqwest::Response, status: u16, path: &str) {
    assert_eq!(
        response.status().as_u16(),
        status,
        "a {status} redirect to {path}"
    );
    assert_eq!(location(response), path);
}

/// Opens a browser on `app` and signs `email` in with [`PASSWORD`].
pub async fn visitor(app: &TestApp, email: Option<&str>) -> Visitor {
    let client = browser();
    let page = client
        .get(format!("{}/login/", app.address))
        .send()
        .await
        .expect("login page");
    let csrf = csrf_from(&page.text().await.expect("body"));
    if let Some(email) = email {
        let response = client
            .post(format!("{}/login/", app.address))
            .form(&[
                ("email", email),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 303, "{email} logs in");
    }
    let page = client
        .get(format!("{}/", app.address))
        .send()
        .await
        .expect("home");
    let csrf = csrf_from(&page.text().await.expect("body"));
    Visitor {
        client,
        csrf,
        address: app.address.clone(),
    }
}

/// A GET to `path` on `host`, sent to the app's address (as a browser resolving `*.localhost`
/// to loopback would).
pub async fn get_on(
    app: &TestApp,
    client: &reqwest::Client,
    host: &str,
    path: &str,
) -> reqwest::Response {
    get_on_address(&app.address, client, host, path).await
}

async fn get_on_address(
    address: &str,
    client: &reqwest::Client,
    host: &str,
    path: &str,
) -> reqwest::Response {
    client
        .get(format!("{address}{path}"))
        .header("host", host)
        .send()
        .await
        .unwrap()
}

/// The `name` of each item of a paginated JSON list, in order.
pub fn item_names(list: &serde_json::Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .expect("a list with items")
        .iter()
        .map(|item| item["name"].as_str().expect("a name"))
        .collect()
}

/// The suite's two-organization fixture, built through the services: Acme (owner
/// ada@acme.test, member max@acme.test, the project "Acme anvil") and Globex (owner
/// gus@globex.test, the project "Globex laser"). Their ids.
pub async fn two_tenants(app: &TestApp) -> (i64, i64) {
    let ada = app.user("ada@acme.test", "Ada").await;
    let max = app.user("max@acme.test", "Max").await;
    let gus = app.user("gus@globex.test", "Gus").await;
    let quiet = Events::new();
    let acme = organizations::create_organization(app.conn(), &quiet, ada.id, "Acme")
        .await
        .expect("acme")
        .organization
        .id;
    crate::rules::add_user(app.conn(), &quiet, acme, max.id, false)
        .await
        .expect("max joins acme");
    let globex = organizations::create_organization(app.conn(), &quiet, gus.id, "Globex")
        .await
        .expect("globex")
        .organization
        .id;
    for (organization_id, name) in [(acme, "Acme anvil"), (globex, "Globex laser")] {
        let tx = orgs::tenancy::door::tenant(app.conn(), &quiet, OrganizationId(organization_id))
            .await
            .expect("a tenant transaction");
        orgs::projects::create(
            &tx,
            orgs::projects::ProjectInput {
                name: name.into(),
                description: String::new(),
            },
        )
        .await
        .expect("a project");
        tx.commit().await.expect("commit");
    }
    (acme, globex)
}

/// A fresh browser that opens the form at `path` and posts `fields` to it with the form's CSRF
/// token, sending `headers` with both requests (`x-forwarded-for`, say).
pub async fn post_from_new_browser(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let client = browser();
    let with_headers = |mut request: reqwest::RequestBuilder| {
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
    };
    let page = with_headers(client.get(format!("{}{path}", app.address)))
        .send()
        .await
        .expect("the form");
    let csrf = csrf_from(&page.text().await.expect("body"));
    let mut fields = fields.to_vec();
    fields.push(("csrf_token", &csrf));
    with_headers(client.post(format!("{}{path}", app.address)))
        .form(&fields)
        .send()
        .await
        .expect("request")
}

/// An app that sends people to `{slug}.localhost` and carries their sign-in there with a
/// one-time handoff link (`tenant.links = "subdomain"`).
pub async fn subdomain_app() -> TestApp {
    TestApp::spawn_with(|s| {
        s.tenant.links = orgs::config::TenantLinks::Subdomain;
        s.tenant.base_domain = "localhost".into();
    })
    .await
}

/// The port of the app (its address is `http://127.0.0.1:{port}`).
pub fn port(app: &TestApp) -> &str {
    app.address.rsplit(':').next().expect("a port")
}
