//! Email: messages are composed from Tera templates (text and HTML parts), written to the
//! `email_outbox` table in the transaction of the change that causes them, and sent by a
//! background task with retry and backoff through the configured backend (SMTP, `.eml` files,
//! or memory for tests). An SMTP outage delays mail; it loses none.

mod outbox;
mod transport;

pub use outbox::Outbox;
pub use transport::{MemoryMailbox, SentEmail, Transport};

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
