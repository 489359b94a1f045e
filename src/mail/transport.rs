//! The three ways a message leaves: SMTP (lettre, STARTTLS or TLS from the URL), `.eml` files,
//! or a mailbox in memory that tests read.

use std::sync::{Arc, Mutex, PoisonError};

use entity::email_outbox;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret as _;

use crate::config::{EmailBackend, EmailSettings};

/// A message the memory backend received.
#[derive(Clone, Debug)]
pub struct SentEmail {
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: Option<String>,
    /// The `Message-ID` the message would carry (see `message_id`).
    pub message_id: String,
}

/// The `Message-ID` of an outbox row: the same for every attempt to send it, different for every
/// row, so a receiver can drop the copy a retry sends after an instance died between the SMTP
/// server's acceptance and the row's update. `<outbox.{id}.{created, µs}@{sender's domain}>`.
pub fn message_id(from: &Mailbox, row: &email_outbox::Model) -> String {
    format!(
        "<outbox.{}.{}@{}>",
        row.id,
        row.created_at.timestamp_micros(),
        from.email.domain()
    )
}

/// The memory backend's store; clones share it.
#[derive(Clone, Debug, Default)]
pub struct MemoryMailbox(Arc<Mutex<Vec<SentEmail>>>);

impl MemoryMailbox {
    /// Every message received so far.
    pub fn messages(&self) -> Vec<SentEmail> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The messages received for one address.
    pub fn to(&self, address: &str) -> Vec<SentEmail> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.eq_ignore_ascii_case(address))
            .collect()
    }

    fn push(&self, email: SentEmail) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(email);
    }
}

/// A configured backend.
#[derive(Clone)]
pub enum Transport {
    /// A real SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a folder.
    File(AsyncFileTransport<Tokio1Executor>),
    /// Kept in memory.
    Memory(MemoryMailbox),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Smtp(_) => "Transport::Smtp",
            Self::File(_) => "Transport::File",
            Self::Memory(_) => "Transport::Memory",
        })
    }
}

impl Transport {
    /// The backend named by `[email]`.
    pub fn from_settings(settings: &EmailSettings) -> anyhow::Result<Self> {
        Ok(match settings.backend {
            EmailBackend::Smtp => Self::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(
                    settings.smtp_url.expose_secret().trim(),
                )
                .map_err(|e| anyhow::anyhow!("email.smtp_url: {e}"))?
                .build(),
            ),
            EmailBackend::File => {
                std::fs::create_dir_all(&settings.file_dir).map_err(|e| {
                    anyhow::anyhow!(
                        "email.file_dir: cannot create {}: {e}",
                        settings.file_dir.display()
                    )
                })?;
                Self::File(AsyncFileTransport::<Tokio1Executor>::new(
                    &settings.file_dir,
                ))
            }
            EmailBackend::Memory => Self::Memory(MemoryMailbox::default()),
        })
    }

    /// The memory mailbox, when that is the backend.
    pub fn mailbox(&self) -> Option<MemoryMailbox> {
        match self {
            Self::Memory(mailbox) => Some(mailbox.clone()),
            _ => None,
        }
    }

    /// Sends one outbox row.
    pub async fn send(&self, from: &Mailbox, row: &email_outbox::Model) -> anyhow::Result<()> {
        if let Self::Memory(mailbox) = self {
            mailbox.push(SentEmail {
                to: row.to_address.clone(),
                subject: row.subject.clone(),
                text: row.text_body.clone(),
                html: row.html_body.clone(),
                message_id: message_id(from, row),
            });
            return Ok(());
        }
        let to: Mailbox = row
            .to_address
            .parse()
            .map_err(|e| anyhow::anyhow!("bad recipient {}: {e}", row.to_address))?;
        let builder = Message::builder()
            .from(from.clone())
            .to(to)
            .message_id(Some(message_id(from, row)))
            .subject(row.subject.clone());
        let message = super::parts::message(builder, &row.text_body, row.html_body.as_deref())?;
        match self {
            Self::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Self::File(file) => {
                file.send(message).await?;
            }
            Self::Memory(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, created_micros: i64) -> email_outbox::Model {
        let at = chrono::DateTime::from_timestamp_micros(created_micros).unwrap_or_default();
        email_outbox::Model {
            id,
            organization_id: None,
            to_address: "a@example.com".into(),
            subject: "s".into(),
            text_body: "t".into(),
            html_body: None,
            attempts: 0,
            next_attempt_at: at,
            sent_at: None,
            last_error: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_rows_message_id_is_stable_and_its_own() -> anyhow::Result<()> {
        let from: Mailbox = "orgs <noreply@mail.example.com>".parse()?;
        let mut retried = row(7, 1_764_547_200_123_456);
        let first = message_id(&from, &retried);
        assert_eq!(first, "<outbox.7.1764547200123456@mail.example.com>");
        retried.attempts = 3;
        retried.updated_at = chrono::DateTime::from_timestamp_micros(1).unwrap_or_default();
        assert_eq!(
            message_id(&from, &retried),
            first,
            "the same row, another attempt"
        );
        assert_ne!(message_id(&from, &row(8, 1_764_547_200_123_456)), first);
        Ok(())
    }
}
