//! The embedding example in the browser: `examples/embed`'s binary (built beside `orgs` by
//! `cargo test --workspace`), on the path form (`/o/{slug}/`) at `embed.localhost`, a base
//! domain of its own, so that its cookies are not `localhost`'s. A person signs up and activates from the mail, adds notes through the
//! example's HTML form (a refused one first), and the example's pages join the tour.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fantoccini::Client;

use crate::harness::{
    Running, browser, fill_and_submit, free_port, link_in_mail, shot, wait_for_text,
    wait_until_answering,
};

/// The example's binary: `embed`, beside `orgs` in cargo's output folder.
fn embed_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_orgs")).with_file_name("embed");
    assert!(
        path.exists(),
        "{} is missing: `cargo build -p embed` (cargo test --workspace builds it)",
        path.display()
    );
    path
}

/// The example serving on `port` from `dir`, its mail written to `dir/mail`.
fn serve_embed(dir: &Path, port: u16) -> Running {
    let child = Command::new(embed_binary())
        .current_dir(dir)
        .env("ORGS_ENV", "development")
        .env(
            "ORGS_DATABASE__URL",
            format!("sqlite://{}/embed.db", dir.display()),
        )
        .env("ORGS_SERVER__PORT", port.to_string())
        .env(
            "ORGS_SERVER__PUBLIC_URL",
            format!("http://embed.localhost:{port}"),
        )
        // Its own base domain (the passkeys' relying party, which server.public_url must be
        // on): cookies apart from the main app's on localhost.
        .env("ORGS_TENANT__BASE_DOMAIN", "embed.localhost")
        .env("ORGS_EMAIL__BACKEND", "file")
        .env("ORGS_EMAIL__FILE_DIR", dir.join("mail"))
        .env("ORGS_TENANT__LINKS", "path")
        .env("ORGS_LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the embed example");
    Running(child)
}

/// The example, running, with Ann signed in (in her own browser profile) and three notes: what
/// the tour needs of it. Gives the server, her browser and the example's origin.
pub(crate) async fn notes_with_ann(driver: u16, work: &Path) -> (Running, Client, String) {
    let dir = work.join("embed");
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let server = serve_embed(&dir, port);
    let origin = format!("http://embed.localhost:{port}");
    wait_until_answering(&format!("http://127.0.0.1:{port}/readyz")).await;

    let ann = browser(driver, &work.join("ann")).await;
    ann.goto(&format!("{origin}/signup/")).await.unwrap();
    fill_and_submit(
        &ann,
        "main form",
        &[
            ("name", "Ann Embedder"),
            ("email", "ann@example.com"),
            ("password", crate::PASSWORD),
            ("organization_name", "Notes Corp"),
        ],
    )
    .await;
    wait_for_text(&ann, "Check your email").await;
    let activation = link_in_mail(&dir.join("mail"), "ann@example.com", "/activate/").await;
    ann.goto(&activation).await.unwrap();
    wait_for_text(&ann, "Notes Corp").await;

    // A note refused (empty), then three saved through the example's own form.
    ann.goto(&format!("{origin}/o/notes-corp/notes/new/"))
        .await
        .unwrap();
    fill_and_submit(&ann, "main form", &[("body", " ")]).await;
    wait_for_text(&ann, "thing").await;
    shot(&ann, 17, "embed-note-refused").await;
    for body in [
        "Call Erin about the difference engine's gears",
        "Order brass for the mill; ask for a sample first",
        "Ship the punched cards to the weaving school before Friday",
    ] {
        ann.goto(&format!("{origin}/o/notes-corp/notes/new/"))
            .await
            .unwrap();
        fill_and_submit(&ann, "main form", &[("body", body)]).await;
        wait_for_text(&ann, body).await;
    }
    shot(&ann, 18, "embed-notes").await;
    (server, ann, origin)
}

/// The example's pages in the tour (Ann's notes 1 to 3, two a page).
pub(crate) fn pages(origin: &str) -> Vec<(String, &'static str, &'static str)> {
    [
        ("/o/notes-corp/", "embed-overview"),
        ("/o/notes-corp/notes/?per_page=2", "embed-notes"),
        ("/o/notes-corp/notes/new/", "embed-new-note"),
        ("/o/notes-corp/notes/1/edit/", "embed-edit-note"),
        ("/o/notes-corp/notes/1/delete/", "embed-delete-note"),
        ("/o/notes-corp/audit/", "embed-audit-log"),
        ("/o/notes-corp/roles/new/", "embed-new-role"),
    ]
    .into_iter()
    .map(|(path, name)| (origin.to_string(), path, name))
    .collect()
}
