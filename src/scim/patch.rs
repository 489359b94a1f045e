//! SCIM PATCH (RFC 7644 section 3.5.2) over a resource as JSON, in the dialects directories
//! speak: `op` in any case (Entra's `Replace`), no path with a value object whose keys may
//! themselves be paths (`"name.givenName"`, a schema URN in front), a path with a value filter
//! (`emails[type eq "work"].value`, `members[value eq "..."]`), `remove` of some values of a
//! multi-valued attribute given as its value (Entra's group member removal). A replace through a
//! value filter that matches nothing adds the value, with what the filter's equalities say
//! (Entra replaces `emails[type eq "work"].value` of a user who has none). The caller reads the
//! resource back from the result, ignoring what may not change.

use serde_json::{Map, Value};

use super::ScimError;
use super::filter::{AttrPath, Filter, Op, get_ci, strip_urn};

/// One operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Add,
    Replace,
    Remove,
}

/// Applies the PATCH request `body` to `resource`; 400 with SCIM's `scimType` when it is not one.
pub fn apply(resource: &mut Value, body: &Value) -> Result<(), ScimError> {
    let operations = get_ci(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::bad("invalidSyntax", "a PATCH needs \"Operations\": [...]"))?;
    for operation in operations {
        let op = get_ci(operation, "op")
            .and_then(Value::as_str)
            .ok_or_else(|| ScimError::bad("invalidSyntax", "each operation needs an \"op\""))?;
        let kind = match op.to_ascii_lowercase().as_str() {
            "add" => Kind::Add,
            "replace" => Kind::Replace,
            "remove" => Kind::Remove,
            other => {
                return Err(ScimError::bad(
                    "invalidSyntax",
                    format!("unknown op {other:?}: add, replace or remove"),
                ));
            }
        };
        let path = get_ci(operation, "path")
            .and_then(Value::as_str)
            .map(str::trim);
        let value = get_ci(operation, "value").cloned();
        match (path.filter(|p| !p.is_empty()), value) {
            (Some(path), value) => at_path(resource, kind, path, value)?,
            (None, Some(Value::Object(fields))) if kind != Kind::Remove => {
                for (key, value) in fields {
                    // An extension's attributes come as an object under its URN.
                    if key.to_ascii_lowercase().starts_with("urn:")
                        && let Value::Object(inner) = &value
                        && !key.contains(".")
                    {
                        for (k, v) in inner {
                            at_path(resource, kind, k, Some(v.clone()))?;
                        }
                        continue;
                    }
                    at_path(resource, kind, &key, Some(value))?;
                }
            }
            (None, _) if kind == Kind::Remove => {
                return Err(ScimError::bad("noTarget", "a remove needs a path"));
            }
            (None, _) => {
                return Err(ScimError::bad(
                    "invalidValue",
                    "an operation without a path needs an object as its value",
                ));
            }
        }
    }
    Ok(())
}

/// The parts of a path: `name`, an optional value filter, an optional sub-attribute.
fn split_path(path: &str) -> Result<(AttrPath, Option<Filter>), ScimError> {
    let path = strip_urn(path);
    // An extension's URN alone: the whole extension (its dots are its version's).
    if super::filter::starts_with_urn(path) {
        return Ok((
            AttrPath {
                name: path.to_string(),
                sub: None,
            },
            None,
        ));
    }
    let Some(open) = path.find('[') else {
        let attr = AttrPath {
            name: path.split('.').next().unwrap_or_default().to_string(),
            sub: path.split_once('.').map(|(_, s)| s.to_string()),
        };
        if attr.name.is_empty() {
            return Err(ScimError::bad(
                "invalidPath",
                format!("{path:?} is not a path"),
            ));
        }
        return Ok((attr, None));
    };
    let close = path
        .rfind(']')
        .filter(|c| *c > open)
        .ok_or_else(|| ScimError::bad("invalidPath", format!("{path:?}: a `[` is not closed")))?;
    let filter = Filter::parse(&path[open + 1..close])
        .map_err(|_| ScimError::bad("invalidPath", format!("{path:?}: bad value filter")))?;
    let sub = path[close + 1..]
        .strip_prefix('.')
        .map(str::to_string)
        .filter(|s| !s.is_empty());
    Ok((
        AttrPath {
            name: path[..open].to_string(),
            sub,
        },
        Some(filter),
    ))
}

/// The key of `object` named `name` whatever its case, or `name` itself.
fn key_of(object: &Map<String, Value>, name: &str) -> String {
    object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

fn as_object(value: &mut Value) -> Result<&mut Map<String, Value>, ScimError> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value
        .as_object_mut()
        .ok_or_else(|| ScimError::bad("invalidPath", "not an object"))
}

fn at_path(
    resource: &mut Value,
    kind: Kind,
    path: &str,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let (attr, filter) = split_path(path)?;
    let root = as_object(resource)?;
    let key = key_of(root, &attr.name);
    match filter {
        None => plain(root, &key, attr.sub.as_deref(), kind, value),
        Some(filter) => filtered(root, &key, &filter, attr.sub.as_deref(), kind, value),
    }
}

