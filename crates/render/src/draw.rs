//! Drawing primitives: anti-aliased rounded boxes and circles filled with a colour or an image
//! scaled to cover them (computed here, analytically, because they cover most of a card's pixels
//! and tiny-skia's general pipeline is several times slower for them), gradients through tiny-skia,
//! and blur.

use tiny_skia::{
    FillRule, GradientStop, LinearGradient, Paint, Path, PathBuilder, Pixmap, Point, Rect, Shader, SpreadMode,
    Transform,
};

use crate::images::mul_div_255;
use crate::{Error, Result, Rgba};

pub(crate) const TRANSPARENT: Rgba = Rgba::new(0, 0, 0, 0);

/// A transparent canvas of a validated card size.
pub(crate) fn canvas(width: u32, height: u32) -> Result<Pixmap> {
    Pixmap::new(width, height).ok_or(Error::InvalidDimension { field: "width", value: width, min: 1, max: u32::MAX })
}

/// A rectangle with corners of radius `radius` (clamped to half the shorter side).
pub(crate) fn rounded_rect(x: f32, y: f32, width: f32, height: f32, radius: f32) -> Option<Path> {
    if !(width > 0.0 && height > 0.0) {
        return None;
    }
    let r = radius.clamp(0.0, width.min(height) / 2.0);
    if r <= 0.0 {
        return Some(PathBuilder::from_rect(Rect::from_xywh(x, y, width, height)?));
    }
    // Cubic approximation of a quarter circle.
    let k = r * 0.552_284_8;
    let (right, bottom) = (x + width, y + height);
    let mut pb = PathBuilder::new();
    pb.move_to(x + r, y);
    pb.line_to(right - r, y);
    pb.cubic_to(right - r + k, y, right, y + r - k, right, y + r);
    pb.line_to(right, bottom - r);
    pb.cubic_to(right, bottom - r + k, right - r + k, bottom, right - r, bottom);
    pb.line_to(x + r, bottom);
    pb.cubic_to(x + r - k, bottom, x, bottom - r + k, x, bottom - r);
    pb.line_to(x, y + r);
    pb.cubic_to(x, y + r - k, x + r - k, y, x + r, y);
    pb.close();
    pb.finish()
}

pub(crate) fn circle(cx: f32, cy: f32, radius: f32) -> Option<Path> {
    PathBuilder::from_circle(cx, cy, radius)
}

