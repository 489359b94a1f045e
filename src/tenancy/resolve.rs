//! Tenant resolution: a middleware finds the organization of each request from the subdomain of
//! `tenant.base_domain` (`acme.example.com`) or, failing that, the path prefix `/o/{slug}/`,
//! which it strips so one route table serves both forms. An unknown organization is 404. The
//! session never holds a "current organization": two tabs on two tenants both work.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::http::uri::PathAndQuery;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use entity::organization;
use tracing::Instrument;

use super::organizations;
use crate::error::AppError;
use crate::organizations::slug;
use crate::startup::AppState;

/// The organization a request is for, and how it was addressed.
#[derive(Clone, Debug)]
pub struct ResolvedTenant {
    /// The organization.
    pub organization: organization::Model,
    /// What tenant URLs start with: `""` on a subdomain, `/o/{slug}` on the path form.
    pub root: String,
}

/// The slug in `host` when it is `{slug}.{base_domain}` (with or without a port).
pub fn subdomain_slug(host: &str, base_domain: &str) -> Option<String> {
    let host = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let label = host.strip_suffix(base_domain)?.strip_suffix('.')?;
    (!label.is_empty() && !label.contains('.') && !slug::is_reserved(label))
        .then(|| label.to_string())
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

/// The middleware (`actix_web::middleware::from_fn(tenancy::resolve::resolve)`).
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
    let host = req.connection_info().host().to_string();
    let (slug, root) = if let Some(slug) = subdomain_slug(&host, &state.settings.tenant.base_domain)
    {
        (slug, String::new())
    } else if let Some((slug, rest)) = path_slug(req.path()) {
        if rest.is_empty() {
            let location = format!("/o/{slug}/");
            let response = HttpResponse::PermanentRedirect()
                .insert_header((actix_web::http::header::LOCATION, location))
                .finish();
            return Ok(req.into_response(response).map_into_right_body());
        }
        if let Err(error) = rewrite_path(&mut req, &rest) {
            return Ok(req.error_response(error).map_into_right_body());
        }
        let root = format!("/o/{slug}");
        (slug, root)
    } else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let organization = match organizations::by_slug(&state.db, &slug).await {
        Ok(Some(organization)) => organization,
        Ok(None) => return Ok(req.error_response(AppError::NotFound).map_into_right_body()),
        Err(error) => {
            return Ok(req
                .error_response(AppError::from(error))
                .map_into_right_body());
        }
    };
    let span =
        tracing::info_span!("tenant", organization_id = organization.id, slug = %organization.slug);
    req.extensions_mut()
        .insert(ResolvedTenant { organization, root });
    next.call(req)
        .instrument(span)
        .await
        .map(ServiceResponse::map_into_left_body)
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