fn plain(
    root: &mut Map<String, Value>,
    key: &str,
    sub: Option<&str>,
    kind: Kind,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let needs_value = || ScimError::bad("invalidValue", format!("{key}: a value is needed"));
    match (kind, sub) {
        (Kind::Remove, None) => {
            match (value, root.get_mut(key)) {
                // Some values of a multi-valued attribute: Entra's member removal.
                (Some(gone), Some(Value::Array(items))) => {
                    let gone: Vec<Value> = match gone {
                        Value::Array(list) => list,
                        one => vec![one],
                    };
                    let gone: std::collections::HashSet<String> =
                        gone.iter().map(identity).collect();
                    items.retain(|item| !gone.contains(&identity(item)));
                }
                _ => {
                    root.remove(key);
                }
            }
            Ok(())
        }
        (Kind::Remove, Some(sub)) => {
            match root.get_mut(key) {
                Some(Value::Object(inner)) => {
                    let k = key_of(inner, sub);
                    inner.remove(&k);
                }
                Some(Value::Array(items)) => {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        let k = key_of(item, sub);
                        item.remove(&k);
                    }
                }
                _ => {}
            }
            Ok(())
        }
        (Kind::Add, None) => {
            let value = value.ok_or_else(needs_value)?;
            match (root.get_mut(key), value) {
                (Some(Value::Array(items)), Value::Array(more)) => {
                    // By identity, in one pass: a directory adds thousands of members at once.
                    let mut seen: std::collections::HashSet<String> =
                        items.iter().map(identity).collect();
                    for v in more {
                        if seen.insert(identity(&v)) {
                            items.push(v);
                        }
                    }
                }
                (Some(Value::Object(inner)), Value::Object(more)) => {
                    for (k, v) in more {
                        let k = key_of(inner, &k);
                        inner.insert(k, v);
                    }
                }
                (_, value) => {
                    root.insert(key.to_string(), value);
                }
            }
            Ok(())
        }
        (Kind::Replace, None) => {
            let value = value.ok_or_else(needs_value)?;
            match (root.get_mut(key), value) {
                (Some(Value::Object(inner)), Value::Object(more)) => {
                    for (k, v) in more {
                        let k = key_of(inner, &k);
                        inner.insert(k, v);
                    }
                }
                (_, value) => {
                    root.insert(key.to_string(), value);
                }
            }
            Ok(())
        }
        (Kind::Add | Kind::Replace, Some(sub)) => {
            let value = value.ok_or_else(needs_value)?;
            match root.entry(key.to_string()).or_insert(Value::Null) {
                Value::Array(items) => {
                    // Every value's sub-attribute (no filter names which).
                    for item in items.iter_mut() {
                        let item = as_object(item)?;
                        let k = key_of(item, sub);
                        item.insert(k, value.clone());
                    }
                }
                slot => {
                    let inner = as_object(slot)?;
                    let k = key_of(inner, sub);
                    inner.insert(k, value);
                }
            }
            Ok(())
        }
    }
}

fn filtered(
    root: &mut Map<String, Value>,
    key: &str,
    filter: &Filter,
    sub: Option<&str>,
    kind: Kind,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let slot = root
        .entry(key.to_string())
        .or_insert(Value::Array(Vec::new()));
    if !slot.is_array() {
        let one = slot.take();
        *slot = Value::Array(if one.is_null() { Vec::new() } else { vec![one] });
    }
    let Value::Array(items) = slot else {
        return Err(ScimError::bad(
            "invalidPath",
            format!("{key} is not multi-valued"),
        ));
    };
    if kind == Kind::Remove {
        match sub {
            None => items.retain(|item| !filter.matches(item)),
            Some(sub) => {
                for item in items.iter_mut().filter(|i| filter.matches(i)) {
                    if let Value::Object(fields) = item {
                        let k = key_of(fields, sub);
                        fields.remove(&k);
                    }
                }
            }
        }
        return Ok(());
    }
    let value =
        value.ok_or_else(|| ScimError::bad("invalidValue", format!("{key}: a value is needed")))?;
    let mut hit = false;
    for item in items.iter_mut().filter(|i| filter.matches(i)) {
        hit = true;
        set_in(item, sub, value.clone())?;
    }
    if !hit {
        // What the filter's equalities say, then the value: the item the path meant.
        let mut item = Value::Object(Map::new());
        seed(&mut item, filter);
        set_in(&mut item, sub, value)?;
        items.push(item);
    }
    Ok(())
}

/// Sets `sub` of `item` to `value`, or merges `value` into it when no sub-attribute is named.
fn set_in(item: &mut Value, sub: Option<&str>, value: Value) -> Result<(), ScimError> {
    let fields = as_object(item)?;
    match (sub, value) {
        (Some(sub), value) => {
            let k = key_of(fields, sub);
            fields.insert(k, value);
        }
        (None, Value::Object(more)) => {
            for (k, v) in more {
                let k = key_of(fields, &k);
                fields.insert(k, v);
            }
        }
        (None, other) => {
            fields.insert("value".to_string(), other);
        }
    }
    Ok(())
}

