//! The "SCIM provisioning" settings section (`/settings/scim/`): the organization's SCIM base
//! URL, its tokens (a new one shown once) and the roles of the groups its directory provisioned.
//! Thin: the rules are `scim::tokens`' and `scim::mapping`'.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::person_only;
use crate::error::AppError;
use crate::organizations::roles;
use crate::scim::{mapping, tokens};
use crate::state::AppState;
use crate::web::render::redirect;
use crate::web::{TenantCtx, flash, render};

use crate::web::flash::NEW_SCIM_TOKEN as NEW_TOKEN;

/// A role as the group forms offer it.
#[derive(Serialize)]
struct RoleOption {
    value: String,
    label: String,
}

/// `GET /settings/scim/`
pub async fn show(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let new_token = flash::take_once::<String>(&session, NEW_TOKEN);
    let roles: Vec<RoleOption> = roles::assignable(&tx, &state.permissions)
        .await?
        .into_iter()
        .map(|r| RoleOption {
            value: r.key,
            label: r.name,
        })
        .collect();
    let client =
        crate::web::client::Client::of_request(&req, &state.settings.server.trusted_proxies);
    let base = format!(
        "{}://{}{}",
        client.scheme,
        client.host,
        tenant.url("/scim/v2")
    );
    let page = super::sections::page("settings/scim.html", &tenant, "scim")
        .with("tokens", tokens::list(&tx).await?)
        .with("groups", mapping::views(&tx).await?)
        .with("roles", roles)
        .with("new_token", new_token)
        .with("scim_base", base);
    render(&req, page).await
}

/// `POST /settings/scim/tokens/`: makes a token (a fresh sign-in first), shown once.
pub async fn create_token(
    req: HttpRequest,
    session: Session,
    form: crate::web::Form<Vec<(String, String)>>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let maker = person_only(&tenant)?;
    tenant.require_recent(&req, "/settings/scim/")?;
    let name = form
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    match tokens::create(&tx, name, maker).await {
        Ok((_, secret)) => {
            session
                .insert(NEW_TOKEN, secret)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            flash::success(&session, "SCIM token created.");
        }
        Err(AppError::Invalid { message, .. }) => flash::error(&session, message),
        Err(other) => return Err(other),
    }
    Ok(redirect(&tenant.url("/settings/scim/")))
}

/// `POST /settings/scim/tokens/{id}/revoke/`
pub async fn revoke_token(
    session: Session,
    id: web::Path<i64>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    if !tokens::revoke_for(&tx, &grant, id.into_inner()).await? {
        return Err(AppError::NotFound);
    }
    flash::success(
        &session,
        "SCIM token revoked: the directory using it is refused.",
    );
    Ok(redirect(&tenant.url("/settings/scim/")))
}

/// `POST /settings/scim/groups/{id}/roles/`: the roles ticked (none: no roles).
pub async fn set_group_roles(
    session: Session,
    id: web::Path<String>,
    form: crate::web::Form<Vec<(String, String)>>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let setter = person_only(&tenant)?;
    let keys: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "roles")
        .map(|(_, v)| v.clone())
        .collect();
    match mapping::set_roles(&tx, &grant, &id, &keys, Some(setter)).await {
        Ok(view) => flash::success(
            &session,
            format!("The roles of “{}” are saved.", view.display_name),
        ),
        Err(AppError::NotFound) => return Err(AppError::NotFound),
        Err(error @ (AppError::Invalid { .. } | AppError::MissingPermission(_))) => {
            flash::error(&session, crate::text::capitalized(&error.to_string()));
        }
        Err(other) => return Err(other),
    }
    Ok(redirect(&tenant.url("/settings/scim/")))
}