fn anti_aliased(shader: Shader<'_>) -> Paint<'_> {
    Paint { shader, anti_alias: true, ..Paint::default() }
}

/// Fills `path` with a horizontal gradient from `start` (at `x0`) to `end` (at `x1`).
pub(crate) fn fill_horizontal_gradient(pixmap: &mut Pixmap, path: &Path, x0: f32, x1: f32, start: Rgba, end: Rgba) {
    let stops = vec![GradientStop::new(0.0, start.to_skia()), GradientStop::new(1.0, end.to_skia())];
    let shader = LinearGradient::new(
        Point::from_xy(x0, 0.0),
        Point::from_xy(x1.max(x0 + 1.0), 0.0),
        stops,
        SpreadMode::Pad,
        Transform::identity(),
    )
    .unwrap_or(Shader::SolidColor(end.to_skia()));
    pixmap.fill_path(path, &anti_aliased(shader), FillRule::Winding, Transform::identity(), None);
}

/// Averages `factor` x `factor` blocks of the `crop` rectangle (x, y, width, height) of `image`
/// (a remainder at the right and bottom is dropped).
pub(crate) fn downscale_box(image: &Pixmap, factor: u32, crop: (u32, u32, u32, u32)) -> Option<Pixmap> {
    let (cx, cy, cw, ch) = crop;
    if cx + cw > image.width() || cy + ch > image.height() || cw == 0 || ch == 0 {
        return None;
    }
    let (ow, oh) = ((cw / factor).max(1) as usize, (ch / factor).max(1) as usize);
    let fx = factor.min(cw) as usize;
    let fy = factor.min(ch) as usize;
    let mut out = Pixmap::new(ow as u32, oh as u32)?;
    let src = image.data();
    let stride = image.width() as usize * 4;
    let count = (fx * fy) as u32;
    let mut sums = vec![[0u32; 4]; ow];
    let dst = out.data_mut();
    for oy in 0..oh {
        sums.iter_mut().for_each(|s| *s = [0; 4]);
        for row in 0..fy {
            let start = (cy as usize + oy * fy + row) * stride + cx as usize * 4;
            let line = &src[start..start + ow * fx * 4];
            for (sum, block) in sums.iter_mut().zip(line.chunks_exact(fx * 4)) {
                // Up to 256 pixels of a block row add up in 16-bit lanes without carrying.
                let lanes = block.chunks_exact(4).fold(0u64, |acc, p| acc + spread([p[0], p[1], p[2], p[3]]));
                for (c, total) in sum.iter_mut().enumerate() {
                    *total += ((lanes >> (16 * c)) & 0xffff) as u32;
                }
            }
        }
        for (out, sum) in dst[oy * ow * 4..(oy + 1) * ow * 4].chunks_exact_mut(4).zip(&sums) {
            for (o, total) in out.iter_mut().zip(sum) {
                *o = ((total + count / 2) / count) as u8;
            }
        }
    }
    Some(out)
}

/// Three box passes in each direction (close to a Gaussian with sigma `radius / 2`), edges clamped.
/// Every pass runs along contiguous rows: the vertical passes run on a transposed copy, since walking
/// a column touches a new cache line per pixel.
pub(crate) fn box_blur(pixmap: &mut Pixmap, radius: u32) {
    // At most 41 pixels of 255 add up in a 16-bit lane without carrying.
    let box_radius = (radius / 2).clamp(1, 20) as usize;
    let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
    let data = pixmap.data_mut();
    let mut line = Vec::with_capacity(w.max(h));
    for _ in 0..3 {
        for row in data.chunks_exact_mut(w * 4) {
            blur_line(row, box_radius, &mut line);
        }
    }
    let mut columns = vec![0u8; data.len()];
    transpose(data, w, h, &mut columns);
    for _ in 0..3 {
        for column in columns.chunks_exact_mut(h * 4) {
            blur_line(column, box_radius, &mut line);
        }
    }
    transpose(&columns, h, w, data);
}

/// Writes the `w` x `h` image of 4-byte pixels `src` transposed (`h` x `w`) into `dst`, in tiles
/// that stay in cache.
fn transpose(src: &[u8], w: usize, h: usize, dst: &mut [u8]) {
    const TILE: usize = 16;
    for y0 in (0..h).step_by(TILE) {
        for x0 in (0..w).step_by(TILE) {
            for y in y0..(y0 + TILE).min(h) {
                for x in x0..(x0 + TILE).min(w) {
                    let (from, to) = ((y * w + x) * 4, (x * h + y) * 4);
                    dst[to..to + 4].copy_from_slice(&src[from..from + 4]);
                }
            }
        }
    }
}

/// Box-blurs a row of pixels in place, four channels at once in 16-bit lanes. Rounding is
/// monotonic, so premultiplied colour stays at or below alpha.
fn blur_line(row: &mut [u8], radius: usize, line: &mut Vec<u64>) {
    if row.is_empty() {
        return;
    }
    line.clear();
    line.extend(row.chunks_exact(4).map(|p| spread([p[0], p[1], p[2], p[3]])));
    let len = line.len();
    let window = (2 * radius + 1) as u64;
    let reciprocal = (65536 + window / 2) / window;
    let last = len - 1;
    let mut sum = (0..=2 * radius).map(|i| line[i.saturating_sub(radius).min(last)]).sum::<u64>();
    for (i, out) in row.chunks_exact_mut(4).enumerate() {
        for (c, o) in out.iter_mut().enumerate() {
            *o = ((((sum >> (16 * c)) & 0xffff) * reciprocal + 32768) >> 16).min(255) as u8;
        }
        sum = sum + line[(i + radius + 1).min(last)] - line[i.saturating_sub(radius)];
    }
}

/// An axis-aligned box with rounded corners, in pixel coordinates; a circle when the radius is half
/// its size. Coverage is computed analytically from the signed distance to its outline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoundedBox {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    radius: f32,
}

