//! Golden-image tests: each case renders fixed inputs and compares the decoded pixels with
//! `tests/golden/<case>.png`, allowing small per-channel differences in a few pixels.
//!
//! `GARRISON_UPDATE_GOLDEN=1 cargo test -p garrison-render --test golden` rewrites the files instead.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use image::ImageEncoder;

use common::{avatar, background, fonts, seed_level_card, seed_welcome_card, transparent_avatar_png};
use garrison_render::{
    AvatarShape, Background, DecodeLimits, DrawnCard, Encoding, JPEG_MATTE, MAX_CARD_HEIGHT, MAX_CARD_WIDTH,
    MIN_CARD_HEIGHT, MIN_CARD_WIDTH, Offset, PngCompression, Rgba, decode_image, draw_level_card, draw_welcome_card,
    render_level_card, render_welcome_card,
};

const PNG: Encoding = Encoding::Png(PngCompression::Fast);

/// Largest difference in any channel that still counts as equal.
const CHANNEL_TOLERANCE: u8 = 12;
/// Share of pixels allowed to differ by more than that.
const MAX_DIFFERING_SHARE: f64 = 0.002;

fn golden_path(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{case}.png"))
}

fn check(case: &str, png: Vec<u8>) {
    let path = golden_path(case);
    if std::env::var("GARRISON_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        // Only decoded pixels are compared, so store them with the best compression to keep the
        // repository small (cards themselves are encoded for speed).
        let pixels = image::load_from_memory(&png).unwrap().into_rgba8();
        let mut small = Vec::new();
        image::codecs::png::PngEncoder::new_with_quality(
            &mut small,
            image::codecs::png::CompressionType::Best,
            image::codecs::png::FilterType::Adaptive,
        )
        .write_image(pixels.as_raw(), pixels.width(), pixels.height(), image::ExtendedColorType::Rgba8)
        .unwrap();
        std::fs::write(&path, &small).unwrap();
        return;
    }
    let actual = image::load_from_memory(&png).unwrap().into_rgba8();
    let expected_bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with GARRISON_UPDATE_GOLDEN=1 to create it)", path.display()));
    let expected = image::load_from_memory(&expected_bytes).unwrap().into_rgba8();
    assert_eq!(actual.dimensions(), expected.dimensions(), "{case}: size differs");
    let differing = actual
        .pixels()
        .zip(expected.pixels())
        .filter(|(a, e)| a.0.iter().zip(e.0.iter()).any(|(a, e)| a.abs_diff(*e) > CHANNEL_TOLERANCE))
        .count();
    let allowed = (f64::from(actual.width() * actual.height()) * MAX_DIFFERING_SHARE) as usize;
    if differing > allowed {
        let out = std::env::temp_dir().join(format!("garrison-golden-{case}.actual.png"));
        std::fs::write(&out, &png).unwrap();
        panic!(
            "{case}: {differing} pixels differ by more than {CHANNEL_TOLERANCE} (at most {allowed} allowed); \
             actual written to {}",
            out.display()
        );
    }
}

#[test]
fn level_card_default() {
    let card = seed_level_card();
    assert_eq!(card.level_percent(), 50.0);
    check("level_default", render_level_card(&card, Some(&avatar()), None, fonts()).unwrap());
}

#[test]
fn level_card_with_blurred_background_and_activity() {
    let mut card = seed_level_card();
    card.activity_count = Some(42);
    card.background.image_opacity = 0.7;
    card.background.blur_radius = 8;
    card.font_family = "Segoe UI".to_owned();
    card.progress_start_color = Rgba::rgb(0xff, 0x73, 0xfa);
    card.progress_end_color = Rgba::rgb(0xff, 0xc0, 0x4d);
    card.xp_current = 4321;
    check("level_background", render_level_card(&card, Some(&avatar()), Some(&background()), fonts()).unwrap());
}

#[test]
fn level_card_with_lightly_and_heavily_blurred_backgrounds() {
    for (case, blur, width, height) in [("level_blur_4", 4, 930, 280), ("level_blur_20", 20, 930, 280)] {
        let mut card = seed_level_card();
        (card.width, card.height, card.background.blur_radius) = (width, height, blur);
        check(case, render_level_card(&card, Some(&avatar()), Some(&background()), fonts()).unwrap());
    }
}

