//! What the three platforms share: the request and answer the server hands each platform, wall-clock
//! time as RFC 3339 text (to the second, or to the nanosecond as EventSub writes it), and random
//! identifiers.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::header::HeaderMap;
use serde_json::Value;

/// A request as a platform sees it: decoded query pairs (in order, repeats kept), headers and body.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path, not decoded.
    pub path: &'a str,
    /// The query string's pairs, decoded.
    pub query: Vec<(String, String)>,
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The raw body.
    pub body: &'a [u8],
}

impl Request<'_> {
    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable query parameter.
    pub fn params(&self, name: &str) -> Vec<&str> {
        self.query.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// A header's value (names are case-insensitive), if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Parses `a=1&b=2` (a query string or a form body) into decoded pairs; malformed text gives none.
pub(crate) fn form_pairs(text: &str) -> Vec<(String, String)> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(text)
        .map(actix_web::web::Query::into_inner)
        .unwrap_or_default()
}

/// An answer: status, content type, body and extra headers.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: &Value) -> Self {
        Self { status, content_type: "application/json; charset=utf-8", body: body.to_string(), headers: Vec::new() }
    }

    /// An HTML answer.
    pub fn html(status: u16, body: String) -> Self {
        Self { status, content_type: "text/html; charset=utf-8", body, headers: Vec::new() }
    }

    /// An answer with no body.
    pub fn empty(status: u16) -> Self {
        Self { status, content_type: "text/plain", body: String::new(), headers: Vec::new() }
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// Seconds since the Unix epoch, by the system clock.
pub(crate) fn now_secs() -> i64 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339, UTC, whole seconds) for a Unix time.
pub(crate) fn rfc3339(secs: i64) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", of_day / 3600, (of_day / 60) % 60, of_day % 60)
}

/// The current time as EventSub writes it: RFC 3339 in UTC with nanoseconds,
/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub(crate) fn now_rfc3339_nanos() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let whole = rfc3339(i64::try_from(now.as_secs()).unwrap_or(i64::MAX));
    format!("{}.{:09}Z", whole.trim_end_matches('Z'), now.subsec_nanos())
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day count since 1970-01-01 of a proleptic Gregorian date (the inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The first Sunday on or after a day (day counts since 1970-01-01, a Thursday).
fn sunday_on_or_after(days: i64) -> i64 {
    let weekday = (days + 4).rem_euclid(7); // 0 = Sunday
    days + (7 - weekday) % 7
}

/// The day number of a Unix time in US Pacific time (America/Los_Angeles: UTC-8, UTC-7 from 2:00 on the
/// second Sunday of March to 2:00 on the first Sunday of November), when YouTube quotas reset.
pub(crate) fn pacific_day(secs: i64) -> i64 {
    let (year, ..) = civil_from_days(secs.div_euclid(86_400));
    let dst_start = (sunday_on_or_after(days_from_civil(year, 3, 1)) + 7) * 86_400 + 10 * 3600;
    let dst_end = sunday_on_or_after(days_from_civil(year, 11, 1)) * 86_400 + 9 * 3600;
    let offset = if (dst_start..dst_end).contains(&secs) { 7 * 3600 } else { 8 * 3600 };
    (secs - offset).div_euclid(86_400)
}

/// `n` random bytes from the operating system.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).expect("the operating system supplies random bytes");
    bytes
}

/// `len` (at most 64) random characters of `alphabet` (evenly spread when its length divides 256).
pub(crate) fn random_text(alphabet: &[u8], len: usize) -> String {
    let bytes = random_bytes::<64>();
    bytes.iter().take(len).map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()])).collect()
}

/// The URL-safe base64 alphabet YouTube's ids are written in.
pub(crate) const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A random decimal number of `len` digits with no leading zero.
pub(crate) fn random_digits(len: usize) -> String {
    let mut text = random_text(b"0123456789012345678901234567890123456789012345678901234567890123", len);
    if text.starts_with('0') {
        text.replace_range(..1, "1");
    }
    text
}

/// Standard base64 with padding (as YouTube's playlist item ids are).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                let index = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET[index]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_688_560_496), "2023-07-05T12:34:56Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z", "a leap day");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        let precise = now_rfc3339_nanos();
        assert!(precise.len() == 30 && precise.as_bytes()[19] == b'.' && precise.ends_with('Z'), "{precise}");
        for days in [-800_000, -1, 0, 1, 11_016, 19_000, 800_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn pacific_days_follow_daylight_saving() {
        // 2024-07-01T06:59:59Z is 23:59:59 PDT on June 30; a second later July 1 begins.
        let july_first_pdt = 1_719_817_200;
        assert_eq!(pacific_day(july_first_pdt) - pacific_day(july_first_pdt - 1), 1);
        // 2024-01-15T08:00:00Z is midnight PST.
        let january = 1_705_305_600;
        assert_eq!(pacific_day(january) - pacific_day(january - 1), 1);
        assert_eq!(pacific_day(january + 86_399), pacific_day(january));
    }

    #[test]
    fn encodes_base64() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"UUabc.xyz"), "VVVhYmMueHl6");
    }

    #[test]
    fn random_text_uses_the_alphabet() {
        let id = random_text(ID_ALPHABET, 22);
        assert_eq!(id.len(), 22);
        assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b)));
        let digits = random_digits(19);
        assert_eq!(digits.len(), 19);
        assert!(!digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()));
    }
}