impl RoundedBox {
    pub(crate) fn new(x: f32, y: f32, width: f32, height: f32, radius: f32) -> Self {
        let (width, height) = (width.max(0.0), height.max(0.0));
        Self { x0: x, y0: y, x1: x + width, y1: y + height, radius: radius.clamp(0.0, width.min(height) / 2.0) }
    }

    pub(crate) fn circle(cx: f32, cy: f32, radius: f32) -> Self {
        Self::new(cx - radius, cy - radius, 2.0 * radius, 2.0 * radius, radius)
    }

    fn width(&self) -> f32 {
        self.x1 - self.x0
    }

    fn height(&self) -> f32 {
        self.y1 - self.y0
    }

    /// Coverage (0..=1) of the pixel whose top-left corner is (`px`, `py`).
    #[inline]
    fn coverage(&self, px: f32, py: f32) -> f32 {
        let (cx, cy) = ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0);
        let qx = (px + 0.5 - cx).abs() - (self.width() / 2.0 - self.radius);
        let qy = (py + 0.5 - cy).abs() - (self.height() / 2.0 - self.radius);
        let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
        let inside = qx.max(qy).min(0.0);
        (0.5 - (outside + inside - self.radius)).clamp(0.0, 1.0)
    }

    /// Integer pixel bounds clipped to a `width` x `height` canvas: (x0, y0, x1, y1), exclusive ends.
    fn pixel_bounds(&self, width: u32, height: u32) -> Option<(usize, usize, usize, usize)> {
        let x0 = self.x0.floor().max(0.0);
        let y0 = self.y0.floor().max(0.0);
        let x1 = self.x1.ceil().min(width as f32);
        let y1 = self.y1.ceil().min(height as f32);
        if !(x0 < x1 && y0 < y1) {
            return None;
        }
        Some((x0 as usize, y0 as usize, x1 as usize, y1 as usize))
    }

    /// Fills `out` with the coverage (times `opacity`, 0..=255) of row `py` from column `x0` on,
    /// and returns the range of `out` whose pixels lie wholly inside the shape.
    fn row_coverage(&self, py: usize, x0: usize, opacity: f32, out: &mut [u8]) -> std::ops::Range<usize> {
        let y = py as f32;
        let full = to_u8(opacity * 255.0);
        let mut span = 0..0;
        if y >= self.y0 && y + 1.0 <= self.y1 {
            // Half the shape's width at whichever edge of this row is farther from the centre: the
            // shape is convex, so pixels within it at both edges are wholly inside.
            let (cy, half_w, half_h) = ((self.y0 + self.y1) / 2.0, self.width() / 2.0, self.height() / 2.0);
            let dy = (y - cy).abs().max((y + 1.0 - cy).abs());
            let into_corner = dy - (half_h - self.radius);
            let half = if into_corner <= 0.0 {
                half_w
            } else {
                half_w - self.radius + (self.radius * self.radius - into_corner * into_corner).max(0.0).sqrt()
            };
            let cx = (self.x0 + self.x1) / 2.0;
            let start = ((cx - half).ceil() - x0 as f32).clamp(0.0, out.len() as f32) as usize;
            let end = ((cx + half).floor() - x0 as f32).clamp(0.0, out.len() as f32) as usize;
            span = start..end.max(start);
        }
        out[span.clone()].fill(full);
        for i in (0..span.start).chain(span.end..out.len()) {
            out[i] = to_u8(self.coverage((x0 + i) as f32, y) * opacity * 255.0);
        }
        span
    }
}

