//! `/api/LevelCard/*` and `/api/WelcomeCard/*`: cards configured by headers, as the Noctra
//! specification has them. Headers become a card description here; [`crate::studio::CardStudio`]
//! fetches, renders and stores.
//!
//! Card failures answer `{"success":false,"message":...}` as the specification's examples do, with the
//! same text under `error` too, so clients of either convention read it.

use std::str::FromStr;

use actix_web::{
    HttpRequest, HttpResponse, get,
    http::{
        StatusCode,
        header::{self, HeaderMap},
    },
    web,
};
use base64::Engine;
use garrison_core::cards::{
    CardFormat, CardId, CardKind, ENCODING_METHODS, ImageFetchError, decode_header_text, strip_emoji,
};
use garrison_render::{AvatarShape, LevelCard, Offset, Rgba, WelcomeCard, parse_hex_color};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{AppState, error::ApiError};
use crate::studio::{CardError, OpenedCard, StoredCard};

fn card_failure(status: StatusCode, message: impl Into<String>) -> ApiError {
    let message = message.into();
    ApiError::with_body(status, message.clone(), json!({"success": false, "message": message, "error": message}))
}

fn bad_header(message: impl Into<String>) -> ApiError {
    card_failure(StatusCode::BAD_REQUEST, message)
}

impl From<CardError> for ApiError {
    fn from(err: CardError) -> Self {
        match &err {
            CardError::Fetch { source: ImageFetchError::Refused(_), .. }
            | CardError::Image { .. }
            | CardError::Card(_) => bad_header(err.to_string()),
            CardError::Fetch { .. } => card_failure(StatusCode::BAD_GATEWAY, err.to_string()),
            CardError::Busy { retry_after } => {
                card_failure(StatusCode::SERVICE_UNAVAILABLE, err.to_string()).retry_after(retry_after.as_secs().max(1))
            }
            CardError::Store(store) => {
                tracing::error!(error = %store, "object store failed");
                card_failure(StatusCode::SERVICE_UNAVAILABLE, "Object storage unavailable.")
            }
            CardError::Internal(_) => {
                tracing::error!(error = %err, "card rendering failed");
                card_failure(StatusCode::INTERNAL_SERVER_ERROR, "Internal error.")
            }
        }
    }
}

/// Reads card headers: text decoded per the encoding guide with emoji stripped, numbers, colours and
/// offsets, each failure naming its header.
struct CardHeaders<'a>(&'a HeaderMap);

impl CardHeaders<'_> {
    /// The header's bytes, when present and not blank.
    fn raw(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name).map(|v| v.as_bytes().trim_ascii()).filter(|v| !v.is_empty())
    }

    fn text(&self, name: &str) -> Result<Option<String>, ApiError> {
        let Some(raw) = self.raw(name) else { return Ok(None) };
        let (text, _) = decode_header_text(raw).ok_or_else(|| {
            bad_header(format!("{name}: cannot be decoded as text (see GET /api/WelcomeCard/encoding-guide)"))
        })?;
        Ok(Some(strip_emoji(&text)))
    }

    fn url(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.raw(name)
            .map(|raw| {
                std::str::from_utf8(raw).map(str::to_owned).map_err(|_| bad_header(format!("{name}: not a URL")))
            })
            .transpose()
    }

    fn number<T: FromStr>(&self, name: &str, what: &str) -> Result<Option<T>, ApiError> {
        let Some(raw) = self.raw(name) else { return Ok(None) };
        let text = std::str::from_utf8(raw).unwrap_or_default();
        text.parse().map(Some).map_err(|_| bad_header(format!("{name}: must be {what}, got {text:?}")))
    }

    fn color(&self, name: &'static str) -> Result<Option<Rgba>, ApiError> {
        let Some(raw) = self.raw(name) else { return Ok(None) };
        parse_hex_color(name, std::str::from_utf8(raw).unwrap_or_default())
            .map(Some)
            .map_err(|e| bad_header(e.to_string()))
    }

    /// `Format`: the card's file format (PNG unless asked).
    fn format(&self) -> Result<CardFormat, ApiError> {
        let Some(raw) = self.raw("Format") else { return Ok(CardFormat::Png) };
        let text = std::str::from_utf8(raw).unwrap_or_default();
        CardFormat::parse(text).ok_or_else(|| bad_header(format!("Format: must be png, webp or jpeg, got {text:?}")))
    }

    /// `{element}-Offset-X` and `{element}-Offset-Y`, in pixels (default 0).
    fn offset(&self, element: &str) -> Result<Offset, ApiError> {
        let x = self.number(&format!("{element}-Offset-X"), "a whole number of pixels")?.unwrap_or(0);
        let y = self.number(&format!("{element}-Offset-Y"), "a whole number of pixels")?.unwrap_or(0);
        Ok(Offset::new(x, y))
    }
}

