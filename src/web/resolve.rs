//! Tenant resolution: a middleware finds the organization of each request from, of those
//! `tenant.resolution` turns on, the host first (the subdomain of `tenant.base_domain`,
//! `acme.example.com`, or a verified custom domain, in the order given), then the path prefix
//! `/o/{slug}/` (stripped, so one route table serves every form), then an organization API key
//! (`Authorization: Bearer orgs_key_...`). A tenant's own host is that tenant and nothing else:
//! there a path naming an organization is 404, as is another organization's key. An unknown
//! organization is 404 too. The session never holds a "current organization": two tabs on two
//! tenants both work.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::http::uri::PathAndQuery;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use entity::organization;
use sea_orm::DbErr;
use tracing::Instrument;

use super::hosts::{self, host_name};
use crate::config::Resolver;
use crate::error::AppError;
use crate::slug;
use crate::state::AppState;
use crate::tenancy::org_rows;

/// The organization a request is for, and how it was addressed.
#[derive(Clone, Debug)]
pub struct ResolvedTenant {
    /// The organization.
    pub organization: organization::Model,
    /// What tenant URLs start with: `""` on a subdomain, `/o/{slug}` on the path form.
    pub root: String,
    /// The organization API key the request carries, if any (it then acts for the organization).
    pub api_key: Option<ApiKeyPrincipal>,
}

/// An organization API key acting as the requester.
#[derive(Clone, Debug)]
pub struct ApiKeyPrincipal {
    /// `organization_api_keys.id`
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Who made it (its trust is theirs).
    pub created_by_id: Option<i64>,
    /// What it may do (never the owner's own permissions).
    pub permissions: crate::permissions::PermissionSet,
}

pub use crate::organizations::api_keys::API_KEY_PREFIX;

/// The organization API key in the request, if it carries one.
fn api_key_secret(req: &ServiceRequest) -> Option<String> {
    crate::web::user::bearer(req.request())
        .filter(|secret| secret.starts_with(API_KEY_PREFIX))
        .map(str::to_string)
}

/// The slug in `host` when it is `{slug}.{base_domain}` (with or without a port).
pub fn subdomain_slug(host: &str, base_domain: &str) -> Option<String> {
    let host = host_name(host);
    label_under(&host, base_domain)
        .filter(|label| !slug::is_reserved(label))
        .map(str::to_string)
}

/// `acme` when the bare host `name` is `acme.{base_domain}`: exactly one label in front.
pub(crate) fn label_under<'a>(name: &'a str, base_domain: &str) -> Option<&'a str> {
    let label = name.strip_suffix(base_domain)?.strip_suffix('.')?;
    (!label.is_empty() && !label.contains('.')).then_some(label)
}

/// `(slug, rest)` when `path` is `/o/{slug}/rest`; `rest` keeps its leading `/`.
pub fn path_slug(path: &str) -> Option<(String, String)> {
    let tail = path.strip_prefix("/o/")?;
    let (slug, rest) = match tail.find('/') {
        Some(i) => (&tail[..i], &tail[i..]),
        None => (tail, ""),
    };
    (!slug.is_empty()).then(|| (slug.to_string(), rest.to_string()))
}

fn rewrite_path(req: &mut ServiceRequest, path: &str) -> Result<(), AppError> {
    let uri = req.uri().clone();
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    };
    let mut parts = uri.into_parts();
    parts.path_and_query = Some(
        PathAndQuery::try_from(path_and_query)
            .map_err(|_| AppError::BadRequest("bad path".into()))?,
    );
    let uri = Uri::from_parts(parts).map_err(|_| AppError::BadRequest("bad path".into()))?;
    req.match_info_mut().get_mut().update(&uri);
    req.head_mut().uri = uri;
    Ok(())
}

enum Found {
    /// A slug to look up, and the URL root it implies.
    Slug(String, String),
    /// An organization already loaded (boxed: the row is far larger than a slug).
    Organization(Box<organization::Model>, Option<ApiKeyPrincipal>),
}

