//! The "Email domains and single sign-on" settings section (`/settings/sso/`): the
//! organization's email domains (added, verified by their `_orgs-email` TXT record, how people
//! join by them) and its OpenID Connect connection. Thin: the rules are
//! `organizations::email_domains`' and `sso::connection`'s.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::person_only;
use crate::error::{AppError, FieldErrors};
use crate::organizations::billing;
use crate::organizations::email_domains::{self, EmailDomainError, JoinMode};
use crate::organizations::roles;
use crate::routes::sso_api::{EmailDomain, email_domain_view};
use crate::sso::connection;
use crate::state::AppState;
use crate::tenancy::TenantTxn;
use crate::web::forms::{Choice, ChoiceGroup};
use crate::web::render::redirect;
use crate::web::{Tenant, TenantCtx, flash, render};

/// A role as a select offers it.
#[derive(Serialize)]
struct RoleOption {
    value: String,
    label: String,
}

/// The connection form as shown again (never the secret).
#[derive(Debug, Default, Serialize)]
struct ConnectionForm {
    issuer: String,
    client_id: String,
    domains: Vec<String>,
    role: String,
    enforced: bool,
    trust_idp_mfa: bool,
}

impl ConnectionForm {
    fn from_pairs(pairs: &[(String, String)]) -> (Self, Option<String>) {
        let mut form = Self::default();
        let mut secret = None;
        for (key, value) in pairs {
            match key.as_str() {
                "issuer" => form.issuer = value.clone(),
                "client_id" => form.client_id = value.clone(),
                "client_secret" if !value.trim().is_empty() => secret = Some(value.clone()),
                "domains" => form.domains.push(value.clone()),
                "role" => form.role = value.clone(),
                "enforced" => form.enforced = true,
                "trust_idp_mfa" => form.trust_idp_mfa = true,
                _ => {}
            }
        }
        (form, secret)
    }
}

/// What the page shows beside the rows: a form shown again with its errors.
#[derive(Default)]
struct Shown {
    domain: String,
    connection: Option<ConnectionForm>,
    errors: FieldErrors,
}

async fn sso_page(
    req: &HttpRequest,
    state: &AppState,
    tx: &TenantTxn,
    tenant: &Tenant,
    shown: Shown,
) -> Result<HttpResponse, AppError> {
    let domains: Vec<EmailDomain> = email_domains::list(tx)
        .await?
        .into_iter()
        .map(email_domain_view)
        .collect();
    let roles: Vec<RoleOption> = roles::assignable(tx, &state.permissions)
        .await?
        .into_iter()
        .map(|r| RoleOption {
            value: r.key,
            label: r.name,
        })
        .collect();
    let organization = tenant.organization();
    let entitled = billing::has_feature(organization, "sso");
    let public = &state.settings.server.public_url;
    let saved = connection::get(tx).await?;
    let view = saved
        .as_ref()
        .map(|row| connection::view(row, public, &organization.slug));
    let form = shown.connection.unwrap_or_else(|| match &view {
        Some(v) => ConnectionForm {
            issuer: v.issuer.clone(),
            client_id: v.client_id.clone(),
            domains: v.domains.clone(),
            role: v.role.clone(),
            enforced: v.enforced,
            trust_idp_mfa: v.trust_idp_mfa,
        },
        None => ConnectionForm {
            role: "member".into(),
            ..Default::default()
        },
    });
    let choices = vec![ChoiceGroup {
        name: String::new(),
        items: domains
            .iter()
            .filter(|d| d.state == email_domains::state::VERIFIED)
            .map(|d| Choice {
                value: d.domain.clone(),
                label: d.domain.clone(),
                note: String::new(),
                disabled: false,
            })
            .collect(),
    }];
    let page = super::sections::page("settings/sso.html", tenant, "sso")
        .with("domains", domains)
        .with("roles", roles)
        .with("entitled", entitled)
        .with("connection", view)
        .with("redirect_uri", connection::redirect_uri(public))
        .with("connection_form", form)
        .with("domain_choices", choices)
        .with("new_domain", shown.domain)
        .with("errors", shown.errors);
    render(req, page).await
}

/// `GET /settings/sso/`
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    sso_page(&req, &state, &tx, &tenant, Shown::default()).await
}

/// The form that adds an email domain.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DomainForm {
    domain: String,
}