fn view_url(state: &AppState, kind: CardKind, id: &CardId) -> String {
    let path = match kind {
        CardKind::Level => "/api/LevelCard/view/",
        CardKind::Welcome => "/api/WelcomeCard/view/",
    };
    format!("{}{path}{id}", state.site.public_url.trim_end_matches('/'))
}

// The schema of the answer; `level_card_body` writes the body (`LevelCardHead`'s fields, then the image).
/// A rendered level card: where to view it, its size, the username and level percentage drawn, and the
/// image itself in Base64 (PNG unless `Format` asked for WebP or JPEG).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LevelCardResponse {
    success: bool,
    #[schema(example = "https://garrison.example/api/LevelCard/view/0f8e0b6c5d4a3b2c1d0e9f8a7b6c5d4e")]
    direct_image_url: String,
    /// Image size in bytes.
    #[schema(example = 45000)]
    image_size: usize,
    #[schema(example = "JohnDoe")]
    username: String,
    /// `Xp-Current / Xp-Total` in percent, one decimal, 0..=100.
    #[schema(example = 50.0)]
    level_percent: f64,
    /// The image's format: `png`, `webp` or `jpeg` (the `Format` header).
    #[schema(example = "png")]
    format: String,
    /// The image, Base64-encoded.
    image_base64: String,
}

/// [`LevelCardResponse`] but the image.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LevelCardHead {
    success: bool,
    direct_image_url: String,
    image_size: usize,
    username: String,
    level_percent: f64,
    format: &'static str,
}

/// The level card's JSON answer: the head's fields as serde writes them, then `"imageBase64"`, the
/// image's Base64 written straight into the body. Base64 needs no JSON escaping, so the image (hundreds
/// of kilobytes) is neither scanned for characters to escape nor built as a string and copied.
fn level_card_body(head: &LevelCardHead, image: &[u8]) -> Result<Vec<u8>, ApiError> {
    // Padded Base64: four characters for every three bytes or part of them.
    let encoded_len = image.len().div_ceil(3) * 4;
    let mut body = Vec::with_capacity(256 + encoded_len);
    serde_json::to_writer(&mut body, head).map_err(ApiError::internal)?;
    // `{...}` becomes `{...,"imageBase64":"..."}`.
    body.pop();
    body.extend_from_slice(b",\"imageBase64\":\"");
    let start = body.len();
    body.resize(start + encoded_len, 0);
    base64::engine::general_purpose::STANDARD.encode_slice(image, &mut body[start..]).map_err(ApiError::internal)?;
    body.extend_from_slice(b"\"}");
    Ok(body)
}

