//! Who may speak SCIM to an organization: one of its SCIM tokens and nothing else (no cookie,
//! API key or personal token is looked at: `web::scim` reads the request). A token is looked up
//! in the organization of the URL only, so another organization's is unknown there (401, unlike
//! an API key's 404: a directory must learn that its token is wrong). It works while its maker
//! holds `sso.manage` here, and its authority is theirs: what they could grant, read in the same
//! transaction as the change. [`open`] is the SCIM handlers' one way to the organization's
//! rows, the audit log naming the token as actor `scim`.

use std::sync::Arc;

use entity::organization;

use super::{ScimError, tokens};
use crate::permissions::Catalog;
use crate::state::AppState;
use crate::tenancy::{Actor, Grant, TenantTxn, door};

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

/// Opens `organization`'s transaction (one that writes for `write`) and checks the token
/// `secret` in it: one of this organization's, not revoked, its maker holding `sso.manage`
/// here. `actor` is the request's (its address, user agent and id); the token names it.
pub async fn open(
    state: &AppState,
    organization: &organization::Model,
    secret: &str,
    actor: &Actor,
    base: String,
    write: bool,
) -> Result<ScimTxn, ScimError> {
    #[expect(
        clippy::disallowed_methods,
        reason = "the request's own organization, resolved; its SCIM token is checked next, in this transaction"
    )]
    let tx = door::request(
        &state.db,
        &state.events,
        &state.outbox,
        organization,
        write,
        Actor::system("scim"),
    )
    .await?;
    let token = tokens::find(&tx, secret)
        .await?
        .ok_or_else(ScimError::unauthorized)?;
    let catalog: Arc<Catalog> = state.permissions.clone();
    let holds = crate::organizations::grants::scim_token_holds(&tx, &catalog, token.id).await?;
    if holds.is_empty() {
        return Err(ScimError::unauthorized());
    }
    if write {
        tokens::touch(&tx, &token).await?;
    }
    let actor = Actor {
        id: Some(token.id),
        name: token.name.clone(),
        ..actor.clone()
    };
    #[expect(
        clippy::disallowed_methods,
        reason = "the SCIM token was checked: its maker's permissions, read in this transaction"
    )]
    let grant = Grant::new(catalog, holds);
    Ok(ScimTxn {
        tx: tx.acting_for(actor),
        grant,
        base,
    })
}
