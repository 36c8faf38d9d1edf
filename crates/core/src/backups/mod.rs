//! Server backups' credentials and layout (issue 15): where a backup's versions live in object
//! storage, the auth key that guards it, and which versions are kept.
//!
//! An auth key is 256 random bits, shown once. Garrison keeps only an HMAC-SHA256 tag of it, keyed by
//! the server's secret and bound to the backup's view id, and compares tags in constant time: a
//! stolen database holds nothing that opens a backup, and a tag cannot be moved to another backup.

use std::fmt;

mod capture;
pub mod jobs;
pub mod port;
mod restore;
mod service;

pub use capture::{MAX_BANS, MAX_MEMBERS};
pub use jobs::{Job, JobId, JobStatus, RestoreJobStore};
pub use restore::{MAX_RATE_LIMIT_WAIT_MS, Step};
pub use service::{
    BUSY_RETRY_AFTER_SECONDS, BackupError, BackupPorts, BackupService, BackupSettings, CreateRequest, Created, DryRun,
    JOB_LEASE_MS, MAX_CAPTURES, MAX_RESTORES, Premium, PremiumAdmin, PremiumGrants, RESTORE_ANSWER_WITHIN_MS,
    RESTORE_COOLDOWN_MS, RestoreOutcome, RestoreRequest, Started, WRONG_KEY_WINDOW_MS, WRONG_KEYS_PER_WINDOW,
};

/// The backup format, fitting and the restore planner (`garrison-backup`), served through core.
pub use garrison_backup::{fit, format, plan};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::objects::ObjectKey;
use crate::view_id::ViewId;
use crate::{Result, ServerId, Timestamp};

/// The most a backup's JSON may weigh (the specification's 100 MB).
pub const MAX_BACKUP_BYTES: u64 = 100 * 1000 * 1000;

/// A backup's auth key: 32 random bytes as 43 characters of URL-safe base64. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey(String);

impl AuthKey {
    /// The number of characters of an auth key.
    pub const LEN: usize = 43;

    /// A key from 32 random bytes (drawn from a secure source).
    pub fn from_entropy(bytes: [u8; 32]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A key as a caller sent it: exactly 43 URL-safe base64 characters, else `None` (and then no
    /// backup can be opened with it).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let shaped =
            text.len() == Self::LEN && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (shaped && URL_SAFE_NO_PAD.decode(text).is_ok_and(|bytes| bytes.len() == 32)).then(|| Self(text.to_owned()))
    }

    /// The secret itself, shown once to the backup's maker.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthKey(<redacted>)")
    }
}

/// What is stored in place of an auth key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthTag(pub [u8; 32]);

/// The server's secret for auth-key tags (derived from `GARRISON_SECRET_KEY` by the adapter). `Debug`
/// never shows it.
#[derive(Clone)]
pub struct TagKey([u8; 32]);

impl fmt::Debug for TagKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TagKey(<redacted>)")
    }
}

impl TagKey {
    pub fn new(secret: [u8; 32]) -> Self {
        Self(secret)
    }

    fn mac(&self, view: &ViewId, key: &AuthKey) -> Hmac<Sha256> {
        // HMAC pads a key shorter than SHA-256's 64-byte block with zeros: padding it here gives the
        // same MAC, through the constructor that cannot fail.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.0);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
        mac.update(b"garrison backup auth key\0");
        mac.update(view.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(key.expose().as_bytes());
        mac
    }

    /// The tag kept for `key` on backup `view`.
    pub fn tag(&self, view: &ViewId, key: &AuthKey) -> AuthTag {
        AuthTag(self.mac(view, key).finalize().into_bytes().into())
    }

    /// Whether `key` opens backup `view`, whose kept tag is `tag`: compared in constant time.
    pub fn verify(&self, view: &ViewId, key: &AuthKey, tag: &AuthTag) -> bool {
        self.mac(view, key).verify_slice(&tag.0).is_ok()
    }
}

/// Why a version exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionKind {
    /// Made by `POST /api/Backup`.
    Backup,
    /// The target guild as it was just before a restore changed it (so the restore can be undone).
    Snapshot,
}

impl VersionKind {
    /// How the store writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            VersionKind::Backup => "backup",
            VersionKind::Snapshot => "snapshot",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "backup" => Some(VersionKind::Backup),
            "snapshot" => Some(VersionKind::Snapshot),
            _ => None,
        }
    }
}

/// One kept version of a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub number: u32,
    pub kind: VersionKind,
    /// The JSON's size.
    pub bytes: u64,
    pub at: Timestamp,
}

/// What Garrison keeps about a backup (the JSON itself lives in object storage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRecord {
    pub view: ViewId,
    /// The guild it was taken of; one backup per guild.
    pub guild: ServerId,
    /// The auth key's tag (never the key).
    pub tag: AuthTag,
    /// The maker's name for it (`X-Filename`), used for downloads.
    pub filename: Option<String>,
    pub created_at: Timestamp,
    /// Oldest first.
    pub versions: Vec<Version>,
}

/// Where backups' records are kept. Implemented by `garrison-storage` (and testkit's memory store).
pub trait BackupIndex: Send + Sync {
    fn by_guild(&self, guild: ServerId) -> Result<Option<BackupRecord>>;
    fn by_view(&self, view: &ViewId) -> Result<Option<BackupRecord>>;
    /// Records a new backup with its versions; [`crate::Error::BackupExists`], and nothing stored,
    /// when the guild already has one (the store's rule, so two concurrent first backups cannot both
    /// win).
    fn create(&self, record: &BackupRecord) -> Result<()>;
    /// Adds a version and removes `drop` (retention), in one transaction; `false` when the backup is
    /// gone or the number is taken.
    fn add_version(&self, view: &ViewId, version: &Version, drop: &[u32]) -> Result<bool>;
    /// Forgets the backup and its versions; `false` when there was none.
    fn delete(&self, view: &ViewId) -> Result<bool>;
}

