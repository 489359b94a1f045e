//! Mail through a real SMTP server process on loopback (Python's aiosmtpd, storing what it
//! receives in a maildir): delivery with a link that works, and no loss while the server is
//! down, also across a restart of the app.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use entity::email_outbox;
use sea_orm::EntityTrait;

use crate::helpers::{TestApp, World, link_in, path_of, visitor};

/// An aiosmtpd process writing every message it accepts into a maildir.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    /// `maildir` must not exist yet: aiosmtpd creates it with its `new`, `cur` and `tmp`.
    fn start(port: u16, maildir: &Path) -> Self {
        let mut child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self {
                    child,
                    maildir: maildir.to_path_buf(),
                };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not start on port {port}");
    }

    /// The raw messages received so far.
    fn messages(&self) -> Vec<String> {
        let mut messages = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for entry in entries.flatten() {
                    if let Ok(text) = std::fs::read_to_string(entry.path()) {
                        messages.push(text);
                    }
                }
            }
        }
        messages
    }

    async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..300 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {count} message(s) reached the SMTP server");
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The text of a message with quoted-printable soft line breaks undone.
fn unfolded(raw: &str) -> String {
    raw.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

#[tokio::test]
async fn an_invitation_goes_through_a_real_smtp_server_and_its_link_works() {
    let port = free_port();
    let maildir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(port, &maildir.path().join("mail"));
    let app = TestApp::spawn_with(|s| {
        s.email.backend = orgs::config::EmailBackend::Smtp;
        s.email.smtp_url = format!("smtp://127.0.0.1:{port}").into();
        s.email.from = "Nirvana via orgs <noreply@orgs.test>".into();
    })
    .await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let sent = kurt
        .client
        .post(format!("{}/o/nirvana/people/add/", app.address))
        .form(&[
            ("email", "roadie@yahoo.com"),
            ("csrf_token", kurt.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    let message = unfolded(&server.wait_for(1).await[0]);
    assert!(message.contains("To: roadie@yahoo.com"), "{message}");
    assert!(
        message.contains("Subject: You're invited to join Nirvana on orgs"),
        "{message}"
    );
    assert!(
        message.contains("text/html"),
        "an HTML part as well as text"
    );
    let link = link_in(&message, "/invitations/");
    let page = reqwest::get(format!("{}{}", app.address, path_of(&link)))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Join Nirvana"));
    let row = sent_row(app.conn()).await;
    assert!(row.last_error.is_none());
    // The Message-ID names the outbox row, the same for every attempt to send it.
    assert!(
        message.contains(&format!("Message-ID: <outbox.{}.", row.id)),
        "{message}"
    );
}

/// The outbox's one row once it is recorded as sent (in the transaction after the server's
/// acceptance, so a moment after the message arrives).
async fn sent_row(db: &sea_orm::DatabaseConnection) -> email_outbox::Model {
    for _ in 0..50 {
        let row = email_outbox::Entity::find().one(db).await.unwrap().unwrap();
        if row.sent_at.is_some() {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the message is not recorded as sent");
}

#[tokio::test]
async fn mail_queued_while_smtp_is_down_arrives_when_it_returns_even_after_a_restart() {
    let port = free_port();
    let maildir = tempfile::tempdir().unwrap();
    let smtp = |s: &mut orgs::config::Settings| {
        s.email.backend = orgs::config::EmailBackend::Smtp;
        s.email.smtp_url = format!("smtp://127.0.0.1:{port}").into();
        s.email.retry_base_secs = 1;
    };
    let app = TestApp::spawn_with(smtp).await;
    World::build(&app).await;
    let kurt = visitor(&app, Some("kurt@nirvana.com")).await;
    let sent = kurt
        .client
        .post(format!("{}/o/nirvana/people/add/", app.address))
        .form(&[
            ("email", "roadie@yahoo.com"),
            ("csrf_token", kurt.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.status(),
        303,
        "inviting works while the mail server is down"
    );

    // The sender tried, failed, and kept the message.
    let mut failed = None;
    for _ in 0..100 {
        let row = email_outbox::Entity::find()
            .one(app.conn())
            .await
            .unwrap()
            .unwrap();
        if row.last_error.is_some() {
            failed = Some(row);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failed = failed.expect("a failed attempt is recorded");
    assert!(failed.sent_at.is_none() && failed.attempts >= 1);

    // The app goes away; the mail server comes back; a new instance finishes the job.
    app.shutdown();
    let server = SmtpServer::start(port, &maildir.path().join("mail"));
    let restarted = app.restart_with(smtp).await;
    let message = unfolded(&server.wait_for(1).await[0]);
    assert!(message.contains("To: roadie@yahoo.com"), "{message}");
    sent_row(restarted.conn()).await;
    assert_eq!(server.messages().len(), 1, "sent once");
}
