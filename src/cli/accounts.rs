//! `orgs user create`, `orgs user token`, `orgs org create` and `orgs seed`: the commands that
//! make people, organizations and their data.

use clap::Subcommand;

use super::connect_migrated;
use crate::auth::{NewUser, PasswordHasher, users};
use crate::config::Settings;
use crate::error::FieldError as _;
use crate::events::Events;
use crate::organizations::{NewOrganization, create_organization_with};
use crate::seed::{self, SeedArgs};

#[derive(Debug, Subcommand)]
pub(super) enum UserAction {
    /// Create an active user.
    Create {
        /// Login email.
        #[arg(long)]
        email: String,
        /// Password (at least `auth.min_password_length` characters).
        #[arg(long)]
        password: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Make the user a superuser, who passes every permission check.
        #[arg(long)]
        superuser: bool,
    },
    /// Remove every second factor of a user who lost them (the authenticator app, passkeys and
    /// recovery codes): their sign-ins end, they are mailed, and they sign in with the password
    /// alone until they set one up again.
    ResetTwoFactor {
        /// The user's login email.
        #[arg(long)]
        email: String,
    },
    /// Make a personal API token for a user and print it (it is shown this once; the account
    /// page lists and revokes it).
    Token {
        /// The user's login email.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum OrgAction {
    /// Create an organization owned by an existing user.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Email of the owner, who must already have an account.
        #[arg(long)]
        owner: String,
        /// Address (`acme` for acme.example.com); derived from the name when left out.
        #[arg(long)]
        slug: Option<String>,
    },
    /// Set how many seats an organization may use (what its subscription pays for).
    SetSeats {
        /// The organization's id.
        #[arg(long)]
        organization: i64,
        /// Seats: a whole number (0 is none), or `none` for no limit.
        #[arg(long, allow_hyphen_values = true)]
        limit: String,
    },
}

/// `orgs user create`: an active user, printed with its id.
pub(super) async fn create_user(settings: &Settings, new: NewUser) -> anyhow::Result<()> {
    let db = connect_migrated(settings).await?;
    let hasher = PasswordHasher::new(&settings.auth)?;
    let user = users::create_user(&db, &hasher, new)
        .await
        .map_err(|e| anyhow::anyhow!(e.described()))?;
    println!(
        "created user {} <{}>{}",
        user.id,
        user.email,
        if user.is_superuser {
            " (superuser)"
        } else {
            ""
        }
    );
    Ok(())
}

/// `orgs user token`: a personal API token of the user with `email`, printed once.
pub(super) async fn create_token(
    settings: &Settings,
    email: &str,
    name: &str,
) -> anyhow::Result<()> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        anyhow::bail!("name: must be 1 to 100 characters long");
    }
    crate::text::check_name(name).map_err(|e| anyhow::anyhow!("name: {e}"))?;
    let db = connect_migrated(settings).await?;
    let email = users::normalize_email(email).map_err(|e| anyhow::anyhow!("email: {e}"))?;
    let user = users::find_by_email(&db, &email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("email: no user with email {email}"))?;
    let (_, secret) = crate::auth::api_tokens::create(&db, user.id(), name).await?;
    println!("{secret}");
    Ok(())
}

/// `orgs user reset-two-factor`: every second factor of the user with `email` removed.
pub(super) async fn reset_two_factor(settings: &Settings, email: &str) -> anyhow::Result<()> {
    let db = connect_migrated(settings).await?;
    let email = users::normalize_email(email).map_err(|e| anyhow::anyhow!("email: {e}"))?;
    let user = users::find_by_email(&db, &email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("email: no user with email {email}"))?;
    let sealer = crate::auth::secrets::Sealer::from_base64(secrecy::ExposeSecret::expose_secret(
        &settings.auth.encryption_key,
    ))?;
    let templates = std::sync::Arc::new(crate::templates::load()?);
    let mailer = crate::mail::Mailer::new(templates, &settings.server.public_url);
    let db = crate::db::Db::new(db, &settings.database);
    let security = crate::auth::two_factor::Security {
        db: &db,
        sealer: &sealer,
        outbox: None,
        mailer: &mailer,
        issuer: &settings.ui.product_name,
    };
    let removed = security.reset(&user).await?;
    println!(
        "removed {removed} second factor(s) of {}; their sign-ins ended and they were mailed",
        user.email
    );
    Ok(())
}

/// `orgs org create`: an organization owned by the existing user `owner`.
pub(super) async fn create_org(
    settings: &Settings,
    name: String,
    owner: &str,
    slug: Option<String>,
) -> anyhow::Result<()> {
    let db = connect_migrated(settings).await?;
    let owner_email = users::normalize_email(owner).map_err(|e| anyhow::anyhow!("owner: {e}"))?;
    let user = users::find_by_email(&db, &owner_email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("owner: no user with email {owner_email}"))?;
    let created = create_organization_with(
        &db,
        &Events::new(),
        user.id,
        NewOrganization {
            slug,
            ..NewOrganization::named(name)
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.described()))?;
    let org = created.organization;
    println!(
        "created organization {} \"{}\" at {}.{} (owner {})",
        org.id, org.name, org.slug, settings.tenant.base_domain, user.email
    );
    Ok(())
}

/// `orgs seed`: bulk demo data, and what was made.
pub(super) async fn seed(settings: &Settings, args: &SeedArgs) -> anyhow::Result<()> {
    let db = connect_migrated(settings).await?;
    let hasher = PasswordHasher::new(&settings.auth)?;
    let report = seed::seed(&db, &hasher, args).await?;
    println!("{report}");
    Ok(())
}
