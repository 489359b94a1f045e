//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`. Each operation is
//! described on its handler (`#[utoipa::path]`: parameters, bodies, answers); where it is served
//! comes from the route tables ([`TENANT_ROUTES`], [`GLOBAL_API_ROUTES`]), and what every
//! operation shares (the tenant's slug, the ways to sign in, the error answers, the permission it
//! needs) is added here from the same tables. [`build`] reports a served route nobody described
//! and a description of nothing served, and a test keeps that list empty.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::{Method, header};
use utoipa::OpenApi;
use utoipa::openapi::path::{HttpMethod, Operation, Parameter, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Paths, Ref, RefOr, Required};

use crate::routes::{self, GLOBAL_API_ROUTES, Needs, TENANT_ROUTES};

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
        routes::roles::api_list,
        routes::roles::api_create,
        routes::roles::api_detail,
        routes::roles::api_update,
        routes::roles::api_delete,
        routes::audit::api_list,
    ),
    components(schemas(
        crate::error::ErrorBody,
        routes::audit::ActorType,
        routes::audit::AuditFormat,
    )),
    tags(
        (name = "account", description = "The signed-in person and their organizations."),
        (name = "organization", description = "The organization itself: rename, delete, transfer, leave."),
        (name = "people", description = "Members and their roles; inviting."),
        (name = "invitations", description = "Invitations sent and where they stand."),
        (name = "roles", description = "Built-in and custom roles."),
        (name = "api-keys", description = "Organization API keys."),
        (name = "domains", description = "Custom domains."),
        (name = "projects", description = "Projects, the example tenant resource."),
        (name = "audit", description = "The audit log."),
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

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(RefOr::<utoipa::openapi::schema::Schema>::Ref(
                Ref::from_schema_name("Error"),
            ))),
        )
        .into()
}

fn retry_after_response(description: &str) -> RefOr<Response> {
    let RefOr::T(mut response) = error_response(description) else {
        unreachable!("error_response builds the response itself");
    };
    response.headers.insert(
        "Retry-After".into(),
        utoipa::openapi::header::HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            ))
            .description(Some("Seconds to wait before trying again."))
            .build()
            .into(),
    );
    RefOr::T(response)
}

/// Adds the error answers an operation can give by what it reads and needs, unless its handler
/// described them itself.
fn add_errors(operation: &mut Operation, authenticated: bool, tenant: Option<Needs>) {
    let has_body = operation.request_body.is_some();
    let has_query = operation.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => p.parameter_in == ParameterIn::Query,
        RefOr::Ref(_) => false,
    });
    let has_path = operation.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => p.parameter_in == ParameterIn::Path,
        RefOr::Ref(_) => false,
    });
    let if_match = operation.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => p.parameter_in == ParameterIn::Header && p.name == "If-Match",
        RefOr::Ref(_) => false,
    });
    let mut errors: Vec<(&str, RefOr<Response>)> = Vec::new();
    if has_body {
        errors.push(("400", error_response("The body is not JSON.")));
        errors.push(("413", error_response("The body is larger than 256 KiB.")));
        errors.push(("415", error_response("The body is not `application/json`.")));
    }
    if has_body || has_query || has_path {
        errors.push((
            "422",
            error_response("A field or parameter is invalid; `fields` names it."),
        ));
    }
    if if_match {
        errors.push((
            "412",
            error_response("`If-Match` names another version; nothing was changed."),
        ));
    }
    if authenticated {
        errors.push((
            "401",
            error_response("No credentials, or credentials that are not valid."),
        ));
        errors.push((
            "403",
            error_response(match tenant {
                Some(Needs::Member | Needs::MemberNotOwner) | None => {
                    "A session write without its CSRF token, or credentials not allowed here."
                }
                _ => "The permission the operation needs is not held (`permission` names it).",
            }),
        ));
    }
    if tenant.is_some() || has_path {
        errors.push((
            "404",
            error_response("No such organization or object, or not one of yours."),
        ));
    }
    errors.push((
        "500",
        error_response("A fault of the server's (it is logged)."),
    ));
    errors.push((
        "503",
        retry_after_response("The database does not answer; try again."),
    ));
    for (status, response) in errors {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert(response);
    }
}