#[test]
fn level_card_with_offsets_and_without_avatar() {
    let mut card = seed_level_card();
    card.font_family = "Verdana".to_owned();
    card.offsets.username = Offset::new(10, -6);
    card.offsets.progress_bar = Offset::new(0, 8);
    card.offsets.avatar = Offset::new(-20, 0);
    check("level_offsets_no_avatar", render_level_card(&card, None, None, fonts()).unwrap());
}

#[test]
fn welcome_card_default() {
    check("welcome_default", render_welcome_card(&seed_welcome_card(), &avatar(), &background(), fonts()).unwrap());
}

#[test]
fn welcome_card_rounded_avatar() {
    let mut card = seed_welcome_card();
    card.avatar_shape = AvatarShape::RoundedRect;
    card.font_family = "Arial".to_owned();
    card.greeting = "Welcome to the server".to_owned();
    check("welcome_rounded", render_welcome_card(&card, &avatar(), &background(), fonts()).unwrap());
}

#[test]
fn cyrillic_and_greek_text() {
    let mut level = seed_level_card();
    level.username = "Алексей Ωμέγα".to_owned();
    level.rank = "№1".to_owned();
    check("level_cyrillic_greek", render_level_card(&level, Some(&avatar()), None, fonts()).unwrap());

    let mut welcome = seed_welcome_card();
    welcome.greeting = "Добро пожаловать".to_owned();
    welcome.display_name = "Σωκράτης".to_owned();
    welcome.guild_name = "Гильдия Ελλάδα".to_owned();
    welcome.font_family = "liberation-sans".to_owned();
    check("welcome_cyrillic_greek", render_welcome_card(&welcome, &avatar(), &background(), fonts()).unwrap());
}

#[test]
fn missing_glyphs_are_skipped_and_long_text_is_cut() {
    let fonts = fonts();
    // No bundled font has CJK ideographs or private-use characters; DejaVu Sans has the star.
    assert!(!fonts.has_glyph('漢') && !fonts.has_glyph('\u{E000}') && fonts.has_glyph('★'));
    let mut card = seed_level_card();
    card.username = "Player\u{E000}漢字★ with a really very long name that cannot fit".to_owned();
    card.xp_current = 123_456_789;
    card.xp_total = 987_654_321;
    card.message_count = 9_999_999;
    card.voice_minutes = 100_000;
    card.activity_count = Some(77);
    check("level_missing_glyph", render_level_card(&card, Some(&avatar()), None, fonts).unwrap());
}

#[test]
fn transparent_avatar() {
    let avatar = decode_image(&transparent_avatar_png(), &DecodeLimits::default()).unwrap();
    assert!(avatar.as_pixmap().pixels().iter().all(|p| p.alpha() == 0));
    check("level_transparent_avatar", render_level_card(&seed_level_card(), Some(&avatar), None, fonts()).unwrap());
    check(
        "welcome_transparent_avatar",
        render_welcome_card(&seed_welcome_card(), &avatar, &background(), fonts()).unwrap(),
    );
}

#[test]
fn largest_and_smallest_sizes() {
    let mut level = seed_level_card();
    level.width = MAX_CARD_WIDTH;
    level.height = MAX_CARD_HEIGHT;
    check("level_largest", render_level_card(&level, Some(&avatar()), Some(&background()), fonts()).unwrap());

    let mut welcome = seed_welcome_card();
    welcome.width = MAX_CARD_WIDTH;
    welcome.height = MAX_CARD_HEIGHT;
    check("welcome_largest", render_welcome_card(&welcome, &avatar(), &background(), fonts()).unwrap());

    level.width = MIN_CARD_WIDTH;
    level.height = MIN_CARD_HEIGHT;
    check("level_smallest", render_level_card(&level, Some(&avatar()), None, fonts()).unwrap());
    welcome.width = MIN_CARD_WIDTH;
    welcome.height = MIN_CARD_HEIGHT;
    check("welcome_smallest", render_welcome_card(&welcome, &avatar(), &background(), fonts()).unwrap());
}

#[test]
fn invalid_cards_are_refused_before_drawing() {
    let mut card = seed_level_card();
    card.width = MAX_CARD_WIDTH + 1;
    let error = render_level_card(&card, None, None, fonts()).unwrap_err();
    assert!(error.to_string().starts_with("width:"), "{error}");
    let mut welcome = seed_welcome_card();
    welcome.height = 0;
    let error = render_welcome_card(&welcome, &avatar(), &background(), fonts()).unwrap_err();
    assert!(error.to_string().starts_with("height:"), "{error}");
}

