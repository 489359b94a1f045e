//! The "Webhooks" settings section: the endpoints (`/settings/webhooks/`, where one is added)
//! and each endpoint's page (`/settings/webhooks/{id}/`: its settings, secret, test event and
//! delivery log, one delivery opened with what was sent and answered). Thin: the rules are
//! `webhooks::endpoints`' and `webhooks::log`'.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::error::AppError;
use crate::state::AppState;
use crate::web::flash::NEW_WEBHOOK_SECRET as NEW_SECRET;
use crate::web::render::redirect;
use crate::web::{Form, Query, TenantCtx, flash, render};
use crate::webhooks::endpoints::{self, Changes, EndpointView, NewEndpoint};
use crate::webhooks::log;

/// The values of `key` in a form.
fn all(form: &[(String, String)], key: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The value of `key` in a form.
fn one(form: &[(String, String)], key: &str) -> String {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Shows `error` on the next page when it is the person's to fix; other errors stay errors.
fn told(session: &Session, error: AppError) -> Result<(), AppError> {
    match error {
        AppError::Invalid { message, .. } | AppError::Conflict(message) => {
            flash::error(session, message);
            Ok(())
        }
        other => Err(other),
    }
}

/// `GET /settings/webhooks/`
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let page = super::sections::page("settings/webhooks.html", &tenant, "webhooks")
        .with("endpoints", endpoints::list(&tx).await?)
        .with("event_types", state.sentences.actions())
        .with(
            "url_hint",
            if state.settings.webhooks.allow_insecure_urls {
                "Where events are posted. http:// is accepted on this server (development)."
            } else {
                "Where events are posted: an https:// address."
            },
        );
    render(&req, page).await
}

/// `POST /settings/webhooks/`: registers an endpoint; its page shows the secret once.
pub async fn create(
    session: Session,
    state: web::Data<AppState>,
    form: Form<Vec<(String, String)>>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let new = NewEndpoint {
        url: one(&form, "url"),
        description: one(&form, "description"),
        event_types: all(&form, "event_types"),
    };
    let maker = tenant.user().map(|u| u.id);
    match endpoints::create(&tx, &state.hooks(), &grant, new, maker).await {
        Ok((endpoint, secret)) => {
            session
                .insert(
                    NEW_SECRET,
                    (tx.organization_id().get(), endpoint.id, secret),
                )
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            flash::success(&session, "Endpoint added. Copy its signing secret now.");
            Ok(redirect(
                &tenant.url(&format!("/settings/webhooks/{}/", endpoint.id)),
            ))
        }
        Err(error) => {
            told(&session, error)?;
            Ok(redirect(&tenant.url("/settings/webhooks/")))
        }
    }
}

/// `GET /settings/webhooks/{id}/` query: the delivery opened, and the page of the log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shown {
    delivery: Option<i64>,
    before: Option<i64>,
}

/// `GET /settings/webhooks/{id}/`
pub async fn endpoint(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    shown: Query<Shown>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let row = endpoints::find(&tx, *id).await?.ok_or(AppError::NotFound)?;
    let deliveries = log::list(&tx, row.id, shown.0.before, 50).await?;
    let opened = match shown.0.delivery {
        Some(delivery) => log::detail(&tx, &grant, row.id, delivery).await?,
        None => None,
    };
    // The secret made or rotated on the way here: shown (and taken) on this endpoint's page
    // only.
    let mine = |(org, endpoint, _): &(i64, i64, String)| {
        *org == tx.organization_id().get() && *endpoint == row.id
    };
    let new_secret = match session.get::<(i64, i64, String)>(NEW_SECRET) {
        Ok(Some(held)) if mine(&held) => {
            flash::take_once::<(i64, i64, String)>(&session, NEW_SECRET).map(|(_, _, s)| s)
        }
        _ => None,
    };
    let opened = opened.map(|d| {
        let payload = serde_json::to_string_pretty(&d.payload).unwrap_or_default();
        let headers = d
            .request_headers
            .as_ref()
            .and_then(|h| serde_json::to_string_pretty(h).ok());
        serde_json::json!({"delivery": d, "payload": payload, "headers": headers})
    });
    let older = (deliveries.len() == 50)
        .then(|| deliveries.last().map(|d| d.id))
        .flatten();
    let page = super::sections::page("settings/webhook.html", &tenant, "webhooks")
        .with("endpoint", EndpointView::from(row))
        .with("deliveries", deliveries)
        .with("older", older)
        .with("opened", opened)
        .with("new_secret", new_secret)
        .with("event_types", state.sentences.actions());
    render(&req, page).await
}

