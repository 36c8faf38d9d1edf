//! Uploaded images and sticker files: Discord's image data URIs (`data:image/png;base64,...`), what
//! format the bytes really are (PNG, APNG, JPEG, GIF, WebP, Lottie JSON), whether they are animated,
//! and whether they decode. Kept bytes are served on the simulator's CDN (`/sim/cdn/...`).

use std::io::Cursor;

use base64::Engine;

/// Where the simulator serves uploaded files (Discord's `https://cdn.discordapp.com`), on its own
/// HTTP address: `{base_url}/sim/cdn/emojis/{id}.png`, `/sim/cdn/stickers/{id}.png`,
/// `/sim/cdn/icons/{guild_id}/{hash}.png`, `/sim/cdn/role-icons/{role_id}/{hash}.png`, ...
pub const CDN_PATH: &str = "/sim/cdn";

/// A file's format, as found in its bytes (not as its name or data URI claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// PNG (an APNG is a PNG with an animation control chunk).
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    WebP,
    /// A Lottie animation (JSON), for stickers only.
    Lottie,
}

impl ImageFormat {
    /// The MIME type the CDN serves it with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::WebP => "image/webp",
            Self::Lottie => "application/json",
        }
    }

    /// The file extension the CDN names it with.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::WebP => "webp",
            Self::Lottie => "json",
        }
    }
}

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sniffed {
    pub(crate) format: ImageFormat,
    /// More than one frame (an animated GIF or WebP, an APNG, any Lottie).
    pub(crate) animated: bool,
}

/// A file kept for the CDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Asset {
    pub(crate) bytes: Vec<u8>,
    pub(crate) format: ImageFormat,
}

/// Why an upload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not a `data:` URI with base64 content.
    NotDataUri,
    /// Not an image of an accepted format, or it does not decode.
    Invalid,
    /// Larger than the limit (in bytes).
    TooLarge(usize),
}

/// The bytes of a `data:<mime>;base64,<data>` URI (the MIME type is not trusted: the bytes are
/// sniffed).
pub(crate) fn data_uri_bytes(text: &str) -> Result<Vec<u8>, Refusal> {
    let rest = text.strip_prefix("data:").ok_or(Refusal::NotDataUri)?;
    let (header, data) = rest.split_once(',').ok_or(Refusal::NotDataUri)?;
    if !header.ends_with(";base64") {
        return Err(Refusal::NotDataUri);
    }
    let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(data.as_bytes()))
        .map_err(|_| Refusal::NotDataUri)
}

/// The format of `bytes` from their signature, and whether they are animated, without decoding.
pub(crate) fn sniff(bytes: &[u8]) -> Option<Sniffed> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Sniffed { format: ImageFormat::Png, animated: png_is_animated(bytes) });
    }
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        return Some(Sniffed { format: ImageFormat::Jpeg, animated: false });
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(Sniffed { format: ImageFormat::Gif, animated: gif_frames(bytes) > 1 });
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        let animated = bytes.get(12..16) == Some(b"VP8X") && bytes.get(20).is_some_and(|flags| flags & 0x02 != 0);
        return Some(Sniffed { format: ImageFormat::WebP, animated });
    }
    None
}

/// An image of one of `accepted` formats that decodes, at most `max_bytes` long.
pub(crate) fn validate_image(bytes: &[u8], accepted: &[ImageFormat], max_bytes: usize) -> Result<Sniffed, Refusal> {
    if bytes.len() > max_bytes {
        return Err(Refusal::TooLarge(max_bytes));
    }
    let sniffed = sniff(bytes).filter(|s| accepted.contains(&s.format)).ok_or(Refusal::Invalid)?;
    let format = match sniffed.format {
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::WebP => image::ImageFormat::WebP,
        ImageFormat::Lottie => return Err(Refusal::Invalid),
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(4096);
    limits.max_image_height = Some(4096);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    reader.decode().map_err(|_| Refusal::Invalid)?;
    Ok(sniffed)
}

/// A Lottie animation's `(width, height)`, if `bytes` are a JSON object shaped like one (`v`, `w`,
/// `h`, `fr`, `ip`, `op` and `layers`).
pub(crate) fn lottie_size(bytes: &[u8]) -> Option<(u64, u64)> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let object = value.as_object()?;
    for key in ["v", "fr", "ip", "op", "layers"] {
        object.get(key)?;
    }
    Some((object.get("w")?.as_u64()?, object.get("h")?.as_u64()?))
}

/// Whether a PNG has an animation control chunk (`acTL`) before its image data: an APNG.
fn png_is_animated(bytes: &[u8]) -> bool {
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let length = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let kind = &bytes[at + 4..at + 8];
        match kind {
            b"acTL" => return true,
            b"IDAT" | b"IEND" => return false,
            _ => {}
        }
        at = at.saturating_add(12).saturating_add(length);
    }
    false
}

