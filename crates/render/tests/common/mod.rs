//! Deterministic inputs shared by the golden tests and the benchmark: images are computed from
//! their coordinates, so no test data needs to be committed besides the golden PNGs.
#![allow(dead_code)]

use std::sync::OnceLock;

use garrison_render::{Fonts, Image, LevelCard, WelcomeCard};

pub fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts::load_all().expect("bundled fonts parse"))
}

/// Straight RGBA pixels from a function of (x, y).
pub fn rgba(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
    let mut data = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            data.extend_from_slice(&pixel(x, y));
        }
    }
    data
}

/// A 256x256 avatar: a warm diagonal gradient with a light disc for a face.
pub fn avatar_rgba() -> (u32, u32, Vec<u8>) {
    let size = 256;
    let data = rgba(size, size, |x, y| {
        let (fx, fy) = (x as f32 - 128.0, y as f32 - 110.0);
        if fx * fx + fy * fy < 60.0 * 60.0 {
            [250, 220, 190, 255]
        } else if (fx * fx) / 1.2 + (fy - 150.0) * (fy - 150.0) < 110.0 * 110.0 {
            [60, 90, 200, 255]
        } else {
            [(200 + x / 8) as u8, (80 + y / 3) as u8, (120 + (x + y) / 8) as u8, 255]
        }
    });
    (size, size, data)
}

pub fn avatar() -> Image {
    let (w, h, data) = avatar_rgba();
    Image::from_rgba8(w, h, data).expect("avatar")
}

/// A 1280x720 background: a purple-to-teal gradient with soft diagonal stripes.
pub fn background_rgba() -> (u32, u32, Vec<u8>) {
    let (w, h) = (1280, 720);
    let data = rgba(w, h, |x, y| {
        let t = x as f32 / w as f32;
        let stripe = if ((x + y) / 40) % 2 == 0 { 18.0 } else { 0.0 };
        let r = 90.0 * (1.0 - t) + 20.0 * t + stripe;
        let g = 40.0 * (1.0 - t) + 160.0 * t + stripe;
        let b = 160.0 * (1.0 - t) + 170.0 * t + stripe + (y as f32 / h as f32) * 40.0;
        [r as u8, g as u8, b.min(255.0) as u8, 255]
    });
    (w, h, data)
}

pub fn background() -> Image {
    let (w, h, data) = background_rgba();
    Image::from_rgba8(w, h, data).expect("background")
}

/// PNG bytes of a 128x128 avatar whose every pixel has alpha 0.
pub fn transparent_avatar_png() -> Vec<u8> {
    use image::ImageEncoder;
    let data = rgba(128, 128, |x, y| [x as u8, y as u8, 200, 0]);
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&data, 128, 128, image::ExtendedColorType::Rgba8)
        .expect("encode");
    out
}

/// The specification's example level card: JohnDoe, level 15, 2,500 of 5,000 XP, rank #3.
pub fn seed_level_card() -> LevelCard {
    let mut card = LevelCard::new("JohnDoe");
    card.level = 15;
    card.xp_current = 2500;
    card.xp_total = 5000;
    card.rank = "#3".to_owned();
    card.voice_minutes = 120;
    card.message_count = 1500;
    card
}

/// The specification's example welcome card.
pub fn seed_welcome_card() -> WelcomeCard {
    let mut card = WelcomeCard::new("JohnDoe");
    card.guild_name = "My Server".to_owned();
    card.member_count = "Member #123".to_owned();
    card
}
