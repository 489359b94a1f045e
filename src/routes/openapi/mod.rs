//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`. Each operation is
//! described on its handler (`#[utoipa::path]`: parameters, bodies, answers); where it is served
//! comes from the route tables ([`TENANT_ROUTES`], [`GLOBAL_API_ROUTES`]), and what every
//! operation shares (the tenant's slug, the ways to sign in, the error answers, the permission it
//! needs) is added from the same tables (`operations`), with the links from what a `POST`
//! creates to the operations on it (`links`). [`build`] reports a served route nobody described
//! and a description of nothing served, and a test keeps that list empty.
//!
//! Here: the description, the list of described handlers, putting the document together, and
//! serving it.

mod links;
mod operations;
pub mod webhooks;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::{Method, header};
use utoipa::OpenApi;
use utoipa::openapi::Paths;
use utoipa::openapi::path::HttpMethod;

use crate::routes::{self, GLOBAL_API_ROUTES, Needs, TENANT_ROUTES, TenantRoute};

/// Where a tenant's routes are documented: under the path root (`/o/{slug}`), the one way that
/// needs no DNS. The document's description names the others.
pub const TENANT_PREFIX: &str = "/o/{slug}";

const DESCRIPTION: &str = "\
Organizations, their people, invitations, roles, API keys, domains, projects and audit log.

**Reaching an organization.** Every operation under `/o/{slug}/api/v1/` is an organization's \
(a tenant's). The same operations answer at the organization's other addresses, with the same \
paths after the tenant root: its subdomain (`https://acme.example.com/api/v1/people/`), a \
verified custom domain of it, and, with an organization API key, the plain host \
(`https://example.com/api/v1/people/` with `Authorization: Bearer orgs_key_...`: the key names \
its organization). Which of these a server answers is its `tenant.resolvers` setting. Someone \
who is not a member gets 404 for an organization, as for one that does not exist.

**Signing in.** Three ways: a personal API token (`Authorization: Bearer orgs_...`, made on the \
account page), acting as its person in every organization they belong to; an organization API \
key (`Authorization: Bearer orgs_key_...`), which acts in its own organization only and holds the \
permissions it was given; or the browser's session cookie, where every write also carries the \
page's CSRF token in `X-CSRF-Token`. A request without credentials is 401 with \
`WWW-Authenticate: Bearer`; one without the permission the operation needs is 403 naming it.

**Two-factor and recent sign-in.** An organization may require two-factor sign-in: a person \
whose session (or the session their token was made from) did not use a second factor gets 403 \
`two_factor_required` there. Deleting or transferring an organization and making API keys need \
a browser session whose password or code was confirmed in the last few minutes: otherwise 403 \
`reauthentication_required`, and `POST /api/v1/account/reauthenticate/` confirms. The \
`/api/v1/account/two-factor/` operations take a browser session, never a token.

**Errors** come in one envelope, `{\"error\": {\"code\", \"message\", ...}}` (the `Error` \
schema): a body that is not JSON is 400, not `application/json` 415, larger than 256 KiB 413; a \
wrong type, a missing or an unknown field is 422 with `fields` naming it. A stale `If-Match` is \
412. 429 and 503 carry `Retry-After`.

**Lists** come in an envelope: `{\"items\", \"page\", \"per_page\", \"total\"}` for the lists read \
by page (`?page=&per_page=`), and `{\"items\", \"per_page\", \"next\"}` for those read by cursor \
(newest first; pass `next` back as `?after=`). A `per_page` beyond the documented maximum is 422, \
not silently capped.

**Retries.** A creating `POST` may carry `Idempotency-Key` (1 to 255 visible characters): a \
retry with the same key and body within 24 hours answers what the first did and creates nothing \
more; the same key with another body is 422, and while the first is still running, 409.";