/// Render a level (rank) card from headers; the image (PNG unless `Format` says otherwise) is stored and
/// served at `directImageUrl`.
#[utoipa::path(tag = "Cards", params(
    ("Username" = String, Header, description = "Display name (Base64 or URL-encoded for non-ASCII; emoji stripped)"),
    ("Avatar-Url" = String, Header, description = "HTTPS avatar URL on an allowed host"),
    ("Level" = Option<u64>, Header), ("Xp-Current" = Option<u64>, Header), ("Xp-Total" = Option<u64>, Header, description = "XP for the next level"),
    ("Rank" = Option<String>, Header, description = "e.g. #3"), ("Voice-Time" = Option<u64>, Header, description = "minutes"),
    ("Message-Count" = Option<u64>, Header), ("Activity-Count" = Option<u64>, Header),
    ("Background-Url" = Option<String>, Header), ("Background-Color" = Option<String>, Header, description = "#2f3136"),
    ("Background-Opacity" = Option<f32>, Header, description = "0..=1, of the background image"), ("Background-Blur" = Option<u32>, Header, description = "pixels, 0..=40"),
    ("Username-Color" = Option<String>, Header), ("Level-Color" = Option<String>, Header), ("Text-Color" = Option<String>, Header),
    ("Progress-Bar-Start-Color" = Option<String>, Header), ("Progress-Bar-End-Color" = Option<String>, Header),
    ("Card-Width" = Option<u32>, Header, description = "200..=2000, default 800"), ("Card-Height" = Option<u32>, Header, description = "100..=1000, default 200"),
    ("Typography-Family" = Option<String>, Header, description = "a key or alias from GET /api/WelcomeCard/fonts"),
    ("Avatar-Offset-X" = Option<i32>, Header, description = "and -Y; likewise Username-, Level-, Rank-, Xp-, Progress-Bar-, Stats-Offset-X/Y"),
    ("Format" = Option<String>, Header, description = "png (default), webp (lossless, smaller) or jpeg (smallest; rounded corners filled with #313338)"),
), responses(
    (status = 200, body = LevelCardResponse),
    (status = 400, description = "`{\"success\":false,\"message\":\"Required headers missing\",\"required\":[\"Username\",\"Avatar-Url\"]}`, or a bad header named in `message`"),
    (status = 502, description = "an image host failed"),
    (status = 503, description = "too many cards in progress (`Retry-After` says when to try again), or object storage unavailable")))]
