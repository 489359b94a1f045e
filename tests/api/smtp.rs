//! Mail as it leaves the process: through a real SMTP server on loopback (Python's aiosmtpd,
//! storing what it receives in a maildir), with a link that works read straight from the raw
//! message, and no loss while the server is down, also across a restart of the app; as `.eml`
//! files whose links a person copies whole; and, in development, each mail's link in the log.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::email_outbox;
use sea_orm::EntityTrait;

use crate::helpers::{
    TestApp, TestDb, Visitor, World, browser, csrf_from, link_in, path_of, visitor,
};

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
    let message = server.wait_for(1).await.remove(0);
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
    let message = server.wait_for(1).await.remove(0);
    assert!(message.contains("To: roadie@yahoo.com"), "{message}");
    sent_row(restarted.conn()).await;
    assert_eq!(server.messages().len(), 1, "sent once");
}

/// The `.eml` files in `dir` once there are `count`, oldest first.
async fn eml_files(dir: &Path, count: usize) -> Vec<String> {
    for _ in 0..300 {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
            .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
            .collect();
        if files.len() >= count {
            files.sort();
            return files
                .iter()
                .map(|(_, path)| std::fs::read_to_string(path).unwrap())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {count} .eml file(s) in {}", dir.display());
}

#[tokio::test]
async fn a_link_in_an_eml_file_is_whole_on_a_line_of_its_own_in_both_parts() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(|s| {
        s.email.backend = orgs::config::EmailBackend::File;
        s.email.file_dir = dir.path().to_path_buf();
    })
    .await;
    // Names beyond ASCII, so the text part is UTF-8 as well as long-lined.
    let zoe = app.user("zoe@cafe.test", "Zoë Müller").await;
    let cafe = orgs::organizations::create_organization(
        app.conn(),
        &orgs::Events::new(),
        zoe.id,
        "Café Zürich",
    )
    .await
    .unwrap()
    .organization;
    let zoe = visitor(&app, Some("zoe@cafe.test")).await;
    let sent = zoe
        .post_form(
            &format!("/o/{}/people/add/", cafe.slug),
            &[("email", "roadie@yahoo.com")],
        )
        .await;
    assert_eq!(sent.status(), 303);
    let raw = eml_files(dir.path(), 1).await.remove(0);
    let link = link_in(&sent_row(app.conn()).await.text_body, "/invitations/");
    assert!(
        link.len() > 76,
        "long enough that quoted-printable would fold it: {link}"
    );
    assert!(
        raw.lines().any(|line| line == link),
        "the text part's link, verbatim on a line of its own:\n{raw}"
    );
    assert!(
        raw.contains(&format!("<a href=\"{link}\">")),
        "the HTML part's link, verbatim:\n{raw}"
    );
    assert!(
        raw.contains("Zoë Müller has invited you to join Café Zürich on orgs."),
        "the text as written:\n{raw}"
    );
    let page = app.get(&path_of(&link)).await;
    assert_eq!(page.status(), 200, "the copied link opens the invitation");
}

/// `orgs serve` as a person starts it under `ORGS_ENV=environment`, logging at `info` and
/// writing mail to `mail_dir`: the process, its address, and its log lines as they come.
async fn serve_logging(
    db: &TestDb,
    environment: &str,
    mail_dir: &Path,
) -> (Serving, String, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgs"))
        .arg("serve")
        .env("ORGS_ENV", environment)
        .env("ORGS_DATABASE__URL", &db.url)
        .env("ORGS_SERVER__PORT", "0")
        .env("ORGS_EMAIL__BACKEND", "file")
        .env("ORGS_EMAIL__FILE_DIR", mail_dir)
        .env("ORGS_LOG__FILTER", "info")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start orgs serve");
    let log = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            lines.lock().unwrap().push(line);
        }
    });
    let stdout = child.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let first = tokio::time::timeout(Duration::from_secs(60), first)
        .await
        .expect("serve printed its address in time")
        .unwrap()
        .unwrap();
    let address = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    (Serving(child), address, log)
}

/// A server process killed when dropped.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Signs Grace up on the server at `address` (a fresh browser): her activation mail follows.
async fn sign_up(address: &str) {
    let client = browser();
    let page = client
        .get(format!("{address}/signup/"))
        .send()
        .await
        .unwrap();
    let grace = Visitor {
        csrf: csrf_from(&page.text().await.unwrap()),
        client,
        address: address.to_string(),
    };
    let response = grace
        .post_form(
            "/signup/",
            &[
                ("name", "Grace Hopper"),
                ("email", "grace@navy.mil"),
                ("password", "cobol forever 1959"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
}

/// The first log line that says a mail was sent.
async fn mail_sent_line(log: &Mutex<Vec<String>>) -> String {
    for _ in 0..300 {
        if let Some(line) = log
            .lock()
            .unwrap()
            .iter()
            .find(|line| line.contains("mail sent"))
        {
            return line.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no `mail sent` in the log:\n{}",
        log.lock().unwrap().join("\n")
    );
}

#[tokio::test]
async fn a_development_server_logs_each_sent_mails_link_so_a_developer_can_click_through() {
    let db = TestDb::new().await;
    let mail = tempfile::tempdir().unwrap();
    let (_server, address, log) = serve_logging(&db, "development", mail.path()).await;
    sign_up(&address).await;
    let line = mail_sent_line(&log).await;
    assert!(line.contains("to=grace@navy.mil"), "{line}");
    let logged = line
        .split_whitespace()
        .find_map(|field| field.strip_prefix("link="))
        .unwrap_or_else(|| panic!("no link in {line}"));
    let raw = eml_files(mail.path(), 1).await.remove(0);
    assert!(
        raw.lines().any(|text| text == logged),
        "the log's link is the mail's: {logged}\n{raw}"
    );
    assert!(logged.contains("/activate/"), "{logged}");
    let client = browser();
    let opened = client
        .get(format!("{address}{}", path_of(logged)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        opened.status(),
        303,
        "the logged link activates the account"
    );
}

#[tokio::test]
async fn outside_development_the_log_says_a_mail_was_sent_but_not_its_link() {
    let db = TestDb::new().await;
    let mail = tempfile::tempdir().unwrap();
    let (_server, address, log) = serve_logging(&db, "test", mail.path()).await;
    sign_up(&address).await;
    let line = mail_sent_line(&log).await;
    assert!(line.contains("to=grace@navy.mil"), "{line}");
    assert!(
        !line.contains("link=") && !line.contains("/activate/"),
        "a live link stays out of a shared log: {line}"
    );
}
