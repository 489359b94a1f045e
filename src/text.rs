//! What text a person may store: no control characters anywhere (PostgreSQL refuses NUL, and
//! SQLite would keep it) but line breaks and tabs in multi-line text, none of the invisible
//! characters that reorder or hide text (in names, which appear in page titles, mail subjects
//! and greetings, and in descriptions alike), and no name that is only white space (it would be
//! stored trimmed, as nothing).

use std::borrow::Cow;

use validator::ValidationError;

/// Why a text was refused; the message reads after the field's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// A control character (NUL, escape, a line break in a one-line field ...).
    #[error("must not contain control characters")]
    Control,
    /// A bidirectional override or isolate, or a zero-width character.
    #[error(
        "must not contain invisible formatting characters (direction overrides, zero-width spaces)"
    )]
    Invisible,
    /// Nothing but white space.
    #[error("must not be only white space")]
    Blank,
}

/// Characters that change the order text is shown in, or show nothing at all: the bidi
/// embeddings, overrides, isolates and marks, zero-width spaces and joiners at the edges, word
/// joiners and the byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
}

/// A name shown on one line: a person's, an organization's, a project's, a key's.
/// Zero-width joiners are allowed between letters (Persian writing and emoji need them), not
/// at either end where they only hide. Empty is left to the field's own rule (some names are
/// optional); only white space is refused, since it would be stored trimmed, as nothing.
pub fn check_name(text: &str) -> Result<(), TextError> {
    if text.chars().any(char::is_control) {
        return Err(TextError::Control);
    }
    check_invisible(text)?;
    if !text.is_empty() && text.trim().is_empty() {
        return Err(TextError::Blank);
    }
    Ok(())
}

/// `text` trimmed, after [`check_name`] of what it was: what a one-line name is stored as.
pub fn clean_name(text: &str) -> Result<&str, TextError> {
    if !text.is_empty() && text.trim().is_empty() {
        return Err(TextError::Blank);
    }
    let text = text.trim();
    check_name(text)?;
    Ok(text)
}

/// Free text over several lines (a description): line breaks and tabs, no other control
/// character, and the invisible characters of [`check_name`] refused on every line.
pub fn check_multiline(text: &str) -> Result<(), TextError> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(TextError::Control);
    }
    text.lines().try_for_each(check_invisible)
}

/// No character of [`is_invisible`], and no zero-width joiner at either end of `text`.
fn check_invisible(text: &str) -> Result<(), TextError> {
    let joiner = |c: char| matches!(c, '\u{200C}' | '\u{200D}');
    let edges = text.chars().next().is_some_and(joiner) || text.chars().last().is_some_and(joiner);
    if edges || text.chars().any(is_invisible) {
        return Err(TextError::Invisible);
    }
    Ok(())
}

/// Text that is compared but never stored or shown (a search term): no control character.
pub fn check_term(text: &str) -> Result<(), TextError> {
    if text.chars().any(char::is_control) {
        return Err(TextError::Control);
    }
    Ok(())
}

fn to_validation(error: TextError) -> ValidationError {
    ValidationError::new("text").with_message(Cow::Owned(error.to_string()))
}

/// [`check_name`] for `#[validate(custom(function = "crate::text::name"))]`.
pub fn name(text: &str) -> Result<(), ValidationError> {
    check_name(text).map_err(to_validation)
}

/// [`check_multiline`] for `#[validate(custom(function = "crate::text::multiline"))]`.
pub fn multiline(text: &str) -> Result<(), ValidationError> {
    check_multiline(text).map_err(to_validation)
}

/// `text` with its first letter upper-case ("created the project" → "Created the project").
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `pattern` as a `LIKE` operand matching itself literally (`%`, `_` and the escape
/// character `\` escaped), to be used with `ESCAPE '\'`.
pub fn like_literal(pattern: &str) -> String {
    let mut escaped = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Human wording for a number of seconds ("7 days", "1 hour").
pub fn describe_ttl(secs: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => plural(s / 3_600, "hour"),
        s => plural(s.div_ceil(60), "minute"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_control_and_invisible_characters() {
        assert_eq!(check_name("Acme Corp"), Ok(()));
        assert_eq!(check_name("دانش\u{200C}گاه"), Ok(()));
        assert_eq!(check_name("👩\u{200D}💻 team"), Ok(()));
        for bad in ["a\0b", "a\nb", "a\tb", "\u{1b}[31m", "a\u{7f}"] {
            assert_eq!(check_name(bad), Err(TextError::Control), "{bad:?}");
        }
        for bad in [
            "evil\u{202E}gpj.exe",
            "a\u{2066}b",
            "a\u{200B}b",
            "\u{FEFF}acme",
            "\u{200D}acme",
            "acme\u{200C}",
            "a\u{200F}b",
        ] {
            assert_eq!(check_name(bad), Err(TextError::Invisible), "{bad:?}");
        }
    }

    #[test]
    fn multiline_text_keeps_line_breaks_and_refuses_nul() {
        assert_eq!(check_multiline("line one\r\nline\ttwo"), Ok(()));
        assert_eq!(check_multiline("a\0b"), Err(TextError::Control));
        assert_eq!(check_multiline("a\u{1b}b"), Err(TextError::Control));
    }

    #[test]
    fn multiline_text_refuses_the_invisible_characters_names_refuse() {
        assert_eq!(
            check_multiline("دانش\u{200C}گاه\n👩\u{200D}💻 team"),
            Ok(())
        );
        for bad in [
            "evil\u{202E}gpj.exe",
            "a\u{202A}b",
            "line\n\u{2066}isolate\u{2069}",
            "zero\u{200B}width",
            "word\u{2060}joiner",
            "\u{FEFF}bom",
            "one\n\u{200D}edge",
            "edge\u{200C}\r\ntwo",
        ] {
            assert_eq!(check_multiline(bad), Err(TextError::Invisible), "{bad:?}");
        }
    }

    #[test]
    fn a_name_of_only_white_space_is_refused_and_an_empty_one_left_to_the_field() {
        assert_eq!(check_name(""), Ok(()));
        for blank in [" ", "   ", "\u{a0}", "\u{3000}"] {
            assert_eq!(check_name(blank), Err(TextError::Blank), "{blank:?}");
            assert_eq!(clean_name(blank), Err(TextError::Blank), "{blank:?}");
        }
        assert_eq!(clean_name("  Acme \n"), Ok("Acme"));
        assert_eq!(clean_name(""), Ok(""));
    }

    #[test]
    fn like_literals_escape_the_wildcards() {
        assert_eq!(like_literal("100%_a\\b"), "100\\%\\_a\\\\b");
    }

    #[test]
    fn ttls_read_like_people_write_them() {
        assert_eq!(describe_ttl(604_800), "7 days");
        assert_eq!(describe_ttl(86_400), "1 day");
        assert_eq!(describe_ttl(3_600), "1 hour");
        assert_eq!(describe_ttl(5_400), "90 minutes");
        assert_eq!(describe_ttl(30), "1 minute");
    }
}
