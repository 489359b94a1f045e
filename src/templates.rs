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
    "account/account.html",
    "tenant/dashboard.html",
    "tenant/settings.html",
    "tenant/edit.html",
    "tenant/confirm.html",
    "tenant/transfer.html",
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
];

/// Parses every template; an error names the template.
pub fn load() -> anyhow::Result<Tera> {
    let mut tera = Tera::default();
    // Filters first: Tera 2 refuses a template that names a filter it does not know.
    tera.register_filter("urlencode", urlencode_filter);
    tera.autoescape_on([".html"]);
    tera.add_raw_templates(TEMPLATES.iter().copied())
        .map_err(|e| anyhow::anyhow!("templates: {e:?}"))?;
    Ok(tera)
}

fn urlencode_filter(value: &str, _: Kwargs, _: &State) -> String {
    urlencode(value)
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
mod tests {
    #[test]
    fn every_template_parses() {
        super::load().unwrap();
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
