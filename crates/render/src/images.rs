//! Decoding untrusted image bytes into premultiplied RGBA, with limits against decompression bombs.

use std::io::Cursor;

use image::{ImageDecoder, ImageError};
use tiny_skia::{IntSize, Pixmap};

use crate::{Error, Result, Rgba};

/// Bounds applied while decoding untrusted images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecodeLimits {
    /// Largest accepted width in pixels.
    pub max_width: u32,
    /// Largest accepted height in pixels.
    pub max_height: u32,
    /// Largest memory the decoder and the RGBA conversion may use together, in bytes.
    pub max_alloc_bytes: u64,
    /// Largest accepted encoded input, in bytes.
    pub max_input_bytes: usize,
}

impl Default for DecodeLimits {
    /// 4096x4096 pixels, 160 MiB of decoding memory, 16 MiB of input.
    fn default() -> Self {
        Self {
            max_width: 4096,
            max_height: 4096,
            max_alloc_bytes: 160 * 1024 * 1024,
            max_input_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The encodings [`decode_image`] accepts, recognised by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    Png,
    Jpeg,
    WebP,
    Gif,
}

/// A decoded image: premultiplied RGBA in a [`tiny_skia::Pixmap`].
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pixmap: Pixmap,
    format: Option<ImageFormat>,
}

impl Image {
    /// An image from straight (not premultiplied) RGBA rows, 4 bytes a pixel. The error names
    /// `rgba` when the length does not match or the size is zero.
    pub fn from_rgba8(width: u32, height: u32, mut rgba: Vec<u8>) -> Result<Self> {
        let wrong_size = || {
            Error::InvalidImage(format!(
                "{width}x{height} RGBA needs {} bytes",
                u64::from(width) * u64::from(height) * 4
            ))
        };
        let size = IntSize::from_wh(width, height).ok_or_else(wrong_size)?;
        if rgba.len() as u64 != u64::from(width) * u64::from(height) * 4 {
            return Err(wrong_size());
        }
        premultiply(&mut rgba);
        let pixmap = Pixmap::from_vec(rgba, size).ok_or_else(wrong_size)?;
        Ok(Self { pixmap, format: None })
    }

    /// An image filled with one colour.
    pub fn solid(width: u32, height: u32, color: Rgba) -> Result<Self> {
        let mut pixmap = Pixmap::new(width, height)
            .ok_or_else(|| Error::InvalidImage(format!("{width}x{height} is not a valid image size")))?;
        pixmap.fill(color.to_skia());
        Ok(Self { pixmap, format: None })
    }

    /// Wraps a pixmap (already premultiplied).
    pub fn from_pixmap(pixmap: Pixmap) -> Self {
        Self { pixmap, format: None }
    }

    pub fn width(&self) -> u32 {
        self.pixmap.width()
    }

    pub fn height(&self) -> u32 {
        self.pixmap.height()
    }

    /// The encoding it was decoded from; `None` for images built in memory.
    pub fn format(&self) -> Option<ImageFormat> {
        self.format
    }

    /// Premultiplied RGBA pixels.
    pub fn as_pixmap(&self) -> &Pixmap {
        &self.pixmap
    }

    pub fn into_pixmap(self) -> Pixmap {
        self.pixmap
    }
}

/// A card's background image already cover-scaled (and blurred) for one card size and blur: what a
/// card draws of its background image. Preparing it is most of a card's image work, so a server that
/// draws many cards of one size over one background prepares it once and keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Background {
    layer: Pixmap,
    width: u32,
    height: u32,
    blur: u32,
}

impl Background {
    /// Shapes `image` for a card of `width` x `height` whose background is blurred by `blur` pixels.
    pub fn prepare(image: &Image, width: u32, height: u32, blur: u32) -> Result<Self> {
        let layer = crate::draw::background_layer(image.as_pixmap(), width, height, blur)
            .ok_or_else(|| Error::InvalidImage(format!("{width}x{height} is not a valid card size")))?;
        Ok(Self { layer, width, height, blur })
    }

    /// Whether it was prepared for a card of this size and blur.
    pub fn fits(&self, width: u32, height: u32, blur: u32) -> bool {
        (self.width, self.height, self.blur) == (width, height, blur)
    }

    /// Bytes of pixels it holds.
    pub fn byte_size(&self) -> u64 {
        self.layer.data().len() as u64
    }

    /// `Ok` when it fits a card of this size and blur; else an error naming what it was prepared for.
    pub(crate) fn layer_for(&self, width: u32, height: u32, blur: u32) -> Result<&Pixmap> {
        if self.fits(width, height, blur) {
            Ok(&self.layer)
        } else {
            Err(Error::InvalidImage(format!(
                "the background was prepared for a {}x{} card with blur {}, not {width}x{height} with blur {blur}",
                self.width, self.height, self.blur
            )))
        }
    }
}