/// Rounds a value in 0..=255 to the nearest byte (`f32::round` is a library call on baseline x86-64).
#[inline]
fn to_u8(value: f32) -> u8 {
    (value.clamp(0.0, 255.0) + 0.5) as u8
}

const LANE_HALF: u64 = 0x0080_0080_0080_0080;
const LANE_LOW_BYTES: u64 = 0x00ff_00ff_00ff_00ff;

/// Four bytes into the low bytes of four 16-bit lanes.
#[inline]
fn spread(bytes: [u8; 4]) -> u64 {
    spread_u32(u32::from_le_bytes(bytes))
}

/// The bytes of a little-endian `u32` into the low bytes of four 16-bit lanes.
#[inline]
fn spread_u32(value: u32) -> u64 {
    let x = u64::from(value);
    let x = (x | x << 16) & 0x0000_ffff_0000_ffff;
    (x | x << 8) & LANE_LOW_BYTES
}

/// The inverse of [`spread`] (lanes must hold values below 256).
#[inline]
fn pack(lanes: u64) -> [u8; 4] {
    let x = (lanes | lanes >> 8) & 0x0000_ffff_0000_ffff;
    ((x | x >> 16) as u32).to_le_bytes()
}

/// Source-over of a row of premultiplied pixels, each scaled by its coverage; `full` is the range
/// whose coverage is 255 (copied outright when the source is opaque there).
#[inline]
fn blend_row(dst: &mut [u8], src: &[u8], coverage: &[u8], full: std::ops::Range<usize>) {
    let opaque_span = full.start < full.end
        && coverage[full.start] == 255
        && src[full.start * 4..full.end * 4].chunks_exact(4).all(|p| p[3] == 255);
    for (i, ((d, s), &c)) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)).zip(coverage).enumerate() {
        if opaque_span && i == full.start {
            break;
        }
        blend_pixel(d, [s[0], s[1], s[2], s[3]], c);
    }
    if !opaque_span {
        return;
    }
    dst[full.start * 4..full.end * 4].copy_from_slice(&src[full.start * 4..full.end * 4]);
    for ((d, s), &c) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)).zip(coverage).skip(full.end) {
        blend_pixel(d, [s[0], s[1], s[2], s[3]], c);
    }
}

/// `round(x * c / 255)` in each 16-bit lane (lanes and `c` below 256).
#[inline]
fn mul_div_255_lanes(lanes: u64, c: u8) -> u64 {
    let p = lanes * u64::from(c) + LANE_HALF;
    ((p + ((p >> 8) & LANE_LOW_BYTES)) >> 8) & LANE_LOW_BYTES
}

/// Source-over of one premultiplied pixel scaled by `coverage` (0..=255). No lane overflows:
/// colour is at most alpha, so each channel ends at most `sa + (255 - sa)`.
#[inline]
fn blend_pixel(dst: &mut [u8], src: [u8; 4], coverage: u8) {
    if coverage == 0 || src[3] == 0 {
        return;
    }
    if coverage == 255 && src[3] == 255 {
        dst.copy_from_slice(&src);
        return;
    }
    let source = mul_div_255_lanes(spread(src), coverage);
    let inv = 255 - (source >> 48) as u8;
    let backdrop = mul_div_255_lanes(spread([dst[0], dst[1], dst[2], dst[3]]), inv);
    dst.copy_from_slice(&pack(source + backdrop));
}

/// A colour premultiplied, and 255 minus its alpha.
fn premultiplied(color: Rgba) -> ([u8; 4], u8) {
    let a = color.a;
    ([mul_div_255(color.r, a), mul_div_255(color.g, a), mul_div_255(color.b, a), a], 255 - a)
}

