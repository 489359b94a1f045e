//! `meta.version` and `If-Match`: a resource's version is a weak ETag of its row's counter,
//! one up at every change.

/// `W/"3"`: the weak ETag of version `n`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Whether `wanted` (an `If-Match` value, perhaps a list) names `version`.
pub fn matches(wanted: &str, version: i64) -> bool {
    let tag = etag(version);
    let strong = format!("\"{version}\"");
    wanted
        .split(',')
        .map(str::trim)
        .any(|w| w == tag || w == strong)
}

/// A write's precondition: `If-Match` (when sent) names `version`; else 412.
pub fn check(if_match: Option<&str>, version: i64) -> Result<(), super::ScimError> {
    match if_match {
        Some(wanted) if !matches(wanted, version) => Err(super::ScimError::precondition()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_weak_and_strong_tags_and_lists() {
        assert!(matches("W/\"3\"", 3));
        assert!(matches("\"3\"", 3));
        assert!(matches("W/\"2\", W/\"3\"", 3));
        assert!(!matches("W/\"2\"", 3));
    }
}