/// Where a version's JSON lives: `backups/{guild}/{view id}/{version}.json` (digits, hex and fixed
/// words only, so always a valid key).
pub fn version_key(guild: ServerId, view: &ViewId, version: u32) -> Option<ObjectKey> {
    ObjectKey::parse(&format!("backups/{guild}/{view}/{version}.json")).ok()
}

/// Where a backup's images (icons, emojis, stickers) live, by content hash, shared by its versions:
/// `backups/{guild}/{view id}/files/{sha256 hex}`.
pub fn file_key(guild: ServerId, view: &ViewId, sha256_hex: &str) -> Option<ObjectKey> {
    let hex = sha256_hex.len() == 64 && sha256_hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    hex.then(|| ObjectKey::parse(&format!("backups/{guild}/{view}/files/{sha256_hex}")).ok()).flatten()
}

/// The versions to delete so that at most `keep` versions made by `POST /api/Backup` remain (the
/// newest), and at most `keep` snapshots: oldest first.
pub fn beyond_retention(versions: &[Version], keep: usize) -> Vec<u32> {
    let mut doomed = Vec::new();
    for kind in [VersionKind::Backup, VersionKind::Snapshot] {
        let mut numbers: Vec<u32> = versions.iter().filter(|v| v.kind == kind).map(|v| v.number).collect();
        numbers.sort_unstable();
        let extra = numbers.len().saturating_sub(keep);
        doomed.extend_from_slice(&numbers[..extra]);
    }
    doomed.sort_unstable();
    doomed
}

/// The newest version made by `POST /api/Backup` (what a restore without `?version` uses).
pub fn current_version(versions: &[Version]) -> Option<&Version> {
    versions.iter().filter(|v| v.kind == VersionKind::Backup).max_by_key(|v| v.number)
}

/// A size as the specification writes it: `"2.5 MB"` (decimal units, one decimal below 10).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::discord::Snowflake;

    fn view(n: u8) -> ViewId {
        ViewId::from_entropy([n; 16])
    }

    #[test]
    fn auth_keys_are_43_url_safe_characters_and_never_debug_printed() {
        let key = AuthKey::from_entropy([0xfb; 32]);
        assert_eq!(key.expose().len(), AuthKey::LEN);
        assert_eq!(AuthKey::parse(key.expose()), Some(key.clone()));
        assert_eq!(AuthKey::parse(&format!(" {} ", key.expose())), Some(key.clone()), "spaces trimmed");
        assert!(!format!("{key:?}").contains(key.expose()));
        for bad in ["", "short", &"a".repeat(44), &format!("{}=", &key.expose()[..42]), &"+".repeat(43)] {
            assert_eq!(AuthKey::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_tag_opens_only_its_own_backup_with_its_own_key_under_its_own_secret() {
        let secret = TagKey::new([7; 32]);
        let key = AuthKey::from_entropy([1; 32]);
        let tag = secret.tag(&view(1), &key);
        assert!(secret.verify(&view(1), &key, &tag));
        assert!(!secret.verify(&view(2), &key, &tag), "bound to the view id");
        assert!(!secret.verify(&view(1), &AuthKey::from_entropy([2; 32]), &tag), "another key");
        assert!(!TagKey::new([8; 32]).verify(&view(1), &key, &tag), "another server's secret");
        assert!(!format!("{secret:?}").contains('7'));
    }

    #[test]
    fn padding_the_secret_gives_the_standard_hmac() {
        let secret = TagKey::new([7; 32]);
        let key = AuthKey::from_entropy([1; 32]);
        let mut standard = <Hmac<Sha256> as KeyInit>::new_from_slice(&[7; 32]).unwrap();
        standard.update(b"garrison backup auth key\0");
        standard.update(view(1).as_str().as_bytes());
        standard.update(b"\0");
        standard.update(key.expose().as_bytes());
        let expected: [u8; 32] = standard.finalize().into_bytes().into();
        assert_eq!(secret.tag(&view(1), &key), AuthTag(expected));
    }

    #[test]
    fn versions_live_under_the_guild_and_view_and_files_by_hash() {
        let guild = ServerId::from_discord(Snowflake::from_raw(123_456_789_012_345_678)).unwrap();
        assert_eq!(
            version_key(guild, &view(0xab), 3).unwrap().as_str(),
            format!("backups/123456789012345678/{}/3.json", "ab".repeat(16))
        );
        let hash = "0f".repeat(32);
        assert!(file_key(guild, &view(1), &hash).unwrap().as_str().ends_with(&format!("/files/{hash}")));
        assert_eq!(file_key(guild, &view(1), "../x"), None);
    }

    #[test]
    fn retention_keeps_the_newest_of_each_kind() {
        let v = |number, kind| Version { number, kind, bytes: 1, at: Timestamp(0) };
        let versions = [
            v(1, VersionKind::Backup),
            v(2, VersionKind::Snapshot),
            v(3, VersionKind::Backup),
            v(4, VersionKind::Backup),
            v(5, VersionKind::Snapshot),
        ];
        assert_eq!(beyond_retention(&versions, 2), [1]);
        assert_eq!(beyond_retention(&versions, 1), [1, 2, 3]);
        assert_eq!(current_version(&versions).map(|v| v.number), Some(4), "never a snapshot");
    }

    #[test]
    fn sizes_read_like_the_specification() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(2_500_000), "2.5 MB");
        assert_eq!(human_size(12_300), "12 KB");
        assert_eq!(human_size(100_000_000), "100 MB");
    }
}
