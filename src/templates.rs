//! The templates, compiled into the binary so `orgs` runs from any folder. Names end in `.html`
//! (autoescaped) or `.txt` (plain-text email parts).

use tera::{Kwargs, State, Tera};

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

/// Every template, by name.
pub const TEMPLATES: &[(&str, &str)] = templates![
    "forms.html",
    "components.html",
    "nav.html",
    "base.html",
    "home.html",
    "errors/error.html",
    "auth/login.html",
    "auth/signup.html",
    "auth/signup_done.html",
    "auth/password_reset.html",
    "auth/password_reset_sent.html",
    "auth/password_reset_confirm.html",
    "auth/token_invalid.html",
    "auth/two_factor.html",
    "auth/passkey_second_factor.html",
    "auth/reauthenticate.html",
    "account/account.html",
    "account/passkeys.html",
    "account/security.html",
    "tenant/dashboard.html",
    "tenant/confirm.html",
    "tenant/confirm_body.html",
    "settings/layout.html",
    "settings/general.html",
    "settings/api_keys.html",
    "settings/domains.html",
    "settings/danger.html",
    "settings/security.html",
    "settings/sso.html",
    "settings/scim.html",
    "auth/sso_start.html",
    "settings/confirm.html",
    "settings/transfer.html",
    "organizations/list.html",
    "organizations/add.html",
    "people/list.html",
    "people/add.html",
    "people/detail.html",
    "people/edit.html",
    "people/delete.html",
    "people/remind.html",
    "invitations/accept.html",
    "invitations/list.html",
    "pagination.html",
    "projects/list.html",
    "projects/form.html",
    "projects/detail.html",
    "projects/confirm_delete.html",
    "roles/list.html",
    "roles/form.html",
    "audit/list.html",
    "email/activation.txt",
    "email/activation.html",
    "email/signup_exists.txt",
    "email/signup_exists.html",
    "email/password_reset.txt",
    "email/password_reset.html",
    "email/invitation.txt",
    "email/invitation.html",
    "email/security_change.txt",
    "email/security_change.html",
    "email/webhook_disabled.txt",
    "email/webhook_disabled.html",
    "settings/webhooks.html",
    "settings/webhook.html",
];

/// Parses every template; an error names the template.
pub fn load() -> anyhow::Result<Tera> {
    load_with(&[])
}

/// [`load`], then `extra` (name, source) over them: a name of a built-in template replaces it.
pub fn load_with(extra: &[(String, String)]) -> anyhow::Result<Tera> {
    let mut tera = Tera::default();
    // Filters first: Tera 2 refuses a template that names a filter it does not know.
    tera.register_filter("urlencode", urlencode_filter);
    tera.register_filter("ago", ago_filter);
    tera.register_filter("day", day_filter);
    tera.register_filter("thousands", thousands_filter);
    tera.register_filter("initials", initials_filter);
    tera.register_filter("palette", palette_filter);
    tera.autoescape_on([".html"]);
    let mut all: Vec<(&str, &str)> = TEMPLATES
        .iter()
        .filter(|(name, _)| !extra.iter().any(|(n, _)| n == name))
        .copied()
        .collect();
    all.extend(extra.iter().map(|(n, s)| (n.as_str(), s.as_str())));
    tera.add_raw_templates(all)
        .map_err(|e| anyhow::anyhow!("templates: {e:?}"))?;
    Ok(tera)
}

