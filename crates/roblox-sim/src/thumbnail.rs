//! Avatar thumbnails: small real images the simulator draws and serves itself, so a client can fetch
//! the `imageUri` of a generated thumbnail. Each user gets a colour of their own; round thumbnails are
//! transparent (PNG) or white (JPEG) outside the circle.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

/// The sizes Roblox generates (`size * size` pixels).
pub(crate) const SIZES: [u32; 11] = [48, 50, 60, 75, 100, 110, 150, 180, 352, 420, 720];

/// Where thumbnails are served.
pub(crate) const PREFIX: &str = "/sim/thumbnails/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Round,
    Square,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThumbnailFormat {
    Png,
    Jpeg,
}

impl ThumbnailFormat {
    fn extension(self) -> &'static str {
        match self {
            ThumbnailFormat::Png => "png",
            ThumbnailFormat::Jpeg => "jpeg",
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            ThumbnailFormat::Png => "image/png",
            ThumbnailFormat::Jpeg => "image/jpeg",
        }
    }
}

/// The path of a thumbnail: `/sim/thumbnails/{user}/{size}/{round|square}.{png|jpeg}`.
pub(crate) fn path(user: u64, size: u32, shape: Shape, format: ThumbnailFormat) -> String {
    let shape = match shape {
        Shape::Round => "round",
        Shape::Square => "square",
    };
    format!("{PREFIX}{user}/{size}/{shape}.{}", format.extension())
}

/// Reads a thumbnail path back (without [`PREFIX`]).
pub(crate) fn parse(rest: &str) -> Option<(u64, u32, Shape, ThumbnailFormat)> {
    let mut parts = rest.split('/');
    let user = crate::paging::parse_decimal(parts.next()?)?;
    let size: u32 = parts.next()?.parse().ok().filter(|size| SIZES.contains(size))?;
    let (shape, extension) = parts.next()?.split_once('.')?;
    let shape = match shape {
        "round" => Shape::Round,
        "square" => Shape::Square,
        _ => return None,
    };
    let format = match extension {
        "png" => ThumbnailFormat::Png,
        "jpeg" => ThumbnailFormat::Jpeg,
        _ => return None,
    };
    parts.next().is_none().then_some((user, size, shape, format))
}

/// Draws and encodes a thumbnail.
pub(crate) fn draw(user: u64, size: u32, shape: Shape, format: ThumbnailFormat) -> Vec<u8> {
    let hue = user.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes();
    let colour = [64 + hue[0] / 2, 64 + hue[1] / 2, 64 + hue[2] / 2];
    let radius = f64::from(size) / 2.0;
    let inside = |x: u32, y: u32| {
        let (dx, dy) = (f64::from(x) + 0.5 - radius, f64::from(y) + 0.5 - radius);
        shape == Shape::Square || dx * dx + dy * dy <= radius * radius
    };
    let image = match format {
        ThumbnailFormat::Png => DynamicImage::ImageRgba8(RgbaImage::from_fn(size, size, |x, y| {
            let [r, g, b] = colour;
            Rgba([r, g, b, if inside(x, y) { 255 } else { 0 }])
        })),
        ThumbnailFormat::Jpeg => DynamicImage::ImageRgb8(RgbImage::from_fn(size, size, |x, y| {
            if inside(x, y) { Rgb(colour) } else { Rgb([255, 255, 255]) }
        })),
    };
    let mut bytes = Cursor::new(Vec::new());
    let encoded = match format {
        ThumbnailFormat::Png => image.write_to(&mut bytes, ImageFormat::Png),
        ThumbnailFormat::Jpeg => image.write_to(&mut bytes, ImageFormat::Jpeg),
    };
    // Encoding a small in-memory image into a Vec cannot fail short of running out of memory.
    encoded.map_or_else(|_| Vec::new(), |()| bytes.into_inner())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_back() {
        let path = path(156, 48, Shape::Round, ThumbnailFormat::Png);
        assert_eq!(path, "/sim/thumbnails/156/48/round.png");
        assert_eq!(parse(&path[PREFIX.len()..]), Some((156, 48, Shape::Round, ThumbnailFormat::Png)));
        assert_eq!(parse("156/49/round.png"), None);
        assert_eq!(parse("156/48/oval.png"), None);
        assert_eq!(parse("156/48/round.gif"), None);
        assert_eq!(parse("156/48/round.png/x"), None);
    }

    #[test]
    fn thumbnails_are_real_images() {
        let png = draw(156, 48, Shape::Round, ThumbnailFormat::Png);
        let decoded = image::load_from_memory_with_format(&png, ImageFormat::Png).unwrap().to_rgba8();
        assert_eq!(decoded.dimensions(), (48, 48));
        assert_eq!(decoded.get_pixel(0, 0)[3], 0, "transparent outside the circle");
        assert_eq!(decoded.get_pixel(24, 24)[3], 255);
        let jpeg = draw(156, 60, Shape::Square, ThumbnailFormat::Jpeg);
        let decoded = image::load_from_memory_with_format(&jpeg, ImageFormat::Jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (60, 60));
    }
}
