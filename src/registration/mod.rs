//! Sign-up and activation: a new account starts inactive and an activation link is mailed; an
//! address that already has an account gets a "you already have an account" mail instead (or,
//! when that account was never confirmed, a fresh activation link: how someone whose first link
//! expired gets another), and the page answers the same either way, so sign-up reveals nothing
//! about who is registered.

use entity::UserId;
use entity::user;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DatabaseTransaction, IntoActiveModel,
    TransactionTrait,
};

use tera::Context;

use crate::auth::user_tokens::{self, Purpose, TokenError};
use crate::auth::users::CheckedUser;
use crate::auth::{NewUser, PasswordHasher, UserError, users};
use crate::config::AuthSettings;
use crate::events::Events;
use crate::mail::{Mailer, Outbox};
use crate::organizations::{NewOrganization, OrgError, create_organization_in};
use crate::text::describe_ttl;

/// What the sign-up form sends.
#[derive(Clone, Debug, Default)]
pub struct SignUp {
    /// Display name.
    pub name: String,
    /// Login email.
    pub email: String,
    /// Chosen password.
    pub password: String,
    /// The account organization's name; the person's name when empty.
    pub organization_name: String,
    /// Its address; derived from its name when empty.
    pub slug: String,
}

/// Why sign-up refused the form.
#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    /// A user field.
    #[error(transparent)]
    User(#[from] UserError),
    /// An organization field (`organization_name` or `slug`).
    #[error(transparent)]
    Organization(#[from] OrgError),
    /// Sign-up is turned off (invitation only).
    #[error("sign-up is closed; ask for an invitation")]
    Closed,
    /// Several fields at once: every problem of the form, each on its field.
    #[error("{}", crate::fields::summary(.0))]
    Fields(crate::fields::FieldErrors),
}

impl crate::fields::FieldError for SignUpError {
    fn field(&self) -> Option<&'static str> {
        match self {
            Self::User(e) => e.field(),
            Self::Organization(OrgError::InvalidName(_)) => Some("organization_name"),
            Self::Organization(e) => e.field(),
            Self::Closed | Self::Fields(_) => None,
        }
    }
}

/// Registers an account (inactive) with its account organization (owned by it) and queues the
/// activation mail, all in one transaction; for an email that already has an account, queues a
/// notice to it instead. Returns the normalised email.
pub async fn sign_up(
    db: &DatabaseConnection,
    events: &Events,
    outbox: &Outbox,
    mailer: &Mailer,
    hasher: &PasswordHasher,
    auth: &AuthSettings,
    form: SignUp,
) -> Result<String, SignUpError> {
    let (account, organization) = checked(form, hasher).await?;
    let email = account.email().to_string();
    #[expect(
        clippy::disallowed_methods,
        reason = "sign-up creates an organization and mail that belongs to none"
    )]
    let system = crate::tenancy::door::system(db, "sign-up")
        .await
        .map_err(UserError::from)?
        .firing(events)
        .waking(outbox);
    let txn = system.conn();
    let ttl = auth.activation_ttl_secs;
    // Who signs up as a new address may type anything as a name: the mail to that address
    // (which may not be theirs) carries none of it, only our own words and the link.
    let (template, subject, context) = match new_or_existing(txn, account, &email).await? {
        // Not confirmed yet (its first link may have expired): a new activation link.
        Account::Existing(existing)
            if !existing.is_active && existing.email_verified_at.is_none() =>
        {
            activation_mail(txn, mailer, existing.id(), ttl).await?
        }
        Account::Existing(_) => {
            let mut context = Context::new();
            context.insert("login_link", &mailer.link("/login/"));
            context.insert("reset_link", &mailer.link("/password-reset/"));
            ("signup_exists", "You already have an orgs account", context)
        }
        Account::New(user) => {
            create_organization_in(&system, user.id, organization).await?;
            activation_mail(txn, mailer, user.id(), ttl).await?
        }
    };
    mailer
        .send(&system, template, &email, subject, &context)
        .await
        .map_err(UserError::from)?;
    system.commit().await.map_err(UserError::from)?;
    Ok(email)
}

