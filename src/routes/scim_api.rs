//! SCIM tokens (`/api/v1/scim-tokens/`) and the roles of the directory's groups
//! (`/api/v1/scim-groups/`), as JSON, for holders of `sso.manage`. Thin: the rules are
//! `scim::tokens`' and `scim::groups`'.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::settings::person_only;
use crate::error::AppError;
use crate::scim::mapping::{self as groups, GroupView};
use crate::scim::tokens::{self, TokenView};
use crate::web::{Json, TenantCtx};

/// `POST /api/v1/scim-tokens/` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewScimToken)]
pub struct NewToken {
    /// What the token is for (the directory: "Entra ID").
    #[schema(min_length = 1, max_length = 100, example = "Entra ID")]
    name: String,
}

/// A token just made, its secret shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CreatedScimToken)]
pub struct Created {
    /// The token.
    #[serde(flatten)]
    view: TokenView,
    /// The secret (`orgs_scim_...`): give it to the directory; it is kept only as a hash.
    /// `null` when the answer is given again to a retry with the same `Idempotency-Key`
    /// (`Idempotent-Redacted: token`): make a new token if the first answer was lost.
    token: Option<String>,
}

/// List the SCIM tokens
#[utoipa::path(
    get,
    path = "/api/v1/scim-tokens/",
    tag = "scim",
    operation_id = "list_scim_tokens",
    responses((status = 200, description = "The working tokens, newest first.", body = Vec<TokenView>)),
)]
pub async fn list(TenantCtx { tenant, tx, .. }: TenantCtx) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    Ok(HttpResponse::Ok().json(tokens::list(&tx).await?))
}

/// Make a SCIM token
///
/// The token works at `/scim/v2/` of this organization while its maker holds `sso.manage`.
#[utoipa::path(
    post,
    path = "/api/v1/scim-tokens/",
    tag = "scim",
    operation_id = "create_scim_token",
    request_body = NewToken,
    responses((status = 201, description = "Made; the secret is in this answer only.", body = Created)),
)]
pub async fn create(
    req: HttpRequest,
    body: Json<NewToken>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let maker = person_only(&tenant)?;
    // Whoever holds the token controls who is in the organization: a fresh sign-in first.
    tenant.require_recent(&req, "/settings/scim/")?;
    let (view, token) = tokens::create(&tx, &body.name, maker).await?;
    let mut response = HttpResponse::build(StatusCode::CREATED).json(Created {
        view,
        token: Some(token),
    });
    response
        .extensions_mut()
        .insert(crate::web::idempotency::ShownOnce(&["token"]));
    Ok(response)
}

/// Revoke a SCIM token
#[utoipa::path(
    delete,
    path = "/api/v1/scim-tokens/{id}/",
    tag = "scim",
    operation_id = "revoke_scim_token",
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = "No such working token.", body = crate::error::ErrorBody),
    ),
)]
pub async fn revoke(
    id: web::Path<i64>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    if !tokens::revoke_for(&tx, &grant, id.into_inner()).await? {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// List the directory's groups
#[utoipa::path(
    get,
    path = "/api/v1/scim-groups/",
    tag = "scim",
    operation_id = "list_scim_groups",
    responses((status = 200, description = "The groups the directory provisioned, by name, with their roles.", body = Vec<GroupView>)),
)]
pub async fn list_groups(
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    Ok(HttpResponse::Ok().json(groups::views(&tx).await?))
}

/// `PUT /api/v1/scim-groups/{id}/roles/` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ScimGroupRoles)]
pub struct GroupRoles {
    /// The role keys the group's members get (none: no roles); only roles you could grant,
    /// never `owner`.
    #[schema(example = json!(["admin"]))]
    roles: Vec<String>,
}

/// Map a group to roles
#[utoipa::path(
    put,
    path = "/api/v1/scim-groups/{id}/roles/",
    tag = "scim",
    operation_id = "set_scim_group_roles",
    params(("id" = String, Path, description = "The group's SCIM id")),
    request_body = GroupRoles,
    responses(
        (status = 200, description = "Set; its members' roles follow at once.", body = GroupView),
        (status = 403, description = "A role holds a permission you lack.", body = crate::error::ErrorBody),
        (status = 422, description = "An unknown role, or `owner`.", body = crate::error::ErrorBody),
    ),
)]
pub async fn set_group_roles(
    id: web::Path<String>,
    body: Json<GroupRoles>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    let setter = person_only(&tenant)?;
    let view = groups::set_roles(&tx, &grant, &id, &body.roles, Some(setter)).await?;
    Ok(HttpResponse::Ok().json(view))
}
