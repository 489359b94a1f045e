//! Organization slugs: Django `slugify` parity, narrowed to a DNS label (`[a-z0-9-]{1,63}`,
//! no leading or trailing hyphen) because the slug is also a subdomain.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;

/// Longest slug: one DNS label.
pub const MAX_LEN: usize = 63;

/// Used when a name has no ASCII letters or digits at all (e.g. "東京").
pub const FALLBACK: &str = "org";

/// Slugs that name hosts or routes of the service itself and so cannot be organizations.
pub const RESERVED: &[&str] = &[
    "about",
    "account",
    "accounts",
    "activate",
    "admin",
    "api",
    "app",
    "assets",
    "auth",
    "billing",
    "blog",
    "cdn",
    "dashboard",
    "dev",
    "docs",
    "email",
    "ftp",
    "healthz",
    "help",
    "imap",
    "invitations",
    "localhost",
    "login",
    "logout",
    "mail",
    "media",
    "metrics",
    "new",
    "ns1",
    "ns2",
    "o",
    "organizations",
    "password-reset",
    "pop",
    "readyz",
    "root",
    "settings",
    "signup",
    "smtp",
    "staging",
    "static",
    "status",
    "support",
    "test",
    "www",
];

/// Why a slug was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// Empty.
    #[error("must not be empty")]
    Empty,
    /// Longer than a DNS label.
    #[error("must be at most 63 characters long")]
    TooLong,
    /// A character outside `a-z`, `0-9`, `-`, or a hyphen at either end.
    #[error(
        "may contain only lower-case letters, digits and hyphens, and must start and end with a letter or digit"
    )]
    BadCharacters,
    /// A reserved word.
    #[error("`{0}` is reserved")]
    Reserved(String),
}

/// Django's `slugify` (ASCII mode): NFKD, drop non-ASCII, lower-case, drop what is not a word
/// character, space or hyphen, collapse runs of spaces and hyphens into one hyphen, strip `-`
/// and `_` at the ends. Then, for DNS: underscores become hyphens and the result is cut to 63.
/// A name with nothing left gives [`FALLBACK`].
pub fn slugify(name: &str) -> String {
    let ascii: String = name.nfkd().filter(char::is_ascii).collect();
    let lowered = ascii.to_ascii_lowercase();
    let kept: String = lowered
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || is_space(*c))
        .collect();
    let mut slug = String::with_capacity(kept.len());
    let mut in_separator = false;
    for c in kept.chars() {
        // Parity stops here; from now on `_` counts as a separator too (DNS has no `_`).
        if c == '-' || c == '_' || is_space(c) {
            in_separator = true;
        } else {
            if in_separator && !slug.is_empty() {
                slug.push('-');
            }
            in_separator = false;
            slug.push(c);
        }
    }
    let slug = truncate(&slug, MAX_LEN);
    if slug.is_empty() {
        FALLBACK.to_string()
    } else {
        slug
    }
}

// Python's `\s` on ASCII text: space, \t \n \v \f \r, and the separators \x1c-\x1f.
fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\x1c'..='\x1f'
    )
}

/// Cuts `slug` to at most `max` bytes without leaving a hyphen at the end.
fn truncate(slug: &str, max: usize) -> String {
    let cut = &slug[..slug.len().min(max)];
    cut.trim_end_matches('-').to_string()
}

