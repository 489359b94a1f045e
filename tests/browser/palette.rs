//! The stylesheet's colours, read from `static/app.css` without a browser: every colour is a
//! custom property, the dark scheme redefines each of them, and each text colour keeps WCAG
//! AA's 4.5:1 on the backgrounds it is drawn on, in both schemes.

use std::collections::BTreeMap;

/// The stylesheet as the binary serves it.
const CSS: &str = include_str!("../../static/app.css");

/// Text colours and the backgrounds each is drawn on (links and muted text sit on both the page
/// and a card; buttons' text on their fills; messages on their tints).
const TEXT_ON: &[(&str, &[&str])] = &[
    (
        "fg",
        &[
            "bg",
            "surface",
            "accent-soft",
            "code-bg",
            "ok-soft",
            "danger-soft",
            "danger-field",
        ],
    ),
    ("muted", &["bg", "surface"]),
    ("accent", &["bg", "surface", "accent-soft", "code-bg"]),
    ("accent-hover", &["bg", "surface", "accent-soft"]),
    (
        "on-fill",
        &["accent", "accent-hover", "danger", "danger-hover"],
    ),
    ("ok", &["ok-soft"]),
    (
        "on-avatar",
        &[
            "av-indigo",
            "av-teal",
            "av-green",
            "av-amber",
            "av-red",
            "av-pink",
            "av-violet",
            "av-slate",
        ],
    ),
    ("danger", &["bg", "surface", "danger-soft", "danger-field"]),
];

/// The custom properties declared in the first `:root { ... }` at or after `from`.
fn properties(from: usize) -> BTreeMap<&'static str, &'static str> {
    let start = CSS[from..].find(":root {").expect("a :root block") + from;
    let end = CSS[start..].find('}').expect("the block ends") + start;
    CSS[start + ":root {".len()..end]
        .split(';')
        .filter_map(|declaration| declaration.trim().strip_prefix("--"))
        .filter_map(|declaration| declaration.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect()
}

fn is_colour(value: &str) -> bool {
    value.starts_with('#') || value.starts_with("rgb") || value.starts_with("hsl")
}

/// Whether a declaration's value writes a colour out: `#hex`, `rgb()`, `hsl()` or a name.
fn names_a_colour(value: &str) -> bool {
    let hex = value.match_indices('#').any(|(i, _)| {
        let digits = value[i + 1..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count();
        matches!(digits, 3 | 4 | 6 | 8)
    });
    hex || value
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .any(|word| {
            matches!(
                word.to_ascii_lowercase().as_str(),
                "rgb"
                    | "rgba"
                    | "hsl"
                    | "hsla"
                    | "white"
                    | "black"
                    | "red"
                    | "green"
                    | "blue"
                    | "gray"
                    | "grey"
                    | "orange"
                    | "yellow"
            )
        })
}

/// Every `property:value` of the stylesheet's rules (comments left out).
fn declarations() -> impl Iterator<Item = (&'static str, &'static str)> {
    CSS.split('}')
        .filter_map(|chunk| chunk.rsplit_once('{').map(|(_, body)| body))
        .flat_map(|body| body.split(';'))
        .map(|declaration| {
            declaration
                .rsplit_once("*/")
                .map_or(declaration, |(_, after)| after)
        })
        .filter_map(|declaration| declaration.split_once(':'))
        .map(|(property, value)| (property.trim(), value.trim()))
}

fn light() -> BTreeMap<&'static str, &'static str> {
    properties(0)
}

fn dark() -> BTreeMap<&'static str, &'static str> {
    let media = CSS
        .find("@media (prefers-color-scheme: dark)")
        .expect("a dark scheme");
    let mut palette = light();
    palette.extend(properties(media));
    palette
}

/// The relative luminance of `#rrggbb` (WCAG 2).
fn luminance(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('#');
    let hex = if hex.len() == 3 {
        hex.chars().flat_map(|c| [c, c]).collect()
    } else {
        hex.to_string()
    };
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("a hex colour")) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (a, b) = (luminance(a), luminance(b));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

#[test]
fn every_colour_of_the_stylesheet_is_a_custom_property_that_the_dark_scheme_redefines() {
    let outside_properties: Vec<String> = declarations()
        .filter(|(property, value)| !property.starts_with("--") && names_a_colour(value))
        .map(|(property, value)| format!("{property}:{value}"))
        .collect();
    assert!(
        outside_properties.is_empty(),
        "colours written out instead of a var(--...): {outside_properties:#?}"
    );
    let light = light();
    let redefined = properties(
        CSS.find("@media (prefers-color-scheme: dark)")
            .expect("a dark scheme"),
    );
    let missing: Vec<_> = light
        .iter()
        .filter(|(name, value)| is_colour(value) && !redefined.contains_key(*name))
        .map(|(name, _)| *name)
        .collect();
    assert!(missing.is_empty(), "no dark value for {missing:?}");
    assert!(
        CSS.contains("color-scheme:light dark"),
        "form controls and scroll bars follow the scheme"
    );
}

#[test]
fn text_keeps_wcag_aa_contrast_on_its_backgrounds_in_both_schemes() {
    let mut low = Vec::new();
    for (scheme, palette) in [("light", light()), ("dark", dark())] {
        for (text, backgrounds) in TEXT_ON {
            for background in *backgrounds {
                let ratio = contrast(palette[text], palette[background]);
                if ratio < 4.5 {
                    low.push(format!(
                        "{scheme}: --{text} on --{background}: {ratio:.2}:1"
                    ));
                }
            }
        }
    }
    // The dark focus ring too. The light one (#f59e0b, 2.15:1 on white) is the light look as
    // it was, which this change keeps.
    let dark = dark();
    for background in ["bg", "surface"] {
        let ratio = contrast(dark["focus"], dark[background]);
        if ratio < 4.5 {
            low.push(format!("dark: --focus on --{background}: {ratio:.2}:1"));
        }
    }
    assert!(low.is_empty(), "below 4.5:1: {low:#?}");
}
