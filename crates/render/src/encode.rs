//! A drawn card, and the files it can become: PNG (fast or small), lossless WebP, or JPEG on a
//! matte. Figures behind the choices are in docs/benchmarks.md ("Encoders").

use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use tiny_skia::Pixmap;

use crate::images::mul_div_255;
use crate::{Error, Result, Rgba};

/// How hard PNG encoding works. Both use the Paeth filter, which beat the others on card
/// backgrounds (photographs, blurred).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PngCompression {
    /// fdeflate's single fast pass: about 1.7 ms for a 930x280 card, files about twice as large as
    /// zlib's default level.
    #[default]
    Fast,
    /// zlib level 3 (zlib-rs): about 4x the time of `Fast` for files about half the size.
    Small,
}

/// The file a drawn card becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 8-bit RGBA PNG, transparency kept.
    Png(PngCompression),
    /// Lossless WebP (VP8L), transparency kept: pixel for pixel the PNG's.
    WebP,
    /// Baseline JPEG at [`JPEG_QUALITY`] with full-resolution colour (4:4:4: subsampled chroma bled
    /// colour into coloured text and the corners, for a file 30% smaller). JPEG has no transparency:
    /// the card is laid on [`JPEG_MATTE`], so rounded corners show that colour.
    Jpeg,
}

/// The quality of JPEG cards: high enough that small text keeps sharp edges.
pub const JPEG_QUALITY: u8 = 92;

/// What a JPEG card's transparent parts (its rounded corners) become: the background of Discord's
/// dark theme chat (#313338), where most cards are looked at.
pub const JPEG_MATTE: Rgba = Rgba::rgb(0x31, 0x33, 0x38);

/// A rendered card before encoding: premultiplied RGBA pixels.
#[derive(Debug, Clone)]
pub struct DrawnCard {
    pixmap: Pixmap,
}

impl DrawnCard {
    pub(crate) fn new(pixmap: Pixmap) -> Self {
        Self { pixmap }
    }

    pub fn width(&self) -> u32 {
        self.pixmap.width()
    }

    pub fn height(&self) -> u32 {
        self.pixmap.height()
    }

    /// The card as a file in `encoding`.
    pub fn encode(self, encoding: Encoding) -> Result<Vec<u8>> {
        let (width, height) = (self.width(), self.height());
        let failed = |e: image::ImageError| Error::Encode(e.to_string());
        match encoding {
            Encoding::Png(compression) => {
                let straight = unpremultiplied(self.pixmap);
                let compression = match compression {
                    PngCompression::Fast => CompressionType::Fast,
                    PngCompression::Small => CompressionType::Level(3),
                };
                let mut out = Vec::with_capacity(straight.len() / 4);
                PngEncoder::new_with_quality(&mut out, compression, FilterType::Paeth)
                    .write_image(&straight, width, height, image::ExtendedColorType::Rgba8)
                    .map_err(failed)?;
                Ok(out)
            }
            Encoding::WebP => {
                let straight = unpremultiplied(self.pixmap);
                let mut out = Vec::with_capacity(straight.len() / 4);
                WebPEncoder::new_lossless(&mut out)
                    .write_image(&straight, width, height, image::ExtendedColorType::Rgba8)
                    .map_err(failed)?;
                Ok(out)
            }
            Encoding::Jpeg => {
                let rgb = on_matte(&self.pixmap, JPEG_MATTE);
                // Card sizes are validated far below JPEG's 65,535-pixel limit; checked all the same.
                let side =
                    |n: u32| u16::try_from(n).map_err(|_| Error::Encode(format!("{n} pixels is too large for JPEG")));
                let mut out = Vec::with_capacity(rgb.len() / 8);
                let mut encoder = jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY);
                encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
                encoder
                    .encode(&rgb, side(width)?, side(height)?, jpeg_encoder::ColorType::Rgb)
                    .map_err(|e| Error::Encode(e.to_string()))?;
                Ok(out)
            }
        }
    }
}

/// Straight (not premultiplied) RGBA bytes, as PNG and WebP store them.
fn unpremultiplied(pixmap: Pixmap) -> Vec<u8> {
    let mut straight = pixmap.take();
    for px in straight.chunks_exact_mut(4) {
        let a = px[3];
        if a != 255 && a != 0 {
            for c in &mut px[..3] {
                *c = ((u32::from(*c) * 255 + u32::from(a) / 2) / u32::from(a)).min(255) as u8;
            }
        }
    }
    straight
}

/// RGB bytes of the card laid over an opaque `matte`: premultiplied colour plus the matte's share.
fn on_matte(pixmap: &Pixmap, matte: Rgba) -> Vec<u8> {
    let mut rgb = vec![0; pixmap.data().len() / 4 * 3];
    for (out, px) in rgb.chunks_exact_mut(3).zip(pixmap.data().chunks_exact(4)) {
        let uncovered = 255 - px[3];
        out[0] = px[0].saturating_add(mul_div_255(matte.r, uncovered));
        out[1] = px[1].saturating_add(mul_div_255(matte.g, uncovered));
        out[2] = px[2].saturating_add(mul_div_255(matte.b, uncovered));
    }
    rgb
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// One half-transparent orange pixel and one transparent pixel.
    fn drawn() -> DrawnCard {
        let mut pixmap = Pixmap::new(2, 1).unwrap();
        pixmap.data_mut().copy_from_slice(&[100, 50, 0, 128, 0, 0, 0, 0]);
        DrawnCard::new(pixmap)
    }

    #[test]
    fn png_and_webp_round_trip_straight_alpha() {
        for encoding in [Encoding::Png(PngCompression::Fast), Encoding::Png(PngCompression::Small), Encoding::WebP] {
            let bytes = drawn().encode(encoding).unwrap();
            let decoded = image::load_from_memory(&bytes).unwrap().into_rgba8();
            assert_eq!(decoded.as_raw()[..4], [199, 100, 0, 128], "{encoding:?}");
            assert_eq!(decoded.as_raw()[7], 0, "{encoding:?}");
        }
        assert!(drawn().encode(Encoding::WebP).unwrap().starts_with(b"RIFF"));
    }

    #[test]
    fn jpeg_lays_the_card_on_the_matte() {
        let mut pixmap = Pixmap::new(16, 16).unwrap();
        // Left half opaque white, right half transparent.
        for (i, px) in pixmap.data_mut().chunks_exact_mut(4).enumerate() {
            if i % 16 < 8 {
                px.copy_from_slice(&[255, 255, 255, 255]);
            }
        }
        let bytes = DrawnCard::new(pixmap).encode(Encoding::Jpeg).unwrap();
        assert!(bytes.starts_with(&[0xff, 0xd8]));
        let decoded = image::load_from_memory(&bytes).unwrap().into_rgb8();
        let near = |px: &image::Rgb<u8>, want: [u8; 3]| px.0.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 4);
        assert!(near(decoded.get_pixel(2, 8), [255, 255, 255]), "{:?}", decoded.get_pixel(2, 8));
        assert!(near(decoded.get_pixel(13, 8), [0x31, 0x33, 0x38]), "{:?}", decoded.get_pixel(13, 8));
    }

    #[test]
    fn the_matte_shows_through_in_proportion() {
        let mut pixmap = Pixmap::new(1, 1).unwrap();
        // Premultiplied half-covered black.
        pixmap.data_mut().copy_from_slice(&[0, 0, 0, 128]);
        assert_eq!(on_matte(&pixmap, Rgba::rgb(200, 100, 0)), [100, 50, 0]);
    }
}
