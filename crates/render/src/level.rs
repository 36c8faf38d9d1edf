//! The level (rank) card.

use tiny_skia::Pixmap;

use crate::draw::{
    RoundedBox, TRANSPARENT, canvas, circle, draw_background_layer, draw_image_cover, fill_box,
    fill_horizontal_gradient, round_corners, rounded_rect,
};
use crate::fonts::{FamilyId, Weight};
use crate::text::{self, Align, Layer, Line};
use crate::{
    Background, DrawnCard, Encoding, Fonts, Image, LevelCard, PngCompression, Result, Rgba, format_minutes,
    format_thousands,
};

/// Renders a level card as PNG bytes (fast compression).
///
/// The background colour is always painted; `background`, when given, is cover-scaled over it with
/// the card's opacity and blur. Without an `avatar` the circle shows the username's first letter.
/// The layout is designed at 800x200 and scaled by the smaller of the two size ratios; the text
/// column stretches to the card's width. Text that does not fit shrinks, then ends with "…".
pub fn render_level_card(
    card: &LevelCard,
    avatar: Option<&Image>,
    background: Option<&Image>,
    fonts: &Fonts,
) -> Result<Vec<u8>> {
    card.validate()?;
    let background = background
        .map(|image| Background::prepare(image, card.width, card.height, card.background.blur_radius))
        .transpose()?;
    draw_level_card(card, avatar, background.as_ref(), fonts)?.encode(Encoding::Png(PngCompression::Fast))
}

/// Draws a level card, to encode in any [`Encoding`]: [`render_level_card`] with the background
/// already prepared for this card's size and blur ([`Background::prepare`]); the same pixels,
/// without the background work.
pub fn draw_level_card(
    card: &LevelCard,
    avatar: Option<&Image>,
    background: Option<&Background>,
    fonts: &Fonts,
) -> Result<DrawnCard> {
    card.validate()?;
    let layer = background.map(|b| b.layer_for(card.width, card.height, card.background.blur_radius)).transpose()?;
    paint(card, avatar, layer, fonts).map(DrawnCard::new)
}

struct Painter<'a> {
    pixmap: Pixmap,
    fonts: &'a Fonts,
    family: FamilyId,
    shadow: Option<Layer>,
}

impl Painter<'_> {
    fn fit(&self, weight: Weight, text: &str, size: f32, min_size: f32, max_width: f32) -> Line {
        text::fit(self.fonts, self.family, weight, text, size, min_size, max_width)
    }

    fn text(&mut self, line: &Line, x: f32, baseline: f32, align: Align, color: Rgba) {
        let main = Layer::plain(color);
        let layers: &[Layer] = match self.shadow {
            Some(shadow) => &[shadow, main],
            None => &[main],
        };
        text::draw(&mut self.pixmap, self.fonts, line, x, baseline, align, layers);
    }
}

