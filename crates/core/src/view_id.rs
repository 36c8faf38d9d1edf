//! The one view id: the permanent, unguessable name of a page Garrison serves without an API key (a
//! moderation history, a transcript). 128 random bits written as 32 lower-case hexadecimal digits.

use std::fmt;

use crate::entropy::{Entropy, EntropyError};

/// A view id: 32 lower-case hexadecimal characters (128 random bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ViewId(String);

impl ViewId {
    /// The number of characters of a view id.
    pub const LEN: usize = 32;

    /// A view id from 16 random bytes (drawn from a secure source).
    pub fn from_entropy(bytes: [u8; 16]) -> Self {
        Self::from_bytes(bytes)
    }

    /// 16 bytes written as a view id; for ids that are not secret, such as a hash naming a card.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let text = bytes
            .iter()
            .flat_map(|b| [char::from(HEX[usize::from(b >> 4)]), char::from(HEX[usize::from(b & 0x0f)])])
            .collect();
        Self(text)
    }

    /// A new view id from `entropy`.
    pub fn draw(entropy: &dyn Entropy) -> Result<Self, EntropyError> {
        let mut bytes = [0u8; 16];
        entropy.fill(&mut bytes)?;
        Ok(Self::from_entropy(bytes))
    }

    /// Reads a view id: exactly 32 hexadecimal characters, else `None`. Upper-case letters are
    /// accepted and lowered, so a link whose case was changed on the way still finds its page
    /// (moderation logs).
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == Self::LEN && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(text.to_ascii_lowercase()))
    }

    /// Reads a view id exactly as the server writes them: 32 lower-case hexadecimal characters
    /// (transcripts, whose ids are also parts of object keys and cursors).
    pub fn parse_exact(text: &str) -> Option<Self> {
        (text.len() == Self::LEN && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
            .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ViewId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_ids_are_32_lowercase_hex_characters() {
        let id =
            ViewId::from_entropy([0x00, 0x01, 0xab, 0xcd, 0xef, 0x10, 0x7f, 0x80, 0xff, 9, 10, 11, 12, 13, 14, 15]);
        assert_eq!(id.as_str(), "0001abcdef107f80ff090a0b0c0d0e0f");
        assert_eq!(id.as_str().len(), ViewId::LEN);
        assert_eq!(ViewId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(ViewId::parse_exact(id.as_str()), Some(id.clone()));
        assert_eq!(id.to_string(), id.as_str());
        assert_eq!(ViewId::from_entropy([0; 16]).as_str(), "0".repeat(32));
        assert_eq!(ViewId::from_entropy([0xff; 16]).as_str(), "f".repeat(32));
    }

    #[test]
    fn parsing_takes_exactly_32_hex_characters_and_only_the_lenient_parse_lowers() {
        let upper = ViewId::parse("0001ABCDEF107F80FF090A0B0C0D0E0F").expect("upper case");
        assert_eq!(upper.as_str(), "0001abcdef107f80ff090a0b0c0d0e0f");
        assert_eq!(ViewId::parse_exact("0001ABCDEF107F80FF090A0B0C0D0E0F"), None);
        for bad in [
            "",
            "0001abcdef107f80ff090a0b0c0d0e0",
            "0001abcdef107f80ff090a0b0c0d0e0f0",
            "0001abcdef107f80ff090a0b0c0d0e0g",
            " 001abcdef107f80ff090a0b0c0d0e0f",
            "0001abcdef107f80ff090a0b0c0d0e0/",
            "0001abcdef107f80ff090a0b0c0d0é",
            "../../../../../../../etc/passwd0",
        ] {
            assert_eq!(ViewId::parse(bad), None, "{bad:?}");
            assert_eq!(ViewId::parse_exact(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_drawn_id_uses_the_entropy_given() {
        struct Fixed;
        impl Entropy for Fixed {
            fn fill(&self, bytes: &mut [u8]) -> Result<(), EntropyError> {
                bytes.fill(0xab);
                Ok(())
            }
        }
        assert_eq!(ViewId::draw(&Fixed).expect("drawn").as_str(), "ab".repeat(16));
    }
}
