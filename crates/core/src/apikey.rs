//! API keys: 256 random bits shown once as `gar_<64 hex digits>`, stored only as a SHA-256 hash,
//! each scoped to one Discord server, optionally read-only.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::{ApiKeyId, Error, Result, ServerId, Timestamp};

pub const PREFIX: &str = "gar_";
pub const MAX_NAME_CHARS: usize = 100;

/// The secret itself. It exists only between generation and printing, and while a request is
/// authenticated; `Debug` never shows it.
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// Builds a key from 32 bytes of entropy supplied by the caller (the OS random source).
    pub fn from_entropy(bytes: [u8; 32]) -> Self {
        Self(format!("{PREFIX}{}", hex(&bytes)))
    }

    /// Accepts a key as presented by a client, if it has the shape of one.
    pub fn parse(presented: &str) -> Option<Self> {
        let digits = presented.strip_prefix(PREFIX)?;
        (digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(format!("{PREFIX}{}", digits.to_ascii_lowercase())))
    }

    /// The text to show the operator, once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> KeyHash {
        KeyHash(hex(&Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(<redacted>)")
    }
}

/// The SHA-256 of a key, as 64 lower-case hex digits: what storage keeps and looks up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyHash(String);

impl KeyHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(text: String) -> Self {
        Self(text)
    }
}

/// Lower-case hex, two digits a byte.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// A key's label, 1..=100 characters.
pub fn validate_name(name: &str) -> Result<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_CHARS || trimmed.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters without control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A stored key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub server: ServerId,
    pub name: String,
    pub read_only: bool,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A key about to be stored.
#[derive(Debug)]
pub struct NewApiKey {
    pub server: ServerId,
    pub name: String,
    pub read_only: bool,
    pub hash: KeyHash,
    pub created_at: Timestamp,
}

/// What a request may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key_id: ApiKeyId,
    pub server: ServerId,
    pub name: String,
    pub read_only: bool,
}

impl From<ApiKey> for Principal {
    fn from(key: ApiKey) -> Self {
        Self { key_id: key.id, server: key.server, name: key.name, read_only: key.read_only }
    }
}

impl Principal {
    /// The operator at the command line (`garrison server roblox set`): read and write on `server`,
    /// with no API key behind it (key id 0 names none).
    pub fn operator(server: ServerId) -> Self {
        Self { key_id: ApiKeyId(0), server, name: "operator (command line)".into(), read_only: false }
    }

    /// A key may act only on its own server, and a read-only key only read.
    pub fn authorize(&self, server: ServerId, access: Access) -> Result<()> {
        if server != self.server {
            return Err(Error::Forbidden(format!("this API key is not valid for server {server}")));
        }
        if access == Access::Write && self.read_only {
            return Err(Error::Forbidden("this API key is read-only".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_prefix_and_256_bits() {
        let key = ApiKeySecret::from_entropy([0xab; 32]);
        assert_eq!(key.expose().len(), PREFIX.len() + 64);
        assert!(key.expose().starts_with("gar_abab"));
        assert_eq!(format!("{key:?}"), "ApiKeySecret(<redacted>)");
    }

    #[test]
    fn presented_keys_round_trip_to_the_same_hash() {
        let key = ApiKeySecret::from_entropy([7; 32]);
        let presented = ApiKeySecret::parse(key.expose()).expect("well-formed");
        assert_eq!(presented.hash(), key.hash());
        assert_eq!(key.hash().as_str().len(), 64);
        assert!(ApiKeySecret::parse("gar_short").is_none());
        assert!(ApiKeySecret::parse("nope").is_none());
    }

    #[test]
    fn principals_are_scoped() {
        let server = ServerId::from_stored(1);
        let p = Principal { key_id: ApiKeyId(1), server, name: "bot".into(), read_only: true };
        assert!(p.authorize(server, Access::Read).is_ok());
        assert!(matches!(p.authorize(server, Access::Write), Err(Error::Forbidden(_))));
        assert!(matches!(p.authorize(ServerId::from_stored(2), Access::Read), Err(Error::Forbidden(_))));
    }
}
