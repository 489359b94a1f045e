//! Email: messages are composed from Tera templates (text and HTML parts), written to the
//! `email_outbox` table in the transaction of the change that causes them, and sent by a
//! background task with retry and backoff through the configured backend (SMTP, `.eml` files,
//! or memory for tests). An SMTP outage delays mail; it loses none.

mod outbox;
mod parts;
mod transport;

pub use outbox::Outbox;
pub use transport::{MemoryMailbox, SentEmail, Transport};

use std::future::Future;
use std::sync::Arc;

use entity::email_outbox;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};
use tera::{Context, Tera};

/// A message ready to queue.
#[derive(Clone, Debug)]
pub struct OutgoingEmail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: Option<String>,
    /// The organization the mail is about, if any.
    pub organization_id: Option<i64>,
}

/// A transaction that takes mail (the tenant and the system transactions): the message is
/// written to the outbox in it, and the sender is woken after its commit.
pub trait Queue: Sync {
    /// Writes `email` to the outbox in this transaction.
    fn enqueue_mail(
        &self,
        email: OutgoingEmail,
    ) -> impl Future<Output = Result<email_outbox::Model, DbErr>> + Send;
}

/// Composes mail from the templates, with links under `server.public_url`: what every service
/// that sends mail takes (instead of the whole app state).
#[derive(Clone, Debug)]
pub struct Mailer {
    templates: Arc<Tera>,
    public_url: String,
}

impl Mailer {
    /// A mailer over `templates`, linking to `public_url` (no trailing slash).
    pub fn new(templates: Arc<Tera>, public_url: &str) -> Self {
        Self {
            templates,
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// The absolute address of `path` (`/login/` -> `https://app.example.com/login/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// Renders `email/{name}` with `context` and queues it to `to` in `queue`'s transaction:
    /// how every service sends mail.
    pub async fn send(
        &self,
        queue: &impl Queue,
        name: &str,
        to: &str,
        subject: impl Into<String>,
        context: &Context,
    ) -> anyhow::Result<()> {
        let message = self.compose(name, to, subject, context)?;
        queue.enqueue_mail(message).await?;
        Ok(())
    }

    /// Renders `email/{name}.txt` and `.html` with `context` into a message to `to`.
    pub fn compose(
        &self,
        name: &str,
        to: &str,
        subject: impl Into<String>,
        context: &Context,
    ) -> anyhow::Result<OutgoingEmail> {
        compose(&self.templates, name, to, subject, context)
    }
}

/// Renders `email/{name}.txt` and `email/{name}.html` with `context`.
pub fn compose(
    templates: &Tera,
    name: &str,
    to: &str,
    subject: impl Into<String>,
    context: &Context,
) -> anyhow::Result<OutgoingEmail> {
    let text = templates
        .render(&format!("email/{name}.txt"), context)
        .map_err(|e| anyhow::anyhow!("rendering email/{name}.txt: {e:?}"))?;
    let html = templates
        .render(&format!("email/{name}.html"), context)
        .map_err(|e| anyhow::anyhow!("rendering email/{name}.html: {e:?}"))?;
    Ok(OutgoingEmail {
        to: to.to_string(),
        subject: subject.into(),
        text,
        html: Some(html),
        organization_id: None,
    })
}

/// The first `http://` or `https://` address in `text`, without the punctuation that may
/// follow it in a sentence: what a development server logs of each mail it sends, so a
/// developer without a mail catcher can open it from the log.
pub fn first_link(text: &str) -> Option<&str> {
    let start = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| text.find(scheme))
        .min()?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']))
}

/// Writes the message to the outbox (call inside the transaction of the change it reports).
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    email: OutgoingEmail,
) -> Result<email_outbox::Model, DbErr> {
    email_outbox::ActiveModel {
        organization_id: Set(email.organization_id),
        to_address: Set(email.to),
        subject: Set(email.subject),
        text_body: Set(email.text),
        html_body: Set(email.html),
        attempts: Set(0),
        next_attempt_at: Set(entity::chrono_now()),
        sent_at: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::first_link;

    #[test]
    fn the_first_link_of_a_mail_is_found_whole_and_without_a_sentences_punctuation() {
        let text = "Hello,\n\nConfirm here:\n\nhttp://localhost:8000/activate/0a1b/\n\nOr https://x.test/.";
        assert_eq!(
            first_link(text),
            Some("http://localhost:8000/activate/0a1b/")
        );
        assert_eq!(
            first_link("Open https://acme.example.com/invitations/f00/. Or http://later.test/"),
            Some("https://acme.example.com/invitations/f00/")
        );
        assert_eq!(
            first_link("(see https://a.test/x?y=1&z=2)"),
            Some("https://a.test/x?y=1&z=2")
        );
        assert_eq!(
            first_link("<a href=\"http://a.test/p/\">"),
            Some("http://a.test/p/")
        );
        assert_eq!(first_link("No link here."), None);
    }
}
