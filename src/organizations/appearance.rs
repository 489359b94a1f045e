//! How an organization looks where it is listed: its initials on a colour, the colour one of a
//! small palette (each with white initials at WCAG AA contrast), chosen on its General settings
//! or, until then, picked by its name (as a person's is) so that it stays the same everywhere.

/// The palette: the name stored and what the settings page says.
pub const COLORS: &[(&str, &str)] = &[
    ("indigo", "Indigo"),
    ("teal", "Teal"),
    ("green", "Green"),
    ("amber", "Amber"),
    ("red", "Red"),
    ("pink", "Pink"),
    ("violet", "Violet"),
    ("slate", "Slate"),
];

/// Whether `name` is one of the palette's colours.
pub fn is_color(name: &str) -> bool {
    COLORS.iter().any(|(key, _)| *key == name)
}

/// The colour a name picks (FNV-1a of its lowercase form): a person's everywhere, from their
/// name alone.
pub fn picked_by_name(name: &str) -> &'static str {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.trim().to_lowercase().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let index = usize::try_from(hash % COLORS.len() as u64).unwrap_or_default();
    COLORS[index].0
}

/// Up to two initials of `name`: the first letters of its first two words ("Analytical
/// Engines" is "AE", "acme" is "A").
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_are_the_first_letters_of_the_first_two_words() {
        assert_eq!(initials("Analytical Engines Ltd"), "AE");
        assert_eq!(initials("acme"), "A");
        assert_eq!(initials("  (bracket) co "), "BC");
        assert_eq!(initials("émile zola"), "ÉZ");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn a_name_always_picks_the_same_colour_of_the_palette() {
        assert_eq!(
            picked_by_name("Ada Lovelace"),
            picked_by_name(" ada lovelace ")
        );
        assert!(is_color(picked_by_name("Grace Hopper")));
    }
}