/// Every problem of a sign-up form at once, each on its field (none when every rule passes):
/// the form comes back once with all of them, not a field per submit.
pub fn problems(form: &SignUp, hasher: &PasswordHasher) -> crate::fields::FieldErrors {
    use crate::fields::FieldError;
    let mut problems = crate::fields::FieldErrors::new();
    let mut note = |field: &str, error: &dyn FieldError| {
        let field = error.field().unwrap_or(field);
        problems
            .entry(field.to_string())
            .or_default()
            .push(error.to_string());
    };
    if form.name.trim().is_empty() {
        note("name", &UserError::InvalidName);
    } else if let Err(error) = users::clean_name(&form.name) {
        note("name", &error);
    }
    let email = users::normalize_email(&form.email);
    if let Err(error) = &email {
        note("email", error);
    }
    if let Err(error) = hasher.check_rules(&form.password, email.as_deref().unwrap_or_default()) {
        note("password", &UserError::from(error));
    }
    if !form.organization_name.trim().is_empty()
        && let Err(error) = crate::organizations::clean_name(form.organization_name.trim())
    {
        note("organization_name", &SignUpError::from(error));
    }
    let slug = form.slug.trim();
    if !slug.is_empty()
        && let Err(error) = crate::slug::validate(slug)
    {
        note("slug", &OrgError::from(error));
    }
    problems
}

/// The form's account, checked and its password hashed, and its account organization: named
/// as the form says or after the person. Checked and hashed whether or not the address has an
/// account, so the answer takes as long for a known address as for a new one.
async fn checked(
    form: SignUp,
    hasher: &PasswordHasher,
) -> Result<(CheckedUser, NewOrganization), SignUpError> {
    let problems = problems(&form, hasher);
    if !problems.is_empty() {
        return Err(SignUpError::Fields(problems));
    }
    let organization_name = match form.organization_name.trim() {
        "" => form.name.trim().to_string(),
        given => given.to_string(),
    };
    let slug = form.slug.trim().to_string();
    let account = NewUser {
        email: form.email,
        name: form.name,
        password: Some(form.password),
        is_superuser: false,
    }
    .check(hasher)
    .await?
    .inactive();
    let organization = NewOrganization {
        slug: Some(slug),
        ..NewOrganization::named(organization_name)
    };
    Ok((account, organization))
}

/// The account a sign-up is for.
enum Account {
    /// Made by this sign-up.
    New(user::Model),
    /// There before it, or made meanwhile by a sign-up with the same address.
    Existing(user::Model),
}

/// Inserts `account` unless its address `email` already has one.
async fn new_or_existing(
    txn: &DatabaseTransaction,
    account: CheckedUser,
    email: &str,
) -> Result<Account, UserError> {
    if let Some(existing) = users::find_by_email(txn, email).await? {
        return Ok(Account::Existing(existing));
    }
    // A sign-up racing this one with the same address may have won: then this one is a
    // sign-up for an existing account, like any other.
    match account.insert(txn).await? {
        Some(user) => Ok(Account::New(user)),
        None => users::find_by_email(txn, email)
            .await?
            .map(Account::Existing)
            .ok_or_else(|| UserError::Other(anyhow::anyhow!("the account vanished"))),
    }
}

/// The activation mail of the user `user_id` (template, subject, context), its link new and
/// valid `ttl` seconds.
async fn activation_mail(
    txn: &DatabaseTransaction,
    mailer: &Mailer,
    user_id: UserId,
    ttl: u64,
) -> Result<(&'static str, &'static str, Context), UserError> {
    let token = user_tokens::issue(txn, user_id, Purpose::Activation, ttl).await?;
    let mut context = Context::new();
    context.insert("link", &mailer.link(&format!("/activate/{token}/")));
    context.insert("expires_in", &describe_ttl(ttl));
    Ok(("activation", "Confirm your email address", context))
}

/// Why an activation link did not work.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// Unknown, expired or used.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// Uses an activation link: the account becomes active with its email verified.
pub async fn activate(
    db: &DatabaseConnection,
    secret: &str,
) -> Result<user::Model, ActivationError> {
    let txn = db.begin().await?;
    let token = user_tokens::check(&txn, secret, Purpose::Activation).await??;
    if !user_tokens::consume(&txn, token.id).await? {
        return Err(TokenError::Used.into());
    }
    let user = users::find_by_id(&txn, UserId(token.user_id))
        .await?
        .ok_or(TokenError::Unknown)?;
    let mut active = user.into_active_model();
    active.is_active = Set(true);
    active.email_verified_at = Set(Some(entity::chrono_now()));
    let user = active.update(&txn).await?;
    txn.commit().await?;
    Ok(user)
}
