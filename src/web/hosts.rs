//! The service's own hosts: the host of `server.public_url`, `tenant.base_domain` and every name
//! under it, and bare addresses. Only there do the pages that take a password or start a
//! sign-in answer ([`service_host_only`] wraps them); on any other name (an organization's custom
//! domain, verified or not, or a name nobody configured) they redirect to the same page at
//! `server.public_url`. A browser keeps a session per host, and whoever controls a domain's DNS
//! can point it elsewhere later and collect the cookies set for it: so no sign-in is ever made
//! on a name the service does not control.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::LOCATION;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::config::Settings;
use crate::state::AppState;
use crate::web::client::Client;
use crate::web::links::split_port;

/// The host name of a `Host` value: without its port, lower-cased, without a trailing dot.
pub fn host_name(host: &str) -> String {
    let (name, _) = split_port(host);
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The host name of `server.public_url`.
pub fn public_name(settings: &Settings) -> String {
    settings.public_host_name()
}

/// Whether the host name `name` (as [`host_name`] gives it) is `tenant.base_domain` or under it.
pub fn is_under_base_domain(name: &str, settings: &Settings) -> bool {
    settings.is_under_base_domain(name)
}

/// Whether the host name `name` is an address (`127.0.0.1`, `[::1]`).
pub fn is_address(name: &str) -> bool {
    name.starts_with('[') || name.parse::<std::net::IpAddr>().is_ok()
}

/// Whether `host` (a `Host` value) is one of the service's own hosts (see the module). A request
/// without a host sets no cookie anybody else could collect: it counts as one.
pub fn is_service_host(host: &str, settings: &Settings) -> bool {
    let name = host_name(host);
    name.is_empty()
        || is_address(&name)
        || is_under_base_domain(&name, settings)
        || name == public_name(settings)
}

/// Middleware for the pages that take a password or start a sign-in: on a host that is not the
/// service's own, `303 See Other` to the same path (and query) at `server.public_url`.
pub async fn service_host_only<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let settings = &state.settings;
    let client = Client::of_request(req.request(), &settings.server.trusted_proxies);
    if is_service_host(&client.host, settings) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let target = format!(
        "{}{}",
        settings.server.public_url.trim().trim_end_matches('/'),
        req.uri()
            .path_and_query()
            .map_or_else(|| req.path(), |p| p.as_str())
    );
    let response = HttpResponse::SeeOther()
        .insert_header((LOCATION, target))
        .finish();
    Ok(req.into_response(response).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Environment;

    #[test]
    fn the_service_hosts_are_the_public_url_the_base_domain_and_addresses() {
        let Ok(mut settings) = Settings::for_environment(Environment::Test) else {
            panic!("the test settings load");
        };
        settings.tenant.base_domain = "orgs.example".into();
        settings.server.public_url = "https://app.example.net:8443".into();
        for ours in [
            "app.example.net",
            "APP.example.net:8443",
            "orgs.example",
            "acme.orgs.example",
            "acme.orgs.example.:443",
            "127.0.0.1:8000",
            "[::1]:8000",
            "",
        ] {
            assert!(is_service_host(ours, &settings), "{ours}");
        }
        for foreign in [
            "projects.acme-corp.example",
            "evilorgs.example",
            "orgs.example.evil.test",
            "example.net",
            "localhost",
        ] {
            assert!(!is_service_host(foreign, &settings), "{foreign}");
        }
    }
}
