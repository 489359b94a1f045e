//! What every operation shares, added to each from the route tables rather than written on each
//! handler: the tenant's slug, the ways to sign in, the error answers it can give by what it reads
//! and needs, the permission it needs, and `Idempotency-Key` on a creating `POST`.

use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required};

use crate::routes::Needs;

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
                    "A session write without its CSRF token, credentials not allowed here (a token \
                     where a browser session is needed), an organization that requires two-factor \
                     sign-in (`two_factor_required`), or an action that needs a recent sign-in \
                     (`reauthentication_required`)."
                }
                _ => {
                    "The permission the operation needs is not held (`permission` names it), the \
                     organization requires two-factor sign-in (`two_factor_required`), or the \
                     action needs a recent sign-in (`reauthentication_required`)."
                }
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
pub(super) fn idempotent(mut operation: Operation) -> Operation {
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

pub(super) fn tenant_operation(
    mut operation: Operation,
    needs: Needs,
    feature: Option<&str>,
) -> Operation {
    let mut needs_line = format!("**Needs:** {}.", needs.describe());
    if let Some(feature) = feature {
        needs_line.push_str(&format!(
            " **Plan feature:** `{feature}` (402 `plan_required` when the plan lacks it)."
        ));
        operation
            .responses
            .responses
            .entry("402".to_string())
            .or_insert(error_response(
                "The organization's plan lacks the feature (`plan_required`, naming it).",
            ));
    }
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

pub(super) fn global_operation(mut operation: Operation, authenticated: bool) -> Operation {
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

/// An operation of the operator's API: the operator's token only.
pub(super) fn operator_operation(mut operation: Operation) -> Operation {
    operation.security = Some(vec![requirement(&["operator"])]);
    add_errors(&mut operation, false, None);
    for (status, text) in [
        ("401", "No operator token, or the wrong one."),
        (
            "404",
            "No such organization, or no operator token is configured (the API is off).",
        ),
    ] {
        operation
            .responses
            .responses
            .insert(status.to_string(), error_response(text));
    }
    operation
}

pub(super) fn security_schemes(openapi: &mut utoipa::openapi::OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "operator",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The operator's token, `billing.operator_token` \
                     (`ORGS_BILLING__OPERATOR_TOKEN`): the embedding app's billing, in nobody's \
                     name.",
                ))
                .build(),
        ),
    );
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