/// A creating `POST`: the `Idempotency-Key` header and what it can answer.
fn idempotent(mut operation: Operation) -> Operation {
    let mut parameter = Parameter::new(crate::web::idempotency::HEADER);
    parameter.parameter_in = ParameterIn::Header;
    parameter.required = Required::False;
    parameter.description = Some(
        "Makes a retry safe: a request with the same key and body within 24 hours answers what \
         the first answered (with `Idempotent-Replayed: true`) and creates nothing more; one \
         sent while the first still runs waits for it. The key is claimed in the request's own \
         transaction, so a request that did not commit leaves the key free. A secret the first \
         answer showed once (a new API key's `secret`) is `null` in a replay, which names it in \
         `Idempotent-Redacted`. 1 to 255 visible ASCII characters; yours alone (per person or \
         API key, per organization)."
            .into(),
    );
    parameter.schema = Some(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(crate::idempotency::MAX_KEY_LEN))
            .pattern(Some("^[!-~]+$"))
            .into(),
    );
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::T(parameter));
    let running = "Another request with this `Idempotency-Key` ran at the same time and left no \
                   answer: retry.";
    match operation.responses.responses.get_mut("409") {
        Some(RefOr::T(response)) => {
            response.description = format!("{} Or: {running}", response.description);
        }
        _ => {
            let response = error_response(running);
            operation.responses.responses.insert("409".into(), response);
        }
    }
    operation
        .responses
        .responses
        .entry("422".into())
        .or_insert_with(|| {
            error_response(
                "A field is invalid, or the `Idempotency-Key` was used with another request.",
            )
        });
    operation
}

fn slug_parameter() -> Parameter {
    let mut parameter = Parameter::new("slug");
    parameter.parameter_in = ParameterIn::Path;
    parameter.required = Required::True;
    parameter.description = Some(
        "The organization's address (`acme`); also reachable by subdomain, custom domain or \
         API key (see the description)."
            .into(),
    );
    // No pattern: any other value is simply an organization that is not there (404).
    parameter.schema = Some(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .examples(["acme"])
            .into(),
    );
    parameter
}

fn requirement(schemes: &[&str]) -> SecurityRequirement {
    let mut requirement = SecurityRequirement::default();
    for scheme in schemes {
        requirement = requirement.add(*scheme, Vec::<String>::new());
    }
    requirement
}

fn tenant_operation(mut operation: Operation, needs: Needs) -> Operation {
    let needs_line = format!("**Needs:** {}.", needs.describe());
    operation.description = Some(match operation.description.take() {
        Some(text) if !text.is_empty() => format!("{text}\n\n{needs_line}"),
        _ => needs_line,
    });
    let mut parameters = vec![RefOr::T(slug_parameter())];
    parameters.extend(operation.parameters.take().unwrap_or_default());
    operation.parameters = Some(parameters);
    operation.security = Some(vec![
        requirement(&["personal_token"]),
        requirement(&["api_key"]),
        requirement(&["session", "csrf_token"]),
    ]);
    add_errors(&mut operation, true, Some(needs));
    operation
}

fn global_operation(mut operation: Operation, authenticated: bool) -> Operation {
    if authenticated {
        operation.security = Some(vec![
            requirement(&["personal_token"]),
            requirement(&["session", "csrf_token"]),
        ]);
    } else {
        operation.security = Some(vec![SecurityRequirement::default()]);
    }
    add_errors(&mut operation, authenticated, None);
    operation
}

fn security_schemes(openapi: &mut utoipa::openapi::OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "personal_token",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("orgs_...")
                .description(Some(
                    "A personal API token (`orgs_...`, made on the account page or with \
                     `orgs token create`): acts as its person.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("orgs_key_...")
                .description(Some(
                    "An organization API key (`orgs_key_...`, made under the organization's \
                     settings): acts in its organization only, with the permissions it holds.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "orgs_session",
            "The browser's session cookie, set by signing in at `/login/`.",
        ))),
    );
    components.add_security_scheme(
        "csrf_token",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-CSRF-Token",
            "With the session cookie, every write carries the CSRF token of the session's \
             pages (the `csrf_token` form field).",
        ))),
    );
}

/// Where what a `POST` creates lives, when not under its own path: an invitation made through
/// the people list.
const CREATED_ELSEWHERE: &[(&str, &str)] =
    &[("/o/{slug}/api/v1/people/", "/o/{slug}/api/v1/invitations/")];

