//! Secrets at rest: ChaCha20-Poly1305 (ring) under the server's secret key.
//!
//! A sealed value is `base64(version 0x01 || key id (4 bytes) || nonce (12 bytes) || ciphertext+tag)`.
//! The key id is the first four bytes of SHA-256 over the secret key, so a value sealed under another
//! key is reported as such (a replica started with a different `GARRISON_SECRET_KEY`) rather than as
//! tampering. The nonce is random (96 bits; the few secrets a server stores are far from the birthday
//! bound). The associated data binds a value to what it belongs to (a table and a row), so a sealed
//! key copied to another server's row does not open.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 4;

/// The server's 32-byte secret key. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey {
    bytes: [u8; 32],
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Why a sealed value did not open. Never contains the key or the plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("a sealed secret is malformed")]
    Malformed,
    #[error("a sealed secret was sealed under another secret key (is GARRISON_SECRET_KEY the same on every replica?)")]
    OtherKey,
    #[error("a sealed secret does not open: it was altered or belongs to another record")]
    Tampered,
    #[error("no random numbers for a nonce")]
    NoRandomness,
}

impl SecretKey {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self { bytes }
    }

    /// A key written as 64 hex digits or as base64 of 32 bytes (what [`SecretKey::encode`] writes).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()).collect::<Option<Vec<u8>>>()?
        } else {
            STANDARD.decode(text).ok()?
        };
        Some(Self { bytes: bytes.try_into().ok()? })
    }

    /// A new random key.
    pub fn generate() -> Result<Self, SealError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).map_err(|_| SealError::NoRandomness)?;
        Ok(Self { bytes })
    }

    /// A key for another purpose, derived from this one (HMAC-SHA256 of the purpose's name), so one
    /// configured secret serves several uses without any of them revealing another's key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.bytes);
        let tag = ring::hmac::sign(&key, format!("garrison derived key\0{purpose}").as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// The key as base64 (for the key file).
    pub fn encode(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    fn id(&self) -> [u8; KEY_ID_LEN] {
        let digest = Sha256::digest(self.bytes);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        id
    }

    fn aead(&self) -> LessSafeKey {
        // 32 bytes is CHACHA20_POLY1305's key length, so this cannot fail.
        let key = UnboundKey::new(&CHACHA20_POLY1305, &self.bytes).unwrap_or_else(|_| unreachable!("32-byte key"));
        LessSafeKey::new(key)
    }

    /// Seals `plaintext`, bound to `context`.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| SealError::NoRandomness)?;
        let mut sealed = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + plaintext.len() + 16);
        sealed.push(VERSION);
        sealed.extend_from_slice(&self.id());
        sealed.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.aead()
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut body)
            .map_err(|_| SealError::Malformed)?;
        sealed.extend_from_slice(&body);
        Ok(STANDARD.encode(sealed))
    }

    /// Opens a value [`SecretKey::seal`] made with the same key and `context`.
    pub fn open(&self, context: &[u8], sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SealError::Malformed)?;
        let header = 1 + KEY_ID_LEN + NONCE_LEN;
        if bytes.len() < header + 16 || bytes[0] != VERSION {
            return Err(SealError::Malformed);
        }
        if bytes[1..1 + KEY_ID_LEN] != self.id() {
            return Err(SealError::OtherKey);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[1 + KEY_ID_LEN..header]);
        let mut body = bytes[header..].to_vec();
        let plain = self
            .aead()
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut body)
            .map_err(|_| SealError::Tampered)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let key = SecretKey::generate().expect("random");
        let sealed = key.seal(b"row 1", b"the secret").expect("sealed");
        assert!(!sealed.contains("the secret"));
        assert_eq!(key.open(b"row 1", &sealed).expect("opens"), b"the secret");
        assert_ne!(sealed, key.seal(b"row 1", b"the secret").expect("sealed"), "a fresh nonce each time");
        assert_eq!(key.open(b"row 2", &sealed), Err(SealError::Tampered));
        let other = SecretKey::generate().expect("random");
        assert_eq!(other.open(b"row 1", &sealed), Err(SealError::OtherKey));
        let mut bytes = STANDARD.decode(&sealed).expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(key.open(b"row 1", &STANDARD.encode(&bytes)), Err(SealError::Tampered));
        assert_eq!(key.open(b"row 1", "not base64!"), Err(SealError::Malformed));
        assert_eq!(key.open(b"row 1", &STANDARD.encode([1u8; 10])), Err(SealError::Malformed));
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_do_not_reveal_the_key() {
        let key = SecretKey::from_bytes([9; 32]);
        assert_eq!(key.derive("backups"), key.derive("backups"), "stable");
        assert_ne!(key.derive("backups"), key.derive("webhooks"));
        assert_ne!(key.derive("backups"), SecretKey::from_bytes([8; 32]).derive("backups"));
        assert_ne!(key.derive("backups"), [9; 32]);
    }

    #[test]
    fn keys_parse_from_hex_or_base64_and_never_show() {
        let key = SecretKey::generate().expect("random");
        let again = SecretKey::parse(&key.encode()).expect("base64");
        assert_eq!(again.bytes, key.bytes);
        let hex: String = key.bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(SecretKey::parse(&hex).expect("hex").bytes, key.bytes);
        assert!(SecretKey::parse("too short").is_none());
        assert!(SecretKey::parse(&STANDARD.encode([0u8; 31])).is_none());
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
    }
}
