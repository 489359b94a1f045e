//! `AppState`: what the shell (the extractors, the middleware, the handlers and the server) shares
//! as one `web::Data`. The services below it never take it: each takes what it uses (a
//! connection or the request's tenant transaction, the mailer, the hasher, the events, its
//! section of the settings); a replaceable flow gets [`Flows`], the part of it flows use.
//!
//! [`Flows`]: crate::backends::Flows

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret as _;
use tera::Tera;

use crate::auth::PasswordHasher;
use crate::backends::{
    ClosedRegistration, EmailInvitations, Flows, InvitationBackend, OpenRegistration,
    RegistrationBackend,
};
use crate::cache::Caches;
use crate::config::{RegistrationKind, Settings};
use crate::events::Events;
use crate::mail::{Mailer, MemoryMailbox, Outbox, Transport};
use crate::permissions::Catalog;
use crate::tenancy::dns::{TxtLookup, UdpDns};

/// What every handler can reach, shared as one `web::Data`.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The connection pool (its statements pooler-safe when configured: [`crate::db::Db`]).
    pub db: crate::db::Db,
    /// The settings the app started with.
    pub settings: Arc<Settings>,
    /// Where membership events go.
    pub events: Events,
    /// Password hashing with the configured cost.
    pub hasher: PasswordHasher,
    /// The templates of the pages.
    pub templates: Arc<Tera>,
    /// Composes mail from the templates, with links from `server.public_url`.
    pub mailer: Mailer,
    /// Outgoing mail.
    pub outbox: Outbox,
    /// DNS TXT lookups for custom-domain verification.
    pub dns: Arc<dyn TxtLookup>,
    /// How people are invited (replace to change the flow).
    pub invitation_backend: Arc<dyn InvitationBackend>,
    /// How people sign up (replace to change the flow).
    pub registration_backend: Arc<dyn RegistrationBackend>,
    /// The session, slug and membership lookups every request repeats.
    pub caches: Arc<Caches>,
    /// Every permission the application knows: orgs' and the embedding app's
    /// ([`AppState::with_permissions`]).
    pub permissions: Arc<Catalog>,
    /// The embedding app's entries in every tenant page's navigation
    /// ([`AppState::with_nav_item`]).
    pub nav: Arc<Vec<NavItem>>,
    /// The audit events' sentences, orgs' and the embedding app's
    /// ([`AppState::with_audit_sentence`]).
    pub sentences: Arc<crate::audit::Sentences>,
    /// The templates of `ui.template_dir`, read once at start: they apply over orgs' and over
    /// the embedding app's ([`AppState::with_templates`]).
    dir_templates: Arc<Vec<(String, String)>>,
    /// The embedding app's tenant routes ([`AppState::with_tenant_routes`]).
    pub tenant_routes: Arc<EmbeddedRoutes>,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Seals the lists' cursors, with a key derived from `session.secret_key`.
    pub cursors: crate::cursor::Cursors,
    /// Seals stored secrets (TOTP seeds) with `auth.encryption_key`.
    pub sealer: crate::auth::secrets::Sealer,
    /// The passkeys' relying party: `tenant.base_domain`, for `server.public_url` and every
    /// organization's subdomain.
    pub webauthn: Arc<webauthn_rs::Webauthn>,
    /// The identity providers of single sign-on, reached through the SSRF-safe client.
    pub sso: Arc<crate::sso::Providers>,
    /// Outgoing webhooks: what deliveries may reach, and their counts.
    pub webhooks: crate::webhooks::Webhooks,
    /// Set on SIGTERM: `/readyz` answers 503 while the server drains.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

/// The embedding app's tenant routes and the description of their API operations.
#[derive(Default)]
pub struct EmbeddedRoutes {
    /// The routes, as orgs' `TENANT_ROUTES`.
    pub routes: Vec<crate::route_table::TenantRoute>,
    /// The OpenAPI description of their `/api/v1/` handlers.
    pub described: Option<utoipa::openapi::OpenApi>,
    /// The whole document with them, built once (shared by every answer, not copied).
    pub(crate) json: std::sync::OnceLock<actix_web::web::Bytes>,
}

impl std::fmt::Debug for EmbeddedRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedRoutes")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

