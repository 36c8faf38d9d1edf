//! A role's looks as a request describes them (`Role-Name`, `Color`, `Gradient-Color`, `Icon-URL`), and
//! the rules they must meet before Discord is asked: a name of at most 100 characters, colours written
//! `#RRGGBB`, gradients of 2 or 3 colours, an icon that is a PNG, JPEG, GIF or WebP image of at most
//! 256 KiB that decodes. The icon is fetched through the [`IconSource`] port (the binary's safe
//! fetcher) and handed to Discord as a data URI.

use std::{future::Future, pin::Pin};

use base64::Engine;

/// The longest role name Discord accepts, in characters.
pub const MAX_ROLE_NAME_CHARS: usize = 100;
/// The largest role icon Discord accepts, in bytes.
pub const MAX_ICON_BYTES: usize = 256 * 1024;

/// The header naming a role.
pub const NAME_FIELD: &str = "Role-Name";
/// The header with a solid colour.
pub const COLOR_FIELD: &str = "Color";
/// The header with gradient colours.
pub const GRADIENT_FIELD: &str = "Gradient-Color";
/// The header with the icon's URL.
pub const ICON_FIELD: &str = "Icon-URL";

/// The looks a request asks for, as the caller wrote them (each `None` when not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LooksRequest {
    pub name: Option<String>,
    pub color: Option<String>,
    pub gradient: Option<String>,
    pub icon_url: Option<String>,
}

/// A role's checked looks: name, colours and icon. It has no permission, hoist or mentionable field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleLooks {
    pub name: Option<String>,
    /// The solid colour, `0xRRGGBB`.
    pub color: Option<u32>,
    /// Two or three gradient colours, for guilds with `ENHANCED_ROLE_COLORS`.
    pub gradient: Option<Vec<u32>>,
    /// The icon as a data URI.
    pub icon: Option<String>,
}

/// Why a role's looks (or another role header) are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LooksError {
    /// A value breaks a rule; the message names the header (`Color: must be ...`).
    #[error("{0}")]
    Invalid(String),
    /// The icon's host could not be reached or failed; the message names the header.
    #[error("{0}")]
    IconUnavailable(String),
}

/// Why an icon could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IconFetchError {
    /// The URL is not one the fetcher may fetch (scheme, port, address), or the file is too large.
    #[error("{0}")]
    Refused(String),
    /// The host did not answer, or answered with an error.
    #[error("{0}")]
    Unavailable(String),
}

/// A boxed future of [`IconSource::fetch`].
pub type IconFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, IconFetchError>> + Send + 'a>>;

/// Where role icons come from: a URL a caller supplied, fetched safely, and a decoder to prove the
/// bytes are an image.
pub trait IconSource: Send + Sync {
    /// The file at `url` (HTTPS, a public host, size- and time-capped).
    fn fetch<'a>(&'a self, url: &'a str) -> IconFuture<'a>;
    /// Whether `bytes` decode as an image under the decoder's limits (the reason when they do not).
    fn decodes(&self, bytes: &[u8]) -> Result<(), String>;
}

fn invalid(message: String) -> LooksError {
    LooksError::Invalid(message)
}

/// A role name: at most [`MAX_ROLE_NAME_CHARS`] characters.
pub fn role_name(text: &str) -> Result<String, LooksError> {
    if text.chars().count() > MAX_ROLE_NAME_CHARS {
        return Err(invalid(format!("{NAME_FIELD}: at most {MAX_ROLE_NAME_CHARS} characters")));
    }
    Ok(text.to_owned())
}

/// `#RRGGBB` (or `RRGGBB`) as `0xRRGGBB`; `field` names the header in the refusal.
pub fn hex_color(field: &str, text: &str) -> Result<u32, LooksError> {
    let hex = text.trim().trim_start_matches('#');
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(format!("{field}: must be a colour like #ff0000, got {text:?}")));
    }
    u32::from_str_radix(hex, 16).map_err(|_| invalid(format!("{field}: must be a colour like #ff0000")))
}

/// Two or three comma-separated colours.
pub fn gradient(text: &str) -> Result<Vec<u32>, LooksError> {
    let colors = text.split(',').map(|c| hex_color(GRADIENT_FIELD, c)).collect::<Result<Vec<_>, _>>()?;
    if !(2..=3).contains(&colors.len()) {
        return Err(invalid(format!("{GRADIENT_FIELD}: give 2 or 3 colours, comma-separated")));
    }
    Ok(colors)
}

/// A yes-or-no header (`true`/`1`/`yes`, `false`/`0`/`no`, any letter case).
pub fn flag(field: &str, text: &str) -> Result<bool, LooksError> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(invalid(format!("{field}: must be true or false, got {text:?}"))),
    }
}

/// The type of an image Discord takes (PNG, JPEG, GIF or WebP) from its first bytes, if it is one.
pub fn image_mime(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The image type of an icon from its first bytes (PNG, JPEG, GIF or WebP), within
/// [`MAX_ICON_BYTES`].
pub fn icon_mime(bytes: &[u8]) -> Result<&'static str, LooksError> {
    let mime = image_mime(bytes).ok_or_else(|| invalid(format!("{ICON_FIELD}: not a PNG, JPEG, GIF or WebP image")))?;
    if bytes.len() > MAX_ICON_BYTES {
        return Err(invalid(format!("{ICON_FIELD}: the icon is larger than Discord's {MAX_ICON_BYTES} bytes")));
    }
    Ok(mime)
}

