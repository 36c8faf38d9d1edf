//! Capturing a guild into the backup format: every section read through the [`BackupBot`] port,
//! images downloaded one at a time, hashed, and (for a backup or a snapshot) kept in object storage
//! beside the JSON. What the bot may not read becomes a warning in the backup, never a silent gap.

use bytes::Bytes;
use garrison_backup::format::{Backup, FORMAT_VERSION, Id};
use sha2::{Digest, Sha256};

use super::port::{BackupBot, ImageUrl, MAX_IMAGE_BYTES};
use super::{BackupError, file_key};
use crate::discord::DiscordError;
use crate::objects::ObjectStore;
use crate::view_id::ViewId;
use crate::{ServerId, Timestamp};

/// The most bans a backup keeps (1,000 a page): beyond them a warning says the rest were left out.
pub const MAX_BANS: usize = 200_000;
/// The most members whose roles a backup keeps, when asked to.
pub const MAX_MEMBERS: usize = 250_000;

/// Where a capture keeps its images: the backup's folder (its origin guild and view id).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileHome<'a> {
    pub guild: ServerId,
    pub view: &'a ViewId,
}

/// What a capture reads and keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaptureOptions<'a> {
    /// Members' roles too (opt-in: large, and personal data).
    pub members: bool,
    /// Keep the images in object storage (a backup, a snapshot); `None` only hashes them (a dry run).
    pub home: Option<FileHome<'a>>,
    /// The most image bytes the capture may download in all.
    pub max_image_bytes: u64,
}

/// A captured guild, and how many image bytes it downloaded.
#[derive(Debug)]
pub(crate) struct Captured {
    pub backup: Backup,
    pub image_bytes: u64,
}

/// A section the bot may not read: a warning, not a failure. Any other failure ends the capture.
fn optional<T: Default>(
    section: &str,
    result: Result<T, DiscordError>,
    warnings: &mut Vec<String>,
) -> Result<T, BackupError> {
    match result {
        Ok(value) => Ok(value),
        Err(e @ DiscordError::MissingPermission { .. }) => {
            warnings.push(format!("{section}: not kept, the bot may not read them ({e})"));
            Ok(T::default())
        }
        Err(e) => Err(e.into()),
    }
}

/// Reads a section a page of up to 1,000 at a time by user id, keeping at most `max` (a warning says
/// when more were left out).
async fn paged<T, F, Fut>(
    section: &str,
    max: usize,
    warnings: &mut Vec<String>,
    mut page: F,
    user: impl Fn(&T) -> Id,
) -> Result<Vec<T>, BackupError>
where
    F: FnMut(Option<Id>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, DiscordError>>,
{
    let mut all = Vec::new();
    let mut after: Option<Id> = None;
    loop {
        let items: Vec<T> = optional(section, page(after).await, warnings)?;
        let Some(last) = items.iter().map(&user).max() else { break };
        let full = items.len() >= 1000;
        all.extend(items);
        if all.len() >= max {
            all.truncate(max);
            warnings.push(format!("{section}: only the first {max} (by user id) are kept."));
            break;
        }
        if !full {
            break;
        }
        after = Some(last);
    }
    Ok(all)
}

/// The SHA-256 of `bytes` as 64 lowercase hex characters.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// An image's content type for object storage (a Lottie sticker is JSON).
fn content_type(bytes: &[u8]) -> &'static str {
    crate::discord::looks::image_mime(bytes).unwrap_or(if bytes.first() == Some(&b'{') {
        "application/json"
    } else {
        "application/octet-stream"
    })
}

struct Images<'a> {
    bot: &'a dyn BackupBot,
    objects: &'a dyn ObjectStore,
    options: CaptureOptions<'a>,
    downloaded: u64,
}

impl Images<'_> {
    /// Downloads one image, keeps it (once per content), answers its hash.
    async fn keep(&mut self, url: &ImageUrl) -> Result<String, BackupError> {
        let bytes = self.bot.download(url, MAX_IMAGE_BYTES).await?;
        self.downloaded += bytes.len() as u64;
        if self.downloaded > self.options.max_image_bytes {
            return Err(BackupError::TooLarge);
        }
        let hash = sha256_hex(&bytes);
        if let Some(home) = self.options.home {
            let key = file_key(home.guild, home.view, &hash)
                .ok_or_else(|| BackupError::Internal("an image key could not be made".into()))?;
            if self.objects.head(&key).await?.is_none() {
                let kind = content_type(&bytes);
                self.objects.put(&key, Bytes::from(bytes), kind).await?;
            }
        }
        Ok(hash)
    }
}

/// Reads the whole guild through `bot`.
pub(crate) async fn capture(
    bot: &dyn BackupBot,
    objects: &dyn ObjectStore,
    guild: ServerId,
    now: Timestamp,
    options: CaptureOptions<'_>,
) -> Result<Captured, BackupError> {
    let mut warnings = Vec::new();
    let read = bot.guild(guild).await?;
    let roles = bot.roles(guild).await?;
    let channels = bot.channels(guild).await?;
    let auto_moderation = optional("AutoMod rules", bot.auto_moderation(guild).await, &mut warnings)?;
    let onboarding = optional("Onboarding", bot.onboarding(guild).await, &mut warnings)?;

    let bans = paged("Bans", MAX_BANS, &mut warnings, |after| bot.bans(guild, after), |b| b.user).await?;
    let members = if options.members {
        Some(paged("Members' roles", MAX_MEMBERS, &mut warnings, |after| bot.members(guild, after), |m| m.user).await?)
    } else {
        None
    };

    let mut images = Images { bot, objects, options, downloaded: 0 };
    let mut settings = read.settings;
    if let Some(url) = &read.icon {
        settings.icon = Some(images.keep(url).await?);
    }
    let mut kept_roles = Vec::with_capacity(roles.len());
    for (mut role, icon) in roles {
        if let Some(url) = &icon {
            role.icon = Some(images.keep(url).await?);
        }
        kept_roles.push(role);
    }
    let mut emojis = Vec::with_capacity(read.emojis.len());
    for (mut emoji, url) in read.emojis {
        emoji.image = images.keep(&url).await?;
        emojis.push(emoji);
    }
    let mut stickers = Vec::with_capacity(read.stickers.len());
    for (mut sticker, url) in read.stickers {
        sticker.file = images.keep(&url).await?;
        stickers.push(sticker);
    }
    let image_bytes = images.downloaded;

    let backup = Backup {
        format: FORMAT_VERSION,
        created_at: now.to_iso8601(),
        guild: settings,
        roles: kept_roles,
        channels,
        auto_moderation,
        onboarding,
        bans,
        emojis,
        stickers,
        members,
        warnings,
    };
    Ok(Captured { backup, image_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lowercase_hex_and_content_types_are_sniffed() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(content_type(b"\x89PNG\r\n\x1a\n"), "image/png");
        assert_eq!(content_type(b"GIF89a"), "image/gif");
        assert_eq!(content_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(content_type(b"{\"v\":\"5\"}"), "application/json");
        assert_eq!(content_type(b"??"), "application/octet-stream");
    }
}