/// How many images a GIF holds (stopping at 2, which is all that matters).
fn gif_frames(bytes: &[u8]) -> usize {
    // Header (6) and logical screen descriptor (7), then the global colour table if flagged.
    let Some(&packed) = bytes.get(10) else { return 0 };
    let mut at = 13;
    if packed & 0x80 != 0 {
        at += 3 << ((packed & 0x07) + 1);
    }
    let skip_sub_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let size = usize::from(*bytes.get(at)?);
            at += 1;
            if size == 0 {
                return Some(at);
            }
            at += size;
        }
    };
    let mut frames = 0;
    while let Some(&block) = bytes.get(at) {
        match block {
            0x21 => match skip_sub_blocks(at + 2) {
                Some(next) => at = next,
                None => break,
            },
            0x2c => {
                frames += 1;
                if frames > 1 {
                    break;
                }
                let Some(&packed) = bytes.get(at + 9) else { break };
                at += 10;
                if packed & 0x80 != 0 {
                    at += 3 << ((packed & 0x07) + 1);
                }
                match skip_sub_blocks(at + 1) {
                    Some(next) => at = next,
                    None => break,
                }
            }
            _ => break,
        }
    }
    frames
}

/// The file format of a sticker's `format_type` (1 PNG, 2 APNG, 3 LOTTIE, 4 GIF).
pub(crate) fn sticker_format(format_type: u8) -> ImageFormat {
    match format_type {
        3 => ImageFormat::Lottie,
        4 => ImageFormat::Gif,
        _ => ImageFormat::Png,
    }
}

/// A stand-in for Discord's asset hashes: 32 hex digits from the bytes, `a_` first when animated.
pub(crate) fn asset_hash(bytes: &[u8], animated: bool) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let hash = hasher.finish();
    let prefix = if animated { "a_" } else { "" };
    format!("{prefix}{hash:016x}{:016x}", hash.rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15)
}

/// Small valid files for builders and tests: a 1x1 PNG, a two-frame 1x1 GIF and a minimal Lottie
/// animation.
pub mod samples {
    /// A 1x1 opaque PNG (70 bytes).
    pub const PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
        0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x88, 0x48, 0xfd, 0xf4, 0x1f, 0x00, 0x05, 0x77, 0x02, 0xaf,
        0x86, 0x9b, 0xcb, 0x5e, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    /// A 1x1 GIF with two frames (animated).
    pub const ANIMATED_GIF: &[u8] = &[
        b'G', b'I', b'F', b'8', b'9', b'a', 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
        0xff, // header, screen 1x1, global colour table of two colours
        0x21, 0xff, 0x0b, b'N', b'E', b'T', b'S', b'C', b'A', b'P', b'E', b'2', b'.', b'0', 0x03, 0x01, 0x00, 0x00,
        0x00, // loop forever
        0x21, 0xf9, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00, // graphic control: 100 ms
        0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, // frame 1
        0x21, 0xf9, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00, // graphic control: 100 ms
        0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x4c, 0x01, 0x00, // frame 2
        0x3b,
    ];

    /// A minimal Lottie animation, 320x320, one second at 30 fps.
    pub const LOTTIE: &[u8] =
        br#"{"v":"5.7.4","fr":30,"ip":0,"op":30,"w":320,"h":320,"nm":"sticker","ddd":0,"assets":[],"layers":[]}"#;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_what_they_claim() {
        let png = validate_image(samples::PNG, &[ImageFormat::Png], 1024).expect("the PNG decodes");
        assert_eq!(png, Sniffed { format: ImageFormat::Png, animated: false });
        let gif = validate_image(samples::ANIMATED_GIF, &[ImageFormat::Gif], 1024).expect("the GIF decodes");
        assert_eq!(gif, Sniffed { format: ImageFormat::Gif, animated: true });
        assert_eq!(lottie_size(samples::LOTTIE), Some((320, 320)));
        assert_eq!(lottie_size(b"{}"), None);
    }

    #[test]
    fn refusals() {
        assert_eq!(validate_image(b"<html>", &[ImageFormat::Png], 1024), Err(Refusal::Invalid));
        assert_eq!(validate_image(samples::PNG, &[ImageFormat::Gif], 1024), Err(Refusal::Invalid));
        assert_eq!(validate_image(samples::PNG, &[ImageFormat::Png], 10), Err(Refusal::TooLarge(10)));
        let truncated = &samples::PNG[..40];
        assert_eq!(validate_image(truncated, &[ImageFormat::Png], 1024), Err(Refusal::Invalid));
        assert_eq!(data_uri_bytes("data:image/png;base64,iVBORw=="), Ok(vec![0x89, 0x50, 0x4e, 0x47]));
        assert_eq!(data_uri_bytes("iVBORw=="), Err(Refusal::NotDataUri));
        assert_eq!(data_uri_bytes("data:image/png,rawdata"), Err(Refusal::NotDataUri));
        assert_eq!(data_uri_bytes("data:image/png;base64,***"), Err(Refusal::NotDataUri));
    }

    #[test]
    fn hashes_mark_animation() {
        assert!(asset_hash(b"x", true).starts_with("a_"));
        assert_eq!(asset_hash(b"x", false).len(), 32);
        assert_ne!(asset_hash(b"x", false), asset_hash(b"y", false));
    }
}
