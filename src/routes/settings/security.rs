//! The Security settings section (`/settings/security/`): whether every member must sign in
//! with a second factor, with how many members it would stop (and who) said before it is
//! turned on. Changing it needs `security.manage` and a recent sign-in.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldErrors};
use crate::organizations::security;
use crate::web::render::redirect;
use crate::web::{Tenant, TenantCtx, flash, render};

use super::person_only;

/// How many of those without a factor the page names.
const NAMED: u64 = 20;

/// The section's form: the requirement's checkbox (absent when unticked).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SecurityForm {
    two_factor_required: Option<String>,
}

/// A member without a second factor, as the page names them.
#[derive(Serialize)]
struct Unprotected {
    user_id: i64,
    name: String,
    email: String,
}

async fn security_page(
    req: &HttpRequest,
    tx: &crate::tenancy::TenantTxn,
    tenant: &Tenant,
    errors: &FieldErrors,
) -> Result<HttpResponse, AppError> {
    let (without, first) = crate::tenancy::factors::members_without(tx, NAMED).await?;
    let first: Vec<Unprotected> = first
        .into_iter()
        .map(|(user_id, name, email)| Unprotected {
            user_id,
            name: if name.is_empty() { email.clone() } else { name },
            email,
        })
        .collect();
    let yours = tenant.credential().is_some_and(|c| c.has_second_factor());
    let page = super::sections::page("settings/security.html", tenant, "security")
        .form(SecurityForm::default(), errors)
        .with("without_factor", without)
        .with("more", without.saturating_sub(first.len() as u64))
        .with("named", first)
        .with("yours", yours);
    render(req, page).await
}

/// `GET /settings/security/`
pub async fn show(
    req: HttpRequest,
    TenantCtx { tenant, tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    security_page(&req, &tx, &tenant, &FieldErrors::new()).await
}

/// `POST /settings/security/`
pub async fn save(
    req: HttpRequest,
    session: Session,
    form: crate::web::Form<SecurityForm>,
    TenantCtx { tenant, mut tx, .. }: TenantCtx,
) -> Result<HttpResponse, AppError> {
    person_only(&tenant)?;
    tenant.require_recent(&req, "/settings/security/")?;
    let back = tenant.url("/settings/security/");
    let required = form.two_factor_required.is_some();
    let yours = tenant.credential().is_some_and(|c| c.has_second_factor());
    match security::set_two_factor_required(&tx, required, yours).await {
        Ok(_) => {
            flash::success(
                &session,
                if required {
                    "Every member now signs in with a second factor to reach this organization."
                } else {
                    "A second factor is no longer required here."
                },
            );
            Ok(redirect(&back))
        }
        Err(error) => {
            let errors = AppError::from(error).into_fields()?;
            tx.read_again(&tenant).await?;
            security_page(&req, &tx, &tenant, &errors).await
        }
    }
}