/// `POST /settings/sso/domains/`
pub async fn add_domain(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: crate::web::Form<DomainForm>,
    TenantCtx { tenant, mut tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let domain = form.into_inner().domain;
    let errors = match email_domains::add(&tx, state.db.connection(), &domain).await {
        Ok(_) => {
            flash::success(
                &session,
                "Domain added. Publish its TXT record, then verify it.",
            );
            return Ok(redirect(&tenant.url("/settings/sso/")));
        }
        // A conflict on the API; beside its field on the page.
        Err(error @ EmailDomainError::Taken) => {
            let mut errors = FieldErrors::new();
            crate::web::forms::add(&mut errors, "domain", error.to_string());
            errors
        }
        Err(error) => AppError::from(error).into_fields()?,
    };
    tx.read_again(&tenant).await?;
    let shown = Shown {
        domain,
        errors,
        ..Default::default()
    };
    sso_page(&req, &state, &tx, &tenant, shown).await
}

/// `POST /settings/sso/domains/{id}/verify/`
pub async fn verify_domain(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<i64>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let back = tenant.url("/settings/sso/");
    match email_domains::verify(&tx, state.dns.as_ref(), *id).await {
        Ok(row) if row.state == email_domains::state::VERIFIED => {
            tx.commit().await?;
            flash::success(&session, format!("{} is verified.", row.domain));
        }
        Ok(row) => {
            tx.commit().await?;
            flash::push(
                &session,
                "error",
                format!(
                    "The TXT record of {} is gone: the domain is pending again.",
                    row.domain
                ),
            );
        }
        Err(error @ EmailDomainError::NotVerified { .. }) => {
            tx.commit().await?;
            flash::push(&session, "error", error.to_string());
        }
        Err(error @ (EmailDomainError::Taken | EmailDomainError::Lookup(_))) => {
            flash::push(&session, "error", error.to_string());
        }
        Err(other) => return Err(other.into()),
    }
    Ok(redirect(&back))
}

/// The form that sets how people join by a domain.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JoinForm {
    join: String,
    role: String,
}

/// `POST /settings/sso/domains/{id}/join/`: fields `join` and `role`.
pub async fn set_join(
    session: Session,
    id: web::Path<i64>,
    form: crate::web::Form<JoinForm>,
    TenantCtx {
        tenant, tx, grant, ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let JoinForm { join, role } = form.into_inner();
    let join = match join.as_str() {
        "off" => JoinMode::Off,
        "suggest" => JoinMode::Suggest,
        "automatic" => JoinMode::Automatic,
        _ => return Err(AppError::field("join", "choose off, suggest or automatic")),
    };
    let role = Some(role).filter(|r| !r.is_empty() && r != "member");
    match email_domains::set_join(&tx, &grant, *id, Some(join), Some(role)).await {
        Ok(row) => {
            tx.commit().await?;
            flash::success(
                &session,
                format!("People at {} now join: {}.", row.domain, row.join_mode),
            );
        }
        Err(error @ (EmailDomainError::NotVerifiedYet | EmailDomainError::Role(_))) => {
            flash::push(&session, "error", error.to_string());
        }
        Err(other) => return Err(other.into()),
    }
    Ok(redirect(&tenant.url("/settings/sso/")))
}

/// `POST /settings/sso/domains/{id}/delete/`
pub async fn delete_domain(
    session: Session,
    id: web::Path<i64>,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    if !email_domains::remove(&tx, *id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    flash::success(&session, "Email domain removed.");
    Ok(redirect(&tenant.url("/settings/sso/")))
}

/// `POST /settings/sso/connection/`
pub async fn save_connection(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: crate::web::Form<Vec<(String, String)>>,
    TenantCtx {
        tenant,
        mut tx,
        grant,
        ..
    }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    let (shown, secret) = ConnectionForm::from_pairs(&form);
    let input = connection::Settings {
        issuer: shown.issuer.clone(),
        client_id: shown.client_id.clone(),
        client_secret: secret,
        domains: shown.domains.clone(),
        role: Some(shown.role.clone()),
        enforced: shown.enforced,
        trust_idp_mfa: shown.trust_idp_mfa,
    };
    let insecure = state.sso.allows_insecure();
    match connection::put(&tx, &grant, &state.sealer, insecure, input).await {
        Ok(_) => {
            tx.commit().await?;
            flash::success(&session, "Single sign-on saved.");
            Ok(redirect(&tenant.url("/settings/sso/")))
        }
        Err(error) => {
            let errors = AppError::from(error).into_fields()?;
            tx.read_again(&tenant).await?;
            let shown = Shown {
                connection: Some(shown),
                errors,
                ..Default::default()
            };
            sso_page(&req, &state, &tx, &tenant, shown).await
        }
    }
}

/// `POST /settings/sso/connection/delete/`
pub async fn delete_connection(
    session: Session,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    connection::remove(&tx).await?;
    tx.commit().await?;
    flash::success(&session, "Single sign-on removed.");
    Ok(redirect(&tenant.url("/settings/sso/")))
}
