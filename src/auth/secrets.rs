//! Secrets the server must read back (TOTP seeds; later OIDC client secrets and webhook
//! secrets) are stored sealed: AES-256-GCM with `auth.encryption_key`, a fresh nonce per seal,
//! and what the secret is for (`totp:42`) bound in as associated data, so a sealed value moved
//! to another row or another use does not open.

use aes_gcm::aead::{Aead as _, Payload};
use aes_gcm::{Aes256Gcm, KeyInit as _, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore as _;
use std::sync::Arc;

/// Bytes of the nonce at the front of a sealed value.
const NONCE_LEN: usize = 12;

/// Why a key or a sealed value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// `auth.encryption_key` is not base64 of 32 bytes.
    #[error(
        "auth.encryption_key: must be base64 of 32 random bytes (`openssl rand -base64 32` makes one)"
    )]
    BadKey,
    /// The value was not sealed with this key for this use, or was altered.
    #[error("a sealed secret does not open with auth.encryption_key")]
    Unreadable,
}

/// Seals and opens secrets with `auth.encryption_key`.
#[derive(Clone)]
pub struct Sealer {
    cipher: Arc<Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    /// The sealer of `key`: base64 of exactly 32 bytes.
    pub fn from_base64(key: &str) -> Result<Self, SealError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| SealError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadKey)?;
        Ok(Self {
            cipher: Arc::new(Aes256Gcm::new(&key.into())),
        })
    }

    /// `secret` sealed for `purpose`, as base64 of nonce, ciphertext and tag.
    pub fn seal(&self, purpose: &str, secret: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: secret,
            aad: purpose.as_bytes(),
        };
        // Encryption fails only past AES-GCM's length limit (64 GiB), not for a secret.
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        STANDARD.encode(out)
    }

    /// The secret `sealed` holds, when it was sealed with this key for `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SealError::Unreadable)?;
        if bytes.len() <= NONCE_LEN {
            return Err(SealError::Unreadable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: sealed,
            aad: purpose.as_bytes(),
        };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| SealError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    fn sealer() -> Sealer {
        match Sealer::from_base64(KEY) {
            Ok(sealer) => sealer,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn a_sealed_secret_opens_for_its_purpose_only() {
        let sealer = sealer();
        let sealed = sealer.seal("totp:1", b"seed");
        assert!(!sealed.contains("seed"));
        assert_eq!(sealer.open("totp:1", &sealed), Ok(b"seed".to_vec()));
        assert_eq!(sealer.open("totp:2", &sealed), Err(SealError::Unreadable));
        assert_ne!(
            sealed,
            sealer.seal("totp:1", b"seed"),
            "a fresh nonce each time"
        );
    }

    #[test]
    fn an_altered_value_or_another_key_does_not_open() {
        let sealer = sealer();
        let sealed = sealer.seal("totp:1", b"seed");
        let mut bytes = STANDARD.decode(&sealed).unwrap_or_default();
        bytes[NONCE_LEN] ^= 1;
        let altered = STANDARD.encode(bytes);
        assert_eq!(sealer.open("totp:1", &altered), Err(SealError::Unreadable));
        let other = Sealer::from_base64(&STANDARD.encode([7u8; 32])).map_err(|e| e.to_string());
        assert_eq!(
            other.map(|o| o.open("totp:1", &sealed)),
            Ok(Err(SealError::Unreadable))
        );
    }

    #[test]
    fn a_key_must_be_base64_of_32_bytes() {
        assert!(Sealer::from_base64("").is_err());
        assert!(Sealer::from_base64("not base64!").is_err());
        assert!(Sealer::from_base64(&STANDARD.encode([1u8; 16])).is_err());
    }
}