/// Fills a rounded box (or circle) with a colour, anti-aliased.
pub(crate) fn fill_box(pixmap: &mut Pixmap, shape: &RoundedBox, color: Rgba) {
    let Some((x0, y0, x1, y1)) = shape.pixel_bounds(pixmap.width(), pixmap.height()) else { return };
    if color.a == 0 {
        return;
    }
    let (src, inv) = premultiplied(color);
    let stride = pixmap.width() as usize * 4;
    let mut coverage = vec![0u8; x1 - x0];
    let src_row = src.repeat(x1 - x0);
    let data = pixmap.data_mut();
    for y in y0..y1 {
        let full = shape.row_coverage(y, x0, 1.0, &mut coverage);
        let row = &mut data[y * stride + x0 * 4..y * stride + x1 * 4];
        let (before, rest) = row.split_at_mut(full.start * 4);
        let (inside, after) = rest.split_at_mut((full.end - full.start) * 4);
        // Wholly covered pixels: one flat, branch-free loop so it vectorizes.
        for (d, &s) in inside.iter_mut().zip(&src_row) {
            *d = s.saturating_add(mul_div_255(*d, inv));
        }
        for (px, &c) in
            before.chunks_exact_mut(4).zip(&coverage).chain(after.chunks_exact_mut(4).zip(&coverage[full.end..]))
        {
            blend_pixel(px, src, c);
        }
    }
}

/// Draws `image` scaled to cover `shape`'s bounding box, centred (the overflow is cropped), inside
/// `shape` and at `opacity`, then `overlay` over the pixels it touched (fused: one pass over the
/// canvas instead of two). Bilinear, after averaging whole blocks when shrinking by more than 2.
pub(crate) fn draw_image_cover(pixmap: &mut Pixmap, image: &Pixmap, shape: &RoundedBox, opacity: f32, overlay: Rgba) {
    draw_image_cover_with(pixmap, image, shape, opacity, overlay, true);
}