fn paint(card: &LevelCard, avatar: Option<&Image>, background: Option<&Pixmap>, fonts: &Fonts) -> Result<Pixmap> {
    let (w, h) = (card.width as f32, card.height as f32);
    let s = (w / 800.0).min(h / 200.0);
    let top = (h - 200.0 * s) / 2.0;
    let offsets = &card.offsets;
    let mut pixmap = canvas(card.width, card.height)?;

    // Background: colour, optional image, a darker inset panel for contrast.
    pixmap.fill(card.background.color.to_skia());
    if let Some(layer) = background {
        draw_background_layer(&mut pixmap, layer, card.background.image_opacity, TRANSPARENT);
    }
    let inset = 12.0 * s;
    let panel = RoundedBox::new(inset, inset, w - 2.0 * inset, h - 2.0 * inset, 14.0 * s);
    fill_box(&mut pixmap, &panel, Rgba::new(0, 0, 0, 64));

    let shadow = background.map(|_| Layer { dx: 1.5 * s, dy: 1.5 * s, color: Rgba::new(0, 0, 0, 128) });
    let mut painter = Painter { pixmap, fonts, family: fonts.resolve(&card.font_family), shadow };

    // Avatar: a gradient ring, a backdrop, then the image (or the username's initial).
    let (acx, acy, ar) = (100.0 * s + offsets.avatar.dx(), top + 100.0 * s + offsets.avatar.dy(), 66.0 * s);
    if let Some(ring) = circle(acx, acy, ar + 5.0 * s) {
        fill_horizontal_gradient(
            &mut painter.pixmap,
            &ring,
            acx - ar,
            acx + ar,
            card.progress_start_color,
            card.progress_end_color,
        );
    }
    let disc = RoundedBox::circle(acx, acy, ar);
    fill_box(&mut painter.pixmap, &disc, Rgba { a: 255, ..card.background.color });
    fill_box(&mut painter.pixmap, &disc, Rgba::new(0, 0, 0, 64));
    match avatar {
        Some(image) => draw_image_cover(&mut painter.pixmap, image.as_pixmap(), &disc, 1.0, TRANSPARENT),
        None => {
            let initial: String = card.username.trim().chars().take(1).flat_map(char::to_uppercase).collect();
            let line = painter.fit(Weight::Bold, &initial, 64.0 * s, 64.0 * s, 1.6 * ar);
            painter.text(&line, acx, acy + line.cap_height / 2.0, Align::Center, card.username_color);
        }
    }

    let x0 = 190.0 * s;
    let x1 = w - 36.0 * s;
    let text_width = (x1 - x0).max(0.0);

    // Top row, right: RANK #n and LEVEL n; left: the username in what is left.
    let row1 = top + 74.0 * s;
    let label_size = 15.0 * s;
    let value_size = 34.0 * s;
    let gap = 6.0 * s;
    let level_label = painter.fit(Weight::Regular, "LEVEL", label_size, label_size, text_width);
    let level_value = painter.fit(Weight::Bold, &card.level.to_string(), value_size, 20.0 * s, 200.0 * s);
    let level_width = level_label.width + gap + level_value.width;
    let level_x = x1 - level_width + offsets.level.dx();
    let level_y = row1 + offsets.level.dy();
    painter.text(&level_label, level_x, level_y, Align::Left, card.level_color);
    painter.text(&level_value, level_x + level_label.width + gap, level_y, Align::Left, card.level_color);
    let mut right_block = level_width;

    let rank = card.rank.trim();
    if !rank.is_empty() {
        let rank_label = painter.fit(Weight::Regular, "RANK", label_size, label_size, text_width);
        let rank_value = painter.fit(Weight::Bold, rank, value_size, 20.0 * s, 160.0 * s);
        let rank_width = rank_label.width + gap + rank_value.width;
        right_block += 22.0 * s + rank_width;
        let rank_x = x1 - right_block + offsets.rank.dx();
        let rank_y = row1 + offsets.rank.dy();
        painter.text(&rank_label, rank_x, rank_y, Align::Left, card.text_color);
        painter.text(&rank_value, rank_x + rank_label.width + gap, rank_y, Align::Left, card.text_color);
    }

    let username_width = text_width - right_block - 24.0 * s;
    let username = painter.fit(Weight::Bold, card.username.trim(), 34.0 * s, 20.0 * s, username_width);
    painter.text(&username, x0 + offsets.username.dx(), row1 + offsets.username.dy(), Align::Left, card.username_color);

    // Stats line.
    let mut stats = format!(
        "Voice {}  \u{2022}  Messages {}",
        format_minutes(card.voice_minutes),
        format_thousands(card.message_count)
    );
    if let Some(activity) = card.activity_count {
        stats.push_str(&format!("  \u{2022}  Activity {}", format_thousands(activity)));
    }
    let stats_line = painter.fit(Weight::Regular, &stats, 17.0 * s, 12.0 * s, text_width);
    painter.text(
        &stats_line,
        x0 + offsets.stats.dx(),
        top + 110.0 * s + offsets.stats.dy(),
        Align::Left,
        card.text_color.with_alpha_factor(0.85),
    );

    // XP row: percentage left, "current / total XP" right.
    let percent = card.level_percent();
    let xp_y = top + 140.0 * s + offsets.xp_text.dy();
    let percent_line = painter.fit(Weight::Bold, &format!("{percent:.1}%"), 17.0 * s, 12.0 * s, text_width * 0.3);
    painter.text(&percent_line, x0 + offsets.xp_text.dx(), xp_y, Align::Left, card.level_color);
    let xp = format!("{} / {} XP", format_thousands(card.xp_current), format_thousands(card.xp_total));
    let xp_line = painter.fit(Weight::Regular, &xp, 17.0 * s, 12.0 * s, text_width * 0.65);
    painter.text(&xp_line, x1 + offsets.xp_text.dx(), xp_y, Align::Right, card.text_color);

    // Progress bar: a track, then the gradient fill up to the percentage.
    let bar_x = x0 + offsets.progress_bar.dx();
    let bar_y = top + 150.0 * s + offsets.progress_bar.dy();
    let bar_h = 24.0 * s;
    let track = RoundedBox::new(bar_x, bar_y, text_width, bar_h, bar_h / 2.0);
    fill_box(&mut painter.pixmap, &track, card.text_color.with_alpha_factor(0.18));
    if percent > 0.0 {
        let fill_w = (text_width * (percent as f32) / 100.0).max(bar_h).min(text_width);
        if let Some(fill) = rounded_rect(bar_x, bar_y, fill_w, bar_h, bar_h / 2.0) {
            fill_horizontal_gradient(
                &mut painter.pixmap,
                &fill,
                bar_x,
                bar_x + fill_w,
                card.progress_start_color,
                card.progress_end_color,
            );
        }
    }

    let mut pixmap = painter.pixmap;
    round_corners(&mut pixmap, 18.0 * s);
    Ok(pixmap)
}