#[derive(OpenApi)]
#[openapi(
    paths(
        serve,
        routes::my_organizations::api_list,
        routes::my_organizations::api_add,
        routes::account::api_show,
        routes::account::api_update,
        routes::reauth::api,
        routes::two_factor_api::status,
        routes::two_factor_api::start_totp,
        routes::two_factor_api::delete_totp,
        routes::two_factor_api::confirm_totp,
        routes::two_factor_api::renew_codes,
        routes::two_factor_api::passkeys,
        routes::two_factor_api::register_passkey,
        routes::two_factor_api::start_passkey,
        routes::two_factor_api::delete_passkey,
        routes::two_factor_api::events,
        routes::projects::api_list,
        routes::projects::api_create,
        routes::projects::api_detail,
        routes::projects::api_update,
        routes::projects::api_delete,
        routes::organization::api_show,
        routes::organization::api_update,
        routes::organization::api_delete,
        routes::organization::api_transfer,
        routes::organization::api_leave,
        routes::people::api::list,
        routes::people::api::invite,
        routes::people::api::detail,
        routes::people::api::update,
        routes::people::api::delete,
        routes::people::api::remind,
        routes::invitations::api_list,
        routes::invitations::api_detail,
        routes::invitations::api_revoke,
        routes::invitations::api_resend,
        routes::api_keys::api_list,
        routes::api_keys::api_create,
        routes::api_keys::api_revoke,
        routes::domains::api_list,
        routes::domains::api_add,
        routes::domains::api_verify,
        routes::domains::api_delete,
        routes::sso_api::list,
        routes::sso_api::add,
        routes::sso_api::detail,
        routes::sso_api::update,
        routes::sso_api::delete,
        routes::sso_api::verify,
        routes::sso_api::show_connection,
        routes::sso_api::put_connection,
        routes::sso_api::delete_connection,
        routes::scim_api::list,
        routes::scim_api::create,
        routes::scim_api::revoke,
        routes::scim_api::list_groups,
        routes::scim_api::set_group_roles,
        routes::webhooks_api::event_types,
        routes::webhooks_api::list,
        routes::webhooks_api::create,
        routes::webhooks_api::detail,
        routes::webhooks_api::update,
        routes::webhooks_api::delete,
        routes::webhooks_api::rotate,
        routes::webhooks_api::test,
        routes::webhooks_api::deliveries,
        routes::webhooks_api::delivery,
        routes::webhooks_api::redeliver,
        routes::webhooks_api::redeliver_since,
        routes::roles::api_list,
        routes::roles::api_create,
        routes::roles::api_detail,
        routes::roles::api_update,
        routes::roles::api_delete,
        routes::audit::api_list,
        routes::system::api_show,
        routes::system::api_update,
    ),
    components(schemas(
        crate::error::ErrorBody,
        webhooks::WebhookEvent,
        routes::audit::ActorType,
        routes::audit::AuditFormat,
    )),
    tags(
        (name = "account", description = "The signed-in person and their organizations."),
        (name = "two-factor", description = "The signed-in person's second factors (a browser session only), and their security log."),
        (name = "organization", description = "The organization itself: rename, delete, transfer, leave."),
        (name = "people", description = "Members and their roles; inviting."),
        (name = "invitations", description = "Invitations sent and where they stand."),
        (name = "roles", description = "Built-in and custom roles."),
        (name = "api-keys", description = "Organization API keys."),
        (name = "domains", description = "Custom domains."),
        (name = "sso", description = "Email domains the organization proves it owns (joining by domain), and its OpenID Connect single sign-on."),
        (name = "scim", description = "SCIM tokens for the organization's directory, and the roles its groups give (the SCIM endpoints themselves are at `/scim/v2/`, described by their own `/scim/v2/Schemas`)."),
        (name = "webhooks", description = "Webhook endpoints and their delivery logs. Every audit event of a type an endpoint wants is posted to it, signed by the Standard Webhooks spec; the document's `webhooks` describe each event type."),
        (name = "projects", description = "Projects, the example tenant resource."),
        (name = "audit", description = "The audit log."),
        (name = "system", description = "The operator's API: an organization's seats and plan, set by billing with `billing.operator_token` (404 while none is configured)."),
        (name = "meta", description = "This document."),
    ),
)]
struct Described;

fn http_method(method: &Method) -> Option<HttpMethod> {
    Some(match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        _ => return None,
    })
}

/// A served operation: method, path on the handler, path in the document, how it is reached
/// and the plan feature it is part of (none for a global route), and whether it creates.
type Served<'a> = (
    &'a Method,
    &'a str,
    String,
    Option<(Needs, Option<&'a str>)>,
    bool,
);

/// The document, and what does not match between it and the route tables (empty when all is
/// well; a test keeps it so).
pub fn build() -> (utoipa::openapi::OpenApi, Vec<String>) {
    build_with(&crate::state::EmbeddedRoutes::default())
}

/// [`build`] with an embedding app's tenant routes and their description added.
pub fn build_with(extra: &crate::state::EmbeddedRoutes) -> (utoipa::openapi::OpenApi, Vec<String>) {
    build_for(TENANT_ROUTES, extra)
}