/// Decodes PNG, JPEG, WebP or GIF (its first frame) into premultiplied RGBA.
///
/// The format comes from the magic bytes, never from a file name or a content-type header. The
/// dimensions are checked against `limits` before any pixel buffer is allocated, so a small file
/// claiming a huge image is refused at once; JPEG EXIF orientation is applied.
pub fn decode_image(bytes: &[u8], limits: &DecodeLimits) -> Result<Image> {
    if bytes.len() > limits.max_input_bytes {
        return Err(Error::ImageTooLarge(format!(
            "{} bytes of input, at most {} allowed",
            bytes.len(),
            limits.max_input_bytes
        )));
    }
    let guessed = image::guess_format(bytes).map_err(|_| Error::UnsupportedImageFormat)?;
    let format = match guessed {
        image::ImageFormat::Png => ImageFormat::Png,
        image::ImageFormat::Jpeg => ImageFormat::Jpeg,
        image::ImageFormat::WebP => ImageFormat::WebP,
        image::ImageFormat::Gif => ImageFormat::Gif,
        _ => return Err(Error::UnsupportedImageFormat),
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), guessed);
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_width);
    image_limits.max_image_height = Some(limits.max_height);
    image_limits.max_alloc = Some(limits.max_alloc_bytes);
    reader.limits(image_limits);

    let mut decoder = reader.into_decoder().map_err(from_image_error)?;
    let (width, height) = decoder.dimensions();
    // The decoder's own buffer plus the RGBA8 copy made below.
    let needed = decoder.total_bytes().saturating_add(u64::from(width) * u64::from(height) * 4);
    if needed > limits.max_alloc_bytes {
        return Err(Error::ImageTooLarge(format!(
            "{width}x{height} needs {needed} bytes to decode, at most {} allowed",
            limits.max_alloc_bytes
        )));
    }
    let orientation = decoder.orientation().ok();
    let mut decoded = image::DynamicImage::from_decoder(decoder).map_err(from_image_error)?;
    if let Some(orientation) = orientation {
        decoded.apply_orientation(orientation);
    }
    let mut image = from_dynamic(decoded)?;
    image.format = Some(format);
    Ok(image)
}

/// Decodes a card's background image: as [`decode_image`], except that a JPEG much larger than the
/// card needs (a photo of two megapixels or more) is decoded at a reduced DCT scale (1/2, 1/4 or 1/8
/// of each side), the smallest that still holds every pixel the card's background layer samples ([`Background::prepare`] scales it
/// the rest of the way). That costs a fraction of a full decode in time and memory (a 4000x3000
/// photo behind a 930x280 card: 1/4, 3 MB of pixels instead of 48); the prepared background differs
/// from one made from the full-size image by the two filters' rounding only.
pub fn decode_background(bytes: &[u8], limits: &DecodeLimits, width: u32, height: u32, blur: u32) -> Result<Image> {
    if bytes.len() > limits.max_input_bytes || image::guess_format(bytes).ok() != Some(image::ImageFormat::Jpeg) {
        return decode_image(bytes, limits);
    }
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    // Whatever this decoder cannot read, the full decoder reads or names the error of.
    let Some(info) = decoder.read_info().ok().and(decoder.info()) else { return decode_image(bytes, limits) };
    let (source_width, source_height) = (u32::from(info.width), u32::from(info.height));
    // A progressive JPEG keeps every coefficient at full size (2 bytes a sample, 3 samples a pixel)
    // whatever the scale: past the limits, the full decoder refuses or decodes with less.
    let coefficients = u64::from(source_width) * u64::from(source_height) * 6;
    if source_width > limits.max_width || source_height > limits.max_height || coefficients > limits.max_alloc_bytes {
        return decode_image(bytes, limits);
    }
    let orientation = decoder.exif_data().and_then(image::metadata::Orientation::from_exif_chunk);
    let (layer_width, layer_height) = crate::draw::layer_size(width, height, blur);
    // The layer's size in the image's stored orientation (turned a quarter, width and height swap).
    let (layer_width, layer_height) = match orientation {
        Some(
            image::metadata::Orientation::Rotate90
            | image::metadata::Orientation::Rotate270
            | image::metadata::Orientation::Rotate90FlipH
            | image::metadata::Orientation::Rotate270FlipH,
        ) => (layer_height, layer_width),
        _ => (layer_width, layer_height),
    };
    // Cover-scaling shrinks the image by the larger of the two ratios: keep at least that much.
    let ratio =
        f64::max(f64::from(layer_width) / f64::from(source_width), f64::from(layer_height) / f64::from(source_height));
    // jpeg-decoder is slower than image's decoder at the same scale: halving pays only from about two
    // megapixels (a 1200x500 background: 4.25 ms reduced against 3.81 ms whole, decoded and
    // prepared; 1920x1080: 6.2 against 13.7 ms). It also decodes each colour component of an image
    // larger than 128x128 on a thread of its own, started for the decode (its API offers no other
    // way without rayon): worth it for a photo's two-to-sixteen megapixels, not for the
    // Discord-sized backgrounds most cards have, which image's decoder reads on the render thread.
    let pixels = u64::from(source_width) * u64::from(source_height);
    if ratio > 0.5 || pixels < 2_000_000 || info.pixel_format != jpeg_decoder::PixelFormat::RGB24 {
        // No reduction worth making (or a rare grey or CMYK JPEG): the full decoder.
        return decode_image(bytes, limits);
    }
    let wanted = |side: u32| (f64::from(side) * ratio).ceil().clamp(1.0, f64::from(u16::MAX)) as u16;
    let (scaled_width, scaled_height) =
        decoder.scale(wanted(source_width), wanted(source_height)).map_err(|e| Error::InvalidImage(e.to_string()))?;
    decoder.set_max_decoding_buffer_size(usize::try_from(limits.max_alloc_bytes).unwrap_or(usize::MAX));
    let rgb = decoder.decode().map_err(|e| Error::InvalidImage(e.to_string()))?;
    let rgb = image::RgbImage::from_raw(u32::from(scaled_width), u32::from(scaled_height), rgb)
        .ok_or_else(|| Error::InvalidImage("the JPEG decoded to fewer pixels than its size".into()))?;
    let mut decoded = image::DynamicImage::ImageRgb8(rgb);
    if let Some(orientation) = orientation {
        decoded.apply_orientation(orientation);
    }
    let mut image = from_dynamic(decoded)?;
    image.format = Some(ImageFormat::Jpeg);
    Ok(image)
}

