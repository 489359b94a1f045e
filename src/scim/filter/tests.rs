//! The filters directories send, parsed and matched.

use super::*;
use serde_json::json;

fn user() -> Value {
    json!({
        "id": "Ab-1",
        "userName": "Bjensen@Example.com",
        "externalId": "X1",
        "active": true,
        "name": {"givenName": "Barbara"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@home.example", "type": "home"}
        ]
    })
}

#[test]
fn the_filters_directories_send_match() {
    let u = user();
    for (text, expected) in [
        (r#"userName eq "bjensen@example.com""#, true),
        (r#"USERNAME Eq "BJENSEN@EXAMPLE.COM""#, true),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen@example.com""#,
            true,
        ),
        (r#"externalId eq "X1""#, true),
        (r#"externalId eq "x1""#, false),
        (r#"emails.value eq "babs@home.example""#, true),
        (r#"emails[type eq "work"]"#, true),
        (r#"emails[type eq "work" and value co "example.com"]"#, true),
        (r#"emails[type eq "other"]"#, false),
        (r#"name.givenName sw "bar" and active eq true"#, true),
        (r#"not (active eq true) or userName pr"#, true),
        (r#"displayName eq "x""#, false),
        (r#"userName ne "someone""#, true),
        (r#"(userName eq "a" or userName eq "b")"#, false),
        (
            r#"emails[type eq "work"].value eq "BJENSEN@example.com""#,
            true,
        ),
        (
            r#"emails[type eq "home"].value eq "bjensen@example.com""#,
            false,
        ),
        ("externalId eq X1", true),
    ] {
        assert_eq!(Filter::parse(text).unwrap().matches(&u), expected, "{text}");
    }
}

#[test]
fn a_schema_urn_alone_names_its_extension() {
    let orgs = "urn:ietf:params:scim:schemas:extension:orgs:2.0:User";
    assert_eq!(strip_urn(orgs), orgs);
    assert_eq!(strip_urn(&format!("{orgs}:state")), "state");
    assert_eq!(
        strip_urn("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName"),
        "name.givenName"
    );
    assert_eq!(strip_urn("userName"), "userName");
}

#[test]
fn an_equality_narrows_the_list() {
    let f = Filter::parse(r#"externalId eq "X1" and active eq true"#).unwrap();
    assert_eq!(f.equality(), Some(("externalid".into(), "X1".into())));
    let f = Filter::parse(r#"emails.value eq "a@b.c""#).unwrap();
    assert_eq!(f.equality(), Some(("emails.value".into(), "a@b.c".into())));
    assert_eq!(Filter::parse("userName pr").unwrap().equality(), None);
}

#[test]
fn malformed_filters_are_invalid_filter_errors() {
    for text in [
        "userName",
        "userName eq",
        "userName zz \"x\"",
        "(userName eq \"x\"",
        "userName eq \"x",
        "a eq \"x\" b c",
    ] {
        let error = Filter::parse(text).unwrap_err();
        assert_eq!(error.scim_type(), Some("invalidFilter"), "{text}");
    }
}

#[test]
fn deep_long_or_foreign_filters_are_refused_without_harm() {
    let deep = format!("{}userName pr{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        Filter::parse(&deep).unwrap_err().scim_type(),
        Some("invalidFilter")
    );
    let long = vec!["userName pr"; 300].join(" and ");
    assert_eq!(
        Filter::parse(&long).unwrap_err().scim_type(),
        Some("invalidFilter")
    );
    // Byte 4 inside a character: no slicing across it.
    let foreign = Filter::parse("a\u{e9}\u{e9} pr").unwrap_err();
    assert_eq!(foreign.scim_type(), Some("invalidFilter"));
    assert_eq!(strip_urn("a\u{e9}\u{e9}"), "a\u{e9}\u{e9}");
    assert_eq!(strip_urn("\u{e9}\u{e9}rn:x"), "\u{e9}\u{e9}rn:x");
}
