//! The bundled font families, parsed once, and how a requested family name finds one of them.

use std::sync::OnceLock;

use fontdue::{Font, FontSettings};

use crate::{Error, Result};

/// The family used when a requested name matches no family and no alias.
pub const DEFAULT_FAMILY_KEY: &str = "dejavu-sans";

/// A bundled family as listed to clients: the key to send and a name to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FontFamilyInfo {
    pub key: &'static str,
    pub display_name: &'static str,
}

/// Names commonly asked for, mapped to the bundled family that stands in for them (by metrics or by
/// look). Matching ignores case and everything but letters and digits, so `"Segoe-UI"`,
/// `"segoe ui"` and `"SegoeUI"` are the same name. Family keys and display names match too.
pub const FAMILY_ALIASES: &[(&str, &str)] = &[
    // Liberation Sans is metric-compatible with Arial (and so with Helvetica's widths).
    ("Arial", "liberation-sans"),
    ("Helvetica", "liberation-sans"),
    ("Helvetica Neue", "liberation-sans"),
    ("Arimo", "liberation-sans"),
    ("Liberation", "liberation-sans"),
    // DejaVu Sans descends from Bitstream Vera, a wide humanist sans like Verdana and Tahoma.
    ("Verdana", "dejavu-sans"),
    ("Tahoma", "dejavu-sans"),
    ("Bitstream Vera Sans", "dejavu-sans"),
    ("DejaVu", "dejavu-sans"),
    ("sans-serif", "dejavu-sans"),
    // Open Sans is the humanist sans closest to the UI faces of Windows, Android and Discord.
    ("Segoe UI", "open-sans"),
    ("Noto Sans", "open-sans"),
    ("Roboto", "open-sans"),
    ("Calibri", "open-sans"),
    ("Trebuchet MS", "open-sans"),
    ("Lato", "open-sans"),
    ("Inter", "open-sans"),
    ("gg sans", "open-sans"),
    ("Whitney", "open-sans"),
    ("system-ui", "open-sans"),
];

struct Bundled {
    info: FontFamilyInfo,
    regular_file: &'static str,
    regular: &'static [u8],
    bold_file: &'static str,
    bold: &'static [u8],
}

/// Bundled families in fallback order: a glyph missing from the requested family is taken from the
/// first of these that has it (DejaVu Sans first: it covers the most scripts and symbols).
const BUNDLED: [Bundled; 3] = [
    Bundled {
        info: FontFamilyInfo { key: "dejavu-sans", display_name: "DejaVu Sans" },
        regular_file: "DejaVuSans.ttf",
        regular: include_bytes!("../fonts/DejaVuSans.ttf"),
        bold_file: "DejaVuSans-Bold.ttf",
        bold: include_bytes!("../fonts/DejaVuSans-Bold.ttf"),
    },
    Bundled {
        info: FontFamilyInfo { key: "liberation-sans", display_name: "Liberation Sans" },
        regular_file: "LiberationSans-Regular.ttf",
        regular: include_bytes!("../fonts/LiberationSans-Regular.ttf"),
        bold_file: "LiberationSans-Bold.ttf",
        bold: include_bytes!("../fonts/LiberationSans-Bold.ttf"),
    },
    Bundled {
        info: FontFamilyInfo { key: "open-sans", display_name: "Open Sans" },
        regular_file: "OpenSans-Regular.ttf",
        regular: include_bytes!("../fonts/OpenSans-Regular.ttf"),
        bold_file: "OpenSans-Bold.ttf",
        bold: include_bytes!("../fonts/OpenSans-Bold.ttf"),
    },
];

const FAMILY_INFOS: [FontFamilyInfo; 3] = [BUNDLED[0].info, BUNDLED[1].info, BUNDLED[2].info];

/// One bundled family, as returned by [`Fonts::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FamilyId(usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// The bundled fonts. Load once and share it: it is `Send` and `Sync`.
///
/// A face is parsed for drawing (fontdue, which keeps every glyph's outline: about ten megabytes per
/// face) only when a text first needs it; which face has a character is answered from the font's
/// character map (ttf-parser, no allocation), so fallback never parses a face that lacks the glyph.
pub struct Fonts {
    /// `cmaps[family * 2]` is the regular face, `cmaps[family * 2 + 1]` the bold one; likewise `faces`.
    cmaps: Vec<ttf_parser::Face<'static>>,
    /// `None` inside: the face could not be parsed (never for the bundled files; tests parse them all).
    faces: Vec<OnceLock<Option<Font>>>,
    default_family: FamilyId,
}