/// The `.html` and `.txt` templates under `dir`, named by their path below it
/// (`people/list.html`), for `ui.template_dir`.
pub fn read_dir(dir: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    fn walk(
        root: &std::path::Path,
        dir: &std::path::Path,
        out: &mut Vec<(String, String)>,
    ) -> anyhow::Result<()> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| anyhow::anyhow!("ui.template_dir: {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else if path
                .extension()
                .is_some_and(|ext| ext == "html" || ext == "txt")
            {
                let name = path
                    .strip_prefix(root)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let source = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("ui.template_dir: {}: {e}", path.display()))?;
                out.push((name, source));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

fn urlencode_filter(value: &str, _: Kwargs, _: &State) -> String {
    urlencode(value)
}

/// `{{ name | initials }}`: up to two initials ("Ada Lovelace" is "AL").
fn initials_filter(value: &str, _: Kwargs, _: &State) -> String {
    crate::organizations::appearance::initials(value)
}

/// `{{ name | palette }}`: the palette colour `name` picks, the same one everywhere.
fn palette_filter(value: &str, _: Kwargs, _: &State) -> String {
    crate::organizations::appearance::picked_by_name(value).to_string()
}

/// `{{ n | thousands }}`: a count with its thousands separated (`100,000`).
fn thousands_filter(value: i64, _: Kwargs, _: &State) -> String {
    thousands(value)
}

/// `n` with a comma between each group of three digits.
pub(crate) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `{{ at | ago }}`: an RFC 3339 time in words, from now (`3 minutes ago`, `in 6 days`); past a
/// week, the day (`1 Dec 2026`). Anything else is shown as it is.
fn ago_filter(value: &str, _: Kwargs, _: &State) -> String {
    match chrono::DateTime::parse_from_rfc3339(value) {
        Ok(at) => ago(at.with_timezone(&chrono::Utc), chrono::Utc::now()),
        Err(_) => value.to_string(),
    }
}

/// `{{ at | day }}`: the day of an RFC 3339 time, `1 Dec 2026` (UTC).
fn day_filter(value: &str, _: Kwargs, _: &State) -> String {
    match chrono::DateTime::parse_from_rfc3339(value) {
        Ok(at) => day(at.with_timezone(&chrono::Utc)),
        Err(_) => value.to_string(),
    }
}

fn day(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %b %Y").to_string()
}

fn ago(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let seconds = (now - at).num_seconds();
    let future = seconds < 0;
    let size = seconds.unsigned_abs();
    let (count, unit) = match size {
        0..60 => return "just now".to_string(),
        60..3_600 => (size / 60, "minute"),
        3_600..86_400 => (size / 3_600, "hour"),
        86_400..604_800 => (size / 86_400, "day"),
        _ => return day(at),
    };
    if count == 1 && unit == "day" {
        return if future { "tomorrow" } else { "yesterday" }.to_string();
    }
    let plural = if count == 1 { "" } else { "s" };
    if future {
        format!("in {count} {unit}{plural}")
    } else {
        format!("{count} {unit}{plural} ago")
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for a value placed in a
/// query string (`?q={{ q | urlencode }}`).
fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod time_tests {
    use super::{ago, day};
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn times_read_in_words_then_as_a_day() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let cases = [
            (Duration::seconds(-20), "just now"),
            (Duration::minutes(-1), "1 minute ago"),
            (Duration::minutes(-3), "3 minutes ago"),
            (Duration::hours(-5), "5 hours ago"),
            (Duration::hours(-30), "yesterday"),
            (Duration::days(-3), "3 days ago"),
            (Duration::days(6) + Duration::hours(23), "in 6 days"),
            (Duration::hours(25), "tomorrow"),
            (Duration::days(-40), "22 Oct 2026"),
        ];
        for (offset, words) in cases {
            assert_eq!(ago(now + offset, now), words, "{offset}");
        }
        assert_eq!(day(now), "1 Dec 2026");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_separated_by_commas() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (100_000, "100,000"),
            (1_234_567, "1,234,567"),
            (-4200, "-4,200"),
        ] {
            assert_eq!(super::thousands(n), text);
        }
    }

    #[test]
    fn every_template_parses() {
        super::load().unwrap();
    }

    #[test]
    fn every_template_file_is_compiled_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk: Vec<String> = super::read_dir(&dir)
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = super::TEMPLATES
            .iter()
            .map(|(name, _)| (*name).to_string())
            .collect();
        listed.sort();
        assert_eq!(listed, on_disk, "templates/ and TEMPLATES differ");
    }

    #[test]
    fn urlencode_keeps_unreserved_characters_and_encodes_the_rest() {
        assert_eq!(super::urlencode("a-Z_0.~"), "a-Z_0.~");
        assert_eq!(
            super::urlencode("ada & co/é?"),
            "ada%20%26%20co%2F%C3%A9%3F"
        );
    }
}
