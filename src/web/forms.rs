//! The form helper: an HTML form's input checked into field -> messages, shown again with its
//! values and messages (`Page::form`, rendered by the `forms.*` components of
//! `templates/forms.html`), or answered as a 422 on the API; and the flash and redirect after a
//! form saved.
//!
//! A handler of an HTML form, orgs' own or an embedding app's, reads:
//!
//! ```ignore
//! if let Err(errors) = forms::check(&input) {
//!     return render(&req, tenant_page("notes/form.html", &tenant).form(&input, &errors)).await;
//! }
//! let note = notes::create(&tx, input).await?;
//! Ok(forms::saved(&session, "Note added.", &tenant.url("/notes/")))
//! ```
//!
//! and its template `{{ <forms.errors/> }}`, `{{ <forms.csrf/> }}`, then one
//! `{{ <forms.field name="body" label="Note" required={true}/> }}` per field: each field takes
//! its value from `form` and its messages from `errors`, with `aria-invalid` and
//! `aria-describedby` set when it has any.

use std::collections::BTreeMap;

use actix_session::Session;
use actix_web::HttpResponse;
use serde::Serialize;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{AppError, FieldErrors};
use crate::permissions::{Catalog, PermissionSet};
use crate::web::flash;
use crate::web::render::{Page, redirect};

/// One checkbox of a `forms.checkboxes` group.
#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    /// What the form sends when it is ticked.
    pub value: String,
    /// What people read.
    pub label: String,
    /// Smaller text after it (a permission's key, why it cannot be ticked).
    pub note: String,
    /// Shown but not tickable.
    pub disabled: bool,
}

/// A heading and its checkboxes.
#[derive(Clone, Debug, Serialize)]
pub struct ChoiceGroup {
    /// The heading.
    pub name: String,
    /// Its checkboxes.
    pub items: Vec<Choice>,
}

/// The permissions of `shown` as checkbox groups, in catalog order: each by its name with its
/// key as the note; those outside `grantable` disabled ("you do not hold it").
pub fn permission_choices(
    catalog: &Catalog,
    shown: PermissionSet,
    grantable: PermissionSet,
) -> Vec<ChoiceGroup> {
    let mut groups: Vec<ChoiceGroup> = Vec::new();
    for entry in catalog.entries() {
        let one = catalog.one(entry.permission);
        if !shown.contains_all(one) {
            continue;
        }
        let disabled = !grantable.contains_all(one);
        let choice = Choice {
            value: entry.permission.name().to_string(),
            label: entry.description.to_string(),
            note: if disabled {
                format!("{} · you do not hold it", entry.permission.name())
            } else {
                entry.permission.name().to_string()
            },
            disabled,
        };
        let name = entry.group_name();
        match groups.iter_mut().find(|g| g.name == name) {
            Some(group) => group.items.push(choice),
            None => groups.push(ChoiceGroup {
                name: name.into_owned(),
                items: vec![choice],
            }),
        }
    }
    groups
}

/// Each permission's name by its key (`"roles.manage"` → `"Manage roles"`), for templates
/// that show permissions held: `{{ permission_names | get(key=p, default=p) }}`.
pub fn permission_names(catalog: &Catalog) -> BTreeMap<&'static str, &'static str> {
    catalog
        .entries()
        .iter()
        .map(|e| (e.permission.name(), e.description))
        .collect()
}

impl Page {
    /// The form shown again: `values` as `form` (each field's value) and `errors` (each
    /// field's messages), for the `forms.*` components.
    pub fn form(self, values: impl Serialize, errors: &FieldErrors) -> Self {
        self.with("form", values).with("errors", errors)
    }
}

/// Every problem of `input` at once, by field; `Ok` when it is valid.
pub fn check<T: Validate>(input: &T) -> Result<(), FieldErrors> {
    input.validate().map_err(|errors| field_errors(&errors))
}

/// After a form saved: `message` flashed on the next page, and a 303 to `location`.
pub fn saved(session: &Session, message: impl Into<String>, location: &str) -> HttpResponse {
    flash::success(session, message);
    redirect(location)
}

/// Field -> messages from a validator result.
pub fn field_errors(errors: &ValidationErrors) -> FieldErrors {
    let mut fields = FieldErrors::new();
    for (field, kind) in errors.errors() {
        if let ValidationErrorsKind::Field(list) = kind {
            let messages = list
                .iter()
                .map(|e| match &e.message {
                    Some(message) => message.to_string(),
                    None => format!("is not valid ({})", e.code),
                })
                .collect();
            fields.insert(field.to_string(), messages);
        }
    }
    fields
}

/// Adds one message to a field.
pub fn add(fields: &mut FieldErrors, field: &str, message: impl Into<String>) {
    fields
        .entry(field.to_string())
        .or_default()
        .push(message.into());
}