#[get("/api/LevelCard/generate")]
pub async fn generate_level_card(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let h = CardHeaders(req.headers());
    let username = h.text("Username")?;
    let avatar_url = h.url("Avatar-Url")?;
    let (Some(username), Some(avatar_url)) = (username, avatar_url) else {
        // The specification's body, word for word: `required` names both headers whichever is missing.
        return Err(ApiError::with_body(
            StatusCode::BAD_REQUEST,
            "Required headers missing: Username, Avatar-Url",
            json!({"success": false, "message": "Required headers missing", "required": ["Username", "Avatar-Url"]}),
        ));
    };
    let mut card = LevelCard::new(username);
    card.level = h.number("Level", "a whole number")?.unwrap_or(0);
    card.xp_current = h.number("Xp-Current", "a whole number")?.unwrap_or(0);
    card.xp_total = h.number("Xp-Total", "a whole number")?.unwrap_or(0);
    card.rank = h.text("Rank")?.unwrap_or_default();
    card.voice_minutes = h.number("Voice-Time", "a whole number of minutes")?.unwrap_or(0);
    card.message_count = h.number("Message-Count", "a whole number")?.unwrap_or(0);
    card.activity_count = h.number("Activity-Count", "a whole number")?;
    if let Some(color) = h.color("Background-Color")? {
        card.background.color = color;
    }
    if let Some(opacity) = h.number("Background-Opacity", "a number from 0 to 1")? {
        card.background.image_opacity = opacity;
    }
    if let Some(blur) = h.number("Background-Blur", "a whole number of pixels")? {
        card.background.blur_radius = blur;
    }
    for (name, slot) in [
        ("Username-Color", &mut card.username_color),
        ("Level-Color", &mut card.level_color),
        ("Text-Color", &mut card.text_color),
        ("Progress-Bar-Start-Color", &mut card.progress_start_color),
        ("Progress-Bar-End-Color", &mut card.progress_end_color),
    ] {
        if let Some(color) = h.color(name)? {
            *slot = color;
        }
    }
    card.width = h.number("Card-Width", "a whole number of pixels")?.unwrap_or(card.width);
    card.height = h.number("Card-Height", "a whole number of pixels")?.unwrap_or(card.height);
    if let Some(family) = h.text("Typography-Family")? {
        card.font_family = family;
    }
    card.offsets.avatar = h.offset("Avatar")?;
    card.offsets.username = h.offset("Username")?;
    card.offsets.level = h.offset("Level")?;
    card.offsets.rank = h.offset("Rank")?;
    card.offsets.xp_text = h.offset("Xp")?;
    card.offsets.progress_bar = h.offset("Progress-Bar")?;
    card.offsets.stats = h.offset("Stats")?;
    let background_url = h.url("Background-Url")?;
    let format = h.format()?;

    let username = card.username.clone();
    let level_percent = card.level_percent();
    let StoredCard { id, bytes } = state.cards.level(card, &avatar_url, background_url.as_deref(), format).await?;
    let head = LevelCardHead {
        success: true,
        direct_image_url: view_url(&state, CardKind::Level, &id),
        image_size: bytes.len(),
        username,
        level_percent,
        format: id.format().name(),
    };
    Ok(HttpResponse::Ok().content_type("application/json").body(level_card_body(&head, &bytes)?))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WelcomeCardResponse {
    success: bool,
    #[schema(example = "https://garrison.example/api/WelcomeCard/view/0f8e0b6c5d4a3b2c1d0e9f8a7b6c5d4e")]
    direct_image_url: String,
    /// Image size in bytes.
    #[schema(example = 85000)]
    image_size: usize,
    /// The image's format: `png`, `webp` or `jpeg` (the `Format` header).
    #[schema(example = "png")]
    format: &'static str,
}

/// Render a welcome card from headers; the image (PNG unless `Format` says otherwise) is stored and served
/// at `directImageUrl`.
#[utoipa::path(tag = "Cards", params(
    ("Background-Image" = String, Header, description = "HTTPS background URL on an allowed host"),
    ("Profile-Avatar" = String, Header, description = "HTTPS avatar URL on an allowed host"),
    ("Display-Name" = Option<String>, Header), ("Guild-Name" = Option<String>, Header),
    ("Greeting-Text" = Option<String>, Header, description = "default Welcome"), ("Member-Count" = Option<String>, Header, description = "e.g. Member #123"),
    ("Primary-Text-Color" = Option<String>, Header, description = "#FFFFFF"), ("Secondary-Text-Color" = Option<String>, Header, description = "#64C8FF"),
    ("Avatar-Shape" = Option<String>, Header, description = "circle (default) or rounded"),
    ("Overlay-Opacity" = Option<f32>, Header, description = "0..=1, darkening over the background, default 0.45"),
    ("Canvas-Width" = Option<u32>, Header, description = "200..=2000, default 1024"), ("Canvas-Height" = Option<u32>, Header, description = "100..=1000, default 400"),
    ("Typography-Family" = Option<String>, Header),
    ("Avatar-Offset-X" = Option<i32>, Header, description = "and -Y; likewise Greeting-, Display-Name-, Guild-Name-, Member-Count-Offset-X/Y"),
    ("Format" = Option<String>, Header, description = "png (default), webp (lossless, smaller) or jpeg (smallest; rounded corners filled with #313338)"),
), responses(
    (status = 200, body = WelcomeCardResponse),
    (status = 400, description = "`{\"success\":false,\"message\":\"Required headers missing: Background-Image and Profile-Avatar\"}`, or a bad header named in `message`"),
    (status = 502, description = "an image host failed"),
    (status = 503, description = "too many cards in progress (`Retry-After` says when to try again), or object storage unavailable")))]
