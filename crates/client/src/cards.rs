//! Cards (tag `Cards`): level and welcome cards rendered from headers, stored and served at their
//! `directImageUrl`. Non-ASCII text in a header must be Base64- or URL-encoded
//! ([`CardsApi::encoding_guide`] says how); per-element offsets beyond `Avatar-Offset-X`
//! (`Username-Offset-Y`, ...) can be added through [`Client::call`].

use std::fmt::Display;

use serde::Deserialize;

use crate::{Answer, Call, Client, Operation, Result};

/// An image format for a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardFormat {
    /// The default.
    Png,
    /// Lossless, smaller.
    Webp,
    /// Smallest; rounded corners filled with `#313338`.
    Jpeg,
}

impl Display for CardFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CardFormat::Png => "png",
            CardFormat::Webp => "webp",
            CardFormat::Jpeg => "jpeg",
        })
    }
}

/// A level (rank) card: its headers. Colours are `#rrggbb`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelCard {
    /// The display name (Base64 or URL-encoded for non-ASCII; emoji stripped).
    pub username: String,
    /// An HTTPS avatar URL on an allowed host.
    pub avatar_url: String,
    pub level: Option<u64>,
    pub xp_current: Option<u64>,
    /// XP for the next level.
    pub xp_total: Option<u64>,
    /// e.g. `#3`.
    pub rank: Option<String>,
    /// Minutes.
    pub voice_time: Option<u64>,
    pub message_count: Option<u64>,
    pub activity_count: Option<u64>,
    pub background_url: Option<String>,
    pub background_color: Option<String>,
    /// 0 to 1, of the background image.
    pub background_opacity: Option<f32>,
    /// Pixels, 0 to 40.
    pub background_blur: Option<u32>,
    pub username_color: Option<String>,
    pub level_color: Option<String>,
    pub text_color: Option<String>,
    pub progress_bar_start_color: Option<String>,
    pub progress_bar_end_color: Option<String>,
    /// 200 to 2,000 (default 800).
    pub card_width: Option<u32>,
    /// 100 to 1,000 (default 200).
    pub card_height: Option<u32>,
    /// A key or alias from [`CardsApi::fonts`].
    pub typography_family: Option<String>,
    pub avatar_offset_x: Option<i32>,
    pub format: Option<CardFormat>,
}

impl LevelCard {
    pub fn new(username: impl Into<String>, avatar_url: impl Into<String>) -> Self {
        Self { username: username.into(), avatar_url: avatar_url.into(), ..Self::default() }
    }

    fn headers<'c>(&self, call: Call<'c>) -> Call<'c> {
        call.header("Username", &self.username)
            .header("Avatar-Url", &self.avatar_url)
            .header_opt("Level", self.level)
            .header_opt("Xp-Current", self.xp_current)
            .header_opt("Xp-Total", self.xp_total)
            .header_opt("Rank", self.rank.as_deref())
            .header_opt("Voice-Time", self.voice_time)
            .header_opt("Message-Count", self.message_count)
            .header_opt("Activity-Count", self.activity_count)
            .header_opt("Background-Url", self.background_url.as_deref())
            .header_opt("Background-Color", self.background_color.as_deref())
            .header_opt("Background-Opacity", self.background_opacity)
            .header_opt("Background-Blur", self.background_blur)
            .header_opt("Username-Color", self.username_color.as_deref())
            .header_opt("Level-Color", self.level_color.as_deref())
            .header_opt("Text-Color", self.text_color.as_deref())
            .header_opt("Progress-Bar-Start-Color", self.progress_bar_start_color.as_deref())
            .header_opt("Progress-Bar-End-Color", self.progress_bar_end_color.as_deref())
            .header_opt("Card-Width", self.card_width)
            .header_opt("Card-Height", self.card_height)
            .header_opt("Typography-Family", self.typography_family.as_deref())
            .header_opt("Avatar-Offset-X", self.avatar_offset_x)
            .header_opt("Format", self.format)
    }
}

/// A welcome card: its headers. Colours are `#rrggbb`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WelcomeCard {
    /// An HTTPS background URL on an allowed host.
    pub background_image: String,
    /// An HTTPS avatar URL on an allowed host.
    pub profile_avatar: String,
    pub display_name: Option<String>,
    pub guild_name: Option<String>,
    /// Default `Welcome`.
    pub greeting_text: Option<String>,
    /// e.g. `Member #123`.
    pub member_count: Option<String>,
    pub primary_text_color: Option<String>,
    pub secondary_text_color: Option<String>,
    /// `circle` (default) or `rounded`.
    pub avatar_shape: Option<String>,
    /// 0 to 1, darkening over the background (default 0.45).
    pub overlay_opacity: Option<f32>,
    /// 200 to 2,000 (default 1,024).
    pub canvas_width: Option<u32>,
    /// 100 to 1,000 (default 400).
    pub canvas_height: Option<u32>,
    pub typography_family: Option<String>,
    pub avatar_offset_x: Option<i32>,
    pub format: Option<CardFormat>,
}

