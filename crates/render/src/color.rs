//! Colours and their hex notation.

use crate::{Error, Result};

/// A straight (not premultiplied) 8-bit sRGB colour with alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

impl Rgba {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b, a: 255 }
    }

    /// A colour with alpha.
    pub const fn new(r: u8, g: u8, b: u8, a: u8) -> Self {
        Self { r, g, b, a }
    }

    /// The same colour with its alpha multiplied by `factor` (clamped to 0..=1).
    #[must_use]
    pub fn with_alpha_factor(self, factor: f32) -> Self {
        let factor = if factor.is_finite() { factor.clamp(0.0, 1.0) } else { 1.0 };
        Self { a: (f32::from(self.a) * factor).round() as u8, ..self }
    }

    pub(crate) fn to_skia(self) -> tiny_skia::Color {
        tiny_skia::Color::from_rgba8(self.r, self.g, self.b, self.a)
    }
}

/// Parses `#RGB`, `#RRGGBB` or `#RRGGBBAA` (the `#` is optional, surrounding whitespace is ignored,
/// digits are case-insensitive). `field` names the input in the error, e.g. `"Username-Color"`.
///
/// ```
/// use garrison_render::{parse_hex_color, Rgba};
/// assert_eq!(parse_hex_color("Level-Color", "#7289da").unwrap(), Rgba::rgb(0x72, 0x89, 0xda));
/// assert_eq!(parse_hex_color("Level-Color", "fff").unwrap(), Rgba::rgb(255, 255, 255));
/// assert!(parse_hex_color("Level-Color", "#12345").is_err());
/// ```
pub fn parse_hex_color(field: &'static str, value: &str) -> Result<Rgba> {
    let invalid = || Error::InvalidColor { field, value: value.chars().take(32).collect() };
    let trimmed = value.trim();
    let hex = trimmed.strip_prefix('#').unwrap_or(trimmed);
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let digit = |i: usize| -> u8 {
        // Every byte is an ASCII hex digit (checked above), so this never falls through.
        match hex.as_bytes()[i] {
            b @ b'0'..=b'9' => b - b'0',
            b @ b'a'..=b'f' => b - b'a' + 10,
            b @ b'A'..=b'F' => b - b'A' + 10,
            _ => 0,
        }
    };
    let pair = |i: usize| digit(i) * 16 + digit(i + 1);
    match hex.len() {
        3 => Ok(Rgba::rgb(digit(0) * 17, digit(1) * 17, digit(2) * 17)),
        6 => Ok(Rgba::rgb(pair(0), pair(2), pair(4))),
        8 => Ok(Rgba::new(pair(0), pair(2), pair(4), pair(6))),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_notations_with_and_without_hash() {
        assert_eq!(parse_hex_color("c", "#2f3136").unwrap(), Rgba::rgb(0x2f, 0x31, 0x36));
        assert_eq!(parse_hex_color("c", "2F3136").unwrap(), Rgba::rgb(0x2f, 0x31, 0x36));
        assert_eq!(parse_hex_color("c", "#abc").unwrap(), Rgba::rgb(0xaa, 0xbb, 0xcc));
        assert_eq!(parse_hex_color("c", "ABC").unwrap(), Rgba::rgb(0xaa, 0xbb, 0xcc));
        assert_eq!(parse_hex_color("c", "#11223344").unwrap(), Rgba::new(0x11, 0x22, 0x33, 0x44));
        assert_eq!(parse_hex_color("c", "  #FFFFFF ").unwrap(), Rgba::rgb(255, 255, 255));
        assert_eq!(parse_hex_color("c", "#00000000").unwrap(), Rgba::new(0, 0, 0, 0));
    }

    #[test]
    fn rejects_other_shapes_and_names_the_field() {
        for bad in
            ["", "#", "#12", "#1234", "#12345", "#1234567", "#123456789", "#ggg", "red", "##fff", "+12345", "#12 456"]
        {
            match parse_hex_color("Username-Color", bad) {
                Err(Error::InvalidColor { field, .. }) => assert_eq!(field, "Username-Color", "{bad:?}"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        let message = parse_hex_color("Level-Color", "nope").unwrap_err().to_string();
        assert!(message.starts_with("Level-Color:"), "{message}");
    }

    #[test]
    fn non_ascii_input_is_refused_without_panicking() {
        assert!(parse_hex_color("c", "#ééé").is_err());
        assert!(parse_hex_color("c", "ффффff").is_err());
    }

    #[test]
    fn alpha_factor_scales_alpha_only() {
        assert_eq!(Rgba::rgb(10, 20, 30).with_alpha_factor(0.5), Rgba::new(10, 20, 30, 128));
        assert_eq!(Rgba::rgb(10, 20, 30).with_alpha_factor(2.0), Rgba::rgb(10, 20, 30));
        assert_eq!(Rgba::rgb(10, 20, 30).with_alpha_factor(f32::NAN), Rgba::rgb(10, 20, 30));
    }
}