const SETTINGS: FontSettings = FontSettings { collection_index: 0, scale: 40.0, load_substitutions: false };

fn face_bytes(index: usize) -> (&'static str, &'static [u8]) {
    let family = &BUNDLED[index / 2];
    if index.is_multiple_of(2) { (family.regular_file, family.regular) } else { (family.bold_file, family.bold) }
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts")
            .field("families", &FAMILY_INFOS.iter().map(|info| info.key).collect::<Vec<_>>())
            .field("default_family", &FAMILY_INFOS[self.default_family.0].key)
            .finish()
    }
}

impl Fonts {
    /// Reads every bundled face's tables (cheap); faces are parsed for drawing on first use.
    pub fn load() -> Result<Self> {
        let mut cmaps = Vec::with_capacity(BUNDLED.len() * 2);
        for index in 0..BUNDLED.len() * 2 {
            let (file, bytes) = face_bytes(index);
            cmaps.push(
                ttf_parser::Face::parse(bytes, 0)
                    .map_err(|_| Error::Font { file, message: "unreadable font tables" })?,
            );
        }
        let faces = (0..cmaps.len()).map(|_| OnceLock::new()).collect();
        let default_family = FamilyId(BUNDLED.iter().position(|b| b.info.key == DEFAULT_FAMILY_KEY).unwrap_or(0));
        Ok(Self { cmaps, faces, default_family })
    }

    /// Parses every face now, reporting the first that fails (for tests and benchmarks).
    pub fn load_all() -> Result<Self> {
        let fonts = Self::load()?;
        for index in 0..fonts.faces.len() {
            if fonts.face(index).is_none() {
                let (file, _) = face_bytes(index);
                return Err(Error::Font { file, message: "cannot be parsed for drawing" });
            }
        }
        Ok(fonts)
    }

    /// Exactly the bundled families, in fallback order.
    pub fn families(&self) -> &'static [FontFamilyInfo] {
        Self::bundled()
    }

    /// The bundled families, without parsing any face (parsing costs time and memory: see the README).
    pub fn bundled() -> &'static [FontFamilyInfo] {
        &FAMILY_INFOS
    }

    /// The family for a key, display name or alias (see [`FAMILY_ALIASES`]), if any matches.
    pub fn find(&self, requested: &str) -> Option<FamilyId> {
        let wanted = normalize(requested);
        if wanted.is_empty() {
            return None;
        }
        let by_key = |key: &str| FAMILY_INFOS.iter().position(|info| info.key == key).map(FamilyId);
        if let Some(index) =
            FAMILY_INFOS.iter().position(|info| normalize(info.key) == wanted || normalize(info.display_name) == wanted)
        {
            return Some(FamilyId(index));
        }
        FAMILY_ALIASES.iter().find(|(alias, _)| normalize(alias) == wanted).and_then(|(_, key)| by_key(key))
    }

    /// Like [`Fonts::find`], but an unknown or empty name gives the default family
    /// ([`DEFAULT_FAMILY_KEY`]).
    pub fn resolve(&self, requested: &str) -> FamilyId {
        self.find(requested).unwrap_or(self.default_family)
    }

    /// Key and display name of a family.
    pub fn info(&self, family: FamilyId) -> FontFamilyInfo {
        FAMILY_INFOS[family.0]
    }

    /// Whether any bundled face has a glyph for `c` (text without one is drawn without that character).
    pub fn has_glyph(&self, c: char) -> bool {
        self.cmaps.iter().any(|face| face.glyph_index(c).is_some_and(|g| g.0 != 0))
    }

    /// The face for drawing, parsed on first use; `None` only if it cannot be parsed.
    pub(crate) fn face(&self, index: usize) -> Option<&Font> {
        self.faces.get(index)?.get_or_init(|| Font::from_bytes(face_bytes(index).1, SETTINGS).ok()).as_ref()
    }

    /// The face index and glyph index that draw `c` in `family` and `weight`: from the family itself
    /// when it has the glyph, else from the first bundled family that has it, else `None`.
    pub(crate) fn glyph_for(&self, family: FamilyId, weight: Weight, c: char) -> Option<(usize, u16)> {
        let offset = match weight {
            Weight::Regular => 0,
            Weight::Bold => 1,
        };
        std::iter::once(family.0).chain((0..BUNDLED.len()).filter(|&i| i != family.0)).map(|f| f * 2 + offset).find_map(
            |face| {
                let glyph = self.cmaps[face].glyph_index(c)?.0;
                (glyph != 0 && self.face(face).is_some()).then_some((face, glyph))
            },
        )
    }
}

