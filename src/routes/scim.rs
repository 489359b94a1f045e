//! The SCIM 2.0 endpoints under an organization's root (`/scim/v2/...`, RFC 7644's paths):
//! thin handlers that read the request, open the token-checked transaction (`web::scim::Scim`),
//! call one service and answer `application/scim+json`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, guard, web};
use serde::Deserialize;
use serde_json::Value;

use crate::scim::filter::{Filter, get_ci};
use crate::scim::{MAX_COUNT, ScimError, ScimTxn, discovery, groups, users};
use crate::state::AppState;
use crate::web::scim::{Scim, ScimBody, answer, if_match};

type Answer = Result<HttpResponse, ScimError>;

/// The SCIM endpoints, served on every organization's root.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2")
            .guard(guard::fn_guard(crate::web::has_tenant))
            .app_data(web::PayloadConfig::new(crate::web::scim::MAX_BODY))
            .service(web::resource("/ServiceProviderConfig").route(web::get().to(config)))
            .service(web::resource("/ResourceTypes").route(web::get().to(resource_types)))
            .service(web::resource("/ResourceTypes/{id}").route(web::get().to(resource_type)))
            .service(web::resource("/Schemas").route(web::get().to(schemas)))
            .service(web::resource("/Schemas/{id}").route(web::get().to(schema)))
            .service(web::resource("/.search").route(web::post().to(search_all)))
            .service(
                web::resource("/Users")
                    .route(web::get().to(list_users))
                    .route(web::post().to(create_user)),
            )
            .service(web::resource("/Users/.search").route(web::post().to(search_users)))
            .service(
                web::resource("/Users/{id}")
                    .route(web::get().to(get_user))
                    .route(web::put().to(replace_user))
                    .route(web::patch().to(patch_user))
                    .route(web::delete().to(delete_user)),
            )
            .service(
                web::resource("/Groups")
                    .route(web::get().to(list_groups))
                    .route(web::post().to(create_group)),
            )
            .service(web::resource("/Groups/.search").route(web::post().to(search_groups)))
            .service(
                web::resource("/Groups/{id}")
                    .route(web::get().to(get_group))
                    .route(web::put().to(replace_group))
                    .route(web::patch().to(patch_group))
                    .route(web::delete().to(delete_group)),
            )
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ScimError::not_found("resource"))
            })),
    );
}

/// A list's parameters, from the query string or a search's body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// What a list asks for, read.
struct Asked {
    filter: Option<Filter>,
    start: u64,
    count: u64,
    attributes: Vec<String>,
    excluded: Vec<String>,
}

fn number(text: Option<&str>, field: &str) -> Result<Option<i64>, ScimError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t.parse::<i64>().map(Some).map_err(|_| {
            ScimError::bad("invalidValue", format!("{field}: must be a whole number"))
        }),
    }
}

