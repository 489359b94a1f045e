//! Audit events as sentences people read ("Ada created the project Website relaunch", "Ada gave
//! Erin the role Support lead"), for the dashboard and the audit page: one template per event
//! type, orgs' own here, an embedding app's added with `AppState::with_audit_sentence`.
//!
//! A template is what follows the actor's name, with placeholders filled from the event:
//! `{target}` (the target's name then), `{roles}` (the roles the change gave, by name: "the
//! role Support lead", "the roles Admin and Billing", "no role"), `{action}` (the event's key).
//! An event type without a template reads "did {action} to {target}".

use std::collections::HashMap;

use serde::Serialize;

use super::EventView;

/// orgs' own event types and their sentences.
const ORGS: &[(&str, &str)] = &[
    ("organization.created", "created the organization {target}"),
    ("organization.updated", "changed the settings of {target}"),
    ("organization.deleted", "deleted the organization {target}"),
    ("ownership.transferred", "made {target} the owner"),
    ("member.added", "added {target} with {roles}"),
    ("member.removed", "removed {target}"),
    ("member.left", "left the organization"),
    ("member.roles_changed", "gave {target} {roles}"),
    ("invitation.created", "invited {target}"),
    ("invitation.resent", "sent the invitation to {target} again"),
    ("invitation.revoked", "revoked the invitation to {target}"),
    ("invitation.accepted", "accepted the invitation"),
    ("invitation.declined", "declined the invitation"),
    ("role.created", "created the role {target}"),
    ("role.updated", "changed the role {target}"),
    ("role.deleted", "deleted the role {target}"),
    ("api_key.created", "created the API key {target}"),
    ("api_key.revoked", "revoked the API key {target}"),
    ("domain.added", "added the domain {target}"),
    ("domain.verified", "verified the domain {target}"),
    ("domain.removed", "removed the domain {target}"),
    ("email_domain.added", "added the email domain {target}"),
    (
        "email_domain.verified",
        "verified the email domain {target}",
    ),
    (
        "email_domain.unverified",
        "found the TXT record of {target} gone: the email domain is pending again",
    ),
    (
        "email_domain.failed",
        "found no TXT record for {target} in 30 days: the claim failed",
    ),
    (
        "email_domain.join_changed",
        "changed how people at {target} join",
    ),
    ("email_domain.removed", "removed the email domain {target}"),
    (
        "member.joined_by_domain",
        "joined by their address's email domain",
    ),
    (
        "sso.connection_created",
        "set up single sign-on with {target}",
    ),
    (
        "sso.connection_updated",
        "changed single sign-on with {target}",
    ),
    (
        "sso.connection_removed",
        "removed single sign-on with {target}",
    ),
    (
        "sso.identity_linked",
        "linked a sign-on identity to {target}",
    ),
    (
        "sso.claim_refused",
        "refused a sign-on through {target} for an address outside the organization's domains",
    ),
    (
        "security.two_factor_required",
        "required two-factor sign-in of every member",
    ),
    (
        "security.two_factor_optional",
        "stopped requiring two-factor sign-in",
    ),
    ("billing.seat_limit_changed", "changed the seat limit"),
    ("billing.plan_changed", "changed the plan"),
    ("project.created", "created the project {target}"),
    ("project.updated", "changed the project {target}"),
    ("project.deleted", "deleted the project {target}"),
    (
        "webhook_endpoint.created",
        "added the webhook endpoint {target}",
    ),
    (
        "webhook_endpoint.updated",
        "changed the webhook endpoint {target}",
    ),
    (
        "webhook_endpoint.secret_rotated",
        "rotated the secret of the webhook endpoint {target}",
    ),
    (
        "webhook_endpoint.disabled",
        "turned off the webhook endpoint {target}",
    ),
    (
        "webhook_endpoint.deleted",
        "deleted the webhook endpoint {target}",
    ),
];

/// The sentence template of each event type the application records.
#[derive(Clone, Debug)]
pub struct Sentences {
    templates: HashMap<&'static str, &'static str>,
    order: Vec<&'static str>,
}

impl Default for Sentences {
    fn default() -> Self {
        let mut sentences = Self {
            templates: HashMap::new(),
            order: Vec::new(),
        };
        for (action, template) in ORGS {
            sentences = sentences.with(action, template);
        }
        sentences
    }
}