#[test]
fn output_is_a_png_of_the_requested_size() {
    let png = render_level_card(&seed_level_card(), None, None, fonts()).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let decoded = image::load_from_memory(&png).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (800, 200));
}

#[test]
fn a_prepared_background_draws_the_same_pixels_and_must_fit_its_card() {
    let mut level = seed_level_card();
    level.background.blur_radius = 12;
    let prepared = Background::prepare(&background(), level.width, level.height, 12).unwrap();
    assert_eq!(
        draw_level_card(&level, Some(&avatar()), Some(&prepared), fonts()).unwrap().encode(PNG).unwrap(),
        render_level_card(&level, Some(&avatar()), Some(&background()), fonts()).unwrap(),
    );
    let welcome = seed_welcome_card();
    let sharp = Background::prepare(&background(), welcome.width, welcome.height, 0).unwrap();
    assert_eq!(
        draw_welcome_card(&welcome, &avatar(), &sharp, fonts()).unwrap().encode(PNG).unwrap(),
        render_welcome_card(&welcome, &avatar(), &background(), fonts()).unwrap(),
    );
    // Prepared for another size or blur: refused, not drawn wrong.
    assert!(!prepared.fits(level.width, level.height, 4));
    level.background.blur_radius = 4;
    let error = draw_level_card(&level, None, Some(&prepared), fonts()).unwrap_err();
    assert!(error.to_string().contains("prepared for a 800x200 card with blur 12"), "{error}");
    assert!(draw_welcome_card(&seed_welcome_card(), &avatar(), &prepared, fonts()).is_err());
}

/// Every encoding shows the card of the golden image: PNG small and WebP pixel for pixel; JPEG, laid
/// on its matte, within JPEG's loss (a mean channel error of a few levels).
#[test]
fn every_encoding_draws_the_golden_card() {
    let drawn = || -> DrawnCard {
        let card = seed_welcome_card();
        let background = Background::prepare(&background(), card.width, card.height, 0).unwrap();
        draw_welcome_card(&card, &avatar(), &background, fonts()).unwrap()
    };
    let reference = image::load_from_memory(&drawn().encode(PNG).unwrap()).unwrap().into_rgba8();
    check("welcome_default", drawn().encode(PNG).unwrap());
    for encoding in [Encoding::Png(PngCompression::Small), Encoding::WebP] {
        let bytes = drawn().encode(encoding).unwrap();
        assert_eq!(image::load_from_memory(&bytes).unwrap().into_rgba8(), reference, "{encoding:?}");
        check("welcome_default", bytes);
    }
    let jpeg = image::load_from_memory(&drawn().encode(Encoding::Jpeg).unwrap()).unwrap().into_rgb8();
    assert_eq!(jpeg.dimensions(), reference.dimensions());
    let matte = [JPEG_MATTE.r, JPEG_MATTE.g, JPEG_MATTE.b].map(u32::from);
    let mut total_error = 0u64;
    for (jpeg, png) in jpeg.pixels().zip(reference.pixels()) {
        let a = u32::from(png[3]);
        for c in 0..3 {
            let expected = (u32::from(png[c]) * a + matte[c] * (255 - a) + 127) / 255;
            total_error += u64::from(u32::from(jpeg[c]).abs_diff(expected));
        }
    }
    let mean = total_error as f64 / f64::from(jpeg.width() * jpeg.height() * 3);
    assert!(mean < 3.0, "JPEG differs from the card on its matte by {mean:.2} levels on average");
    // What is transparent in the PNG (the rounded corners) is the matte in the JPEG: on average
    // within 3 levels, and no pixel further than JPEG's ringing at the edge (16).
    let clear: Vec<[u8; 3]> =
        jpeg.pixels().zip(reference.pixels()).filter(|(_, png)| png[3] == 0).map(|(jpeg, _)| jpeg.0).collect();
    assert!(!clear.is_empty(), "the card has transparent corners");
    for c in 0..3 {
        let errors: Vec<u32> = clear.iter().map(|px| u32::from(px[c]).abs_diff(matte[c])).collect();
        let mean = f64::from(errors.iter().sum::<u32>()) / errors.len() as f64;
        assert!(
            mean < 3.0 && errors.iter().all(|&e| e <= 16),
            "channel {c}: mean {mean:.2}, max {:?}",
            errors.iter().max()
        );
    }
}

