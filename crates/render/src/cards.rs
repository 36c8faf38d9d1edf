//! Card descriptions: plain data with public fields, defaults from the seed, and validation.

use crate::{Error, Result, Rgba};

/// Smallest card width, in pixels, for either card.
pub const MIN_CARD_WIDTH: u32 = 200;
/// Largest card width, in pixels, for either card.
pub const MAX_CARD_WIDTH: u32 = 2000;
/// Smallest card height, in pixels, for either card.
pub const MIN_CARD_HEIGHT: u32 = 100;
/// Largest card height, in pixels, for either card.
pub const MAX_CARD_HEIGHT: u32 = 1000;
/// Level card width when none is given.
pub const DEFAULT_LEVEL_CARD_WIDTH: u32 = 800;
/// Level card height when none is given.
pub const DEFAULT_LEVEL_CARD_HEIGHT: u32 = 200;
/// Welcome card width when none is given.
pub const DEFAULT_WELCOME_CARD_WIDTH: u32 = 1024;
/// Welcome card height when none is given.
pub const DEFAULT_WELCOME_CARD_HEIGHT: u32 = 400;
/// Largest background blur radius, in pixels.
pub const MAX_BLUR_RADIUS: u32 = 40;
/// Largest absolute X or Y offset of an element, in pixels.
pub const MAX_OFFSET: i32 = 2000;
/// Most characters (Unicode scalar values) in any text field.
pub const MAX_TEXT_CHARS: usize = 256;

/// A shift of one element from its default position, in pixels (positive X right, positive Y down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Offset {
    pub x: i32,
    pub y: i32,
}

impl Offset {
    pub const fn new(x: i32, y: i32) -> Self {
        Self { x, y }
    }

    pub(crate) fn dx(self) -> f32 {
        self.x as f32
    }

    pub(crate) fn dy(self) -> f32 {
        self.y as f32
    }
}

/// Per-element offsets of a level card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LevelOffsets {
    pub avatar: Offset,
    pub username: Offset,
    pub level: Offset,
    pub rank: Offset,
    pub xp_text: Offset,
    pub progress_bar: Offset,
    pub stats: Offset,
}

/// A level card's background: always the colour, and, when the caller passes a background image,
/// that image cover-scaled on top with `image_opacity` (0..=1) after a blur of `blur_radius` pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelBackground {
    pub color: Rgba,
    pub image_opacity: f32,
    pub blur_radius: u32,
}

impl Default for LevelBackground {
    fn default() -> Self {
        Self { color: Rgba::rgb(0x2f, 0x31, 0x36), image_opacity: 1.0, blur_radius: 0 }
    }
}

/// Everything a level (rank) card shows, except the avatar and background images.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelCard {
    pub username: String,
    pub level: u64,
    pub xp_current: u64,
    /// XP needed for the next level; the progress bar shows `xp_current / xp_total`.
    pub xp_total: u64,
    /// Rank text as given, e.g. `"#3"`; empty hides the rank.
    pub rank: String,
    pub voice_minutes: u64,
    pub message_count: u64,
    /// Shown in the stats line only when present.
    pub activity_count: Option<u64>,
    pub background: LevelBackground,
    pub username_color: Rgba,
    pub level_color: Rgba,
    /// Rank, stats and XP text.
    pub text_color: Rgba,
    pub progress_start_color: Rgba,
    pub progress_end_color: Rgba,
    /// A family key or alias, resolved by [`crate::Fonts::resolve`]; unknown names use the default family.
    pub font_family: String,
    pub width: u32,
    pub height: u32,
    pub offsets: LevelOffsets,
}