/// `tenancy::org_rows::by_slug`, reusing a recent answer from the application's caches.
async fn by_slug_cached(
    state: &AppState,
    slug: String,
) -> Result<Option<organization::Model>, DbErr> {
    let caches = &state.caches;
    caches
        .through(
            &caches.organizations,
            slug.clone(),
            org_rows::by_slug(&state.db, &slug),
        )
        .await
}

/// The organization whose verified custom domain `host` is. Not looked up for the base domain
/// and the names under it, nor for an address.
async fn by_custom_domain(state: &AppState, host: &str) -> Result<Option<Found>, DbErr> {
    let name = host_name(host);
    if name.is_empty()
        || hosts::is_address(&name)
        || hosts::is_under_base_domain(&name, &state.settings)
    {
        return Ok(None);
    }
    let organization = org_rows::by_verified_domain(&state.db, &name).await?;
    Ok(organization.map(|org| Found::Organization(Box::new(org), None)))
}

/// Why the resolver answers a request itself instead of passing it on.
#[derive(Debug)]
enum Stop {
    /// `/o/{slug}` without its slash: a permanent redirect to `/o/{slug}/`.
    AddSlash(String),
    /// An error: an unknown organization, a key that is unknown or of another organization,
    /// a path that cannot be rewritten, the database not answering.
    Refused(AppError),
}

impl From<AppError> for Stop {
    fn from(error: AppError) -> Self {
        Self::Refused(error)
    }
}

impl From<DbErr> for Stop {
    fn from(error: DbErr) -> Self {
        Self::Refused(error.into())
    }
}

/// The middleware (`actix_web::middleware::from_fn(web::resolve::resolve)`).
pub async fn resolve<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    // Read once per request: the extractors, links and limits find it in the extensions.
    let client = crate::web::client::Client::of(
        req.head(),
        req.peer_addr(),
        &state.settings.server.trusted_proxies,
    );
    let host = client.host.clone();
    req.extensions_mut().insert(client);
    match find_tenant(&state, &mut req, &host).await {
        Ok(None) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Ok(Some(tenant)) => {
            let span = tracing::info_span!(
                "tenant",
                organization_id = tenant.organization.id,
                slug = %tenant.organization.slug
            );
            req.extensions_mut().insert(tenant);
            next.call(req)
                .instrument(span)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(Stop::AddSlash(slug)) => {
            let response = HttpResponse::PermanentRedirect()
                .insert_header((actix_web::http::header::LOCATION, format!("/o/{slug}/")))
                .finish();
            Ok(req.into_response(response).map_into_right_body())
        }
        Err(Stop::Refused(error)) => Ok(req.error_response(error).map_into_right_body()),
    }
}

/// The organization `req` is for, if any, by the resolvers `tenant.resolution` turns on: the
/// host, then the path (rewritten to the route table's form), then an organization API key.
async fn find_tenant(
    state: &AppState,
    req: &mut ServiceRequest,
    host: &str,
) -> Result<Option<ResolvedTenant>, Stop> {
    let settings = &state.settings.tenant;
    let secret = api_key_secret(req);
    let mut found = by_host(state, host).await?;
    // Only a well-formed slug: the redirect echoes it into a Location header.
    let named = path_slug(req.path()).filter(|(slug, _)| crate::slug::is_well_formed(slug));
    match (named, &found) {
        // On a tenant's own host a path naming an organization is not served.
        (Some(_), Some(_)) => return Err(AppError::NotFound.into()),
        (Some((slug, rest)), None) if settings.resolution.contains(&Resolver::Path) => {
            if rest.is_empty() {
                return Err(Stop::AddSlash(slug));
            }
            rewrite_path(req, &rest)?;
            let root = format!("/o/{slug}");
            found = Some(Found::Slug(slug, root));
        }
        _ => {}
    }
    let tenant = match found {
        None => None,
        Some(found) => loaded(state, found, req.path()).await?,
    };
    match secret.filter(|_| settings.resolution.contains(&Resolver::ApiKey)) {
        Some(secret) => with_api_key(state, tenant, &secret).await.map(Some),
        None => Ok(tenant),
    }
}