/// `POST /settings/webhooks/{id}/`: saves the address, description, types and on/off.
pub async fn update(
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: Form<Vec<(String, String)>>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let changes = Changes {
        url: Some(one(&form, "url")),
        description: Some(one(&form, "description")),
        event_types: Some(all(&form, "event_types")),
        enabled: Some(one(&form, "enabled") == "on"),
    };
    match endpoints::update(&tx, &state.hooks(), &grant, *id, changes).await {
        Ok(_) => flash::success(&session, "Endpoint saved."),
        Err(error) => told(&session, error)?,
    }
    Ok(redirect(&tenant.url(&format!("/settings/webhooks/{id}/"))))
}

/// `POST /settings/webhooks/{id}/rotate/`: a new secret, shown once.
pub async fn rotate(
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let secret = endpoints::rotate(&tx, &state.hooks(), &grant, *id).await?;
    session
        .insert(NEW_SECRET, (tx.organization_id().get(), *id, secret))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    flash::success(
        &session,
        "Secret rotated: for 24 hours deliveries are signed with the old one too.",
    );
    Ok(redirect(&tenant.url(&format!("/settings/webhooks/{id}/"))))
}

/// `POST /settings/webhooks/{id}/test/`
pub async fn test(
    session: Session,
    id: web::Path<i64>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let name = tx.actor().name.clone();
    match log::send_test(&tx, *id, &name).await {
        Ok(_) => flash::success(&session, "Test event queued."),
        Err(error) => told(&session, error)?,
    }
    Ok(redirect(&tenant.url(&format!("/settings/webhooks/{id}/"))))
}

/// `POST /settings/webhooks/{id}/delete/`
pub async fn delete(
    session: Session,
    id: web::Path<i64>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    if !endpoints::delete(&tx, *id).await? {
        return Err(AppError::NotFound);
    }
    flash::success(&session, "Endpoint deleted.");
    Ok(redirect(&tenant.url("/settings/webhooks/")))
}

/// `POST /settings/webhooks/{id}/deliveries/{delivery_id}/redeliver/`
pub async fn redeliver(
    session: Session,
    path: web::Path<(i64, i64)>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let (id, delivery) = path.into_inner();
    match log::redeliver(&tx, id, delivery).await {
        Ok(true) => flash::success(&session, "Queued again."),
        Ok(false) => flash::error(&session, "That delivery is still waiting to be sent."),
        Err(error) => told(&session, error)?,
    }
    Ok(redirect(&tenant.url(&format!("/settings/webhooks/{id}/"))))
}

/// `POST /settings/webhooks/{id}/redeliver/`: every failed delivery since a day.
pub async fn redeliver_since(
    session: Session,
    id: web::Path<i64>,
    form: Form<Vec<(String, String)>>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let since = one(&form, "since");
    let Ok(day) = chrono::NaiveDate::parse_from_str(since.trim(), "%Y-%m-%d") else {
        flash::error(&session, "since: a day, as 2026-12-01");
        return Ok(redirect(&tenant.url(&format!("/settings/webhooks/{id}/"))));
    };
    let since = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    match log::redeliver_failed_since(&tx, *id, since).await {
        Ok(n) => flash::success(&session, format!("{n} failed deliveries queued again.")),
        Err(error) => told(&session, error)?,
    }
    Ok(redirect(&tenant.url(&format!("/settings/webhooks/{id}/"))))
}