/// Pixels from image's decoded form: opaque RGB straight to RGBA in one pass, the rest through
/// RGBA8 and premultiplied.
fn from_dynamic(decoded: image::DynamicImage) -> Result<Image> {
    match decoded {
        image::DynamicImage::ImageRgb8(rgb) => {
            let (width, height) = rgb.dimensions();
            let mut rgba = vec![255u8; rgb.len() / 3 * 4];
            for (to, from) in rgba.chunks_exact_mut(4).zip(rgb.as_raw().chunks_exact(3)) {
                to[..3].copy_from_slice(from);
            }
            let size = IntSize::from_wh(width, height)
                .ok_or_else(|| Error::InvalidImage(format!("{width}x{height} is not a valid image size")))?;
            let pixmap = Pixmap::from_vec(rgba, size)
                .ok_or_else(|| Error::InvalidImage(format!("{width}x{height} is not a valid image size")))?;
            Ok(Image::from_pixmap(pixmap))
        }
        other => {
            let rgba = other.into_rgba8();
            let (width, height) = rgba.dimensions();
            Image::from_rgba8(width, height, rgba.into_raw())
        }
    }
}

fn from_image_error(error: ImageError) -> Error {
    match error {
        ImageError::Limits(limit) => Error::ImageTooLarge(limit.to_string()),
        ImageError::Unsupported(unsupported) => Error::InvalidImage(unsupported.to_string()),
        other => Error::InvalidImage(other.to_string()),
    }
}

/// Straight RGBA to premultiplied, in place.
pub(crate) fn premultiply(rgba: &mut [u8]) {
    for px in rgba.chunks_exact_mut(4) {
        let a = px[3];
        if a == 255 {
            continue;
        }
        px[0] = mul_div_255(px[0], a);
        px[1] = mul_div_255(px[1], a);
        px[2] = mul_div_255(px[2], a);
    }
}

/// `round(a * b / 255)` without division, in 16-bit arithmetic (255 * 255 + 128 + 254 < 65536)
/// so that loops over bytes vectorize eight lanes to a 128-bit register.
#[inline]
pub(crate) fn mul_div_255(a: u8, b: u8) -> u8 {
    let product = u16::from(a) * u16::from(b) + 128;
    ((product + (product >> 8)) >> 8) as u8
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_255_rounds_exactly() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let exact = (f64::from(a) * f64::from(b) / 255.0).round() as u8;
                assert_eq!(mul_div_255(a, b), exact, "{a} * {b}");
            }
        }
    }

    #[test]
    fn from_rgba8_premultiplies_and_checks_the_length() {
        let image = Image::from_rgba8(1, 1, vec![200, 100, 50, 128]).unwrap();
        assert_eq!(image.as_pixmap().data(), &[100, 50, 25, 128]);
        assert!(Image::from_rgba8(2, 1, vec![0; 4]).is_err());
        assert!(Image::from_rgba8(0, 1, vec![]).is_err());
    }

    #[test]
    fn an_opaque_image_decodes_to_the_same_pixels_by_either_path() {
        let rgb = image::RgbImage::from_fn(7, 5, |x, y| image::Rgb([(x * 30) as u8, (y * 50) as u8, 77]));
        let mut png = Vec::new();
        rgb.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        let decoded = decode_image(&png, &DecodeLimits::default()).unwrap();
        let expected = Image::from_rgba8(7, 5, image::DynamicImage::ImageRgb8(rgb).into_rgba8().into_raw()).unwrap();
        assert_eq!(decoded.as_pixmap(), expected.as_pixmap());
        assert_eq!(decoded.format(), Some(ImageFormat::Png));
    }

    #[test]
    fn too_much_input_is_refused_before_decoding() {
        let limits = DecodeLimits { max_input_bytes: 8, ..DecodeLimits::default() };
        assert!(matches!(decode_image(&[0u8; 9], &limits), Err(Error::ImageTooLarge(_))));
    }
}