/// A 422 for the API from field errors.
pub fn invalid(fields: FieldErrors) -> AppError {
    AppError::invalid_fields(fields)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tera::Context;

    fn render(source: &str, context: &Context) -> String {
        let mut tera = crate::templates::load().unwrap_or_else(|e| panic!("{e}"));
        tera.add_raw_template("page.html", source)
            .unwrap_or_else(|e| panic!("{e:?}"));
        tera.render("page.html", context)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn a_field_with_a_message_is_marked_invalid_and_points_at_its_message() {
        let mut context = Context::new();
        context.insert("form", &serde_json::json!({"email": "ada@"}));
        let errors: BTreeMap<&str, Vec<&str>> = BTreeMap::from([(
            "email",
            vec!["Enter an email address like ada@example.com."],
        )]);
        context.insert("errors", &errors);
        let html = render(
            r#"{{ <forms.field name="email" label="Email" type="email" hint="We send the link here." required={true}/> }}"#,
            &context,
        );
        assert!(html.contains(r#"value="ada@""#), "{html}");
        assert!(html.contains(r#"aria-invalid="true""#), "{html}");
        assert!(
            html.contains(r#"aria-describedby="email-hint email-errors""#),
            "{html}"
        );
        assert!(
            html.contains(r#"<ul class="errorlist" id="email-errors">"#),
            "{html}"
        );
        assert!(html.contains("like ada@example.com"), "{html}");
    }

    #[test]
    fn a_field_without_a_message_or_a_form_is_plain_and_says_when_it_is_optional() {
        let html = render(
            r#"{{ <forms.field name="slug" label="Address"/> }}"#,
            &Context::new(),
        );
        assert!(!html.contains("aria-invalid"), "{html}");
        assert!(!html.contains("aria-describedby"), "{html}");
        assert!(html.contains(r#"value="""#), "{html}");
        assert!(html.contains("(optional)"), "{html}");
    }

    #[test]
    fn a_password_is_never_shown_again() {
        let mut context = Context::new();
        context.insert("form", &serde_json::json!({"password": "hunter2"}));
        let html = render(
            r#"{{ <forms.field name="password" label="Password" type="password"/> }}"#,
            &context,
        );
        assert!(!html.contains("hunter2"), "{html}");
    }

    #[test]
    fn the_summary_lists_every_message_and_links_each_to_its_field() {
        let mut context = Context::new();
        let errors: BTreeMap<&str, Vec<&str>> = BTreeMap::from([
            ("password", vec!["Use at least 10 characters."]),
            ("slug", vec!["That address is taken."]),
        ]);
        context.insert("errors", &errors);
        let html = render(r#"{{ <forms.errors/> }}"#, &context);
        assert!(html.contains("2 things need fixing"), "{html}");
        assert!(html.contains(r##"<a href="#password">"##), "{html}");
        assert!(html.contains(r##"<a href="#slug">"##), "{html}");
        assert!(
            render(r#"{{ <forms.errors/> }}"#, &Context::new())
                .trim()
                .is_empty()
        );
    }

    #[test]
    fn checkboxes_come_in_groups_with_their_notes_and_keep_what_was_ticked() {
        let mut context = Context::new();
        context.insert(
            "groups",
            &serde_json::json!([{"name": "Notes", "items": [
                {"value": "notes.read", "label": "See notes", "note": "notes.read"},
                {"value": "notes.write", "label": "Add notes", "note": "notes.write"}
            ]}]),
        );
        context.insert("ticked", &["notes.write"]);
        let html = render(
            r#"{{ <forms.checkboxes name="permissions" legend="What it may do" groups={groups} checked={ticked}/> }}"#,
            &context,
        );
        assert!(html.contains("<legend>What it may do</legend>"), "{html}");
        assert!(html.contains(r#"value="notes.write" checked"#), "{html}");
        assert!(!html.contains(r#"value="notes.read" checked"#), "{html}");
        assert!(html.contains("<small>notes.read</small>"), "{html}");
    }

    #[test]
    fn permissions_are_offered_by_name_in_their_groups_with_their_keys_beneath() {
        use crate::permissions::{Catalog, Holders, Permission};
        let notes = Permission::new("notes.write");
        let catalog = Catalog::orgs()
            .in_group("Notes", |c| c.with(notes, "Write notes", Holders::Member))
            .with(
                Permission::new("billing.read"),
                "See invoices",
                Holders::Admin,
            );
        let grantable = catalog.builtin(crate::permissions::BuiltinRole::Member);
        let groups = super::permission_choices(&catalog, catalog.assignable(), grantable);
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Organization",
                "People",
                "Access",
                "Projects",
                "Notes",
                "Billing"
            ]
        );
        let notes = &groups[4].items[0];
        assert_eq!(
            (notes.label.as_str(), notes.note.as_str(), notes.disabled),
            ("Write notes", "notes.write", false)
        );
        let roles = groups[2].items.iter().find(|c| c.value == "roles.manage");
        let roles = roles.unwrap_or_else(|| panic!("{groups:?}"));
        assert_eq!(roles.label, "Manage roles");
        assert!(roles.disabled && roles.note.contains("you do not hold it"));
        assert!(
            groups
                .iter()
                .flat_map(|g| &g.items)
                .all(|c| c.value != "organization.delete"),
            "the owner's own permissions are never offered"
        );
    }

    #[test]
    fn the_csrf_field_carries_the_token() {
        let mut context = Context::new();
        context.insert("csrf_token", "t0k3n");
        let html = render(r#"{{ <forms.csrf/> }}"#, &context);
        assert_eq!(
            html,
            r#"<input type="hidden" name="csrf_token" value="t0k3n">"#
        );
    }
}