/// An event as the pages show it: the event, and what happened in words.
#[derive(Debug, Serialize)]
pub struct Described<'a> {
    /// The event.
    #[serde(flatten)]
    pub event: &'a EventView,
    /// What the actor did, after their name.
    pub sentence: String,
    /// What changed, a line per field ("name: Acme → Acme Inc").
    pub details: Vec<String>,
}

impl Sentences {
    /// With `template` for the event type `action` (replacing orgs' own, if it has one).
    #[must_use]
    pub fn with(mut self, action: &'static str, template: &'static str) -> Self {
        if self.templates.insert(action, template).is_none() {
            self.order.push(action);
        }
        self
    }

    /// The sentence template of `action`, if it has one.
    pub fn template(&self, action: &str) -> Option<&'static str> {
        self.templates.get(action).copied()
    }

    /// Every event type with a sentence, in the order they were added: the audit page's action
    /// filter offers them.
    pub fn actions(&self) -> &[&'static str] {
        &self.order
    }

    /// `event` in words; `role_names` names role keys (custom roles by their names; built-in
    /// ones are named here).
    pub fn describe<'a>(
        &self,
        event: &'a EventView,
        role_names: &HashMap<String, String>,
    ) -> Described<'a> {
        let target = target_name(event, role_names);
        // Who added themselves joined (an invitation accepted, a domain's sign-up).
        let joined = event.action == "member.added"
            && event.actor.kind == "user"
            && event.actor.id.is_some()
            && event
                .target
                .as_ref()
                .is_some_and(|t| t.id == event.actor.id);
        let template = if joined {
            Some(&"joined with {roles}")
        } else {
            self.templates.get(event.action.as_str())
        };
        let sentence = match template {
            Some(template) => fill(template, |name| match name {
                "target" => Some(target.clone()),
                "roles" => Some(roles_given(event, role_names)),
                "action" => Some(event.action.clone()),
                _ => None,
            }),
            None => format!("did {} to {target}", event.action),
        };
        Described {
            event,
            sentence,
            details: details(event),
        }
    }
}

