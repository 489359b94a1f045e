//! Who may speak SCIM to an organization: a request resolved to it (its host, or `/o/{slug}/`)
//! carrying one of its SCIM tokens, and nothing else: no cookie, API key or personal token is
//! looked at, and a token of another organization is unknown here (401, unlike an API key's
//! 404: a directory must learn that its token is wrong). The token works while its maker holds
//! `sso.manage` here, and its authority is theirs (what they could grant, checked in the same
//! transaction as the change); the plan must include `scim`. [`Scim::begin`] is the SCIM
//! handlers' one way to the organization's rows, the audit log naming the token as actor `scim`.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use entity::organization;

use super::{ScimError, tokens};
use crate::permissions::Catalog;
use crate::state::AppState;
use crate::tenancy::{Actor, ActorKind, Grant, TenantTxn, door};
use crate::web::ResolvedTenant;

/// A SCIM request of an organization, before its token is checked (in [`Scim::begin`]).
#[derive(Clone, Debug)]
pub struct Scim {
    organization: organization::Model,
    secret: String,
    base: String,
    actor: Actor,
}

/// A SCIM request's transaction, its token checked: the organization's rows, and what the
/// token's maker may grant.
#[derive(Debug)]
pub struct ScimTxn {
    /// The transaction (actor `scim`, the token's id).
    pub tx: TenantTxn,
    /// What the token's maker holds here: the most the directory may grant.
    pub grant: Grant,
    /// `https://acme.example.com/scim/v2`: what `meta.location` starts with.
    pub base: String,
}

impl FromRequest for Scim {
    type Error = ScimError;
    type Future = Ready<Result<Self, ScimError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(scim_of(req))
    }
}

fn scim_of(req: &HttpRequest) -> Result<Scim, ScimError> {
    let resolved = req
        .extensions()
        .get::<ResolvedTenant>()
        .cloned()
        .ok_or_else(|| ScimError::not_found("organization"))?;
    // An organization API key is no SCIM token.
    if resolved.api_key.is_some() {
        return Err(ScimError::unauthorized());
    }
    let secret = crate::web::user::bearer(req)
        .filter(|s| s.starts_with(tokens::PREFIX))
        .ok_or_else(ScimError::unauthorized)?
        .to_string();
    if !crate::organizations::billing::has_feature(&resolved.organization, "scim") {
        return Err(ScimError::new(
            StatusCode::FORBIDDEN,
            None,
            "this organization's plan does not include SCIM provisioning",
        ));
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ScimError::from(crate::error::AppError::Internal(anyhow::anyhow!(
            "AppState is not registered"
        ))))?;
    let client = crate::web::client::Client::of_request(req, &state.settings.server.trusted_proxies);
    let base = format!(
        "{}://{}{}/scim/v2",
        client.scheme, client.host, resolved.root
    );
    let actor = crate::web::tenant::request_actor(
        req,
        ActorKind::Scim,
        None,
        String::new(),
        client.ip_text(),
    );
    Ok(Scim {
        organization: resolved.organization,
        secret,
        base,
        actor,
    })
}

impl Scim {
    /// The organization.
    pub fn organization(&self) -> &organization::Model {
        &self.organization
    }

    /// Opens the organization's transaction (one that writes for `write`) and checks the token
    /// in it: one of this organization's, not revoked, its maker holding `sso.manage` here.
    pub async fn begin(&self, state: &AppState, write: bool) -> Result<ScimTxn, ScimError> {
        #[expect(
            clippy::disallowed_methods,
            reason = "the request's own organization, resolved; its SCIM token is checked next, in this transaction"
        )]
        let tx = door::request(
            &state.db,
            &state.events,
            &state.outbox,
            &self.organization,
            write,
            Actor::system("scim"),
        )
        .await?;
        let token = tokens::find(&tx, &self.secret)
            .await?
            .ok_or_else(ScimError::unauthorized)?;
        let catalog: Arc<Catalog> = state.permissions.clone();
        let holds =
            crate::organizations::grants::scim_token_holds(&tx, &catalog, token.id).await?;
        if holds.is_empty() {
            return Err(ScimError::unauthorized());
        }
        if write {
            tokens::touch(&tx, &token).await?;
        }
        let actor = Actor {
            id: Some(token.id),
            name: token.name.clone(),
            ..self.actor.clone()
        };
        #[expect(
            clippy::disallowed_methods,
            reason = "the SCIM token was checked: its maker's permissions, read in this transaction"
        )]
        let grant = Grant::new(catalog, holds);
        Ok(ScimTxn {
            tx: tx.acting_for(actor),
            grant,
            base: self.base.clone(),
        })
    }
}