/// What the host names, the host's resolvers tried in the order of `tenant.resolution`. The
/// host comes first whatever the place of its resolvers in the list: on a tenant's own host a
/// path naming another organization must not be served (a tenant controlling its domain's DNS
/// would see other tenants' pages, and their people's sign-ins, on it).
async fn by_host(state: &AppState, host: &str) -> Result<Option<Found>, DbErr> {
    let settings = &state.settings.tenant;
    for resolver in &settings.resolution {
        let found = match resolver {
            Resolver::Subdomain => subdomain_slug(host, &settings.base_domain)
                .map(|slug| Found::Slug(slug, String::new())),
            Resolver::CustomDomain => by_custom_domain(state, host).await?,
            Resolver::Path | Resolver::ApiKey => None,
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The organization `found` names, loaded; `path` is the request's (already rewritten).
async fn loaded(
    state: &AppState,
    found: Found,
    path: &str,
) -> Result<Option<ResolvedTenant>, Stop> {
    let (slug, root) = match found {
        Found::Organization(organization, api_key) => {
            return Ok(Some(ResolvedTenant {
                organization: *organization,
                root: String::new(),
                api_key,
            }));
        }
        Found::Slug(slug, root) => (slug, root),
    };
    match by_slug_cached(state, slug).await? {
        Some(organization) => Ok(Some(ResolvedTenant {
            organization,
            root,
            api_key: None,
        })),
        // An unknown (or renamed) organization's host is 404 everywhere, its root included, so
        // no one mistakes it for a live organization; only the stylesheet answers, so that the
        // 404 page is styled (its links lead to the site itself).
        None if root.is_empty() && path.starts_with("/static/") => Ok(None),
        None => Err(AppError::NotFound.into()),
    }
}

/// `tenant` with the organization API key `secret` acting in it, or its organization when the
/// request named none. An unknown key is 401; a key of another organization than the one
/// named, 404.
async fn with_api_key(
    state: &AppState,
    tenant: Option<ResolvedTenant>,
    secret: &str,
) -> Result<ResolvedTenant, Stop> {
    let found = org_rows::by_api_key(&state.db, secret)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let organization = found.organization;
    let catalog = &state.permissions;
    let principal = ApiKeyPrincipal {
        id: found.key.id,
        name: found.key.name,
        created_by_id: found.key.created_by_id,
        permissions: catalog
            .set_of(found.permissions.iter().map(String::as_str))
            .intersection(catalog.assignable()),
    };
    match tenant {
        // A key answers only for its own organization; do not confirm that another exists.
        Some(t) if t.organization.id != organization.id => Err(AppError::NotFound.into()),
        Some(t) => Ok(ResolvedTenant {
            api_key: Some(principal),
            ..t
        }),
        None => Ok(ResolvedTenant {
            organization,
            root: String::new(),
            api_key: Some(principal),
        }),
    }
}

/// Route guard: the request was resolved to a tenant.
pub fn has_tenant(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    ctx.req_data().get::<ResolvedTenant>().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_of_the_base_domain_name_a_tenant() {
        assert_eq!(
            subdomain_slug("acme.example.com", "example.com"),
            Some("acme".into())
        );
        assert_eq!(
            subdomain_slug("ACME.example.com:8443", "example.com"),
            Some("acme".into())
        );
        assert_eq!(
            subdomain_slug("acme.localhost:8000", "localhost"),
            Some("acme".into())
        );
        assert_eq!(subdomain_slug("example.com", "example.com"), None);
        assert_eq!(subdomain_slug("a.b.example.com", "example.com"), None);
        assert_eq!(subdomain_slug("www.example.com", "example.com"), None);
        assert_eq!(subdomain_slug("acme.example.org", "example.com"), None);
        assert_eq!(subdomain_slug("evilexample.com", "example.com"), None);
        assert_eq!(subdomain_slug("127.0.0.1:8000", "localhost"), None);
    }

    #[test]
    fn the_path_form_names_a_tenant_and_keeps_the_rest() {
        assert_eq!(
            path_slug("/o/acme/people/"),
            Some(("acme".into(), "/people/".into()))
        );
        assert_eq!(path_slug("/o/acme/"), Some(("acme".into(), "/".into())));
        assert_eq!(path_slug("/o/acme"), Some(("acme".into(), String::new())));
        assert_eq!(path_slug("/o/"), None);
        assert_eq!(path_slug("/people/"), None);
    }
}