/// Whether `slug` could be an organization's (a DNS label of lower-case letters, digits and
/// inner hyphens), reserved or not: what may be looked up at all.
pub fn is_well_formed(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_LEN
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

/// Checks a slug typed by a person: a DNS label, and not reserved.
pub fn validate(slug: &str) -> Result<(), SlugError> {
    if slug.is_empty() {
        return Err(SlugError::Empty);
    }
    if slug.len() > MAX_LEN {
        return Err(SlugError::TooLong);
    }
    if !is_well_formed(slug) {
        return Err(SlugError::BadCharacters);
    }
    if is_reserved(slug) {
        return Err(SlugError::Reserved(slug.to_string()));
    }
    Ok(())
}

/// Whether the slug is one of [`RESERVED`].
pub fn is_reserved(slug: &str) -> bool {
    RESERVED.contains(&slug)
}

/// The first of `base`, `base-2`, `base-3`, ... that is neither taken nor reserved, with the base
/// shortened when the suffix would pass 63 characters (django-extensions' AutoSlugField).
pub fn first_free(base: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(base) && !is_reserved(base) {
        return base.to_string();
    }
    (2u64..)
        .map(|n| {
            let suffix = format!("-{n}");
            let stem = truncate(base, MAX_LEN - suffix.len());
            format!("{stem}{suffix}")
        })
        .find(|candidate| !taken.contains(candidate) && !is_reserved(candidate))
        .unwrap_or_else(|| base.to_string())
}

/// `base` with a random suffix (`acme-3f9c1a`): for a creation that lost the race for the
/// first free slug several times (a crowd creating one name at once), a slug nobody else is
/// about to take.
pub fn with_random_suffix(base: &str) -> String {
    let suffix = format!("-{}", &crate::tokens::generate()[..6]);
    let stem = truncate(base, MAX_LEN - suffix.len());
    format!("{stem}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_random_suffix_keeps_a_valid_slug() {
        let slug = with_random_suffix(&"b".repeat(100));
        assert_eq!(slug.len(), MAX_LEN);
        assert!(validate(&slug).is_ok(), "{slug}");
        assert_ne!(with_random_suffix("acme"), with_random_suffix("acme"));
    }

    #[test]
    fn slugify_matches_django_on_the_peer_test_names() {
        assert_eq!(slugify("Vizsla Club"), "vizsla-club");
        assert_eq!(
            slugify("An Association of Very Interesting People"),
            "an-association-of-very-interesting-people"
        );
        assert_eq!(slugify("Foo Fighters"), "foo-fighters");
    }

    #[test]
    fn slugify_folds_accents_and_drops_punctuation() {
        assert_eq!(slugify("Déjà Vu!"), "deja-vu");
        assert_eq!(slugify("  Nirvana -- Live  "), "nirvana-live");
        assert_eq!(slugify("Ångström & Co."), "angstrom-co");
        assert_eq!(slugify("ﬁne"), "fine");
    }

    #[test]
    fn slugify_turns_underscores_into_hyphens_for_dns() {
        assert_eq!(slugify("new_org"), "new-org");
        assert_eq!(slugify("__a__b__"), "a-b");
    }

    #[test]
    fn slugify_falls_back_when_nothing_ascii_is_left() {
        assert_eq!(slugify("東京"), "org");
        assert_eq!(slugify("!!!"), "org");
    }

    #[test]
    fn slugify_stays_within_a_dns_label() {
        let slug = slugify(&format!("{} bb cc", "a".repeat(62)));
        assert_eq!(slug, "a".repeat(62));
        assert_eq!(slugify(&"b".repeat(100)).len(), MAX_LEN);
    }

    #[test]
    fn validate_accepts_dns_labels_and_refuses_the_rest() {
        assert!(validate("acme").is_ok());
        assert!(validate("acme-2").is_ok());
        assert!(validate("a").is_ok());
        assert_eq!(validate(""), Err(SlugError::Empty));
        assert_eq!(validate(&"a".repeat(64)), Err(SlugError::TooLong));
        for bad in ["Acme", "-acme", "acme-", "ac_me", "ac me", "ácme"] {
            assert_eq!(validate(bad), Err(SlugError::BadCharacters), "{bad}");
        }
        assert_eq!(validate("www"), Err(SlugError::Reserved("www".into())));
        assert_eq!(validate("o"), Err(SlugError::Reserved("o".into())));
    }

    #[test]
    fn first_free_appends_counters_and_skips_reserved_words() {
        let taken: HashSet<String> = ["acme", "acme-2"].iter().map(|s| s.to_string()).collect();
        assert_eq!(first_free("acme", &taken), "acme-3");
        assert_eq!(first_free("fresh", &taken), "fresh");
        assert_eq!(first_free("admin", &HashSet::new()), "admin-2");
    }

    #[test]
    fn first_free_shortens_a_long_base_to_fit_the_suffix() {
        let base = "a".repeat(63);
        let taken: HashSet<String> = [base.clone()].into_iter().collect();
        let slug = first_free(&base, &taken);
        assert_eq!(slug.len(), 63);
        assert!(slug.ends_with("-2"));
    }
}