/// An entry of the tenant navigation added by the embedding app.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NavItem {
    /// What the link says.
    pub label: String,
    /// Its path under the tenant root (`/notes/`); its first segment marks the current page.
    pub path: String,
    /// Shown only to those who hold it.
    pub permission: Option<String>,
    /// The first segment of `path`.
    section: String,
}

impl AppState {
    /// State over an open connection.
    pub fn new(settings: Settings, db: DatabaseConnection, events: Events) -> anyhow::Result<Self> {
        let hasher = PasswordHasher::new(&settings.auth)?;
        let overrides = match settings.ui.template_dir.trim() {
            "" => Vec::new(),
            dir => crate::templates::read_dir(std::path::Path::new(dir))?,
        };
        let templates = Arc::new(crate::templates::load_with(&overrides)?);
        let mailer = Mailer::new(templates.clone(), &settings.server.public_url);
        let transport = Transport::from_settings(&settings.email)?;
        let outbox = Outbox::new(
            db.clone(),
            transport,
            &settings.email.from,
            settings.email.retry_base_secs,
        )?
        .with_lease(settings.email.send_lease_secs)
        .with_links_logged(settings.email.log_links);
        let dns_server = settings.tenant.dns_server.trim().parse().ok();
        let registration_backend: Arc<dyn RegistrationBackend> = match settings.registration.backend
        {
            RegistrationKind::Default => Arc::new(OpenRegistration),
            RegistrationKind::Disabled => Arc::new(ClosedRegistration),
        };
        let caches = Arc::new(Caches::new(
            Duration::from_millis(settings.cache.ttl_ms),
            settings.cache.max_entries,
        ));
        Ok(Self {
            caches,
            permissions: Arc::new(Catalog::orgs_with_projects(settings.projects.enabled)),
            nav: Arc::new(Vec::new()),
            sentences: Arc::new(crate::audit::Sentences::default()),
            dir_templates: Arc::new(overrides),
            draining: Arc::default(),
            cursors: crate::cursor::Cursors::new(settings.session.secret_key.expose_secret()),
            sealer: crate::auth::secrets::Sealer::from_base64(
                settings.auth.encryption_key.expose_secret(),
            )?,
            webauthn: Arc::new(crate::auth::passkeys::relying_party(&settings)?),
            sso: Arc::new(crate::sso::Providers::new(&settings.sso)?),
            webhooks: crate::webhooks::Webhooks::new(&settings.webhooks),
            metrics: Arc::default(),
            tenant_routes: Arc::default(),
            dns: Arc::new(UdpDns::new(dns_server)),
            invitation_backend: Arc::new(EmailInvitations),
            registration_backend,
            db: crate::db::Db::new(db, &settings.database),
            settings: Arc::new(settings),
            events,
            hasher,
            templates,
            mailer,
            outbox,
        })
    }

