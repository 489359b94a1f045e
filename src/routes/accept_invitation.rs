//! `/invitations/{token}/`, outside any tenant: the page an invitation link opens, and accepting
//! it (signed in with the invited address, or as a new person choosing a name and password) or
//! declining it.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::UserId;
use serde::{Deserialize, Serialize};

use crate::auth::users;
use crate::error::{AppError, FieldErrors};
use crate::invitations::AcceptError;
use crate::invitations::accept::{self, Offer};
use crate::state::AppState;
use crate::web::MaybeUser;
use crate::web::render::redirect;
use crate::web::{Page, flash, links, render};

/// What the accept form sends.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AcceptForm {
    action: String,
    name: String,
    #[serde(skip_serializing)]
    password: String,
}

fn refused(error: &AcceptError) -> Option<Page> {
    let status = match error {
        AcceptError::Unknown => StatusCode::NOT_FOUND,
        AcceptError::Expired | AcceptError::Revoked | AcceptError::Used => StatusCode::GONE,
        AcceptError::InviterLacks => StatusCode::FORBIDDEN,
        AcceptError::SeatLimit(_) => StatusCode::CONFLICT,
        _ => return None,
    };
    let reason = match error {
        // The seat counts are the organization's business, not the invitee's.
        AcceptError::SeatLimit(_) => "The organization has no free seat right now, so you cannot \
             join yet. Your invitation stays open: ask whoever invited you to free a seat, then \
             use the link again"
            .to_string(),
        other => crate::text::capitalized(&other.to_string()),
    };
    Some(
        Page::new("auth/token_invalid.html")
            .with("reason", reason)
            .with("retry_url", None::<String>)
            .status(status),
    )
}

fn accept_page(token: &str, offer: &Offer, form: &AcceptForm, errors: &FieldErrors) -> Page {
    let pending = &offer.pending;
    Page::new("invitations/accept.html")
        .with("token", token)
        .with("organization", &pending.organization)
        .with(
            "masked_email",
            accept::mask_email(&pending.invitation.email),
        )
        .with("inviter", &offer.shown.inviter)
        .with("roles", &offer.shown.roles)
        .with("form", form)
        .with("errors", errors)
}

async fn answer(req: &HttpRequest, error: AcceptError) -> Result<HttpResponse, AppError> {
    if let Some(page) = refused(&error) {
        return render(req, page).await;
    }
    match error {
        error @ (AcceptError::Db(_) | AcceptError::Other(_)) => Err(error.into()),
        other => Err(AppError::Forbidden(other.to_string())),
    }
}

/// `GET /invitations/{token}/`
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeUser(user): MaybeUser,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let offer = match accept::offer(&state.db, &token).await {
        Ok(offer) => offer,
        Err(error) => return answer(&req, error).await,
    };
    let invited = &offer.pending.invitation.email;
    let mut page = accept_page(&token, &offer, &AcceptForm::default(), &FieldErrors::new());
    match &user {
        Some(user) if !user.email.eq_ignore_ascii_case(invited) => {
            page = page
                .with("wrong_account", true)
                .status(StatusCode::FORBIDDEN);
        }
        Some(_) => page = page.with("can_accept", true),
        None => {
            let has_account = users::find_by_email(&state.db, invited).await?.is_some();
            page = page.with("sign_in_first", has_account);
        }
    }
    render(&req, page).await
}

/// `POST /invitations/{token}/`: `action=accept` (with `name` and `password` for a new person)
/// or `action=decline`.
pub async fn respond(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    MaybeUser(user): MaybeUser,
    token: web::Path<String>,
    form: crate::web::Form<AcceptForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if form.action == "decline" {
        return decline(&req, &state, &session, user.as_ref(), &token).await;
    }
    let outcome = match &user {
        Some(user) => state
            .invitation_backend
            .accept(state.flows(), &token, user)
            .await
            .map(|p| (p, None)),
        None => state
            .invitation_backend
            .accept_as_new_user(state.flows(), &token, &form.name, &form.password)
            .await
            .map(|(p, u)| (p, Some(u))),
    };
    match outcome {
        Ok((pending, new_user)) => {
            let user_id = match (&new_user, &user) {
                (Some(new_user), _) => {
                    super::sign_in::sign_in(
                        &req,
                        &state,
                        &session,
                        new_user.id(),
                        crate::auth::sessions::Proof::password(),
                    )
                    .await?;
                    new_user.id
                }
                (None, Some(user)) => user.id,
                (None, None) => return Err(AppError::Unauthorized),
            };
            flash::success(
                &session,
                format!("Welcome to {}!", pending.organization.name),
            );
            let landing = links::enter(
                &req,
                &state,
                UserId(user_id),
                &pending.organization.slug,
                "/",
            )
            .await?;
            Ok(redirect(&landing))
        }
        Err(error @ (AcceptError::Password(_) | AcceptError::Name(_))) => {
            let offer = match accept::offer(&state.db, &token).await {
                Ok(offer) => offer,
                Err(error) => return answer(&req, error).await,
            };
            let errors = AppError::from(error).into_fields()?;
            render(&req, accept_page(&token, &offer, &form, &errors)).await
        }
        Err(AcceptError::SignInFirst) => Ok(redirect(&format!(
            "/login/?{}",
            serde_urlencoded::to_string([("next", format!("/invitations/{token}/"))])
                .unwrap_or_default()
        ))),
        Err(error) => answer(&req, error).await,
    }
}

/// `action=decline`: the invitation stops working.
async fn decline(
    req: &HttpRequest,
    state: &AppState,
    session: &Session,
    user: Option<&entity::user::Model>,
    token: &str,
) -> Result<HttpResponse, AppError> {
    // Signed in as someone else, the link is not yours to decline either.
    if let Some(user) = user {
        match accept::lookup(&state.db, token).await {
            Ok(pending) if !pending.invitation.email.eq_ignore_ascii_case(&user.email) => {
                let masked = accept::mask_email(&pending.invitation.email);
                return answer(req, AcceptError::WrongAccount { masked }).await;
            }
            Ok(_) => {}
            Err(error) => return answer(req, error).await,
        }
    }
    match state.invitation_backend.decline(state.flows(), token).await {
        Ok(pending) => {
            flash::push(
                session,
                "info",
                format!(
                    "You declined the invitation to {}.",
                    pending.organization.name
                ),
            );
            Ok(redirect("/"))
        }
        Err(error) => answer(req, error).await,
    }
}