/// [`draw_image_cover`], choosing whether to average blocks first when shrinking by more than 2
/// (not needed when the result is blurred anyway).
fn draw_image_cover_with(
    pixmap: &mut Pixmap,
    image: &Pixmap,
    shape: &RoundedBox,
    opacity: f32,
    overlay: Rgba,
    prefilter: bool,
) {
    let Some((x0, y0, x1, y1)) = shape.pixel_bounds(pixmap.width(), pixmap.height()) else { return };
    if opacity <= 0.0 || shape.width() <= 0.0 || shape.height() <= 0.0 {
        return;
    }
    let mut scale = (shape.width() / image.width() as f32).max(shape.height() / image.height() as f32);
    let reduced;
    let source = if prefilter && scale < 0.5 {
        // Average whole blocks of the visible part (plus a pixel of margin) first.
        let factor = ((1.0 / scale).floor() as u32).max(2);
        let (iw, ih) = (image.width(), image.height());
        let visible = |size: u32, extent: f32| ((extent / scale).ceil() as u32 + 2).min(size);
        let (vw, vh) = (visible(iw, shape.width()), visible(ih, shape.height()));
        let crop = ((iw - vw) / 2, (ih - vh) / 2, vw, vh);
        match downscale_box(image, factor, crop) {
            Some(small) => {
                // The reduced crop is still centred; rescale so it still covers the box.
                scale = (shape.width() / small.width() as f32).max(shape.height() / small.height() as f32);
                reduced = small;
                &reduced
            }
            None => image,
        }
    } else {
        image
    };
    let (sw, sh) = (source.width() as usize, source.height() as usize);
    // Where a destination pixel centre falls in the source: (first index, weight of the next / 256).
    let sample = |d: usize, start: f32, extent: f32, size: usize| -> (usize, u32) {
        let offset = (size as f32 - extent / scale) / 2.0;
        let u = (offset + (d as f32 + 0.5 - start) / scale - 0.5).clamp(0.0, (size - 1) as f32);
        let i = u.floor() as usize;
        (i, (((u - i as f32) * 256.0) + 0.5) as u32)
    };
    // Per destination column: byte offset of the left source pixel, and the right one's weight.
    let columns: Vec<(usize, u32)> = (x0..x1)
        .map(|x| {
            let (i, w) = sample(x, shape.x0, shape.width(), sw);
            (i * 4, w)
        })
        .collect();
    let src = source.data();
    let stride = pixmap.width() as usize * 4;
    // One source row blended vertically, plus a copy of its last pixel so `i + 1` is always valid.
    let mut vertical = vec![0u8; (sw + 1) * 4];
    let mut resampled = vec![0u8; (x1 - x0) * 4];
    let mut coverage = vec![0u8; x1 - x0];
    // The overlay colour repeated along a row, so blending it is one flat, vectorizable loop.
    let (over, overlay_inv) = premultiplied(overlay);
    let overlay_row: Vec<u8> = if overlay.a == 0 { Vec::new() } else { over.repeat(x1 - x0) };
    let data = pixmap.data_mut();
    for y in y0..y1 {
        let full = shape.row_coverage(y, x0, opacity, &mut coverage);
        let Some(first) = coverage.iter().position(|&c| c != 0) else { continue };
        let last = coverage.iter().rposition(|&c| c != 0).unwrap_or(first);
        let (j, wy) = sample(y, shape.y0, shape.height(), sh);
        let top = &src[j * sw * 4..(j + 1) * sw * 4];
        let bottom = &src[(j + 1).min(sh - 1) * sw * 4..][..sw * 4];
        if wy == 0 {
            vertical[..sw * 4].copy_from_slice(top);
        } else {
            // 255 * 256 + 128 fits in u16, so the lerp runs eight lanes to a 128-bit register.
            let (wt, wb) = ((256 - wy) as u16, wy as u16);
            for ((v, &t), &b) in vertical.iter_mut().zip(top).zip(bottom) {
                *v = ((u16::from(t) * wt + u16::from(b) * wb + 128) >> 8) as u8;
            }
        }
        let (body, tail) = vertical.split_at_mut(sw * 4);
        tail.copy_from_slice(&body[(sw - 1) * 4..]);
        // Horizontal lerp, four channels at once: each channel in its own 16-bit lane of a u64
        // (255 * 256 + 128 < 65536, so lanes never carry into each other). Bilinear weights sum to
        // one and rounding is monotonic, so premultiplied colour stays at or below alpha.
        let outputs = resampled[first * 4..(last + 1) * 4].chunks_exact_mut(4);
        for (out, &(offset, wx)) in outputs.zip(&columns[first..=last]) {
            // Both neighbours at once; the four channels in 16-bit lanes of one SIMD multiply.
            let Some(pair) = vertical.get(offset..offset + 8) else { continue };
            let (left_weight, right_weight) = ((256 - wx) as u16, wx as u16);
            for c in 0..4 {
                out[c] = ((u16::from(pair[c]) * left_weight + u16::from(pair[c + 4]) * right_weight + 128) >> 8) as u8;
            }
        }
        let row = &mut data[y * stride + (x0 + first) * 4..y * stride + (x0 + last + 1) * 4];
        let full = full.start.max(first) - first..full.end.min(last + 1).max(first) - first;
        let full = full.start..full.end.max(full.start);
        blend_row(row, &resampled[first * 4..(last + 1) * 4], &coverage[first..=last], full);
        if overlay.a != 0 {
            for (d, &o) in row.iter_mut().zip(&overlay_row) {
                *d = o.saturating_add(mul_div_255(*d, overlay_inv));
            }
        }
    }
}