#[get("/api/WelcomeCard/generate")]
pub async fn generate_welcome_card(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<web::Json<WelcomeCardResponse>, ApiError> {
    let h = CardHeaders(req.headers());
    let (Some(background_url), Some(avatar_url)) = (h.url("Background-Image")?, h.url("Profile-Avatar")?) else {
        // The specification's body, word for word, whichever of the two is missing.
        let message = "Required headers missing: Background-Image and Profile-Avatar";
        return Err(ApiError::with_body(
            StatusCode::BAD_REQUEST,
            message,
            json!({"success": false, "message": message}),
        ));
    };
    let mut card = WelcomeCard::new(h.text("Display-Name")?.unwrap_or_default());
    card.guild_name = h.text("Guild-Name")?.unwrap_or_default();
    if let Some(greeting) = h.text("Greeting-Text")? {
        card.greeting = greeting;
    }
    card.member_count = h.text("Member-Count")?.unwrap_or_default();
    if let Some(color) = h.color("Primary-Text-Color")? {
        card.primary_color = color;
    }
    if let Some(color) = h.color("Secondary-Text-Color")? {
        card.secondary_color = color;
    }
    if let Some(shape) = h.raw("Avatar-Shape") {
        let text = std::str::from_utf8(shape).unwrap_or_default();
        card.avatar_shape = AvatarShape::parse(text)
            .ok_or_else(|| bad_header(format!("Avatar-Shape: must be circle or rounded, got {text:?}")))?;
    }
    if let Some(opacity) = h.number("Overlay-Opacity", "a number from 0 to 1")? {
        card.overlay_opacity = opacity;
    }
    card.width = h.number("Canvas-Width", "a whole number of pixels")?.unwrap_or(card.width);
    card.height = h.number("Canvas-Height", "a whole number of pixels")?.unwrap_or(card.height);
    if let Some(family) = h.text("Typography-Family")? {
        card.font_family = family;
    }
    card.offsets.avatar = h.offset("Avatar")?;
    card.offsets.greeting = h.offset("Greeting")?;
    card.offsets.display_name = h.offset("Display-Name")?;
    card.offsets.guild_name = h.offset("Guild-Name")?;
    card.offsets.member_count = h.offset("Member-Count")?;
    let format = h.format()?;

    let StoredCard { id, bytes } = state.cards.welcome(card, &background_url, &avatar_url, format).await?;
    Ok(web::Json(WelcomeCardResponse {
        success: true,
        direct_image_url: view_url(&state, CardKind::Welcome, &id),
        image_size: bytes.len(),
        format: id.format().name(),
    }))
}

async fn view(
    state: web::Data<AppState>,
    req: HttpRequest,
    kind: CardKind,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, format!("no card with id {id:?}"));
    let etag = format!("\"{id}\"");
    let OpenedCard { format, size, bytes } = state.cards.open(kind, id).await?.ok_or_else(not_found)?;
    let cached = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str());
    let mut response = if cached { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    // Ids are hashes of everything that decides the pixels: a card never changes under its URL.
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, etag));
    if cached {
        return Ok(response.finish());
    }
    Ok(response.content_type(format.content_type()).no_chunking(size).streaming(futures_util::TryStreamExt::map_err(
        bytes,
        |e| {
            tracing::error!(error = %e, "reading a stored card failed");
            std::io::Error::other("object store read failed")
        },
    )))
}

/// Serve a stored level card.
#[utoipa::path(tag = "Cards", params(("id" = String, Path, description = "from directImageUrl: 32 hex digits, then .webp or .jpg for those formats")),
    responses((status = 200, description = "the image, in the format its id names; cacheable forever", content((String = "image/png"), (String = "image/webp"), (String = "image/jpeg"))), (status = 304), (status = 404)))]
#[get("/api/LevelCard/view/{id}")]
pub async fn view_level_card(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    view(state, req, CardKind::Level, &id).await
}

