//! What the service provider says of itself (RFC 7643 sections 5 to 7): its configuration, its
//! two resource types and their schemas. The schemas publish only what orgs stores (a directory
//! that validates answers against them finds nothing more), and orgs' extension of a User:
//! where its membership stands.

use serde_json::{Value, json};

use super::{GROUP_SCHEMA, ORGS_USER_SCHEMA, USER_SCHEMA};

/// One attribute's definition.
fn attribute(name: &str, kind: &str, required: bool, mutability: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": "",
        "required": required,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none",
    })
}

fn string(name: &str) -> Value {
    attribute(name, "string", false, "readWrite")
}

fn complex(name: &str, multi: bool, subs: Vec<Value>) -> Value {
    let mut out = attribute(name, "complex", false, "readWrite");
    out["multiValued"] = multi.into();
    out["subAttributes"] = subs.into();
    out
}

fn schema(id: &str, name: &str, description: &str, attributes: Vec<Value>, base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    })
}

/// Every schema, in the order `/Schemas` lists them.
pub fn schemas(base: &str) -> Vec<Value> {
    let mut user_name = attribute("userName", "string", true, "readWrite");
    user_name["uniqueness"] = "server".into();
    let mut email_type = string("type");
    email_type["canonicalValues"] = json!(["work", "home", "other"]);
    let user = schema(
        USER_SCHEMA,
        "User",
        "A member of the organization (or a person invited to it).",
        vec![
            user_name,
            complex(
                "name",
                false,
                vec![
                    string("formatted"),
                    string("familyName"),
                    string("givenName"),
                ],
            ),
            string("displayName"),
            attribute("active", "boolean", false, "readWrite"),
            complex(
                "emails",
                true,
                vec![
                    string("value"),
                    email_type,
                    attribute("primary", "boolean", false, "readWrite"),
                ],
            ),
        ],
        base,
    );
    let mut display_name = attribute("displayName", "string", true, "readWrite");
    display_name["uniqueness"] = "none".into();
    let mut value = attribute("value", "string", false, "immutable");
    value["caseExact"] = true.into();
    let mut reference = attribute("$ref", "reference", false, "immutable");
    reference["referenceTypes"] = json!(["User"]);
    let mut member_type = attribute("type", "string", false, "immutable");
    member_type["canonicalValues"] = json!(["User"]);
    let group = schema(
        GROUP_SCHEMA,
        "Group",
        "A set of the organization's Users, which its admins map to roles.",
        vec![
            display_name,
            complex("members", true, vec![value, reference, member_type]),
        ],
        base,
    );
    // Answered when asked for (`attributes=urn:...:orgs:2.0:User:state`): a directory that
    // compares what it wrote with what it reads back never sees a value it did not write.
    let mut state = attribute("state", "string", false, "readOnly");
    state["canonicalValues"] = json!(["active", "suspended", "pending", "removed", "unlinked"]);
    state["returned"] = "request".into();
    let mut user_id = attribute("userId", "string", false, "readOnly");
    user_id["returned"] = "request".into();
    let extension = schema(
        ORGS_USER_SCHEMA,
        "OrgsUser",
        "Where the User's membership of the organization stands.",
        vec![state, user_id],
        base,
    );
    vec![user, group, extension]
}

/// The resource types, in the order `/ResourceTypes` lists them.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A membership of the organization",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ORGS_USER_SCHEMA, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A group of the organization's Users, mapped to roles",
            "schema": GROUP_SCHEMA,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
        }),
    ]
}

/// The service provider's configuration.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": super::MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "SCIM token",
            "description": "A SCIM token of the organization (orgs_scim_...), made on its settings by a holder of sso.manage",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

/// A list answer of `resources`, `total` in all, from `start`.
pub fn list(resources: Vec<Value>, total: u64, start: u64) -> Value {
    json!({
        "schemas": [super::LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// `resource` with only the attributes asked for (`attributes`) or without those excluded
/// (`excludedAttributes`); `schemas`, `id` and `meta` always stay. orgs' extension of a User
/// keeps its `state` and `userId` only when `attributes` names them (they are returned on
/// request).
pub fn project(resource: &mut Value, attributes: &[String], excluded: &[String]) {
    const ALWAYS: [&str; 4] = ["schemas", "id", "meta", ORGS_USER_SCHEMA];
    if let Some(Value::Object(extension)) = resource.get_mut(ORGS_USER_SCHEMA) {
        let asked = |name: &str| {
            attributes.iter().any(|a| {
                let a = a.trim();
                a.eq_ignore_ascii_case(&format!("{ORGS_USER_SCHEMA}:{name}"))
                    || a.eq_ignore_ascii_case(name)
            })
        };
        extension.retain(|key, _| key == "schemas" || asked(key));
        if extension.is_empty()
            && let Some(fields) = resource.as_object_mut()
        {
            fields.remove(ORGS_USER_SCHEMA);
        }
    }
    let Some(fields) = resource.as_object_mut() else {
        return;
    };
    let named = |list: &[String], key: &str| -> Option<Vec<String>> {
        let mut subs = Vec::new();
        let mut whole = false;
        for path in list {
            let path = super::filter::strip_urn(path.trim());
            let (top, sub) = match path.split_once('.') {
                Some((top, sub)) => (top, Some(sub)),
                None => (path, None),
            };
            if top.eq_ignore_ascii_case(key) {
                match sub {
                    Some(sub) => subs.push(sub.to_string()),
                    None => whole = true,
                }
            }
        }
        (whole || !subs.is_empty()).then(|| if whole { Vec::new() } else { subs })
    };
    let keys: Vec<String> = fields.keys().cloned().collect();
    for key in keys {
        if ALWAYS.contains(&key.as_str()) {
            continue;
        }
        if !attributes.is_empty() {
            match named(attributes, &key) {
                None => {
                    fields.remove(&key);
                }
                Some(subs) if !subs.is_empty() => {
                    if let Some(Value::Object(inner)) = fields.get_mut(&key) {
                        inner.retain(|k, _| subs.iter().any(|s| s.eq_ignore_ascii_case(k)));
                    }
                }
                Some(_) => {}
            }
        }
        match named(excluded, &key) {
            Some(subs) if subs.is_empty() => {
                fields.remove(&key);
            }
            Some(subs) => {
                if let Some(Value::Object(inner)) = fields.get_mut(&key) {
                    inner.retain(|k, _| !subs.iter().any(|s| s.eq_ignore_ascii_case(k)));
                }
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_keep_and_excluded_attributes_drop() {
        let user = json!({"schemas": [], "id": "1", "userName": "a", "externalId": "x",
                          "name": {"givenName": "g", "familyName": "f"}});
        let mut only = user.clone();
        project(
            &mut only,
            &["externalId".into(), "name.givenName".into()],
            &[],
        );
        assert_eq!(
            only,
            json!({"schemas": [], "id": "1", "externalId": "x", "name": {"givenName": "g"}})
        );
        let mut without = user.clone();
        project(&mut without, &[], &["name".into(), "id".into()]);
        assert_eq!(
            without,
            json!({"schemas": [], "id": "1", "userName": "a", "externalId": "x"})
        );
    }

    #[test]
    fn the_schemas_publish_what_is_stored() {
        let schemas = schemas("https://acme.example.com/scim/v2");
        let user = &schemas[0];
        let names: Vec<&str> = user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["userName", "name", "displayName", "active", "emails"]
        );
    }
}
