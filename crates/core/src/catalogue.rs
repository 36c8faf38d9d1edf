//! Medals and certifications: each server keeps a catalogue, and members are awarded from it.
//!
//! - Medal names are unique per server ignoring case; the name keeps the case it was created with.
//! - Certification references are upper-cased (`afo` and `AFO` are the same certification).
//! - Awarding something not in the catalogue is unknown (404); awarding one already held is a
//!   conflict (409); revoking one not held is unknown (404).

use crate::{Error, Result, RobloxUserId, Timestamp};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;
pub const MAX_REFERENCE_CHARS: usize = 32;

fn clean_text(field: &'static str, text: &str, max: usize, allow_empty: bool) -> Result<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() && !allow_empty {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(Error::invalid(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// A display name (of a medal or a certification), trimmed, 1..=100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &'static str, text: &str) -> Result<Self> {
        clean_text(field, text, MAX_NAME_CHARS, false).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key that makes names unique ignoring case.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A description, trimmed, at most 1000 characters; may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(text: &str) -> Result<Self> {
        clean_text("description", text, MAX_DESCRIPTION_CHARS, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A certification reference such as `AFO`: 1..=32 of `A-Z 0-9 _ -`, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificationRef(String);

impl CertificationRef {
    pub fn parse(text: &str) -> Result<Self> {
        let upper = text.trim().to_uppercase();
        let valid = (1..=MAX_REFERENCE_CHARS).contains(&upper.len())
            && upper.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if valid {
            Ok(Self(upper))
        } else {
            Err(Error::invalid(
                "reference",
                format!("must be 1 to {MAX_REFERENCE_CHARS} letters, digits, '_' or '-', got {text:?}"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Medal {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardedMedal {
    pub medal: Medal,
    pub awarded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certification {
    pub reference: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardedCertification {
    pub certification: Certification,
    pub awarded_at: Timestamp,
}

/// "Awarded Purple Heart to 123456789."
pub fn medal_awarded_message(medal: &Medal, member: RobloxUserId) -> String {
    format!("Awarded {} to {member}.", medal.name)
}

/// "Revoked Purple Heart from 123456789."
pub fn medal_revoked_message(medal: &Medal, member: RobloxUserId) -> String {
    format!("Revoked {} from {member}.", medal.name)
}

/// "Awarded Authorised Firearms Officer (AFO) to 123456789."
pub fn certification_awarded_message(certification: &Certification, member: RobloxUserId) -> String {
    format!("Awarded {} ({}) to {member}.", certification.name, certification.reference)
}

/// "Revoked AFO from 123456789."
pub fn certification_revoked_message(certification: &Certification, member: RobloxUserId) -> String {
    format!("Revoked {} from {member}.", certification.reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_the_specification() {
        let afo = Certification {
            reference: "AFO".into(),
            name: "Authorised Firearms Officer".into(),
            description: "Certified to use firearms in the field".into(),
        };
        let member = RobloxUserId::from_stored(123_456_789);
        assert_eq!(
            certification_awarded_message(&afo, member),
            "Awarded Authorised Firearms Officer (AFO) to 123456789."
        );
        assert_eq!(certification_revoked_message(&afo, member), "Revoked AFO from 123456789.");
        let heart = Medal { name: "Purple Heart".into(), description: String::new() };
        assert_eq!(medal_awarded_message(&heart, member), "Awarded Purple Heart to 123456789.");
    }

    #[test]
    fn references_are_upper_cased_and_checked() {
        assert_eq!(CertificationRef::parse(" afo ").expect("valid").as_str(), "AFO");
        assert!(CertificationRef::parse("").is_err());
        assert!(CertificationRef::parse("a f o").is_err());
        assert!(CertificationRef::parse(&"A".repeat(33)).is_err());
    }

    #[test]
    fn names_compare_ignoring_case() {
        let a = Name::parse("name", "Purple Heart").expect("valid");
        let b = Name::parse("name", "  purple HEART ").expect("valid");
        assert_eq!(a.key(), b.key());
        assert_eq!(b.as_str(), "purple HEART");
        assert!(Name::parse("name", "   ").is_err());
    }
}