impl LevelCard {
    /// A card with the seed's defaults (800x200, `#2f3136` background, white username, `#7289da`
    /// level, `#5865f2` to `#7289da` progress bar, Arial) and zero counters.
    pub fn new(username: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            level: 0,
            xp_current: 0,
            xp_total: 0,
            rank: String::new(),
            voice_minutes: 0,
            message_count: 0,
            activity_count: None,
            background: LevelBackground::default(),
            username_color: Rgba::rgb(0xff, 0xff, 0xff),
            level_color: Rgba::rgb(0x72, 0x89, 0xda),
            text_color: Rgba::rgb(0xdc, 0xdd, 0xde),
            progress_start_color: Rgba::rgb(0x58, 0x65, 0xf2),
            progress_end_color: Rgba::rgb(0x72, 0x89, 0xda),
            font_family: "Arial".to_owned(),
            width: DEFAULT_LEVEL_CARD_WIDTH,
            height: DEFAULT_LEVEL_CARD_HEIGHT,
            offsets: LevelOffsets::default(),
        }
    }

    /// The progress bar's fill, see [`level_percent`].
    pub fn level_percent(&self) -> f64 {
        level_percent(self.xp_current, self.xp_total)
    }

    /// Checks sizes, opacity, blur, offsets and text lengths; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        check_size(self.width, self.height)?;
        check_text("username", &self.username)?;
        check_text("rank", &self.rank)?;
        check_text("font_family", &self.font_family)?;
        let opacity = self.background.image_opacity;
        if !(0.0..=1.0).contains(&opacity) {
            return Err(Error::OutOfRange {
                field: "background.image_opacity",
                value: opacity.to_string(),
                range: "0..=1",
            });
        }
        if self.background.blur_radius > MAX_BLUR_RADIUS {
            return Err(Error::OutOfRange {
                field: "background.blur_radius",
                value: self.background.blur_radius.to_string(),
                range: "0..=40",
            });
        }
        let o = &self.offsets;
        check_offset("offsets.avatar", o.avatar)?;
        check_offset("offsets.username", o.username)?;
        check_offset("offsets.level", o.level)?;
        check_offset("offsets.rank", o.rank)?;
        check_offset("offsets.xp_text", o.xp_text)?;
        check_offset("offsets.progress_bar", o.progress_bar)?;
        check_offset("offsets.stats", o.stats)
    }
}

/// How the welcome card crops the avatar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AvatarShape {
    #[default]
    Circle,
    RoundedRect,
}

impl AvatarShape {
    /// `circle` or `rounded-rect` (also `rounded`, `roundedrect`, `rounded_rect`, `square`),
    /// case-insensitive; anything else is `None`.
    pub fn parse(value: &str) -> Option<Self> {
        let normalized: String =
            value.trim().chars().filter(|c| !matches!(c, '-' | '_' | ' ')).flat_map(char::to_lowercase).collect();
        match normalized.as_str() {
            "circle" | "round" => Some(Self::Circle),
            "roundedrect" | "rounded" | "roundedrectangle" | "square" | "rect" => Some(Self::RoundedRect),
            _ => None,
        }
    }
}

/// Per-element offsets of a welcome card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WelcomeOffsets {
    pub avatar: Offset,
    pub greeting: Offset,
    pub display_name: Offset,
    pub guild_name: Offset,
    pub member_count: Offset,
}

/// Everything a welcome card shows, except the avatar and background images.
#[derive(Debug, Clone, PartialEq)]
pub struct WelcomeCard {
    pub display_name: String,
    pub guild_name: String,
    /// The big line, e.g. `"Welcome"`.
    pub greeting: String,
    /// e.g. `"Member #123"`; empty hides it.
    pub member_count: String,
    pub avatar_shape: AvatarShape,
    /// Greeting, guild name and member count.
    pub primary_color: Rgba,
    /// Display name and the avatar's ring.
    pub secondary_color: Rgba,
    /// Darkness of the overlay drawn over the background for legibility, 0..=1.
    pub overlay_opacity: f32,
    /// A family key or alias, resolved by [`crate::Fonts::resolve`]; unknown names use the default family.
    pub font_family: String,
    pub width: u32,
    pub height: u32,
    pub offsets: WelcomeOffsets,
}

