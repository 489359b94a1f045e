//! Signatures by the Standard Webhooks spec: the secret is `whsec_` and base64 of 32 random
//! bytes; a signature is `v1,` and base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`
//! keyed with the secret's bytes; the header holds one signature per secret in use, separated
//! by spaces (two for a day after a rotation).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use rand::RngCore as _;
use sha2::Sha256;

/// What every signing secret starts with.
pub const PREFIX: &str = "whsec_";

/// A fresh signing secret: `whsec_` and base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

/// The key bytes of `secret` (`whsec_` and base64); `None` when it is not one.
fn key_of(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(PREFIX)?).ok()
}

/// The signature of one attempt with one secret: `v1,` and base64 of the HMAC.
pub fn sign(secret: &str, webhook_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = key_of(secret)?;
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn header(secrets: &[String], webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|secret| sign(secret, webhook_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The vector of the Standard Webhooks reference libraries' tests.
    #[test]
    fn the_reference_vector_signs_as_the_spec_says() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn a_secret_is_whsec_and_32_bytes_and_two_secrets_sign_twice() {
        let secret = new_secret();
        assert!(secret.starts_with(PREFIX));
        assert_eq!(key_of(&secret).unwrap().len(), 32);
        let both = header(&[secret.clone(), new_secret()], "msg_1", 1, b"{}");
        assert_eq!(both.split(' ').count(), 2);
        assert!(both.starts_with(&sign(&secret, "msg_1", 1, b"{}").unwrap()));
        assert_eq!(sign("nope", "msg_1", 1, b"{}"), None);
    }
}
