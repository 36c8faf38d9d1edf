//! Single-line text: shaping with per-character font fallback, fitting to a width, and drawing the
//! glyph coverage masks in a colour.

use tiny_skia::Pixmap;

use crate::Rgba;
use crate::fonts::{FamilyId, Fonts, Weight};
use crate::images::mul_div_255;

const ELLIPSIS: char = '\u{2026}';

#[derive(Debug, Clone, Copy)]
struct PlacedGlyph {
    face: usize,
    glyph: u16,
    /// Pen position of the glyph's origin, from the line's start.
    x: f32,
    advance: f32,
}

/// A shaped line of text at one size.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    glyphs: Vec<PlacedGlyph>,
    pub(crate) width: f32,
    pub(crate) size: f32,
    /// Height of a capital H above the baseline.
    pub(crate) cap_height: f32,
}

/// How to place a line relative to its anchor's X.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// A colour and a shift, for drawing the same glyphs more than once (a shadow, then the text).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layer {
    pub(crate) dx: f32,
    pub(crate) dy: f32,
    pub(crate) color: Rgba,
}

impl Layer {
    pub(crate) fn plain(color: Rgba) -> Self {
        Self { dx: 0.0, dy: 0.0, color }
    }
}

/// Shapes `text` on one line: control characters are dropped (line breaks and tabs become spaces),
/// each character comes from the family or, failing that, the first bundled family with the glyph,
/// and characters no font has are skipped.
pub(crate) fn shape(fonts: &Fonts, family: FamilyId, weight: Weight, text: &str, size: f32) -> Line {
    let mut glyphs = Vec::with_capacity(text.len());
    let mut pen = 0.0f32;
    let mut previous: Option<(usize, u16)> = None;
    for c in text.chars() {
        let c = match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => continue,
            c => c,
        };
        let Some((face, glyph)) = fonts.glyph_for(family, weight, c) else {
            continue;
        };
        let Some(font) = fonts.face(face) else { continue };
        if let Some((previous_face, previous_glyph)) = previous
            && previous_face == face
        {
            pen += font.horizontal_kern_indexed(previous_glyph, glyph, size).unwrap_or(0.0);
        }
        let advance = font.metrics_indexed(glyph, size).advance_width;
        glyphs.push(PlacedGlyph { face, glyph, x: pen, advance });
        pen += advance;
        previous = Some((face, glyph));
    }
    let cap_height = fonts
        .glyph_for(family, weight, 'H')
        .and_then(|(face, glyph)| fonts.face(face).map(|font| font.metrics_indexed(glyph, size).bounds))
        .map_or(size * 0.7, |bounds| bounds.ymin + bounds.height);
    Line { glyphs, width: pen.max(0.0), size, cap_height }
}

/// Shapes `text` at `size`; if wider than `max_width`, shrinks it (not below `min_size`), and if it
/// is still too wide, cuts it and ends it with an ellipsis.
pub(crate) fn fit(
    fonts: &Fonts,
    family: FamilyId,
    weight: Weight,
    text: &str,
    size: f32,
    min_size: f32,
    max_width: f32,
) -> Line {
    let max_width = max_width.max(0.0);
    let line = shape(fonts, family, weight, text, size);
    if line.width <= max_width || line.glyphs.is_empty() {
        return line;
    }
    let shrunk_size = (size * max_width / line.width).max(min_size.min(size));
    let mut line = shape(fonts, family, weight, text, shrunk_size);
    if line.width <= max_width {
        return line;
    }
    let ellipsis = shape(fonts, family, weight, &ELLIPSIS.to_string(), shrunk_size);
    let budget = max_width - ellipsis.width;
    let mut keep = line.glyphs.iter().take_while(|g| g.x + g.advance <= budget).count();
    // Do not leave a space just before the ellipsis.
    while keep > 0 && is_space_glyph(fonts, &line.glyphs[keep - 1]) {
        keep -= 1;
    }
    line.glyphs.truncate(keep);
    let pen = line.glyphs.last().map_or(0.0, |g| g.x + g.advance);
    if ellipsis.width <= max_width {
        line.glyphs.extend(ellipsis.glyphs.iter().map(|g| PlacedGlyph { x: pen + g.x, ..*g }));
        line.width = pen + ellipsis.width;
    } else {
        line.width = pen;
    }
    line
}

fn is_space_glyph(fonts: &Fonts, glyph: &PlacedGlyph) -> bool {
    fonts
        .face(glyph.face)
        .map(|font| font.metrics_indexed(glyph.glyph, 1.0))
        .is_none_or(|metrics| metrics.width == 0 || metrics.bounds.width == 0.0)
}