impl WelcomeCard {
    /// A card with the seed's defaults (1024x400, greeting "Welcome", white and `#64C8FF` text,
    /// Segoe UI) and a circular avatar.
    pub fn new(display_name: impl Into<String>) -> Self {
        Self {
            display_name: display_name.into(),
            guild_name: String::new(),
            greeting: "Welcome".to_owned(),
            member_count: String::new(),
            avatar_shape: AvatarShape::Circle,
            primary_color: Rgba::rgb(0xff, 0xff, 0xff),
            secondary_color: Rgba::rgb(0x64, 0xc8, 0xff),
            overlay_opacity: 0.45,
            font_family: "Segoe UI".to_owned(),
            width: DEFAULT_WELCOME_CARD_WIDTH,
            height: DEFAULT_WELCOME_CARD_HEIGHT,
            offsets: WelcomeOffsets::default(),
        }
    }

    /// Checks sizes, overlay opacity, offsets and text lengths; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        check_size(self.width, self.height)?;
        check_text("display_name", &self.display_name)?;
        check_text("guild_name", &self.guild_name)?;
        check_text("greeting", &self.greeting)?;
        check_text("member_count", &self.member_count)?;
        check_text("font_family", &self.font_family)?;
        if !(0.0..=1.0).contains(&self.overlay_opacity) {
            return Err(Error::OutOfRange {
                field: "overlay_opacity",
                value: self.overlay_opacity.to_string(),
                range: "0..=1",
            });
        }
        let o = &self.offsets;
        check_offset("offsets.avatar", o.avatar)?;
        check_offset("offsets.greeting", o.greeting)?;
        check_offset("offsets.display_name", o.display_name)?;
        check_offset("offsets.guild_name", o.guild_name)?;
        check_offset("offsets.member_count", o.member_count)
    }
}

fn check_size(width: u32, height: u32) -> Result<()> {
    if !(MIN_CARD_WIDTH..=MAX_CARD_WIDTH).contains(&width) {
        return Err(Error::InvalidDimension { field: "width", value: width, min: MIN_CARD_WIDTH, max: MAX_CARD_WIDTH });
    }
    if !(MIN_CARD_HEIGHT..=MAX_CARD_HEIGHT).contains(&height) {
        return Err(Error::InvalidDimension {
            field: "height",
            value: height,
            min: MIN_CARD_HEIGHT,
            max: MAX_CARD_HEIGHT,
        });
    }
    Ok(())
}

fn check_text(field: &'static str, text: &str) -> Result<()> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::TextTooLong { field, max: MAX_TEXT_CHARS });
    }
    Ok(())
}

fn check_offset(field: &'static str, offset: Offset) -> Result<()> {
    for value in [offset.x, offset.y] {
        if !(-MAX_OFFSET..=MAX_OFFSET).contains(&value) {
            return Err(Error::OutOfRange { field, value: value.to_string(), range: "-2000..=2000" });
        }
    }
    Ok(())
}

/// Progress towards the next level in percent: 0 when `total` is 0, clamped to 0..=100, rounded
/// to one decimal (2500 of 5000 is `50.0`).
///
/// ```
/// assert_eq!(garrison_render::level_percent(2500, 5000), 50.0);
/// assert_eq!(garrison_render::level_percent(1, 3), 33.3);
/// ```
pub fn level_percent(current: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let percent = (current as f64 / total as f64 * 100.0).clamp(0.0, 100.0);
    (percent * 10.0).round() / 10.0
}

