#![doc = include_str!("../README.md")]

// Linked only for its `zlib-rs` feature, which picks the PNG encoder's deflate backend.
use flate2 as _;

mod cards;
mod color;
mod draw;
mod encode;
mod fonts;
mod images;
mod level;
mod text;
mod welcome;

pub use cards::{
    AvatarShape, DEFAULT_LEVEL_CARD_HEIGHT, DEFAULT_LEVEL_CARD_WIDTH, DEFAULT_WELCOME_CARD_HEIGHT,
    DEFAULT_WELCOME_CARD_WIDTH, LevelBackground, LevelCard, LevelOffsets, MAX_BLUR_RADIUS, MAX_CARD_HEIGHT,
    MAX_CARD_WIDTH, MAX_OFFSET, MAX_TEXT_CHARS, MIN_CARD_HEIGHT, MIN_CARD_WIDTH, Offset, WelcomeCard, WelcomeOffsets,
    format_minutes, format_thousands, level_percent,
};
pub use color::{Rgba, parse_hex_color};
pub use encode::{DrawnCard, Encoding, JPEG_MATTE, JPEG_QUALITY, PngCompression};
pub use fonts::{DEFAULT_FAMILY_KEY, FAMILY_ALIASES, FamilyId, FontFamilyInfo, Fonts};
pub use images::{Background, DecodeLimits, Image, ImageFormat, decode_background, decode_image};
pub use level::{draw_level_card, render_level_card};
pub use welcome::{draw_welcome_card, render_welcome_card};

/// Everything that can go wrong while describing, decoding or rendering a card.
///
/// Variants about a card's description name the offending field (`field`), so the HTTP layer can
/// answer 400 with a message a client can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hex colour string is not `#RGB`, `#RRGGBB` or `#RRGGBBAA` (the `#` is optional).
    #[error("{field}: {value:?} is not a colour (expected #RGB, #RRGGBB or #RRGGBBAA)")]
    InvalidColor { field: &'static str, value: String },
    /// A width or height is outside the allowed range.
    #[error("{field}: {value} is outside the allowed range {min}..={max}")]
    InvalidDimension { field: &'static str, value: u32, min: u32, max: u32 },
    /// A number (opacity, blur radius, offset) is outside its allowed range.
    #[error("{field}: {value} is outside the allowed range {range}")]
    OutOfRange { field: &'static str, value: String, range: &'static str },
    /// A text field has more characters than [`MAX_TEXT_CHARS`].
    #[error("{field}: longer than {max} characters")]
    TextTooLong { field: &'static str, max: usize },
    /// The bytes are not a PNG, JPEG, WebP or GIF image.
    #[error("unsupported image format (expected PNG, JPEG, WebP or GIF)")]
    UnsupportedImageFormat,
    /// The image is larger than the decode limits allow (dimensions, memory or input size).
    #[error("image too large: {0}")]
    ImageTooLarge(String),
    /// The image claims a supported format but cannot be decoded.
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// A bundled font could not be parsed (a build problem, never a client's).
    #[error("bundled font {file} could not be parsed: {message}")]
    Font { file: &'static str, message: &'static str },
    /// The rendered card could not be encoded.
    #[error("encoding the card failed: {0}")]
    Encode(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
