//! Rendering a page: the template, the handler's context, and the base context every page gets
//! (the signed-in user, the CSRF token, flash messages, whether Projects are served).

use actix_session::SessionExt;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use entity::UserId;
use serde::Serialize;
use tera::Context;

use super::flash;
use super::{MaybeUser, csrf};
use crate::error::AppError;
use crate::state::AppState;

/// A page to render.
pub struct Page {
    template: &'static str,
    context: Context,
    status: StatusCode,
}

impl Page {
    /// The template with an empty context and status 200.
    pub fn new(template: &'static str) -> Self {
        Self {
            template,
            context: Context::new(),
            status: StatusCode::OK,
        }
    }

    /// Adds a value to the context.
    pub fn with(mut self, key: &'static str, value: impl Serialize) -> Self {
        self.context.insert(key, &value);
        self
    }

    /// Answers with another status.
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

/// What templates see of the signed-in user.
#[derive(Serialize)]
struct UserView<'a> {
    id: i64,
    name: &'a str,
    email: &'a str,
    is_superuser: bool,
}

/// One organization in the header's switcher.
#[derive(Serialize)]
pub(crate) struct SwitcherEntry {
    name: String,
    slug: String,
    /// The person's role there (`Owner`, `Admin`, `Member, Billing`).
    role: String,
    /// The colour chosen for its initials, if any.
    color: Option<String>,
    current: bool,
}

/// The most organizations the switcher lists; the rest are on `/organizations/`.
const SWITCHER_MAX: usize = 15;

/// The person's organizations for the switcher, with their role in each (remembered like the
/// other lookups, and forgotten after every write, so a membership or role change shows at
/// once).
pub(crate) async fn switcher(
    state: &AppState,
    user_id: UserId,
    current: &str,
) -> Result<Vec<SwitcherEntry>, AppError> {
    use crate::organizations::role_labels::{labels_held, summary};
    let caches = &state.caches;
    let mine = caches
        .through(&caches.mine, user_id.get(), async {
            let mut all = crate::tenancy::org_rows::of_user(&state.db, user_id, false).await?;
            all.truncate(SWITCHER_MAX);
            let ids: Vec<i64> = all.iter().map(|o| o.id).collect();
            let held = crate::tenancy::org_rows::roles_of_user(&state.db, user_id, &ids).await?;
            let rows: Vec<crate::cache::SwitcherRow> = all
                .into_iter()
                .map(|o| {
                    let role = summary(&labels_held(held.get(&o.id)));
                    (o.name, o.slug, role, o.color)
                })
                .collect();
            Ok::<_, sea_orm::DbErr>(Some(rows))
        })
        .await?
        .unwrap_or_default();
    Ok(mine
        .into_iter()
        .map(|(name, slug, role, color)| SwitcherEntry {
            current: slug == current,
            name,
            slug,
            role,
            color,
        })
        .collect())
}

/// Puts what templates see of the signed-in `user` into `context`.
pub(crate) fn insert_user(context: &mut tera::Context, user: &entity::user::Model) {
    context.insert(
        "user",
        &UserView {
            id: user.id,
            name: &user.name,
            email: &user.email,
            is_superuser: user.is_superuser,
        },
    );
}

/// Renders the page with the base context.
pub async fn render(req: &HttpRequest, page: Page) -> Result<HttpResponse, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?;
    let MaybeUser(user) = <MaybeUser as actix_web::FromRequest>::extract(req).await?;
    let session = req.get_session();
    let mut context = page.context;
    if let Some(user) = &user {
        insert_user(&mut context, user);
        let current = actix_web::HttpMessage::extensions(req)
            .get::<crate::web::ResolvedTenant>()
            .map(|t| t.organization.slug.clone());
        if let Some(current) = current {
            context.insert(
                "address",
                &crate::web::links::address(&state.settings, &current),
            );
            context.insert("switcher", &switcher(state, user.id(), &current).await?);
            context.insert("nav_items", state.nav.as_slice());
        }
    }
    context.insert("csrf_token", &csrf::token(&session));
    context.insert("messages", &flash::take(&session));
    context.insert("base_domain", &state.settings.tenant.base_domain);
    context.insert("product_name", &state.settings.ui.product_name);
    context.insert("projects_enabled", &state.settings.projects.enabled);
    context.insert("password_min", &state.settings.auth.min_password_length);
    // The navigation marks the section the page is in: the first segment of its path under the
    // tenant root ("people", "projects", "" for the dashboard).
    let section = req
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    context.insert("section", section);
    let html = state
        .templates
        .render(page.template, &context)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering {}: {e:?}", page.template)))?;
    Ok(HttpResponse::build(page.status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// A 303 redirect (after a POST, the browser follows with GET).
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}

/// `target` when it is a path on this site, else `/`: for every redirect whose target comes from
/// the request (`?next=`). Only printable ASCII without a backslash, starting with one `/`, and
/// parsing as a path with nothing before it: browsers drop tabs and line breaks and read `\\` as
/// `/`, so `/\t/evil.com` or `/\\evil.com` would lead to another host.
pub fn local_target(target: &str) -> &str {
    let bytes = target.as_bytes();
    let printable = bytes.iter().all(|b| b.is_ascii_graphic() && *b != b'\\');
    let one_slash = bytes.first() == Some(&b'/') && bytes.get(1) != Some(&b'/');
    let a_path = target
        .parse::<actix_web::http::Uri>()
        .is_ok_and(|uri| uri.scheme().is_none() && uri.authority().is_none());
    if printable && one_slash && a_path {
        target
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::local_target;

    #[test]
    fn only_paths_on_this_site_are_redirect_targets() {
        for good in [
            "/",
            "/account/",
            "/o/acme/people/?page=2&q=a%20b",
            "/x#frag",
        ] {
            assert_eq!(local_target(good), good);
        }
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/x\\y",
            "evil",
            "",
            " /account/",
            "/\t/evil.example",
            "/\n/evil.example",
            "/x\r\nSet-Cookie: a",
            "/\u{0}x",
            "/ /evil.example",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
            "/caf\u{e9}",
            "javascript:alert(1)",
            "/\u{7f}",
        ] {
            assert_eq!(local_target(bad), "/", "{bad:?}");
        }
    }
}
