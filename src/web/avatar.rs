//! Initials avatars: a person's initials on a colour chosen from their user id, so the same
//! person has the same face on every page and in every organization. The colours are classes
//! of the stylesheet (`avatar c0` to `avatar c11`): the content security policy allows no inline
//! style.

use serde::Serialize;

/// The background of each colour class, in order (`c0` first); white text on each meets WCAG
/// AA (at least 4.5:1), which a test checks, as it checks the stylesheet uses these values.
pub const PALETTE: [&str; 12] = [
    "#b91c1c", "#c2410c", "#a16207", "#4d7c0f", "#15803d", "#0f766e", "#0e7490", "#1d4ed8",
    "#4338ca", "#7e22ce", "#a21caf", "#be123c",
];

/// What a template needs to draw one person's avatar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Avatar {
    /// One or two letters, upper case (`KC` for Kurt Cobain).
    pub initials: String,
    /// The colour class (`c7`).
    pub colour: String,
}

impl Avatar {
    /// The avatar of the user `user_id` named `name` (the email's first letter stands in for a
    /// name they have not set).
    pub fn of(user_id: i64, name: &str, email: &str) -> Self {
        Self {
            initials: initials(name, email),
            colour: format!("c{}", colour_index(user_id)),
        }
    }
}

/// The palette index of `user_id`: FNV-1a of its bytes, so it is the same on every machine and
/// in every Rust release (the standard hasher promises neither).
pub fn colour_index(user_id: i64) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in user_id.to_le_bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % PALETTE.len() as u64) as usize
}

/// The first letters of the first and last words of `name` that start with a letter (`Ada
/// Backus 20` is `AB`; only a name with no such word takes digits: `4 5` is `45`); one letter
/// for a one-word name; the email's first letter when the name has none; `?` last.
pub fn initials(name: &str, email: &str) -> String {
    let first = |word: &str, keep: fn(&char) -> bool| {
        word.chars()
            .next()
            .filter(keep)
            .and_then(|c| c.to_uppercase().next())
    };
    let mut letters: Vec<char> = name
        .split_whitespace()
        .filter_map(|word| first(word, |c| c.is_alphabetic()))
        .collect();
    if letters.is_empty() {
        letters = name
            .split_whitespace()
            .filter_map(|word| first(word, |c| c.is_alphanumeric()))
            .collect();
    }
    let first_letter = |word: &str| first(word, |c| c.is_alphanumeric());
    match letters.as_slice() {
        [] => first_letter(email).map_or_else(|| "?".to_string(), String::from),
        [one] => one.to_string(),
        [first, .., last] => [*first, *last].iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The relative luminance of `#rrggbb` (WCAG 2).
    fn luminance(hex: &str) -> f64 {
        let channel = |at: usize| {
            let value = f64::from(u8::from_str_radix(&hex[at..at + 2], 16).unwrap()) / 255.0;
            if value <= 0.039_28 {
                value / 12.92
            } else {
                ((value + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    #[test]
    fn white_initials_on_every_colour_meet_wcag_aa_and_the_stylesheet_uses_the_same_colours() {
        let css = include_str!("../../static/app.css");
        for (n, hex) in PALETTE.iter().enumerate() {
            let contrast = 1.05 / (luminance(hex) + 0.05);
            assert!(contrast >= 4.5, "{hex}: {contrast:.2}");
            assert!(
                css.contains(&format!(".avatar.c{n} {{ background:{hex}; }}")),
                "app.css colours .avatar.c{n} with {hex}"
            );
        }
    }

    #[test]
    fn the_same_person_always_gets_the_same_colour_and_people_spread_over_the_palette() {
        assert_eq!(colour_index(42), colour_index(42));
        assert_eq!(Avatar::of(42, "A", "a@x"), Avatar::of(42, "A", "a@x"));
        // Fixed values: a change of hash would repaint everyone.
        assert_eq!([1, 2, 3, 4].map(colour_index), [0, 3, 2, 9]);
        let used: std::collections::HashSet<usize> = (1..=100).map(colour_index).collect();
        assert!(used.len() >= 10, "100 people use {} colours", used.len());
    }

    #[test]
    fn initials_come_from_the_first_and_last_names_or_else_the_email() {
        assert_eq!(initials("Kurt Cobain", "k@x"), "KC");
        assert_eq!(initials("  ludwig van beethoven ", "l@x"), "LB");
        assert_eq!(initials("Cher", "c@x"), "C");
        assert_eq!(initials("", "ada@acme.test"), "A");
        assert_eq!(initials("(Ops) Team", "o@x"), "T");
        assert_eq!(initials("Ada Backus 20", "a@x"), "AB");
        assert_eq!(initials("3 Doors", "d@x"), "D");
        assert_eq!(initials("4 5", "n@x"), "45");
        assert_eq!(initials("Émile Zola", "e@x"), "ÉZ");
        assert_eq!(initials("", ""), "?");
    }
}