/// Draws `line` with its baseline at `baseline` and its anchor at `x`, once per layer in order.
pub(crate) fn draw(
    pixmap: &mut Pixmap,
    fonts: &Fonts,
    line: &Line,
    x: f32,
    baseline: f32,
    align: Align,
    layers: &[Layer],
) {
    let left = match align {
        Align::Left => x,
        Align::Center => x - line.width / 2.0,
        Align::Right => x - line.width,
    };
    for placed in &line.glyphs {
        let Some(font) = fonts.face(placed.face) else { continue };
        let (metrics, coverage) = font.rasterize_indexed(placed.glyph, line.size);
        if metrics.width == 0 || metrics.height == 0 {
            continue;
        }
        for layer in layers {
            let gx = (left + placed.x + layer.dx).round() as i32 + metrics.xmin;
            let gy = (baseline + layer.dy).round() as i32 - metrics.ymin - metrics.height as i32;
            blend_coverage(pixmap, &coverage, metrics.width, metrics.height, gx, gy, layer.color);
        }
    }
}

/// Source-over of `color` through an 8-bit coverage mask placed at (`x0`, `y0`), clipped to the pixmap.
pub(crate) fn blend_coverage(
    pixmap: &mut Pixmap,
    coverage: &[u8],
    mask_width: usize,
    mask_height: usize,
    x0: i32,
    y0: i32,
    color: Rgba,
) {
    if color.a == 0 {
        return;
    }
    let width = pixmap.width() as i32;
    let height = pixmap.height() as i32;
    let col_start = (-x0).max(0);
    let col_end = (width - x0).min(mask_width as i32);
    let row_start = (-y0).max(0);
    let row_end = (height - y0).min(mask_height as i32);
    if col_start >= col_end || row_start >= row_end {
        return;
    }
    let data = pixmap.data_mut();
    for row in row_start..row_end {
        let mask_row = &coverage[row as usize * mask_width..][..mask_width];
        let dst_row = ((y0 + row) * width) as usize;
        for col in col_start..col_end {
            let cov = mask_row[col as usize];
            if cov == 0 {
                continue;
            }
            let sa = mul_div_255(color.a, cov);
            if sa == 0 {
                continue;
            }
            let i = (dst_row + (x0 + col) as usize) * 4;
            let px = &mut data[i..i + 4];
            let inv = 255 - sa;
            px[0] = mul_div_255(color.r, sa).saturating_add(mul_div_255(px[0], inv));
            px[1] = mul_div_255(color.g, sa).saturating_add(mul_div_255(px[1], inv));
            px[2] = mul_div_255(color.b, sa).saturating_add(mul_div_255(px[2], inv));
            px[3] = sa.saturating_add(mul_div_255(px[3], inv));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use crate::fonts::test_fonts as fonts;

    #[test]
    fn shaping_skips_what_no_font_has_and_drops_controls() {
        let fonts = fonts();
        let family = fonts.resolve("Arial");
        let plain = shape(fonts, family, Weight::Regular, "Hi", 20.0);
        let with_missing = shape(fonts, family, Weight::Regular, "H\u{E000}漢\u{0007}i", 20.0);
        assert_eq!(plain.glyphs.len(), 2);
        assert_eq!(with_missing.glyphs.len(), 2);
        assert!((plain.width - with_missing.width).abs() < 0.01);
        assert_eq!(shape(fonts, family, Weight::Regular, "", 20.0).width, 0.0);
    }

    #[test]
    fn long_text_shrinks_then_ends_with_an_ellipsis() {
        let fonts = fonts();
        let family = fonts.resolve("Arial");
        let short = fit(fonts, family, Weight::Bold, "Hello", 30.0, 20.0, 500.0);
        assert_eq!(short.size, 30.0);
        let a_bit_long = shape(fonts, family, Weight::Bold, "Hello there", 30.0);
        let shrunk = fit(fonts, family, Weight::Bold, "Hello there", 30.0, 20.0, a_bit_long.width * 0.8);
        assert!(shrunk.size < 30.0 && shrunk.size >= 20.0, "{}", shrunk.size);
        assert!(shrunk.width <= a_bit_long.width * 0.8 + 0.01);
        let long = "W".repeat(200);
        let cut = fit(fonts, family, Weight::Bold, &long, 30.0, 20.0, 300.0);
        assert_eq!(cut.size, 20.0);
        assert!(cut.width <= 300.0, "{}", cut.width);
        assert!(cut.glyphs.len() < 200);
        let (ellipsis_face, ellipsis_glyph) = fonts.glyph_for(family, Weight::Bold, ELLIPSIS).unwrap();
        let last = cut.glyphs.last().unwrap();
        assert_eq!((last.face, last.glyph), (ellipsis_face, ellipsis_glyph));
        // Absurdly narrow: nothing fits, nothing panics.
        let none = fit(fonts, family, Weight::Bold, &long, 30.0, 20.0, 1.0);
        assert!(none.width <= 1.0);
    }

    #[test]
    fn blending_clips_at_every_edge() {
        let mut pixmap = Pixmap::new(4, 4).unwrap();
        let mask = [255u8; 9];
        for (x, y) in [(-2, -2), (3, 3), (-10, 0), (0, 10), (2, -1)] {
            blend_coverage(&mut pixmap, &mask, 3, 3, x, y, Rgba::rgb(255, 0, 0));
        }
        assert_eq!(pixmap.pixel(0, 0).unwrap().red(), 255);
        assert_eq!(pixmap.pixel(3, 3).unwrap().alpha(), 255);
        assert_eq!(pixmap.pixel(1, 2).unwrap().alpha(), 0);
    }
}