    /// What the two-factor services work with: the database, the sealing key and the mail.
    pub fn security(&self) -> crate::auth::two_factor::Security<'_> {
        crate::auth::two_factor::Security {
            db: &self.db,
            sealer: &self.sealer,
            outbox: Some(&self.outbox),
            mailer: &self.mailer,
            issuer: &self.settings.ui.product_name,
        }
    }

    /// What the webhook endpoint services work with.
    pub fn hooks(&self) -> crate::webhooks::Hooks<'_> {
        crate::webhooks::Hooks {
            settings: &self.webhooks.settings,
            sealer: &self.sealer,
            reach: &self.webhooks.reach,
            event_types: self.sentences.actions(),
        }
    }

    /// The dispatcher of this state's webhooks, resolving names through `tenant.dns_server`
    /// when it is set.
    pub fn dispatcher(&self) -> anyhow::Result<crate::webhooks::deliver::Dispatcher> {
        let resolver: Option<Arc<dyn crate::net::client::Resolve>> =
            match self.settings.tenant.dns_server.trim().parse().ok() {
                Some(server) => Some(Arc::new(UdpDns::new(Some(server)))),
                None => None,
            };
        crate::webhooks::deliver::Dispatcher::new(
            self.db.connection().clone(),
            self.webhooks.clone(),
            self.sealer.clone(),
            self.events.clone(),
            crate::webhooks::log::Notices {
                mailer: self.mailer.clone(),
            },
            resolver,
            self.outbox.webhook_signal(),
            self.settings.webhooks.allow_insecure_urls,
        )
    }

    /// What the passkey services work with: the two-factor services' and the relying party.
    pub fn passkeys(&self) -> crate::auth::passkeys::Passkeys<'_> {
        crate::auth::passkeys::Passkeys {
            security: self.security(),
            webauthn: &self.webauthn,
        }
    }

    /// The state with the embedding app's permissions added to orgs' catalog:
    /// `state.with_permissions(|c| c.with(NOTES_WRITE, "Write notes", Holders::Member))`.
    #[must_use]
    pub fn with_permissions(mut self, add: impl FnOnce(Catalog) -> Catalog) -> Self {
        self.permissions = Arc::new(add((*self.permissions).clone()));
        self
    }

    /// The state with a sentence for the audit event type `action` the embedding app records:
    /// `state.with_audit_sentence("note.created", "wrote the note {target}")` reads "Ada wrote
    /// the note Call Erin" on the dashboard and the audit page (placeholders: `{target}`,
    /// `{roles}`, `{action}`; see [`crate::audit::sentences`]).
    #[must_use]
    pub fn with_audit_sentence(mut self, action: &'static str, template: &'static str) -> Self {
        self.sentences = Arc::new((*self.sentences).clone().with(action, template));
        self
    }

    /// The state with a link in every tenant page's navigation, after orgs' own: `label` at
    /// `path` under the tenant root (`/notes/`), shown to those holding `permission` (to every
    /// member when `None`).
    #[must_use]
    pub fn with_nav_item(
        mut self,
        label: &str,
        path: &str,
        permission: Option<crate::permissions::Permission>,
    ) -> Self {
        let section = path.trim_start_matches('/').split('/').next().unwrap_or("");
        let mut nav = (*self.nav).clone();
        nav.push(NavItem {
            label: label.to_string(),
            path: path.to_string(),
            permission: permission.map(|p| p.to_string()),
            section: section.to_string(),
        });
        self.nav = Arc::new(nav);
        self
    }

    /// The state with the embedding app's templates added, or replacing orgs' of the same name
    /// (`("notes/list.html", include_str!(...))`; they may extend `base.html`). The mail uses
    /// them too. `ui.template_dir` still has the last word.
    pub fn with_templates(mut self, templates: &[(&str, &str)]) -> anyhow::Result<Self> {
        let from_dir = self.dir_templates.as_slice();
        let mut extra: Vec<(String, String)> = templates
            .iter()
            .filter(|(n, _)| !from_dir.iter().any(|(d, _)| d == n))
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        extra.extend(from_dir.iter().cloned());
        self.templates = Arc::new(crate::templates::load_with(&extra)?);
        self.mailer = Mailer::new(self.templates.clone(), &self.settings.server.public_url);
        Ok(self)
    }

    /// The state with the embedding app's own table of tenant routes: served at every
    /// organization's root like orgs' (before them), listed by the access table, and their
    /// `/api/v1/` operations in the OpenAPI document, described by `described` (the
    /// `utoipa::OpenApi` of their handlers' `#[utoipa::path]`s; paths as in the table, without
    /// the `/o/{slug}` prefix, which the document adds).
    #[must_use]
    pub fn with_tenant_routes(
        mut self,
        routes: Vec<crate::route_table::TenantRoute>,
        described: utoipa::openapi::OpenApi,
    ) -> Self {
        self.tenant_routes = Arc::new(EmbeddedRoutes {
            routes,
            described: Some(described),
            json: std::sync::OnceLock::new(),
        });
        self
    }

    /// What the replaceable flows use, lent to a backend.
    pub fn flows(&self) -> Flows<'_> {
        Flows {
            db: &self.db,
            events: &self.events,
            outbox: &self.outbox,
            mailer: &self.mailer,
            hasher: &self.hasher,
            auth: &self.settings.auth,
            catalog: &self.permissions,
        }
    }

    /// The memory mailbox, when `email.backend` is `memory`.
    pub fn mailbox(&self) -> Option<MemoryMailbox> {
        self.outbox.transport().mailbox()
    }
}
