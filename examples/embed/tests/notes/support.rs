//! What the notes tests share: the example app on port 0 over a fresh SQLite file (its own
//! settings, Projects off), people and organizations made through orgs' services, and browsers
//! signed in with their CSRF token.

use orgs::config::{Environment, Settings};
use orgs::entity::{OrganizationId, UserId};
use orgs::sea_orm::DatabaseConnection;
use orgs::startup::{AppState, Application};

/// The password of every person made here.
pub const PASSWORD: &str = "correct horse battery";

/// The example app, serving until dropped.
pub struct Running {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// Its state.
    pub state: AppState,
    /// Its database (fixtures and inspection).
    pub db: DatabaseConnection,
    handle: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
}

impl Running {
    /// Migrates a fresh database and serves the example on it, `/hello/` answering `greeting`.
    pub async fn start(greeting: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = embed::settings(Settings::for_environment(Environment::Test).unwrap());
        settings.database.url = format!("sqlite://{}", dir.path().join("embed.db").display());
        let db = orgs::db::connect(&settings.database).await.unwrap();
        embed::migrate(&db).await.unwrap();
        let state = AppState::new(settings, db.clone(), orgs::Events::new()).unwrap();
        let state = embed::state(state).unwrap();
        let routes = embed::global_routes(greeting.into());
        let app = Application::build_with_routes(state.clone(), routes)
            .await
            .unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        Self {
            address,
            state,
            db,
            handle,
            _dir: dir,
        }
    }

    /// An active person with [`PASSWORD`].
    pub async fn user(&self, email: &str, name: &str) -> orgs::entity::user::Model {
        let new = orgs::auth::NewUser {
            email: email.into(),
            name: name.into(),
            password: Some(PASSWORD.into()),
            is_superuser: false,
        };
        orgs::auth::users::create_user(&self.db, &self.state.hasher, new)
            .await
            .unwrap()
    }

    /// A new organization named `name`, owned by `owner`: its slug.
    pub async fn organization(&self, owner: &orgs::entity::user::Model, name: &str) -> String {
        orgs::organizations::create_organization(&self.db, &self.state.events, owner.id, name)
            .await
            .unwrap()
            .organization
            .slug
    }

    /// Makes `user` a member of the organization at `slug` holding the roles `roles` (none: the
    /// built-in `member`).
    pub async fn join(&self, slug: &str, user: &orgs::entity::user::Model, roles: &[&str]) {
        let id = orgs::tenancy::org_rows::by_slug(&self.db, slug)
            .await
            .unwrap()
            .unwrap()
            .id;
        #[expect(
            clippy::disallowed_methods,
            reason = "a test fixture of one organization"
        )]
        let txn = orgs::tenancy::door::tenant(&self.db, &self.state.events, OrganizationId(id))
            .await
            .unwrap();
        orgs::organizations::add_user(&txn, UserId(user.id), false)
            .await
            .unwrap();
        if !roles.is_empty() {
            #[expect(clippy::disallowed_methods, reason = "a fixture, set as the system")]
            let grant = orgs::tenancy::Grant::everything(self.state.permissions.clone());
            let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
            orgs::organizations::roles::set_member_roles(&txn, &grant, UserId(user.id), &roles)
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// The CSRF token of a page (its `csrf-token` meta tag).
pub fn csrf(body: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = body.find(marker).unwrap() + marker.len();
    body[start..].split('"').next().unwrap().to_string()
}

/// A browser (cookies kept, redirects not followed) signed in as `email`, and its CSRF token.
pub async fn sign_in(address: &str, email: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(format!("{address}/login/"))
        .send()
        .await
        .unwrap();
    let token = csrf(&page.text().await.unwrap());
    let login = client
        .post(format!("{address}/login/"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let page = client.get(format!("{address}/")).send().await.unwrap();
    let token = csrf(&page.text().await.unwrap());
    (client, token)
}
