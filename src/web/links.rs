//! Where the app sends people for an organization. On the path form (`tenant.links = "path"`)
//! that is `/o/{slug}/` on the same host. On subdomains it is `{slug}.{base_domain}`: a browser
//! keeps a separate session cookie per host (and refuses one shared by `*.localhost`), so the
//! app mints a one-time handoff token, valid for [`HANDOFF_TTL_SECS`] and on that host only,
//! that signs the same person in there.

use actix_web::HttpRequest;
use entity::UserId;
use sea_orm::DbErr;

use crate::auth::user_tokens;
use crate::config::{Settings, TenantLinks};
use crate::state::AppState;
use crate::web::resolve::label_under;

/// How long a handoff link works: it is followed by the browser at once.
pub const HANDOFF_TTL_SECS: u64 = 60;

/// The link to an organization's home for lists and menus. On subdomains it goes through
/// `/go/{slug}/`, which mints the handoff only when followed.
pub fn home_link(settings: &Settings, slug: &str) -> String {
    match settings.tenant.links {
        TenantLinks::Path => format!("/o/{slug}/"),
        TenantLinks::Subdomain => format!("/go/{slug}/"),
    }
}

/// The organization's address as people read it: `acme.example.com` on subdomains,
/// `https://example.com/o/acme/` on the path form.
pub fn address(settings: &Settings, slug: &str) -> String {
    match settings.tenant.links {
        TenantLinks::Path => format!(
            "{}/o/{slug}/",
            settings.server.public_url.trim_end_matches('/')
        ),
        TenantLinks::Subdomain => format!("{slug}.{}", settings.tenant.base_domain),
    }
}

/// Where to send `user_id`, signed in on this request's host, for the page `next` (a path
/// starting with `/`) of the organization `slug`.
pub async fn enter(
    req: &HttpRequest,
    state: &AppState,
    user_id: UserId,
    slug: &str,
    next: &str,
) -> Result<String, DbErr> {
    match state.settings.tenant.links {
        TenantLinks::Path => Ok(format!("/o/{slug}{next}")),
        TenantLinks::Subdomain => handoff(req, state, user_id, slug, next).await,
    }
}

/// `{slug}.{base_domain}`'s page `next` with a one-time link that signs `user_id`, signed in on
/// this request's host, in there: whatever `tenant.links` says (an organization renamed on its
/// own subdomain goes on to its new one).
pub async fn handoff(
    req: &HttpRequest,
    state: &AppState,
    user_id: UserId,
    slug: &str,
    next: &str,
) -> Result<String, DbErr> {
    // The sign-in on the organization's host joins this one's family: signing out on either
    // ends both. It carries what that sign-in proved (its second factor, its last
    // confirmation), never more: following it is not a confirmation. Only this browser's own
    // sign-in of this person is carried: never one made from a token (a request with a bearer
    // token is the token's, whatever cookie it carries), nor a cookie's sign-in of someone else.
    let key = match crate::web::user::bearer(req) {
        Some(_) => None,
        None => actix_identity::IdentityExt::get_identity(req)
            .ok()
            .and_then(|identity| identity.id().ok()),
    };
    let origin = match key {
        Some(key) => crate::auth::sessions::find(&state.db, &key)
            .await?
            .filter(|session| session.user_id == user_id.get() && session.family.is_some()),
        None => None,
    };
    let Some(origin) = origin else {
        // Nothing of theirs to carry: they sign in on the organization's host itself.
        let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
        return Ok(format!(
            "{}/login/?{query}",
            tenant_origin(req, &state.settings, slug)
        ));
    };
    let family = origin.family.clone();
    let proof = crate::auth::sessions::Proof::of(&origin);
    // Valid only on the organization's host: followed anywhere else it is unknown.
    let host = format!("{slug}.{}", state.settings.tenant.base_domain);
    let token = user_tokens::issue_handoff(
        &state.db,
        user_id,
        HANDOFF_TTL_SECS,
        family,
        &crate::web::hosts::host_name(&host),
        proof,
    )
    .await?;
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    Ok(format!(
        "{}/handoff/{token}/?{query}",
        tenant_origin(req, &state.settings, slug)
    ))
}

/// `(name, ":port" or "")` of a `Host` value.
pub(crate) fn split_port(host: &str) -> (&str, &str) {
    match host.rfind(':') {
        Some(i)
            if !host[..i].contains(':') && host[i + 1..].chars().all(|c| c.is_ascii_digit()) =>
        {
            (&host[..i], &host[i..])
        }
        _ => (host, ""),
    }
}

/// `scheme://{slug}.{base_domain}[:port]`: the scheme and port of this request when it came to
/// the base domain or one of its organizations, else those of `server.public_url`.
pub fn tenant_origin(req: &HttpRequest, settings: &Settings, slug: &str) -> String {
    let base = &settings.tenant.base_domain;
    let client = crate::web::client::Client::of_request(req, &settings.server.trusted_proxies);
    let (name, port) = split_port(&client.host);
    let name = name.to_ascii_lowercase();
    let ours = name == *base || label_under(&name, base).is_some();
    if ours {
        return format!("{}://{slug}.{base}{port}", client.scheme);
    }
    let public = settings.server.public_url.trim_end_matches('/');
    let (scheme, rest) = public.split_once("://").unwrap_or(("https", public));
    let authority = rest.split('/').next().unwrap_or_default();
    let (_, port) = split_port(authority);
    format!("{scheme}://{slug}.{base}{port}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Environment;

    fn settings(links: TenantLinks) -> Settings {
        let mut settings = Settings::for_environment(Environment::Test).unwrap();
        settings.tenant.links = links;
        settings.tenant.base_domain = "localhost".into();
        settings.server.public_url = "https://localhost:8443".into();
        settings
    }

    #[test]
    fn an_organizations_home_is_its_path_or_the_handoff_route() {
        assert_eq!(home_link(&settings(TenantLinks::Path), "acme"), "/o/acme/");
        assert_eq!(
            home_link(&settings(TenantLinks::Subdomain), "acme"),
            "/go/acme/"
        );
    }

    #[test]
    fn the_tenant_host_keeps_the_scheme_and_port_the_browser_used() {
        let settings = settings(TenantLinks::Subdomain);
        let req = actix_web::test::TestRequest::default()
            .insert_header(("host", "localhost:4321"))
            .to_http_request();
        assert_eq!(
            tenant_origin(&req, &settings, "acme"),
            "http://acme.localhost:4321"
        );
        let req = actix_web::test::TestRequest::default()
            .insert_header(("host", "other.localhost:4321"))
            .to_http_request();
        assert_eq!(
            tenant_origin(&req, &settings, "acme"),
            "http://acme.localhost:4321"
        );
        // Reached by address: the public URL decides.
        let req = actix_web::test::TestRequest::default()
            .insert_header(("host", "127.0.0.1:4321"))
            .to_http_request();
        assert_eq!(
            tenant_origin(&req, &settings, "acme"),
            "https://acme.localhost:8443"
        );
    }
}
