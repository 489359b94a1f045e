//! Sealed list cursors: the `next` of a keyset list is its last row's `(id, key)` encrypted and
//! authenticated (AES-256-GCM) with a key derived from `session.secret_key`, the list's name
//! bound in as associated data. A client learns nothing from one (not the sort key, not the
//! id), and cannot forge one, alter one, or carry one from one list to another: any of those
//! reads as no cursor at all, a 422 naming `after`.

use aes_gcm::aead::{Aead as _, Payload};
use aes_gcm::{Aes256Gcm, KeyInit as _, Nonce};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;

use crate::db::Keyset;

/// Bytes of the nonce at the front of a sealed cursor.
const NONCE_LEN: usize = 12;

/// The key that seals the cursors of every list, derived from `session.secret_key`, and its
/// cipher, expanded once.
#[derive(Clone)]
pub struct Cursors {
    key: [u8; 32],
    cipher: Arc<Aes256Gcm>,
}

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cursors([redacted])")
    }
}

impl Cursors {
    /// The cursor key of `secret` (`session.secret_key`); its own derivation, so it is not the
    /// cookies' key.
    pub fn new(secret: &str) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"orgs list cursors v1\0");
        hash.update(secret.as_bytes());
        let key: [u8; 32] = hash.finalize().into();
        Self {
            key,
            cipher: Arc::new(Aes256Gcm::new(&key.into())),
        }
    }

    /// The cursors of the list `name` (`people`, `projects`): one list's cursor is refused by
    /// another.
    pub fn of(&self, name: &'static str) -> ListCursors {
        ListCursors {
            key: self.key,
            cipher: Arc::clone(&self.cipher),
            list: name,
        }
    }
}

/// Seals and opens the cursors of one list.
#[derive(Clone)]
pub struct ListCursors {
    key: [u8; 32],
    cipher: Arc<Aes256Gcm>,
    list: &'static str,
}

impl std::fmt::Debug for ListCursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ListCursors({})", self.list)
    }
}

impl ListCursors {
    /// The cursor's text: hex of nonce, ciphertext and tag. The nonce is derived from the
    /// position (a synthetic IV), so the same page always gives the same `next` and a cached
    /// answer stays valid; two equal cursors show only that they are equal.
    pub fn seal(&self, at: &Keyset) -> String {
        let plain = format!("{}:{}", at.id, at.key);
        let mut hash = Sha256::new();
        hash.update(self.key);
        hash.update(self.list.as_bytes());
        hash.update([0]);
        hash.update(plain.as_bytes());
        let digest = hash.finalize();
        let nonce = Nonce::from_slice(&digest[..NONCE_LEN]);
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: self.list.as_bytes(),
        };
        match self.cipher.encrypt(nonce, payload) {
            Ok(sealed) => hex::encode([nonce.as_slice(), &sealed].concat()),
            // AES-GCM fails only past 64 GiB of text; a cursor that is no cursor ends the list
            // on the client's next request with a 422 rather than a panic here.
            Err(_) => String::new(),
        }
    }

    /// The position a client sent back, or `None` for text this list's [`ListCursors::seal`]
    /// did not make (malformed, altered, another list's, or sealed under another secret).
    pub fn open(&self, text: &str) -> Option<Keyset> {
        let bytes = hex::decode(text).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: sealed,
            aad: self.list.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .ok()?;
        let text = String::from_utf8(plain).ok()?;
        let (id, key) = text.split_once(':')?;
        let id = id.parse::<i64>().ok().filter(|id| *id > 0)?;
        // No key the lists write holds one, and PostgreSQL refuses a NUL in text.
        if key.chars().any(char::is_control) {
            return None;
        }
        Some(Keyset {
            key: key.to_string(),
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> ListCursors {
        Cursors::new("a test secret").of("people")
    }

    #[test]
    fn a_cursor_reads_back_what_it_sealed_and_shows_nothing_of_it() {
        let at = Keyset {
            key: "ada: lovelace \u{e9}".into(),
            id: 42,
        };
        let cursor = people().seal(&at);
        assert_eq!(people().open(&cursor), Some(at.clone()));
        assert_eq!(people().seal(&at), cursor, "the same page, the same cursor");
        assert!(!cursor.contains(&hex::encode("ada")), "{cursor}");
        assert!(!cursor.contains("ada"), "{cursor}");
    }

    #[test]
    fn a_cursor_altered_from_another_list_or_another_secret_is_refused() {
        let at = Keyset {
            key: "bob builder".into(),
            id: 2,
        };
        let cursor = people().seal(&at);
        for i in 0..cursor.len() {
            let mut altered = cursor.clone().into_bytes();
            altered[i] = if altered[i] == b'0' { b'1' } else { b'0' };
            let altered = String::from_utf8(altered).unwrap();
            assert_eq!(people().open(&altered), None, "character {i}");
        }
        assert_eq!(
            Cursors::new("a test secret").of("projects").open(&cursor),
            None
        );
        assert_eq!(
            Cursors::new("another secret").of("people").open(&cursor),
            None
        );
        for bad in ["", "zz", "3a", &hex::encode("2:bob builder"), &cursor[..40]] {
            assert_eq!(people().open(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_sealed_position_the_lists_never_write_is_still_refused() {
        for (id, key) in [(0, "a"), (-1, "a"), (1, "a\u{0}b"), (1, "\n")] {
            let cursor = people().seal(&Keyset {
                key: key.into(),
                id,
            });
            assert_eq!(people().open(&cursor), None, "{id} {key:?}");
        }
        let empty = people().seal(&Keyset {
            key: String::new(),
            id: 7,
        });
        assert_eq!(people().open(&empty).map(|k| k.id), Some(7));
    }
}