/// The bundled fonts, every face parsed, shared by the crate's unit tests.
#[cfg(test)]
pub(crate) fn test_fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts::load_all().unwrap_or_else(|e| panic!("bundled fonts: {e}")))
}

fn normalize(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use super::test_fonts as fonts;

    #[test]
    fn lists_exactly_the_bundled_families() {
        let keys: Vec<_> = fonts().families().iter().map(|f| (f.key, f.display_name)).collect();
        assert_eq!(
            keys,
            [("dejavu-sans", "DejaVu Sans"), ("liberation-sans", "Liberation Sans"), ("open-sans", "Open Sans")]
        );
    }

    #[test]
    fn every_alias_points_at_a_bundled_family() {
        for (alias, key) in FAMILY_ALIASES {
            let family = fonts().find(alias).unwrap_or_else(|| panic!("{alias} resolves to nothing"));
            assert_eq!(fonts().info(family).key, *key, "{alias}");
        }
    }

    #[test]
    fn resolves_case_and_punctuation_insensitively() {
        let key = |name: &str| fonts().info(fonts().resolve(name)).key;
        assert_eq!(key("Arial"), "liberation-sans");
        assert_eq!(key("ARIAL"), "liberation-sans");
        assert_eq!(key("helvetica"), "liberation-sans");
        assert_eq!(key("Segoe-UI"), "open-sans");
        assert_eq!(key("segoe ui"), "open-sans");
        assert_eq!(key("Verdana"), "dejavu-sans");
        assert_eq!(key("DejaVu Sans"), "dejavu-sans");
        assert_eq!(key("open_sans"), "open-sans");
        assert_eq!(key("Liberation Sans"), "liberation-sans");
        assert_eq!(key("Comic Sans MS"), DEFAULT_FAMILY_KEY);
        assert_eq!(key(""), DEFAULT_FAMILY_KEY);
        assert_eq!(key("--"), DEFAULT_FAMILY_KEY);
        assert!(fonts().find("Comic Sans MS").is_none());
    }

    #[test]
    fn every_face_covers_latin_greek_and_cyrillic() {
        let sample = "AaZz09ÄéñßŁ ΑαΩωΣσς АаЯяЖжЁё";
        for (i, face) in (0..fonts().faces.len()).filter_map(|i| fonts().face(i).map(|f| (i, f))) {
            for c in sample.chars() {
                assert_ne!(face.lookup_glyph_index(c), 0, "face {i} lacks {c:?}");
            }
            // It really draws: a capital A at 32 px covers some pixels.
            let (metrics, coverage) = face.rasterize('Ж', 32.0);
            assert!(metrics.width > 10 && metrics.height > 10, "face {i}: {metrics:?}");
            assert!(coverage.iter().filter(|&&c| c > 128).count() > 50, "face {i} draws nothing");
        }
    }

    #[test]
    fn missing_glyphs_fall_back_then_give_up() {
        let fonts = fonts();
        let liberation = fonts.resolve("liberation-sans");
        // Liberation Sans has no chess pieces; DejaVu Sans does.
        let (face, _) = fonts.glyph_for(liberation, Weight::Regular, '♞').unwrap();
        assert_eq!(face, 0);
        let (face, _) = fonts.glyph_for(liberation, Weight::Bold, 'A').unwrap();
        assert_eq!(face, 3);
        assert_eq!(fonts.glyph_for(liberation, Weight::Regular, '漢'), None);
        assert_eq!(fonts.glyph_for(liberation, Weight::Regular, '\u{E000}'), None);
        assert!(!fonts.has_glyph('漢'));
        assert!(fonts.has_glyph('ж'));
    }
}