/// `2500` as `"2,500"`.
pub fn format_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Minutes as `"45m"` or `"2h 5m"` (hours are not folded into days).
pub fn format_minutes(minutes: u64) -> String {
    if minutes < 60 { format!("{minutes}m") } else { format!("{}h {}m", format_thousands(minutes / 60), minutes % 60) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn level_percent_matches_the_seed_and_its_edges() {
        assert_eq!(level_percent(2500, 5000), 50.0);
        assert_eq!(level_percent(0, 5000), 0.0);
        assert_eq!(level_percent(5000, 5000), 100.0);
        assert_eq!(level_percent(9000, 5000), 100.0);
        assert_eq!(level_percent(10, 0), 0.0);
        assert_eq!(level_percent(0, 0), 0.0);
        assert_eq!(level_percent(1, 3), 33.3);
        assert_eq!(level_percent(2, 3), 66.7);
        assert_eq!(level_percent(1, 1000), 0.1);
        assert_eq!(level_percent(1, 100_000), 0.0);
        assert_eq!(level_percent(u64::MAX, u64::MAX), 100.0);
        assert_eq!(level_percent(u64::MAX / 2, u64::MAX), 50.0);
    }

    #[test]
    fn thousands_and_minutes() {
        assert_eq!(format_thousands(0), "0");
        assert_eq!(format_thousands(999), "999");
        assert_eq!(format_thousands(1000), "1,000");
        assert_eq!(format_thousands(2500), "2,500");
        assert_eq!(format_thousands(1_234_567), "1,234,567");
        assert_eq!(format_thousands(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(format_minutes(0), "0m");
        assert_eq!(format_minutes(59), "59m");
        assert_eq!(format_minutes(120), "2h 0m");
        assert_eq!(format_minutes(125), "2h 5m");
        assert_eq!(format_minutes(60_000), "1,000h 0m");
    }

    #[test]
    fn defaults_are_valid() {
        LevelCard::new("JohnDoe").validate().unwrap();
        WelcomeCard::new("JohnDoe").validate().unwrap();
        let mut card = LevelCard::new("x");
        card.width = MAX_CARD_WIDTH;
        card.height = MAX_CARD_HEIGHT;
        card.validate().unwrap();
        card.width = MIN_CARD_WIDTH;
        card.height = MIN_CARD_HEIGHT;
        card.validate().unwrap();
    }

    fn field_of(result: Result<()>) -> &'static str {
        match result {
            Err(Error::InvalidDimension { field, .. })
            | Err(Error::OutOfRange { field, .. })
            | Err(Error::TextTooLong { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut card = LevelCard::new("x");
        card.width = MAX_CARD_WIDTH + 1;
        assert_eq!(field_of(card.validate()), "width");
        card.width = 800;
        card.height = MIN_CARD_HEIGHT - 1;
        assert_eq!(field_of(card.validate()), "height");
        card.height = 200;
        card.background.image_opacity = 1.5;
        assert_eq!(field_of(card.validate()), "background.image_opacity");
        card.background.image_opacity = f32::NAN;
        assert_eq!(field_of(card.validate()), "background.image_opacity");
        card.background.image_opacity = 0.5;
        card.background.blur_radius = MAX_BLUR_RADIUS + 1;
        assert_eq!(field_of(card.validate()), "background.blur_radius");
        card.background.blur_radius = 3;
        card.offsets.stats = Offset::new(0, -MAX_OFFSET - 1);
        assert_eq!(field_of(card.validate()), "offsets.stats");
        card.offsets.stats = Offset::default();
        card.username = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(field_of(card.validate()), "username");
        card.username = "é".repeat(MAX_TEXT_CHARS);
        card.validate().unwrap();

        let mut welcome = WelcomeCard::new("x");
        welcome.height = 5000;
        assert_eq!(field_of(welcome.validate()), "height");
        welcome.height = 400;
        welcome.overlay_opacity = -0.1;
        assert_eq!(field_of(welcome.validate()), "overlay_opacity");
        welcome.overlay_opacity = 0.0;
        welcome.offsets.guild_name = Offset::new(MAX_OFFSET + 1, 0);
        assert_eq!(field_of(welcome.validate()), "offsets.guild_name");
        welcome.offsets.guild_name = Offset::new(MAX_OFFSET, -MAX_OFFSET);
        welcome.greeting = "g".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(field_of(welcome.validate()), "greeting");
    }

    #[test]
    fn avatar_shapes_parse() {
        assert_eq!(AvatarShape::parse("Circle"), Some(AvatarShape::Circle));
        assert_eq!(AvatarShape::parse("rounded-rect"), Some(AvatarShape::RoundedRect));
        assert_eq!(AvatarShape::parse("RoundedRect"), Some(AvatarShape::RoundedRect));
        assert_eq!(AvatarShape::parse("hexagon"), None);
    }
}