/// Writes the equalities of `filter` into `item`.
fn seed(item: &mut Value, filter: &Filter) {
    match filter {
        Filter::Compare(path, Op::Eq, value) if path.sub.is_none() => {
            if let Value::Object(fields) = item {
                fields.insert(path.name.clone(), value.clone());
            }
        }
        Filter::And(a, b) => {
            seed(item, a);
            seed(item, b);
        }
        _ => {}
    }
}

/// What makes a value of a multi-valued attribute the same as another: its `value` when it has
/// one (members by id), else the whole value.
fn identity(item: &Value) -> String {
    match get_ci(item, "value") {
        Some(value) => format!("v{value}"),
        None => format!("w{item}"),
    }
}

/// A boolean as directories send it: `true`, or Entra's `"True"` and `"False"`.
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "userName": "bjensen@example.com",
            "active": true,
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}]
        })
    }

    #[test]
    fn entras_capitalised_replace_with_a_string_boolean() {
        let mut u = user();
        // Microsoft's "Disable user" request, verbatim.
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
        });
        apply(&mut u, &body).unwrap();
        assert_eq!(boolean(&u["active"]), Some(false));
    }

    #[test]
    fn entras_value_filter_paths_replace_and_add() {
        let mut u = user();
        let body = json!({"Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
            {"op": "Add", "path": "emails[type eq \"home\"].value", "value": "home@example.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Smith"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:displayName", "value": "Babs"}
        ]});
        apply(&mut u, &body).unwrap();
        assert_eq!(u["emails"][0]["value"], "new@example.com");
        assert_eq!(
            u["emails"][1],
            json!({"type": "home", "value": "home@example.com"})
        );
        assert_eq!(u["name"]["familyName"], "Smith");
        assert_eq!(u["name"]["givenName"], "Barbara");
        assert_eq!(u["displayName"], "Babs");
    }

    #[test]
    fn oktas_pathless_replace_deactivates() {
        let mut u = user();
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}]
        });
        apply(&mut u, &body).unwrap();
        assert_eq!(u["active"], false);
    }

    #[test]
    fn a_pathless_value_may_use_dotted_and_urn_keys() {
        let mut u = user();
        let body = json!({"Operations": [{"op": "replace", "value": {
            "name.givenName": "Babs",
            "urn:ietf:params:scim:schemas:core:2.0:User:externalId": "x-1"
        }}]});
        apply(&mut u, &body).unwrap();
        assert_eq!(u["name"]["givenName"], "Babs");
        assert_eq!(u["externalId"], "x-1");
    }

    #[test]
    fn group_members_are_added_and_removed_both_ways() {
        let mut g = json!({"displayName": "Eng", "members": [{"value": "a"}]});
        let add = json!({"Operations": [{"op": "Add", "path": "members", "value": [{"value": "b"}, {"value": "a"}]}]});
        apply(&mut g, &add).unwrap();
        assert_eq!(g["members"], json!([{"value": "a"}, {"value": "b"}]));
        // Entra: the member's id in the value.
        let remove =
            json!({"Operations": [{"op": "Remove", "path": "members", "value": [{"value": "a"}]}]});
        apply(&mut g, &remove).unwrap();
        assert_eq!(g["members"], json!([{"value": "b"}]));
        // RFC 7644's own form: a value filter in the path.
        let remove = json!({"Operations": [{"op": "remove", "path": "members[value eq \"b\"]"}]});
        apply(&mut g, &remove).unwrap();
        assert_eq!(g["members"], json!([]));
    }

    #[test]
    fn a_whole_extension_is_added_under_its_urn() {
        let orgs = "urn:ietf:params:scim:schemas:extension:orgs:2.0:User";
        let mut u = user();
        u[orgs] = json!({"state": "active"});
        let add =
            json!({"Operations": [{"op": "add", "path": orgs, "value": {"schemas": [orgs]}}]});
        apply(&mut u, &add).unwrap();
        assert_eq!(u[orgs], json!({"state": "active", "schemas": [orgs]}));
        let remove = json!({"Operations": [{"op": "remove", "path": orgs}]});
        apply(&mut u, &remove).unwrap();
        assert!(u.get(orgs).is_none());
    }

    #[test]
    fn bad_operations_say_why() {
        let mut u = user();
        for (body, scim_type) in [
            (json!({}), "invalidSyntax"),
            (
                json!({"Operations": [{"op": "move", "path": "x"}]}),
                "invalidSyntax",
            ),
            (json!({"Operations": [{"op": "remove"}]}), "noTarget"),
            (
                json!({"Operations": [{"op": "replace", "value": "x"}]}),
                "invalidValue",
            ),
            (
                json!({"Operations": [{"op": "replace", "path": "emails[type eq", "value": "x"}]}),
                "invalidPath",
            ),
        ] {
            let error = apply(&mut u, &body).unwrap_err();
            assert_eq!(error.scim_type(), Some(scim_type), "{body}");
        }
    }
}
