//! The Notes pages as a person meets them, over real HTTP: a list read a page at a time, a form
//! to add a note and one to edit it (each shown again with its message and the input kept when
//! refused), a confirmation before deleting, a flash message after each change and an audit
//! event for it, and 403 for a member whose role does not hold the permission.

use reqwest::Client;
use serde_json::Value;

use super::support::{Running, sign_in};

/// One signed-in browser on the example.
struct Browser {
    client: Client,
    csrf: String,
    address: String,
}

impl Browser {
    async fn new(app: &Running, email: &str) -> Self {
        let (client, csrf) = sign_in(&app.address, email).await;
        let address = app.address.clone();
        Self {
            client,
            csrf,
            address,
        }
    }

    /// `GET path`: the status and the body.
    async fn get(&self, path: &str) -> (u16, String) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// `POST path` as a form with `fields` and, when `with_csrf`, the session's token: the
    /// status, the `Location` and the body.
    async fn post(&self, path: &str, fields: &[(&str, &str)], with_csrf: bool) -> Answer {
        let mut fields = fields.to_vec();
        if with_csrf {
            fields.push(("csrf_token", &self.csrf));
        }
        let response = self.client.post(self.url(path)).form(&fields);
        let response = response.send().await.unwrap();
        let status = response.status().as_u16();
        let location = response.headers().get("location");
        let location = location.map(|l| l.to_str().unwrap().to_string());
        let body = response.text().await.unwrap();
        Answer {
            status,
            location,
            body,
        }
    }

    /// `GET path` as JSON.
    async fn json(&self, path: &str) -> Value {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        response.json().await.unwrap()
    }

    /// The bodies of the organization's notes, from the API (oldest first), with their ids.
    async fn notes(&self, slug: &str) -> Vec<(i64, String)> {
        let list = self.json(&format!("/o/{slug}/api/v1/notes/")).await;
        let items = list["items"].as_array().unwrap().iter();
        let items = items.map(|n| (n["id"].as_i64().unwrap(), n["body"].to_string()));
        items
            .map(|(id, body)| (id, body.trim_matches('"').to_string()))
            .collect()
    }

