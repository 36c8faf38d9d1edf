//! The welcome card.

use tiny_skia::Pixmap;

use crate::draw::{RoundedBox, TRANSPARENT, canvas, draw_background_layer, draw_image_cover, fill_box, round_corners};
use crate::fonts::Weight;
use crate::text::{self, Align, Layer};
use crate::{AvatarShape, Background, DrawnCard, Encoding, Fonts, Image, PngCompression, Result, Rgba, WelcomeCard};

/// Renders a welcome card as PNG bytes (fast compression).
///
/// `background` is cover-scaled over the whole card under a dark overlay (`overlay_opacity`); the
/// avatar sits centred at the top inside a ring of the secondary colour, then the greeting, the
/// display name, the guild name and the member count, each centred. The layout is designed at
/// 1024x400 and scaled by the smaller of the two size ratios. Empty texts are not drawn; text that
/// does not fit shrinks, then ends with "…".
pub fn render_welcome_card(card: &WelcomeCard, avatar: &Image, background: &Image, fonts: &Fonts) -> Result<Vec<u8>> {
    card.validate()?;
    let background = Background::prepare(background, card.width, card.height, 0)?;
    draw_welcome_card(card, avatar, &background, fonts)?.encode(Encoding::Png(PngCompression::Fast))
}

/// Draws a welcome card, to encode in any [`Encoding`]: [`render_welcome_card`] with the background
/// already prepared for this card's size (blur 0, [`Background::prepare`]); the same pixels,
/// without the background work.
pub fn draw_welcome_card(
    card: &WelcomeCard,
    avatar: &Image,
    background: &Background,
    fonts: &Fonts,
) -> Result<DrawnCard> {
    card.validate()?;
    paint(card, avatar, background.layer_for(card.width, card.height, 0)?, fonts).map(DrawnCard::new)
}

fn avatar_box(shape: AvatarShape, cx: f32, cy: f32, radius: f32) -> RoundedBox {
    match shape {
        AvatarShape::Circle => RoundedBox::circle(cx, cy, radius),
        AvatarShape::RoundedRect => {
            RoundedBox::new(cx - radius, cy - radius, 2.0 * radius, 2.0 * radius, radius * 0.45)
        }
    }
}

fn paint(card: &WelcomeCard, avatar: &Image, background: &Pixmap, fonts: &Fonts) -> Result<Pixmap> {
    let (w, h) = (card.width as f32, card.height as f32);
    let s = (w / 1024.0).min(h / 400.0);
    let top = (h - 400.0 * s) / 2.0;
    let cx = w / 2.0;
    let offsets = &card.offsets;
    let mut pixmap = canvas(card.width, card.height)?;

    pixmap.fill(Rgba::rgb(0x23, 0x27, 0x2a).to_skia());
    let overlay = Rgba::rgb(0, 0, 0).with_alpha_factor(card.overlay_opacity);
    draw_background_layer(&mut pixmap, background, 1.0, overlay);

    // Avatar: a ring in the secondary colour, a dark backdrop, the image.
    let (acx, acy, ar) = (cx + offsets.avatar.dx(), top + 112.0 * s + offsets.avatar.dy(), 80.0 * s);
    fill_box(&mut pixmap, &avatar_box(card.avatar_shape, acx, acy, ar + 6.0 * s), card.secondary_color);
    let shape = avatar_box(card.avatar_shape, acx, acy, ar);
    fill_box(&mut pixmap, &shape, Rgba::rgb(0x2f, 0x31, 0x36));
    draw_image_cover(&mut pixmap, avatar.as_pixmap(), &shape, 1.0, TRANSPARENT);

    let family = fonts.resolve(&card.font_family);
    let max_width = w - 80.0 * s;
    let shadow = Layer { dx: 2.0 * s, dy: 2.0 * s, color: Rgba::new(0, 0, 0, 150) };
    let lines = [
        (card.greeting.trim(), Weight::Bold, 52.0, 30.0, 262.0, offsets.greeting, card.primary_color),
        (card.display_name.trim(), Weight::Bold, 38.0, 24.0, 310.0, offsets.display_name, card.secondary_color),
        (
            card.guild_name.trim(),
            Weight::Regular,
            24.0,
            16.0,
            346.0,
            offsets.guild_name,
            card.primary_color.with_alpha_factor(0.9),
        ),
        (
            card.member_count.trim(),
            Weight::Regular,
            20.0,
            14.0,
            378.0,
            offsets.member_count,
            card.primary_color.with_alpha_factor(0.75),
        ),
    ];
    for (content, weight, size, min_size, baseline, offset, color) in lines {
        if content.is_empty() {
            continue;
        }
        let line = text::fit(fonts, family, weight, content, size * s, min_size * s, max_width);
        text::draw(
            &mut pixmap,
            fonts,
            &line,
            cx + offset.dx(),
            top + baseline * s + offset.dy(),
            Align::Center,
            &[shadow, Layer::plain(color)],
        );
    }

    round_corners(&mut pixmap, 24.0 * s);
    Ok(pixmap)
}