/// Checks a request's looks, in the order the headers are read (name, colour, gradient), then fetches
/// the icon, checks its type and size and that it decodes, and makes it a data URI. `default_name`
/// stands in for a missing `Role-Name`.
pub async fn resolve(
    icons: &dyn IconSource,
    request: LooksRequest,
    default_name: Option<&str>,
) -> Result<RoleLooks, LooksError> {
    let name = request.name.as_deref().or(default_name).map(role_name).transpose()?;
    let color = request.color.as_deref().map(|c| hex_color(COLOR_FIELD, c)).transpose()?;
    let gradient = request.gradient.as_deref().map(gradient).transpose()?;
    let icon = match request.icon_url.as_deref() {
        Some(url) => {
            let bytes = icons.fetch(url).await.map_err(|e| match e {
                IconFetchError::Refused(e) => invalid(format!("{ICON_FIELD}: {e}")),
                IconFetchError::Unavailable(e) => LooksError::IconUnavailable(format!("{ICON_FIELD}: {e}")),
            })?;
            let mime = icon_mime(&bytes)?;
            icons.decodes(&bytes).map_err(|e| invalid(format!("{ICON_FIELD}: the image cannot be decoded: {e}")))?;
            Some(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(&bytes)))
        }
        None => None,
    };
    Ok(RoleLooks { name, color, gradient, icon })
}

#[cfg(test)]
mod tests {
    use std::{
        pin::pin,
        task::{Context, Poll, Waker},
    };

    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    struct Icons(Result<Vec<u8>, IconFetchError>, Result<(), String>);

    impl IconSource for Icons {
        fn fetch<'a>(&'a self, _: &'a str) -> IconFuture<'a> {
            Box::pin(std::future::ready(self.0.clone()))
        }
        fn decodes(&self, _: &[u8]) -> Result<(), String> {
            self.1.clone()
        }
    }

    fn now<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("the fake icon source never waits"),
        }
    }

    fn message(err: LooksError) -> String {
        err.to_string()
    }

    #[test]
    fn names_colours_and_gradients_are_checked_naming_the_header() {
        assert_eq!(role_name(&"é".repeat(100)).expect("100 characters").chars().count(), 100);
        assert_eq!(message(role_name(&"a".repeat(101)).expect_err("101")), "Role-Name: at most 100 characters");
        assert_eq!(hex_color(COLOR_FIELD, "#ff0000"), Ok(0xff0000));
        assert_eq!(hex_color(COLOR_FIELD, " 5865F2 "), Ok(0x5865f2));
        assert_eq!(
            message(hex_color(COLOR_FIELD, "red").expect_err("red")),
            "Color: must be a colour like #ff0000, got \"red\""
        );
        assert_eq!(gradient("#ff0000,#00ff00"), Ok(vec![0xff0000, 0x00ff00]));
        assert!(gradient("#ff0000,#00ff00,#0000ff").is_ok());
        assert_eq!(
            message(gradient("#ff0000").expect_err("one")),
            "Gradient-Color: give 2 or 3 colours, comma-separated"
        );
        assert!(message(gradient("#ff0000,nope").expect_err("bad")).starts_with("Gradient-Color: must be a colour"));
        assert_eq!((flag("Hoist", "YES"), flag("Hoist", "0")), (Ok(true), Ok(false)));
        assert_eq!(message(flag("Hoist", "maybe").expect_err("maybe")), "Hoist: must be true or false, got \"maybe\"");
    }

    #[test]
    fn icons_are_sniffed_and_bounded() {
        assert_eq!(icon_mime(PNG), Ok("image/png"));
        assert_eq!(icon_mime(&[0xff, 0xd8, 0xff, 0xe0]), Ok("image/jpeg"));
        assert_eq!(icon_mime(b"GIF89a...."), Ok("image/gif"));
        assert_eq!(icon_mime(b"RIFF\0\0\0\0WEBPVP8 "), Ok("image/webp"));
        let html = message(icon_mime(b"<html>not an image</html>").expect_err("markup"));
        assert_eq!(html, "Icon-URL: not a PNG, JPEG, GIF or WebP image");
        let mut big = PNG.to_vec();
        big.resize(MAX_ICON_BYTES + 1, 0);
        assert_eq!(
            message(icon_mime(&big).expect_err("too big")),
            "Icon-URL: the icon is larger than Discord's 262144 bytes"
        );
        big.truncate(MAX_ICON_BYTES);
        assert!(icon_mime(&big).is_ok());
    }

    #[test]
    fn resolved_looks_carry_the_icon_as_a_data_uri() {
        let request = LooksRequest { icon_url: Some("https://cdn.example/i.png".into()), ..LooksRequest::default() };
        let looks =
            now(resolve(&Icons(Ok(PNG.to_vec()), Ok(())), request.clone(), Some("Custom Booster"))).expect("resolved");
        assert_eq!(looks.name.as_deref(), Some("Custom Booster"));
        assert!(looks.icon.as_deref().is_some_and(|i| i.starts_with("data:image/png;base64,iVBORw0KGgo")));

        let refused = Icons(Err(IconFetchError::Refused("port 80 is not allowed".into())), Ok(()));
        let err = now(resolve(&refused, request.clone(), None)).expect_err("refused");
        assert_eq!(err, LooksError::Invalid("Icon-URL: port 80 is not allowed".into()));
        let down = Icons(Err(IconFetchError::Unavailable("timed out".into())), Ok(()));
        let err = now(resolve(&down, request.clone(), None)).expect_err("unavailable");
        assert_eq!(err, LooksError::IconUnavailable("Icon-URL: timed out".into()));
        let broken = Icons(Ok(PNG.to_vec()), Err("truncated".into()));
        let err = now(resolve(&broken, request, None)).expect_err("does not decode");
        assert_eq!(err.to_string(), "Icon-URL: the image cannot be decoded: truncated");
    }
}