impl WelcomeCard {
    pub fn new(background_image: impl Into<String>, profile_avatar: impl Into<String>) -> Self {
        Self { background_image: background_image.into(), profile_avatar: profile_avatar.into(), ..Self::default() }
    }

    fn headers<'c>(&self, call: Call<'c>) -> Call<'c> {
        call.header("Background-Image", &self.background_image)
            .header("Profile-Avatar", &self.profile_avatar)
            .header_opt("Display-Name", self.display_name.as_deref())
            .header_opt("Guild-Name", self.guild_name.as_deref())
            .header_opt("Greeting-Text", self.greeting_text.as_deref())
            .header_opt("Member-Count", self.member_count.as_deref())
            .header_opt("Primary-Text-Color", self.primary_text_color.as_deref())
            .header_opt("Secondary-Text-Color", self.secondary_text_color.as_deref())
            .header_opt("Avatar-Shape", self.avatar_shape.as_deref())
            .header_opt("Overlay-Opacity", self.overlay_opacity)
            .header_opt("Canvas-Width", self.canvas_width)
            .header_opt("Canvas-Height", self.canvas_height)
            .header_opt("Typography-Family", self.typography_family.as_deref())
            .header_opt("Avatar-Offset-X", self.avatar_offset_x)
            .header_opt("Format", self.format)
    }
}

/// A rendered level card.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LevelCardImage {
    /// Where the stored card is served.
    pub direct_image_url: String,
    /// Bytes.
    pub image_size: u64,
    pub username: String,
    /// `Xp-Current / Xp-Total` in percent, one decimal.
    pub level_percent: f64,
    /// `png`, `webp` or `jpeg`.
    pub format: String,
    /// The image, Base64-encoded.
    pub image_base64: String,
}

/// A rendered welcome card.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WelcomeCardImage {
    /// Where the stored card is served.
    pub direct_image_url: String,
    /// Bytes.
    pub image_size: u64,
    /// `png`, `webp` or `jpeg`.
    pub format: String,
}

/// A bundled font family.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Font {
    /// What `Typography-Family` takes, e.g. `liberation-sans`.
    pub key: String,
    pub display_name: String,
    /// Other names that select it (e.g. Arial).
    pub aliases: Vec<String>,
}

#[derive(Deserialize)]
struct Fonts {
    fonts: Vec<Font>,
}

/// How to send non-ASCII text in card headers, and the allowed image hosts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EncodingGuide {
    pub version: String,
    pub system: String,
    pub methods: Vec<EncodingMethod>,
    /// Hosts avatar and background URLs may point at.
    pub allowed_domains: Vec<String>,
    pub emoji: String,
}

/// One way of encoding header text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct EncodingMethod {
    pub name: String,
    pub description: String,
}

/// The card routes: [`Client::cards`].
#[derive(Debug, Clone, Copy)]
pub struct CardsApi<'c>(&'c Client);

impl Client {
    /// The card routes.
    pub fn cards(&self) -> CardsApi<'_> {
        CardsApi(self)
    }
}

impl CardsApi<'_> {
    /// `GET /api/LevelCard/generate`: renders a level card.
    pub async fn level_card(&self, card: &LevelCard) -> Result<LevelCardImage> {
        card.headers(self.0.call(Operation::GenerateLevelCard)).send().await
    }

    /// `GET /api/LevelCard/view/{id}`: a stored level card's image (`id` from `directImageUrl`).
    pub async fn view_level_card(&self, id: &str) -> Result<Answer> {
        self.0.call(Operation::ViewLevelCard).path("id", id).send_answer().await
    }

    /// `GET /api/WelcomeCard/generate`: renders a welcome card.
    pub async fn welcome_card(&self, card: &WelcomeCard) -> Result<WelcomeCardImage> {
        card.headers(self.0.call(Operation::GenerateWelcomeCard)).send().await
    }

    /// `GET /api/WelcomeCard/view/{id}`: a stored welcome card's image (`id` from `directImageUrl`).
    pub async fn view_welcome_card(&self, id: &str) -> Result<Answer> {
        self.0.call(Operation::ViewWelcomeCard).path("id", id).send_answer().await
    }

    /// `GET /api/WelcomeCard/fonts`: the bundled font families.
    pub async fn fonts(&self) -> Result<Vec<Font>> {
        let fonts: Fonts = self.0.call(Operation::CardFonts).send().await?;
        Ok(fonts.fonts)
    }

    /// `GET /api/WelcomeCard/encoding-guide`: how to send non-ASCII header text, and the allowed hosts.
    pub async fn encoding_guide(&self) -> Result<EncodingGuide> {
        self.0.call(Operation::CardEncodingGuide).send().await
    }
}