fn split(list: Option<&str>) -> Vec<String> {
    list.map(|l| {
        l.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

impl ListQuery {
    fn read(self) -> Result<Asked, ScimError> {
        let filter = match self.filter.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Some(Filter::parse(text)?),
            _ => None,
        };
        let start = number(self.start_index.as_deref(), "startIndex")?
            .unwrap_or(1)
            .max(1);
        let count = number(self.count.as_deref(), "count")?
            .unwrap_or(100)
            .clamp(0, i64::try_from(MAX_COUNT).unwrap_or(200));
        Ok(Asked {
            filter,
            start: u64::try_from(start).unwrap_or(1),
            count: u64::try_from(count).unwrap_or(0),
            attributes: split(self.attributes.as_deref()),
            excluded: split(self.excluded_attributes.as_deref()),
        })
    }

    fn of(req: &HttpRequest) -> Result<Asked, ScimError> {
        serde_urlencoded::from_str::<Self>(req.query_string())
            .map_err(|e| ScimError::bad("invalidSyntax", format!("the query string: {e}")))?
            .read()
    }

    /// A SearchRequest body (`attributes` as lists, `startIndex` and `count` as numbers).
    fn of_search(body: &Value) -> Result<Asked, ScimError> {
        if get_ci(body, "filter").is_some_and(|f| !f.is_string() && !f.is_null()) {
            return Err(ScimError::bad("invalidFilter", "filter: must be a string"));
        }
        let text = |key: &str| {
            get_ci(body, key)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let numeric = |key: &str| {
            get_ci(body, key).map(|v| match v {
                Value::Number(n) => n.to_string(),
                other => other.as_str().unwrap_or_default().to_string(),
            })
        };
        let list = |key: &str| {
            get_ci(body, key).map(|v| match v {
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.as_str().unwrap_or_default().to_string(),
            })
        };
        Self {
            filter: text("filter"),
            start_index: numeric("startIndex"),
            count: numeric("count"),
            attributes: list("attributes"),
            excluded_attributes: list("excludedAttributes"),
        }
        .read()
    }
}

fn project(mut resources: Vec<Value>, asked: &Asked) -> Vec<Value> {
    for resource in &mut resources {
        discovery::project(resource, &asked.attributes, &asked.excluded);
    }
    resources
}

fn one(status: StatusCode, asked: &Asked, mut resource: Value) -> HttpResponse {
    discovery::project(&mut resource, &asked.attributes, &asked.excluded);
    answer(status, &resource)
}

/// Whether a Group's members are wanted (not excluded, nor left out of `attributes`).
fn wants_members(asked: &Asked) -> bool {
    let named = |list: &[String]| list.iter().any(|a| a.eq_ignore_ascii_case("members"));
    !named(&asked.excluded) && (asked.attributes.is_empty() || named(&asked.attributes))
}

async fn config(scim: Scim, state: web::Data<AppState>) -> Answer {
    let scx = scim.begin(&state, false).await?;
    Ok(answer(
        StatusCode::OK,
        &discovery::service_provider_config(&scx.base),
    ))
}

async fn resource_types(scim: Scim, state: web::Data<AppState>) -> Answer {
    let scx = scim.begin(&state, false).await?;
    let all = discovery::resource_types(&scx.base);
    let total = all.len() as u64;
    Ok(answer(StatusCode::OK, &discovery::list(all, total, 1)))
}

async fn resource_type(scim: Scim, state: web::Data<AppState>, id: web::Path<String>) -> Answer {
    let scx = scim.begin(&state, false).await?;
    discovery::resource_types(&scx.base)
        .into_iter()
        .find(|t| t["id"] == id.as_str())
        .map(|t| answer(StatusCode::OK, &t))
        .ok_or_else(|| ScimError::not_found("resource type"))
}

async fn schemas(scim: Scim, state: web::Data<AppState>) -> Answer {
    let scx = scim.begin(&state, false).await?;
    let all = discovery::schemas(&scx.base);
    let total = all.len() as u64;
    Ok(answer(StatusCode::OK, &discovery::list(all, total, 1)))
}

async fn schema(scim: Scim, state: web::Data<AppState>, id: web::Path<String>) -> Answer {
    let scx = scim.begin(&state, false).await?;
    discovery::schemas(&scx.base)
        .into_iter()
        .find(|s| s["id"] == id.as_str())
        .map(|s| answer(StatusCode::OK, &s))
        .ok_or_else(|| ScimError::not_found("schema"))
}

async fn list_users(scim: Scim, state: web::Data<AppState>, req: HttpRequest) -> Answer {
    let scx = scim.begin(&state, false).await?;
    users_page(&scx, &ListQuery::of(&req)?).await
}

async fn search_users(scim: Scim, state: web::Data<AppState>, body: ScimBody) -> Answer {
    let scx = scim.begin(&state, false).await?;
    users_page(&scx, &ListQuery::of_search(&body.value()?)?).await
}

async fn users_page(scx: &ScimTxn, asked: &Asked) -> Answer {
    let (found, total) = users::list(scx, asked.filter.as_ref(), asked.start, asked.count).await?;
    let page = discovery::list(project(found, asked), total, asked.start);
    Ok(answer(StatusCode::OK, &page))
}

/// `POST /.search`: Users, then Groups, as one list.
async fn search_all(scim: Scim, state: web::Data<AppState>, body: ScimBody) -> Answer {
    let scx = scim.begin(&state, false).await?;
    let asked = ListQuery::of_search(&body.value()?)?;
    let filter = asked.filter.as_ref();
    let (mut found, user_total) = users::list(&scx, filter, asked.start, asked.count).await?;
    let left = asked.count.saturating_sub(found.len() as u64);
    let group_start = asked.start.saturating_sub(user_total).max(1);
    let (more, group_total) =
        groups::list(&scx, filter, group_start, left, wants_members(&asked)).await?;
    found.extend(more);
    let page = discovery::list(
        project(found, &asked),
        user_total + group_total,
        asked.start,
    );
    Ok(answer(StatusCode::OK, &page))
}

async fn get_user(
    scim: Scim,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Answer {
    let scx = scim.begin(&state, false).await?;
    let asked = ListQuery::of(&req)?;
    Ok(one(StatusCode::OK, &asked, users::get(&scx, &id).await?))
}

async fn create_user(
    scim: Scim,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ScimBody,
) -> Answer {
    let scx = scim.begin(&state, true).await?;
    let asked = ListQuery::of(&req)?;
    let input = users::Input::read(&body.value()?)?;
    let user = users::create(&state, &scx, input).await?;
    scx.tx.commit().await?;
    Ok(one(StatusCode::CREATED, &asked, user))
}

async fn replace_user(
    scim: Scim,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
    body: ScimBody,
) -> Answer {
    let scx = scim.begin(&state, true).await?;
    let asked = ListQuery::of(&req)?;
    let input = users::Input::read(&body.value()?)?;
    let user = users::save(&state, &scx, &id, input, if_match(&req).as_deref()).await?;
    scx.tx.commit().await?;
    Ok(one(StatusCode::OK, &asked, user))
}

async fn patch_user(
    scim: Scim,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
    body: ScimBody,
) -> Answer {
    let scx = scim.begin(&state, true).await?;
    let asked = ListQuery::of(&req)?;
    let user = users::patch(&state, &scx, &id, &body.value()?, if_match(&req).as_deref()).await?;
    scx.tx.commit().await?;
    Ok(one(StatusCode::OK, &asked, user))
}

async fn delete_user(
    scim: Scim,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Answer {
    let scx = scim.begin(&state, true).await?;
    users::delete(&scx, &id, if_match(&req).as_deref()).await?;
    scx.tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_groups(scim: Scim, state: web::Data<AppState>, req: HttpRequest) -> Answer {
    let scx = scim.begin(&state, false).await?;
    groups_page(&scx, &ListQuery::of(&req)?).await
}

async fn search_groups(scim: Scim, state: web::Data<AppState>, body: ScimBody) -> Answer {
    let scx = scim.begin(&state, false).await?;
    groups_page(&scx, &ListQuery::of_search(&body.value()?)?).await
}

async fn groups_page(scx: &ScimTxn, asked: &Asked) -> Answer {
    let filter = asked.filter.as_ref();
    let (found, total) =
        groups::list(scx, filter, asked.start, asked.count, wants_members(asked)).await?;
    let page = discovery::list(project(found, asked), total, asked.start);
    Ok(answer(StatusCode::OK, &page))
}

async fn get_group(
    scim: Scim,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Answer {
    let scx = scim.begin(&state, false).await?;
    let asked = ListQuery::of(&req)?;
    Ok(one(
        StatusCode::OK,
        &asked,
        groups::get(&scx, &id, wants_members(&asked)).await?,
    ))
}

async fn create_group(scim: Scim, state: web::Data<AppState>, body: ScimBody) -> Answer {
    let scx = scim.begin(&state, true).await?;
    let input = groups::Input::read(&body.value()?)?;
    let group = groups::create(&scx, input).await?;
    scx.tx.commit().await?;
    Ok(answer(StatusCode::CREATED, &group))
}

async fn replace_group(
    scim: Scim,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
    body: ScimBody,
) -> Answer {
    let scx = scim.begin(&state, true).await?;
    let input = groups::Input::read(&body.value()?)?;
    let group = groups::save(&scx, &id, input, if_match(&req).as_deref()).await?;
    scx.tx.commit().await?;
    Ok(answer(StatusCode::OK, &group))
}

async fn patch_group(
    scim: Scim,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
    body: ScimBody,
) -> Answer {
    let scx = scim.begin(&state, true).await?;
    let group = groups::patch(&scx, &id, &body.value()?, if_match(&req).as_deref()).await?;
    scx.tx.commit().await?;
    Ok(answer(StatusCode::OK, &group))
}

async fn delete_group(
    scim: Scim,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Answer {
    let scx = scim.begin(&state, true).await?;
    groups::delete(&scx, &id, if_match(&req).as_deref()).await?;
    scx.tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