/// `image` cover-scaled for a canvas of `width` x `height` and blurred by `blur_radius` (about twice
/// the Gaussian sigma): the layer [`draw_background_layer`] puts on the canvas. Without a blur it has
/// the canvas's size; a blur of 4 pixels or more is computed at `1 / (radius / 2)` of the resolution
/// (at most 4 times smaller), since blurred content has no fine detail, and scaled back up when drawn.
/// Against the full-resolution blur, the golden images differ by at most 6 levels of 255 in any
/// channel (0.2 to 0.3 on average).
pub(crate) fn background_layer(image: &Pixmap, width: u32, height: u32, blur_radius: u32) -> Option<Pixmap> {
    let divisor = layer_divisor(blur_radius);
    let (lw, lh) = layer_size(width, height, blur_radius);
    let mut layer = Pixmap::new(lw, lh)?;
    let layer_box = RoundedBox::new(0.0, 0.0, lw as f32, lh as f32, 0.0);
    // Averaging blocks first only matters when the result is not blurred anyway.
    draw_image_cover_with(&mut layer, image, &layer_box, 1.0, TRANSPARENT, blur_radius == 0);
    if blur_radius > 0 {
        box_blur(&mut layer, blur_radius.div_ceil(divisor));
    }
    Some(layer)
}

/// How much smaller than its card a background layer is drawn: blurred layers at half resolution or
/// less, where the blur hides the difference.
fn layer_divisor(blur_radius: u32) -> u32 {
    if blur_radius == 0 { 1 } else { (blur_radius / 2).clamp(1, 4) }
}

/// The size of the [`background_layer`] of a `width` x `height` card blurred by `blur_radius`.
pub(crate) fn layer_size(width: u32, height: u32, blur_radius: u32) -> (u32, u32) {
    let divisor = layer_divisor(blur_radius);
    (width.div_ceil(divisor), height.div_ceil(divisor))
}

/// Draws a [`background_layer`] over the whole canvas at `opacity`, with `overlay` over it. A layer
/// of the canvas's size is copied pixel for pixel (the resampling lands on pixel centres).
pub(crate) fn draw_background_layer(pixmap: &mut Pixmap, layer: &Pixmap, opacity: f32, overlay: Rgba) {
    let (w, h) = (pixmap.width(), pixmap.height());
    if (layer.width(), layer.height()) != (w, h) {
        let canvas_box = RoundedBox::new(0.0, 0.0, w as f32, h as f32, 0.0);
        draw_image_cover(pixmap, layer, &canvas_box, opacity, overlay);
        return;
    }
    // The same size: resampling would land on pixel centres and copy, so blend the rows directly
    // (the same pixels as `draw_image_cover`, without its per-pixel interpolation).
    let full = to_u8(opacity * 255.0);
    if opacity <= 0.0 || full == 0 {
        return;
    }
    let width = w as usize;
    let coverage = vec![full; width];
    let (over, overlay_inv) = premultiplied(overlay);
    let overlay_row: Vec<u8> = if overlay.a == 0 { Vec::new() } else { over.repeat(width) };
    for (row, src) in pixmap.data_mut().chunks_exact_mut(width * 4).zip(layer.data().chunks_exact(width * 4)) {
        blend_row(row, src, &coverage, 0..width);
        if overlay.a != 0 {
            for (d, &o) in row.iter_mut().zip(&overlay_row) {
                *d = o.saturating_add(mul_div_255(*d, overlay_inv));
            }
        }
    }
}