    /// The audit event `action` of the organization most recently recorded: its target's label.
    async fn last_event(&self, slug: &str, action: &str) -> Value {
        let path = format!("/o/{slug}/api/v1/audit-events/?action={action}");
        self.json(&path).await["items"][0]["target"]["label"].clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

/// What a form's `POST` answered.
struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

/// The example with Ann, owner of Acme, signed in: the app, her browser, Acme's slug.
async fn ann_of_acme() -> (Running, Browser, String) {
    let app = Running::start("hi").await;
    let ann = app.user("ann@acme.test", "Ann").await;
    let acme = app.organization(&ann, "Acme").await;
    let ann = Browser::new(&app, "ann@acme.test").await;
    (app, ann, acme)
}

#[tokio::test]
async fn a_member_adds_a_note_through_the_form_with_csrf_and_a_refused_one_keeps_its_input() {
    let (_app, ann, acme) = ann_of_acme().await;
    let notes = format!("/o/{acme}/notes/");

    // The list, empty, inside orgs' shell with the example's own stylesheet.
    let (status, list) = ann.get(&notes).await;
    assert_eq!(status, 200, "{list}");
    assert!(list.contains("No notes yet"), "{list}");
    assert!(list.contains(&format!("href=\"{notes}new/\"")), "{list}");
    let head = &list[..list.find("</head>").unwrap()];
    let theirs = head.find(r#"<link rel="stylesheet" href="/static/embed.css">"#);
    assert!(theirs > head.find("/static/app.css"), "{head}");
    let css = ann.client.get(ann.url("/static/embed.css")).send().await;
    let css = css.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");

    // The form, then a refused submit: the message tied to the field, the input kept.
    let (status, form) = ann.get(&format!("{notes}new/")).await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains(r#"name="csrf_token""#), "{form}");
    assert!(form.contains(r#"<label for="body">Note</label>"#), "{form}");
    let long = "x".repeat(2_001);
    let refused = ann
        .post(&format!("{notes}new/"), &[("body", &long)], true)
        .await;
    assert_eq!(refused.status, 200, "{}", refused.body);
    assert!(
        refused.body.contains(r#"aria-invalid="true""#),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains(r#"<ul class="errorlist" id="body-errors">"#)
    );
    assert!(
        refused.body.contains("1 to 2,000 characters"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(&format!(">{long}</textarea>")),
        "the input is kept"
    );
    let blank = ann
        .post(&format!("{notes}new/"), &[("body", "   ")], true)
        .await;
    assert!(blank.body.contains("error-summary"), "{}", blank.body);
    assert!(ann.notes(&acme).await.is_empty(), "nothing was added");

    // Without the CSRF token the form is refused; with it the note is added.
    let forged = ann
        .post(&format!("{notes}new/"), &[("body", "forged")], false)
        .await;
    assert_eq!(forged.status, 403);
    let added = ann
        .post(&format!("{notes}new/"), &[("body", "Buy milk")], true)
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(added.location.as_deref(), Some(notes.as_str()));
    let (_, list) = ann.get(&notes).await;
    assert!(list.contains("Note added."), "the flash message: {list}");
    assert!(list.contains("Buy milk"), "{list}");
    let notes_now = ann.notes(&acme).await;
    let [(id, body)] = notes_now.as_slice() else {
        panic!("{notes_now:?}");
    };
    assert_eq!(body, "Buy milk");
    assert!(
        list.contains(&format!("href=\"{notes}{id}/edit/\"")),
        "{list}"
    );
    assert_eq!(ann.last_event(&acme, "note.created").await, "Buy milk");
}

#[tokio::test]
async fn a_member_edits_a_note_then_deletes_it_after_a_confirmation_page() {
    let (_app, ann, acme) = ann_of_acme().await;
    let notes = format!("/o/{acme}/notes/");
    let added = ann
        .post(&format!("{notes}new/"), &[("body", "Buy milk")], true)
        .await;
    assert_eq!(added.status, 303);
    let (id, _) = ann.notes(&acme).await[0].clone();

    // Edit: the form holds the note; a refused change keeps what was typed.
    let edit = format!("{notes}{id}/edit/");
    let (status, form) = ann.get(&edit).await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains(">Buy milk</textarea>"), "{form}");
    let refused = ann.post(&edit, &[("body", "")], true).await;
    assert_eq!(refused.status, 200);
    assert!(
        refused.body.contains(r#"aria-invalid="true""#),
        "{}",
        refused.body
    );
    let saved = ann.post(&edit, &[("body", "Buy oat milk")], true).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, list) = ann.get(&notes).await;
    assert!(list.contains("Note saved."), "{list}");
    assert!(list.contains("Buy oat milk"), "{list}");
    assert_eq!(ann.last_event(&acme, "note.updated").await, "Buy oat milk");

    // Delete: a confirmation page first; the note goes only when it is confirmed.
    let delete = format!("{notes}{id}/delete/");
    assert!(list.contains(&format!("href=\"{delete}\"")), "{list}");
    let (status, confirm) = ann.get(&delete).await;
    assert_eq!(status, 200, "{confirm}");
    assert!(confirm.contains("Delete this note?"), "{confirm}");
    assert!(confirm.contains("Buy oat milk"), "{confirm}");
    assert!(
        confirm.contains(&format!(r#"action="{delete}""#)),
        "{confirm}"
    );
    assert_eq!(ann.notes(&acme).await.len(), 1, "not yet");
    assert_eq!(ann.post(&delete, &[], false).await.status, 403);
    let deleted = ann.post(&delete, &[], true).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert_eq!(deleted.location.as_deref(), Some(notes.as_str()));
    let (_, list) = ann.get(&notes).await;
    assert!(list.contains("Note deleted."), "{list}");
    assert!(!list.contains("Buy oat milk"), "{list}");
    assert!(ann.notes(&acme).await.is_empty());
    assert_eq!(ann.last_event(&acme, "note.deleted").await, "Buy oat milk");
    let (_, audit) = ann.get(&format!("/o/{acme}/audit/")).await;
    for said in ["added the note", "changed the note", "deleted the note"] {
        assert!(audit.contains(said), "the example's sentence: {said}");
    }
    assert_eq!(ann.get(&edit).await.0, 404, "gone");
}

#[tokio::test]
async fn another_organizations_note_is_404_on_every_note_page() {
    let app = Running::start("hi").await;
    let ann = app.user("ann@acme.test", "Ann").await;
    let acme = app.organization(&ann, "Acme").await;
    let bob = app.user("bob@globex.test", "Bob").await;
    let globex = app.organization(&bob, "Globex").await;
    let bob = Browser::new(&app, "bob@globex.test").await;
    let path = format!("/o/{globex}/notes/new/");
    assert_eq!(
        bob.post(&path, &[("body", "Globex plan")], true)
            .await
            .status,
        303
    );
    let (id, _) = bob.notes(&globex).await[0].clone();
    let ann = Browser::new(&app, "ann@acme.test").await;
    for page in ["edit", "delete"] {
        let path = format!("/o/{acme}/notes/{id}/{page}/");
        assert_eq!(ann.get(&path).await.0, 404, "{path}");
        let answer = ann.post(&path, &[("body", "mine now")], true).await;
        assert_eq!(answer.status, 404, "{path}");
    }
    assert_eq!(bob.notes(&globex).await[0].1, "Globex plan");
}

#[tokio::test]
async fn the_notes_list_is_read_a_page_at_a_time_by_its_links() {
    let app = Running::start("hi").await;
    let ann = app.user("ann@acme.test", "Ann").await;
    let acme = app.organization(&ann, "Acme").await;
    let ann = Browser::new(&app, "ann@acme.test").await;
    let notes = format!("/o/{acme}/notes/");
    for n in 1..=5 {
        let body = format!("Note number {n}");
        let added = ann
            .post(&format!("{notes}new/"), &[("body", &body)], true)
            .await;
        assert_eq!(added.status, 303);
    }
    let mut path = format!("{notes}?per_page=2");
    let mut pages = Vec::new();
    loop {
        let (status, page) = ann.get(&path).await;
        assert_eq!(status, 200, "{path}: {page}");
        let shown: Vec<u32> = (1..=5)
            .filter(|n| page.contains(&format!("Note number {n}<")))
            .collect();
        pages.push(shown);
        if pages.len() > 1 {
            assert!(page.contains("First page"), "{page}");
        }
        let Some(at) = page.find("rel=\"next\" href=\"") else {
            break;
        };
        let href = &page[at + "rel=\"next\" href=\"".len()..];
        let href = href[..href.find('"').unwrap()].replace("&amp;", "&");
        assert!(href.starts_with("?after="), "{href}");
        path = format!("{notes}{href}");
    }
    assert_eq!(pages, [vec![1, 2], vec![3, 4], vec![5]]);
    let (status, _) = ann.get(&format!("{notes}?after=not-a-cursor")).await;
    assert_eq!(status, 422, "a cursor the list did not seal");
    let (status, _) = ann.get(&format!("{notes}?per_page=0")).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn a_member_whose_role_lacks_notes_write_or_notes_delete_gets_403_on_those_forms() {
    let app = Running::start("hi").await;
    let ann = app.user("ann@acme.test", "Ann").await;
    let acme = app.organization(&ann, "Acme").await;
    let ann = Browser::new(&app, "ann@acme.test").await;
    let notes = format!("/o/{acme}/notes/");
    assert_eq!(
        ann.post(
            &format!("{notes}new/"),
            &[("body", "Plan the launch")],
            true
        )
        .await
        .status,
        303
    );
    let (id, _) = ann.notes(&acme).await[0].clone();
    let role =
        serde_json::json!({"key": "reader", "name": "Reader", "permissions": ["notes.read"]});
    let created = ann
        .client
        .post(ann.url(&format!("/o/{acme}/api/v1/roles/")));
    let created = created
        .header("x-csrf-token", &ann.csrf)
        .json(&role)
        .send()
        .await;
    assert_eq!(created.unwrap().status(), 201);

    // A reader sees the notes, and no way to change them; each form is 403.
    let cam = app.user("cam@acme.test", "Cam").await;
    app.join(&acme, &cam, &["reader"]).await;
    let cam = Browser::new(&app, "cam@acme.test").await;
    let (status, list) = cam.get(&notes).await;
    assert_eq!(status, 200);
    assert!(list.contains("Plan the launch"), "{list}");
    for hidden in ["/notes/new/", "/edit/", "/delete/"] {
        assert!(!list.contains(hidden), "{hidden}: {list}");
    }
    for path in [
        format!("{notes}new/"),
        format!("{notes}{id}/edit/"),
        format!("{notes}{id}/delete/"),
    ] {
        assert_eq!(cam.get(&path).await.0, 403, "{path}");
        assert_eq!(
            cam.post(&path, &[("body", "x")], true).await.status,
            403,
            "{path}"
        );
    }

    // The built-in member writes notes but does not delete them (notes.delete is an admin's).
    let max = app.user("max@acme.test", "Max").await;
    app.join(&acme, &max, &[]).await;
    let max = Browser::new(&app, "max@acme.test").await;
    let (_, list) = max.get(&notes).await;
    assert!(list.contains(&format!("{notes}{id}/edit/")), "{list}");
    assert!(!list.contains("/delete/"), "{list}");
    let delete = format!("{notes}{id}/delete/");
    assert_eq!(max.post(&delete, &[], true).await.status, 403);
    assert_eq!(ann.notes(&acme).await.len(), 1);
}
