//! Decoding untrusted bytes: every accepted format, and refusals of bombs and garbage.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use garrison_render::{DecodeLimits, Error, ImageFormat, decode_image};
use image::ImageEncoder;

/// A 16x8 picture: left half red, right half blue, fully opaque.
fn sample() -> Vec<u8> {
    common::rgba(16, 8, |x, _| if x < 8 { [220, 20, 20, 255] } else { [20, 20, 220, 255] })
}

fn png(data: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(data, width, height, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

fn jpeg() -> Vec<u8> {
    let rgb: Vec<u8> = sample().chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .write_image(&rgb, 16, 8, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn webp() -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(&sample(), 16, 8, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// Two frames: the sample, then all green. Only the first may come out.
fn gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
        let first = image::RgbaImage::from_raw(16, 8, sample()).unwrap();
        let second = image::RgbaImage::from_pixel(16, 8, image::Rgba([0, 255, 0, 255]));
        encoder.encode_frames([image::Frame::new(first), image::Frame::new(second)]).unwrap();
    }
    out
}

fn assert_red_then_blue(bytes: &[u8], format: ImageFormat) {
    let image = decode_image(bytes, &DecodeLimits::default()).unwrap();
    assert_eq!((image.width(), image.height(), image.format()), (16, 8, Some(format)));
    let left = image.as_pixmap().pixel(2, 4).unwrap();
    let right = image.as_pixmap().pixel(13, 4).unwrap();
    assert!(left.red() > 180 && left.blue() < 70 && left.alpha() == 255, "{format:?} left {left:?}");
    assert!(right.blue() > 180 && right.red() < 70, "{format:?} right {right:?}");
}

#[test]
fn decodes_png_jpeg_webp_and_the_first_gif_frame() {
    assert_red_then_blue(&png(&sample(), 16, 8), ImageFormat::Png);
    assert_red_then_blue(&jpeg(), ImageFormat::Jpeg);
    assert_red_then_blue(&webp(), ImageFormat::WebP);
    assert_red_then_blue(&gif(), ImageFormat::Gif);
}

#[test]
fn output_is_premultiplied() {
    let half = png(&[200, 100, 50, 128], 1, 1);
    let image = decode_image(&half, &DecodeLimits::default()).unwrap();
    assert_eq!(image.as_pixmap().data(), &[100, 50, 25, 128]);
    let transparent = decode_image(&common::transparent_avatar_png(), &DecodeLimits::default()).unwrap();
    assert!(transparent.as_pixmap().data().iter().all(|&b| b == 0));
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut covered = kind.to_vec();
    covered.extend_from_slice(data);
    out.extend_from_slice(&crc32(&covered).to_be_bytes());
    out
}

/// A valid PNG signature and header claiming `width` x `height` RGBA, a tiny IDAT and IEND.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    out.extend(chunk(b"IEND", &[]));
    out
}

fn assert_refused_quickly(bytes: &[u8], limits: &DecodeLimits, what: &str) -> Error {
    let start = Instant::now();
    let result = decode_image(bytes, limits);
    assert!(start.elapsed() < Duration::from_secs(1), "{what} took {:?}", start.elapsed());
    match result {
        Ok(image) => panic!("{what} decoded to {}x{}", image.width(), image.height()),
        Err(error) => error,
    }
}

#[test]
fn decompression_bombs_are_refused_before_allocating() {
    let limits = DecodeLimits::default();
    let error = assert_refused_quickly(&png_claiming(100_000, 100_000), &limits, "100000x100000 PNG");
    assert!(matches!(error, Error::ImageTooLarge(_)), "{error:?}");
    let error = assert_refused_quickly(&png_claiming(4097, 16), &limits, "4097 wide PNG");
    assert!(matches!(error, Error::ImageTooLarge(_)), "{error:?}");

    // Within the dimension limits but over the memory budget.
    let small_budget = DecodeLimits { max_alloc_bytes: 1024 * 1024, ..DecodeLimits::default() };
    let error = assert_refused_quickly(&png_claiming(1000, 1000), &small_budget, "1000x1000 PNG, 1 MiB budget");
    assert!(matches!(error, Error::ImageTooLarge(_)), "{error:?}");

    // A JPEG whose frame header claims 60000x60000.
    let mut big_jpeg = jpeg();
    let sof = big_jpeg.windows(2).position(|w| w == [0xff, 0xc0]).expect("baseline SOF0 marker");
    big_jpeg[sof + 5..sof + 9].copy_from_slice(&[0xea, 0x60, 0xea, 0x60]);
    let error = assert_refused_quickly(&big_jpeg, &limits, "60000x60000 JPEG");
    assert!(matches!(error, Error::ImageTooLarge(_)), "{error:?}");

    // A GIF whose screen and first frame claim 65535x65535.
    let mut big_gif = gif();
    big_gif[6..10].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    let descriptor = big_gif.iter().position(|&b| b == 0x2c).expect("image descriptor");
    big_gif[descriptor + 5..descriptor + 9].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    assert_refused_quickly(&big_gif, &limits, "65535x65535 GIF");
}

#[test]
fn garbage_is_refused() {
    let limits = DecodeLimits::default();
    for (what, bytes) in [
        ("empty", Vec::new()),
        ("text", b"hello, this is not an image".to_vec()),
        ("zeros", vec![0u8; 64]),
        ("BMP", b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0".to_vec()),
    ] {
        let error = assert_refused_quickly(&bytes, &limits, what);
        assert!(matches!(error, Error::UnsupportedImageFormat), "{what}: {error:?}");
    }
    let mut bad_png = b"\x89PNG\r\n\x1a\n".to_vec();
    bad_png.extend_from_slice(&[0x5a; 100]);
    let error = assert_refused_quickly(&bad_png, &limits, "PNG signature then garbage");
    assert!(matches!(error, Error::InvalidImage(_)), "{error:?}");

    for (what, full) in [("PNG", png(&sample(), 16, 8)), ("JPEG", jpeg()), ("WebP", webp()), ("GIF", gif())] {
        let truncated = &full[..full.len() / 2];
        let error = assert_refused_quickly(truncated, &limits, what);
        assert!(matches!(error, Error::InvalidImage(_)), "truncated {what}: {error:?}");
    }
}
