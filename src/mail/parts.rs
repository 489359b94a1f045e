//! A message's body as lettre sends it, its lines as the templates wrote them: a link in the
//! text part (and the HTML part's `href`) is one unbroken line in the `.eml` file and on the
//! wire, so a person who copies it from the raw message gets all of it.

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, MessageBuilder, MultiPart, SinglePart};

/// The longest line SMTP carries, without its CRLF (RFC 5321, 4.5.3.1.6).
const MAX_LINE: usize = 998;

/// The message `builder` makes with `text` and, when there is one, `html` as its body.
pub(crate) fn message(
    builder: MessageBuilder,
    text: &str,
    html: Option<&str>,
) -> Result<Message, lettre::error::Error> {
    let text = part(ContentType::TEXT_PLAIN, text);
    // The text part is where a person copies a link from (a `.eml` file, a raw message), so
    // its lines go unfolded. The HTML part goes the same way rather than quoted-printable: its
    // `href`s carry the same links, which a developer greps from the `.eml` file too, and
    // quoted-printable would turn every `=` of its attributes into `=3D` and fold its long
    // lines for no reader's benefit. An ASCII part (most are) goes as 7bit, which every server
    // takes; a part beyond ASCII as 8bit, which needs the server's 8BITMIME: the common mail
    // servers and sending services offer it, and lettre refuses such a message to one that
    // does not, so the outbox records the error and retries rather than sending it mangled.
    match html {
        Some(html) => builder.multipart(
            MultiPart::alternative()
                .singlepart(text)
                .singlepart(part(ContentType::TEXT_HTML, html)),
        ),
        None => builder.singlepart(text),
    }
}

/// A part of `content_type` sent as written: 7bit when `body` is ASCII, 8bit when it is not,
/// lines ending in CRLF. A body SMTP cannot carry so (a line over 998 bytes, a bare CR, a NUL)
/// gets lettre's choice of quoted-printable or base64 instead.
fn part(content_type: ContentType, body: &str) -> SinglePart {
    let builder = SinglePart::builder().header(content_type);
    match as_written(body) {
        Some((encoding, lines)) => {
            builder.body(Body::dangerous_pre_encoded(lines.into_bytes(), encoding))
        }
        None => builder.body(body.to_string()),
    }
}

/// `body` with CRLF line endings and the encoding that sends it unchanged, if SMTP can carry it
/// unchanged.
fn as_written(body: &str) -> Option<(ContentTransferEncoding, String)> {
    let lines: Vec<&str> = body
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    if lines
        .iter()
        .any(|line| line.len() > MAX_LINE || line.contains(['\r', '\0']))
    {
        return None;
    }
    let encoding = if body.is_ascii() {
        ContentTransferEncoding::SevenBit
    } else {
        ContentTransferEncoding::EightBit
    };
    Some((encoding, lines.join("\r\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "http://analytical-engines.localhost:8000/invitations/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/";

    fn formatted(text: &str, html: Option<&str>) -> anyhow::Result<String> {
        let builder = Message::builder()
            .from("orgs <noreply@orgs.test>".parse()?)
            .to("ada@example.com".parse()?)
            .subject("s");
        Ok(String::from_utf8(
            message(builder, text, html)?.formatted(),
        )?)
    }

    #[test]
    fn a_long_link_in_an_ascii_text_part_stays_whole_on_its_line() -> anyhow::Result<()> {
        let raw = formatted(&format!("Accept it here:\n\n{LINK}\n"), None)?;
        assert!(raw.contains("Content-Transfer-Encoding: 7bit"), "{raw}");
        assert!(raw.contains(&format!("\r\n\r\n{LINK}\r\n")), "{raw}");
        Ok(())
    }

    #[test]
    fn a_text_part_beyond_ascii_goes_as_8bit_and_the_html_part_keeps_its_hrefs()
    -> anyhow::Result<()> {
        let raw = formatted(
            &format!("Zoë invited you to Café Zürich:\n\n{LINK}\n"),
            Some(&format!("<p>Zoë: <a href=\"{LINK}\">Accept</a></p>")),
        )?;
        assert_eq!(
            raw.matches("Content-Transfer-Encoding: 8bit").count(),
            2,
            "{raw}"
        );
        assert!(raw.contains("Zoë invited you to Café Zürich:\r\n"), "{raw}");
        assert!(raw.contains(&format!("\r\n{LINK}\r\n")), "{raw}");
        assert!(raw.contains(&format!("<a href=\"{LINK}\">")), "{raw}");
        assert!(!raw.contains("=\r\n") && !raw.contains("=3D"), "{raw}");
        Ok(())
    }

    #[test]
    fn a_line_too_long_for_smtp_falls_back_to_an_encoding_that_folds_it() -> anyhow::Result<()> {
        let raw = formatted(&"x".repeat(MAX_LINE + 1), None)?;
        assert!(
            raw.contains("Content-Transfer-Encoding: quoted-printable"),
            "{raw}"
        );
        assert!(raw.lines().all(|line| line.len() <= MAX_LINE));
        Ok(())
    }

    #[test]
    fn bare_line_feeds_are_sent_as_crlf_and_a_bare_cr_is_not_sent_as_written() {
        assert_eq!(
            as_written("a\nb\r\nc\n"),
            Some((
                ContentTransferEncoding::SevenBit,
                "a\r\nb\r\nc\r\n".to_string()
            ))
        );
        assert_eq!(as_written("a\rb"), None);
    }
}