/// `template` with each `{name}` that `value` knows replaced, in one pass: a value holding
/// `{roles}` (a project named so) stays as it is.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((close, value(&after[..close])?)))
        {
            Some((close, filled)) => {
                out.push_str(&filled);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The target's name then; a role's by its name now (its key when it is gone).
fn target_name(event: &EventView, role_names: &HashMap<String, String>) -> String {
    let Some(target) = &event.target else {
        return "something".into();
    };
    let label = target.label.clone().unwrap_or_else(|| "something".into());
    if target.kind != "role" {
        return label;
    }
    role_names
        .get(&label)
        .cloned()
        .or_else(|| {
            let changes = event.changes.as_ref()?;
            changes.get("name")?.as_str().map(str::to_string)
        })
        .unwrap_or(label)
}

/// The roles a change gave, by name: its `to` (roles changed) or `roles` (added, joined).
fn roles_given(event: &EventView, role_names: &HashMap<String, String>) -> String {
    let Some(changes) = &event.changes else {
        return "no role".into();
    };
    let keys = changes
        .get("to")
        .or_else(|| changes.get("roles"))
        .and_then(serde_json::Value::as_array);
    let names: Vec<String> = keys
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .map(|key| role_name(key, role_names))
        .collect();
    match names.as_slice() {
        [] => "no role".into(),
        [one] => format!("the role {one}"),
        [init @ .., last] => format!("the roles {} and {last}", init.join(", ")),
    }
}

fn role_name(key: &str, role_names: &HashMap<String, String>) -> String {
    if let Some(name) = role_names.get(key) {
        return name.clone();
    }
    match key {
        "owner" => "Owner".into(),
        "admin" => "Admin".into(),
        "member" => "Member".into(),
        other => other.into(),
    }
}

/// A line per changed field of an event whose changes are `{"field": {"from", "to"}}`.
fn details(event: &EventView) -> Vec<String> {
    let Some(serde_json::Value::Object(fields)) = &event.changes else {
        return Vec::new();
    };
    let shown = |value: &serde_json::Value| match value {
        serde_json::Value::Null => "none".to_string(),
        serde_json::Value::String(text) if text.is_empty() => "empty".to_string(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    fields
        .iter()
        .filter_map(|(field, change)| {
            let (from, to) = (change.get("from")?, change.get("to")?);
            if from.is_array() || to.is_array() {
                return None;
            }
            Some(format!("{field}: {} → {}", shown(from), shown(to)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{ActorView, TargetView};

    fn event(action: &str, target: &str, changes: Option<serde_json::Value>) -> EventView {
        EventView {
            id: 1,
            occurred_at: chrono::Utc::now(),
            action: action.into(),
            actor: ActorView {
                kind: "user".into(),
                id: Some(1),
                name: "Ada".into(),
            },
            target: Some(TargetView {
                kind: "member".into(),
                id: Some(2),
                label: Some(target.into()),
            }),
            changes,
            ip: None,
            user_agent: None,
            request_id: None,
            organization_name: "Acme".into(),
        }
    }

    #[test]
    fn every_event_type_of_orgs_has_a_sentence() {
        let sentences = Sentences::default();
        let roles = HashMap::from([("support-lead".to_string(), "Support lead".to_string())]);
        let said = |e: &EventView| sentences.describe(e, &roles).sentence;
        assert_eq!(
            said(&event("project.created", "Website relaunch", None)),
            "created the project Website relaunch"
        );
        assert_eq!(
            said(&event(
                "member.roles_changed",
                "Erin",
                Some(serde_json::json!({"from": ["member"], "to": ["support-lead"]}))
            )),
            "gave Erin the role Support lead"
        );
        assert_eq!(
            said(&event(
                "member.added",
                "Erin",
                Some(serde_json::json!({"roles": ["admin", "support-lead", "billing"]}))
            )),
            "added Erin with the roles Admin, Support lead and billing"
        );
        let mut joined = event(
            "member.added",
            "Grace",
            Some(serde_json::json!({"roles": ["member"]})),
        );
        if let Some(target) = joined.target.as_mut() {
            target.id = Some(1);
        }
        assert_eq!(said(&joined), "joined with the role Member");
        let accepted = event("invitation.accepted", "grace@example.com", None);
        assert_eq!(said(&accepted), "accepted the invitation");
        let mut role = event(
            "role.created",
            "support-lead",
            Some(serde_json::json!({"name": "Support lead"})),
        );
        if let Some(target) = role.target.as_mut() {
            target.kind = "role".into();
        }
        assert_eq!(said(&role), "created the role Support lead");
        for (action, _) in ORGS {
            let text = said(&event(action, "X", None));
            assert!(
                !text.contains('{') && !text.contains(action),
                "{action}: {text}"
            );
        }
    }

    #[test]
    fn an_unknown_event_type_says_its_key_and_an_embedders_has_its_own_sentence() {
        let sentences = Sentences::default();
        let none = HashMap::new();
        let note = event("note.created", "Call Erin", None);
        assert_eq!(
            sentences.describe(&note, &none).sentence,
            "did note.created to Call Erin"
        );
        let sentences = sentences.with("note.created", "wrote the note {target}");
        assert_eq!(
            sentences.describe(&note, &none).sentence,
            "wrote the note Call Erin"
        );
        assert_eq!(sentences.actions().last(), Some(&"note.created"));
    }

    #[test]
    fn a_name_that_looks_like_a_placeholder_is_said_as_it_is() {
        let odd = event("project.created", "{roles} and {action}", None);
        let said = Sentences::default()
            .describe(&odd, &HashMap::new())
            .sentence;
        assert_eq!(said, "created the project {roles} and {action}");
        let mut nobody = event("member.added", "Grace", None);
        nobody.actor.id = None;
        if let Some(target) = nobody.target.as_mut() {
            target.id = None;
        }
        let said = Sentences::default()
            .describe(&nobody, &HashMap::new())
            .sentence;
        assert_eq!(said, "added Grace with no role");
    }

    #[test]
    fn a_change_of_fields_is_a_line_each() {
        let renamed = event(
            "organization.updated",
            "Acme Inc",
            Some(serde_json::json!({
                "name": {"from": "Acme", "to": "Acme Inc"},
                "color": {"from": null, "to": "teal"}
            })),
        );
        let described = Sentences::default().describe(&renamed, &HashMap::new());
        assert_eq!(
            described.details,
            ["color: none → teal", "name: Acme → Acme Inc"]
        );
    }
}