/// Makes the canvas's corners transparent outside a radius (only the corner squares are touched).
pub(crate) fn round_corners(pixmap: &mut Pixmap, radius: f32) {
    let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
    let shape = RoundedBox::new(0.0, 0.0, w as f32, h as f32, radius);
    let size = (shape.radius.ceil() as usize).min(w / 2).min(h / 2);
    let stride = w * 4;
    let data = pixmap.data_mut();
    for y in (0..size).chain(h - size..h) {
        for x in (0..size).chain(w - size..w) {
            let c = (shape.coverage(x as f32, y as f32) * 255.0).round() as u8;
            if c == 255 {
                continue;
            }
            for value in &mut data[y * stride + x * 4..y * stride + x * 4 + 4] {
                *value = mul_div_255(*value, c);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn blur_keeps_a_flat_image_flat_and_spreads_a_dot() {
        let mut flat = Pixmap::new(20, 10).unwrap();
        flat.fill(tiny_skia::Color::from_rgba8(10, 200, 30, 255));
        let before = flat.data().to_vec();
        box_blur(&mut flat, 6);
        assert_eq!(flat.data(), &before[..]);

        let mut dot = Pixmap::new(21, 21).unwrap();
        let i = (10 * 21 + 10) * 4;
        dot.data_mut()[i..i + 4].copy_from_slice(&[255, 255, 255, 255]);
        box_blur(&mut dot, 4);
        let centre = dot.pixel(10, 10).unwrap().alpha();
        let near = dot.pixel(11, 10).unwrap().alpha();
        assert!(centre < 255 && near > 0 && near <= centre, "{centre} {near}");
        for px in dot.pixels() {
            assert!(px.red() <= px.alpha());
        }
    }

    #[test]
    fn the_blur_is_the_same_across_and_down() {
        // A vertical stripe blurred, transposed, equals the horizontal stripe blurred.
        let (w, h) = (13, 7);
        let mut tall = Pixmap::new(w, h).unwrap();
        let mut wide = Pixmap::new(h, w).unwrap();
        for y in 0..h {
            let i = (y * w + 6) as usize * 4;
            tall.data_mut()[i..i + 4].copy_from_slice(&[200, 100, 50, 255]);
        }
        for x in 0..h {
            let i = (6 * h + x) as usize * 4;
            wide.data_mut()[i..i + 4].copy_from_slice(&[200, 100, 50, 255]);
        }
        box_blur(&mut tall, 4);
        box_blur(&mut wide, 4);
        let mut transposed = vec![0; tall.data().len()];
        transpose(tall.data(), w as usize, h as usize, &mut transposed);
        assert_eq!(transposed, wide.data());
    }

    #[test]
    fn a_canvas_sized_layer_draws_the_pixels_resampling_would() {
        let (w, h) = (37, 11);
        let mut layer = Pixmap::new(w, h).unwrap();
        for (i, px) in layer.data_mut().chunks_exact_mut(4).enumerate() {
            let a = (i * 7 % 256) as u8;
            px.copy_from_slice(&[a / 2, a / 3, a, a]);
        }
        for (opacity, overlay) in [(1.0, TRANSPARENT), (0.7, Rgba::new(0, 0, 0, 100)), (0.001, TRANSPARENT)] {
            let mut fast = Pixmap::new(w, h).unwrap();
            fast.fill(tiny_skia::Color::from_rgba8(40, 50, 60, 255));
            let mut slow = fast.clone();
            draw_background_layer(&mut fast, &layer, opacity, overlay);
            let canvas = RoundedBox::new(0.0, 0.0, w as f32, h as f32, 0.0);
            draw_image_cover(&mut slow, &layer, &canvas, opacity, overlay);
            assert_eq!(fast.data(), slow.data(), "opacity {opacity}");
        }
    }

    #[test]
    fn box_downscale_averages_blocks() {
        let mut image = Pixmap::new(4, 2).unwrap();
        image.data_mut()[..8].copy_from_slice(&[0, 0, 0, 255, 200, 200, 200, 255]);
        let small = downscale_box(&image, 2, (0, 0, 4, 2)).unwrap();
        assert_eq!((small.width(), small.height()), (2, 1));
        // (0 + 200 + 0 + 0) / 4 = 50, alpha (255 + 255 + 0 + 0) / 4 = 128 (rounded).
        assert_eq!(small.data()[..4], [50, 50, 50, 128]);
    }
}