/// A smooth `width` x `height` JPEG, as a photograph is at the scale of a card.
fn large_jpeg(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        let wave = |v: u32, period: f32| ((v as f32 / period).sin() * 100.0 + 128.0) as u8;
        image::Rgb([wave(x, 90.0), wave(y, 60.0), wave(x + y, 150.0)])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// `jpeg` with an EXIF segment giving its orientation (1..=8).
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    // TIFF, big-endian: header, one IFD of one entry (0x0112, SHORT, 1, value), no next IFD.
    let mut tiff = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let length = u16::try_from(segment.len() + 2).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// The level card drawn over `background`, as pixels.
fn level_over(card: &garrison_render::LevelCard, background: &garrison_render::Image) -> image::RgbaImage {
    let prepared = Background::prepare(background, card.width, card.height, card.background.blur_radius).unwrap();
    let drawn = draw_level_card(card, None, Some(&prepared), fonts()).unwrap();
    image::load_from_memory(&drawn.encode(PNG).unwrap()).unwrap().into_rgba8()
}

/// The share of pixels differing by more than the golden tolerance in some channel, and the mean
/// channel difference.
fn difference(a: &image::RgbaImage, b: &image::RgbaImage) -> (f64, f64) {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    let differing = a
        .pixels()
        .zip(b.pixels())
        .filter(|(p, q)| p.0.iter().zip(q.0).any(|(x, y)| x.abs_diff(y) > CHANNEL_TOLERANCE))
        .count();
    (differing as f64 / f64::from(a.width() * a.height()), total as f64 / a.as_raw().len() as f64)
}

/// A large JPEG background is decoded at a reduced DCT scale, as small as the card allows, and the
/// card looks the same as one drawn from the full-size image (within the golden images' tolerance).
#[test]
fn large_jpeg_backgrounds_decode_at_a_reduced_scale() {
    let bytes = large_jpeg(2400, 1000);
    let limits = DecodeLimits::default();
    let full = decode_image(&bytes, &limits).unwrap();
    // (card width, height, blur, the reduced width): blur 8 draws its layer at a quarter size.
    for (width, height, blur, reduced_width) in [(800, 200, 4, 600), (800, 200, 8, 300), (930, 280, 0, 1200)] {
        let reduced = garrison_render::decode_background(&bytes, &limits, width, height, blur).unwrap();
        assert_eq!(reduced.width(), reduced_width, "{width}x{height} blur {blur}");
        let mut card = seed_level_card();
        (card.width, card.height, card.background.blur_radius) = (width, height, blur);
        let (differing, mean) = difference(&level_over(&card, &reduced), &level_over(&card, &full));
        assert!(
            differing <= MAX_DIFFERING_SHARE && mean < 1.0,
            "{width}x{height} blur {blur}: {differing:.4} of pixels differ, mean {mean:.2}"
        );
    }
    // A card nearly as large as the image: decoded whole.
    let whole = garrison_render::decode_background(&bytes, &limits, 2000, 1000, 0).unwrap();
    assert_eq!((whole.width(), whole.height()), (2400, 1000));
    // Not a JPEG: decoded as by decode_image.
    let (w, h, rgba) = common::background_rgba();
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(&rgba, w, h, image::ExtendedColorType::Rgba8).unwrap();
    assert_eq!(garrison_render::decode_background(&png, &limits, 200, 100, 8).unwrap().width(), w);
}

/// EXIF orientation holds at a reduced scale: a landscape file shown upright as a portrait.
#[test]
fn reduced_backgrounds_keep_their_exif_orientation() {
    let bytes = with_orientation(&large_jpeg(2400, 1000), 6);
    let limits = DecodeLimits::default();
    let full = decode_image(&bytes, &limits).unwrap();
    assert_eq!((full.width(), full.height()), (1000, 2400), "decode_image turns it");
    let reduced = garrison_render::decode_background(&bytes, &limits, 200, 400, 0).unwrap();
    assert_eq!((reduced.width(), reduced.height()), (250, 600));
    let mut card = seed_level_card();
    (card.width, card.height) = (200, 400);
    let (differing, mean) = difference(&level_over(&card, &reduced), &level_over(&card, &full));
    assert!(differing <= MAX_DIFFERING_SHARE && mean < 1.0, "{differing:.4} of pixels differ, mean {mean:.2}");
}