/// OpenAPI links from each creating `POST`'s 201 to the operations on what it made (the
/// paths below the collection with one more parameter: `{id}`, `{key}`), so that a client (and
/// schemathesis' stateful runs) can follow them: the parameter from the answer's body, the
/// slug from the request's path.
fn add_links(paths: &mut Paths) {
    let operations: Vec<(String, String, String)> = paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            [
                ("get", &item.get),
                ("patch", &item.patch),
                ("delete", &item.delete),
                ("post", &item.post),
            ]
            .into_iter()
            .filter_map(|(method, op)| {
                let id = op.as_ref()?.operation_id.clone()?;
                Some((path.clone(), method.to_string(), id))
            })
        })
        .collect();
    let creators: Vec<String> = paths.paths.keys().cloned().collect();
    for collection in creators {
        let Some(post) = paths
            .paths
            .get_mut(&collection)
            .and_then(|item| item.post.as_mut())
        else {
            continue;
        };
        let Some(RefOr::T(created)) = post.responses.responses.get_mut("201") else {
            continue;
        };
        let home = CREATED_ELSEWHERE
            .iter()
            .find(|(from, _)| *from == collection)
            .map_or(collection.as_str(), |(_, to)| to);
        for (path, method, operation_id) in &operations {
            let Some(rest) = path.strip_prefix(home).and_then(|r| r.strip_prefix('{')) else {
                continue;
            };
            let Some((parameter, _)) = rest.split_once('}') else {
                continue;
            };
            let field = if parameter == "key" { "key" } else { "id" };
            let mut link = utoipa::openapi::link::LinkBuilder::new()
                .operation_id(operation_id.as_str())
                .parameter(parameter, format!("$response.body#/{field}"))
                .description(format!("{} {path}", method.to_uppercase()));
            if path.contains("{slug}") {
                link = link.parameter("slug", "$request.path.slug");
            }
            created
                .links
                .insert(operation_id.clone(), RefOr::T(link.build()));
        }
    }
}

/// The document, and what does not match between it and the route tables (empty when all is
/// well; a test keeps it so).
pub fn build() -> (utoipa::openapi::OpenApi, Vec<String>) {
    build_with(&crate::state::EmbeddedRoutes::default())
}

/// [`build`] with an embedding app's tenant routes and their description added.
pub fn build_with(extra: &crate::state::EmbeddedRoutes) -> (utoipa::openapi::OpenApi, Vec<String>) {
    let mut described = Described::openapi();
    if let Some(theirs) = &extra.described {
        described.merge(theirs.clone());
    }
    let mut problems = Vec::new();
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    let mut paths = Paths::new();
    // (method, path on the handler, path in the document, how it is reached, creates)
    let mut served: Vec<(&Method, &str, String, Option<Needs>, bool)> = GLOBAL_API_ROUTES
        .iter()
        .map(|r| (&r.method, r.path, r.path.to_string(), None, r.creates))
        .collect();
    served.extend(
        TENANT_ROUTES
            .iter()
            .chain(extra.routes.iter())
            .filter(|r| r.path.starts_with("/api/v1/"))
            .map(|r| {
                let documented = format!("{TENANT_PREFIX}{}", r.path);
                (&r.method, r.path, documented, Some(r.needs), r.creates)
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
            idempotent(operation)
        } else {
            operation
        };
        let operation = match needs {
            Some(needs) => tenant_operation(operation, needs),
            None => global_operation(operation, path != "/api/v1/openapi.json"),
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
    add_links(&mut paths);
    let mut openapi = described;
    openapi.paths = paths;
    openapi.info.title = "orgs".into();
    openapi.info.version = env!("CARGO_PKG_VERSION").into();
    openapi.info.description = Some(DESCRIPTION.into());
    openapi.info.license = Some(utoipa::openapi::License::new("MIT OR Apache-2.0"));
    security_schemes(&mut openapi);
    (openapi, problems)
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
    let body = if extra.routes.is_empty() {
        actix_web::web::Bytes::from_static(json().as_bytes())
    } else {
        extra
            .json
            .get_or_init(|| to_json(&build_with(extra).0).into())
            .clone()
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}