/// Serve a stored welcome card.
#[utoipa::path(tag = "Cards", params(("id" = String, Path, description = "from directImageUrl: 32 hex digits, then .webp or .jpg for those formats")),
    responses((status = 200, description = "the image, in the format its id names; cacheable forever", content((String = "image/png"), (String = "image/webp"), (String = "image/jpeg"))), (status = 304), (status = 404)))]
#[get("/api/WelcomeCard/view/{id}")]
pub async fn view_welcome_card(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    view(state, req, CardKind::Welcome, &id).await
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FontView {
    #[schema(example = "liberation-sans")]
    key: &'static str,
    #[schema(example = "Liberation Sans")]
    display_name: &'static str,
    /// Other names that select this family (e.g. Arial).
    aliases: Vec<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FontsResponse {
    success: bool,
    fonts: Vec<FontView>,
}

/// The font families bundled for cards: send a `key` (or an alias) as `Typography-Family`.
#[utoipa::path(tag = "Cards", responses((status = 200, body = FontsResponse)))]
#[get("/api/WelcomeCard/fonts")]
pub async fn fonts() -> web::Json<FontsResponse> {
    let fonts = garrison_render::Fonts::bundled()
        .iter()
        .map(|family| FontView {
            key: family.key,
            display_name: family.display_name,
            aliases: garrison_render::FAMILY_ALIASES
                .iter()
                .filter(|(_, key)| *key == family.key)
                .map(|(alias, _)| *alias)
                .collect(),
        })
        .collect();
    web::Json(FontsResponse { success: true, fonts })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EncodingMethod {
    name: &'static str,
    description: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncodingGuideResponse {
    #[schema(example = "0.1.0")]
    version: &'static str,
    #[schema(example = "Smart Auto-Detect Encoding")]
    system: &'static str,
    methods: Vec<EncodingMethod>,
    /// Hosts avatar and background URLs may point at.
    allowed_domains: Vec<String>,
    emoji: &'static str,
}

/// How to send non-ASCII text in card headers, and which image hosts are allowed.
#[utoipa::path(tag = "Cards", responses((status = 200, body = EncodingGuideResponse)))]
#[get("/api/WelcomeCard/encoding-guide")]
pub async fn encoding_guide(state: web::Data<AppState>) -> web::Json<EncodingGuideResponse> {
    web::Json(EncodingGuideResponse {
        version: env!("CARGO_PKG_VERSION"),
        system: "Smart Auto-Detect Encoding",
        methods: ENCODING_METHODS.iter().map(|(name, description)| EncodingMethod { name, description }).collect(),
        allowed_domains: state.cards.allowed_hosts().to_vec(),
        emoji: "Emoji are stripped from every text field before drawing; text symbols such as ★ ♥ ✓ are kept.",
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::{LevelCardHead, level_card_body};

    #[test]
    fn the_level_card_answer_is_json_with_the_image_last() {
        let head = LevelCardHead {
            success: true,
            direct_image_url: "https://g.example/api/LevelCard/view/ab".into(),
            image_size: 4,
            username: "Jo \"the\" \u{1F600} \\ name".into(),
            level_percent: 12.5,
            format: "png",
        };
        for png in [&b""[..], b"\x89", b"\x89P", b"\x89PN", b"\x89PNG\r\n\x1a\n\0\xff"] {
            let body = level_card_body(&head, png).expect("a body");
            let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            assert_eq!(json["success"], true);
            assert_eq!(json["username"], "Jo \"the\" \u{1F600} \\ name");
            assert_eq!(json["levelPercent"], 12.5);
            assert_eq!(json["imageSize"], 4);
            assert_eq!(json["format"], "png");
            let image = json["imageBase64"].as_str().expect("imageBase64");
            assert_eq!(base64::engine::general_purpose::STANDARD.decode(image).expect("Base64"), png);
        }
    }
}