/// [`build_with`] for orgs' tenant routes as the settings serve them
/// ([`routes::tenant_routes`]): without Projects' (`projects.enabled = false`) the document has
/// none of its operations, its tag or its schemas.
pub fn build_for(
    orgs_routes: &[TenantRoute],
    extra: &crate::state::EmbeddedRoutes,
) -> (utoipa::openapi::OpenApi, Vec<String>) {
    let mut described = Described::openapi();
    let mut description = DESCRIPTION.to_string();
    if !orgs_routes.iter().any(routes::is_projects_route) {
        without_projects(&mut described);
        description = description.replacen("domains, projects and", "domains and", 1);
    }
    if let Some(theirs) = &extra.described {
        described.merge(theirs.clone());
    }
    let mut problems = Vec::new();
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    let mut paths = Paths::new();
    let mut served: Vec<Served<'_>> = GLOBAL_API_ROUTES
        .iter()
        .map(|r| (&r.method, r.path, r.path.to_string(), None, r.creates))
        .collect();
    served.extend(
        orgs_routes
            .iter()
            .chain(extra.routes.iter())
            .filter(|r| r.path.starts_with("/api/v1/"))
            .map(|r| {
                let documented = format!("{TENANT_PREFIX}{}", r.path);
                (
                    &r.method,
                    r.path,
                    documented,
                    Some((r.needs, r.feature)),
                    r.creates,
                )
            }),
    );
    for (method, path, documented, needs, creates) in served {
        used.insert((path.to_string(), method.as_str().to_lowercase()));
        let Some((http, operation)) = http_method(method).and_then(|m| {
            let operation = described.paths.get_path_operation(path, m.clone())?;
            Some((m, operation.clone()))
        }) else {
            problems.push(format!("{method} {path} is served but not described"));
            continue;
        };
        let operation = if creates {
            operations::idempotent(operation)
        } else {
            operation
        };
        let operation = match needs {
            Some((needs, feature)) => operations::tenant_operation(operation, needs, feature),
            None if path.starts_with("/api/v1/system/") => {
                operations::operator_operation(operation)
            }
            None => operations::global_operation(operation, path != "/api/v1/openapi.json"),
        };
        paths.add_path_operation(documented, vec![http], operation);
    }
    for (path, item) in &described.paths.paths {
        let operations = [
            ("get", &item.get),
            ("post", &item.post),
            ("put", &item.put),
            ("patch", &item.patch),
            ("delete", &item.delete),
        ];
        for (method, operation) in operations {
            if operation.is_some() && !used.contains(&(path.clone(), method.to_string())) {
                problems.push(format!(
                    "{} {path} is described but not served",
                    method.to_uppercase()
                ));
            }
        }
    }
    links::add_links(&mut paths);
    let mut openapi = described;
    openapi.paths = paths;
    openapi.info.title = "orgs".into();
    openapi.info.version = env!("CARGO_PKG_VERSION").into();
    openapi.info.description = Some(description);
    openapi.info.license = Some(utoipa::openapi::License::new("MIT OR Apache-2.0"));
    operations::security_schemes(&mut openapi);
    openapi.webhooks = Some(webhooks::section(&crate::audit::Sentences::default()));
    (openapi, problems)
}

/// Takes Projects' operations, tag and schemas out of orgs' description.
fn without_projects(described: &mut utoipa::openapi::OpenApi) {
    described
        .paths
        .paths
        .retain(|path, _| !path.starts_with("/api/v1/projects/"));
    if let Some(tags) = &mut described.tags {
        tags.retain(|tag| tag.name != "projects");
    }
    if let Some(components) = &mut described.components {
        components
            .schemas
            .retain(|name, _| !name.contains("Project"));
    }
}

/// The document as JSON, built once.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| to_json(&build().0))
}

fn to_json(openapi: &utoipa::openapi::OpenApi) -> String {
    openapi
        .to_pretty_json()
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}

/// This document: OpenAPI 3.1 of every `/api/v1` operation.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object)),
)]
pub async fn serve(state: actix_web::web::Data<crate::state::AppState>) -> HttpResponse {
    let extra = &state.tenant_routes;
    let orgs_events =
        state.sentences.actions().len() == crate::audit::Sentences::default().actions().len();
    let body = if extra.routes.is_empty() && state.settings.projects.enabled && orgs_events {
        actix_web::web::Bytes::from_static(json().as_bytes())
    } else {
        // Built once for this state: its own routes, or orgs' without Projects.
        let orgs_routes = routes::tenant_routes(&state.settings);
        extra
            .json
            .get_or_init(|| {
                let mut openapi = build_for(&orgs_routes, extra).0;
                openapi.webhooks = Some(webhooks::section(&state.sentences));
                to_json(&openapi).into()
            })
            .clone()
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}
