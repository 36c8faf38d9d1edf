//! Open Cloud's rate limits: for each API key owner (a user or a group, across all of their keys) and
//! operation, at most `maxInPeriod` calls per period, as the document's `x-roblox-rate-limits`
//! (`perApiKeyOwner`) says. Windows are fixed: one starts at the first call after the previous one
//! ended, measured with the real clock. Every answer the limiter decides on carries Roblox's headers:
//! `x-ratelimit-limit` (`150, 150;w=60`), `x-ratelimit-remaining` and `x-ratelimit-reset` (whole seconds
//! until the window ends and every slot is free again); a refusal adds `retry-after`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use garrison_openapi::Operation;
use serde_json::Value;

/// At most `max` calls per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    pub(crate) max: u32,
    pub(crate) window: Duration,
}

/// The limit the document gives an operation for API keys (`x-roblox-rate-limits.perApiKeyOwner`).
pub(crate) fn documented_limit(operation: &Operation) -> Option<Limit> {
    let limit = operation.extension("x-roblox-rate-limits")?.get("perApiKeyOwner")?;
    let max = u32::try_from(limit.get("maxInPeriod")?.as_u64()?).ok()?;
    let seconds = match limit.get("period").and_then(Value::as_str)? {
        "SECOND" => 1,
        "MINUTE" => 60,
        "HOUR" => 3600,
        "DAY" => 86_400,
        _ => return None,
    };
    Some(Limit { max, window: Duration::from_secs(seconds) })
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

/// The decision on one call: go ahead or 429, and the headers for the answer either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Allowed(Vec<(&'static str, String)>),
    Limited(Vec<(&'static str, String)>),
}

/// Limits set by tests, and the windows counted against every limit.
#[derive(Debug, Default)]
pub(crate) struct RateLimits {
    /// Template -> the limit a test set, replacing the document's.
    overrides: HashMap<String, Limit>,
    /// (owner, template) -> its current window.
    windows: HashMap<(String, String), Window>,
}

/// Whole seconds, rounded up.
fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl RateLimits {
    /// Replaces the limit of an operation (by template) and forgets its windows.
    pub(crate) fn set(&mut self, template: &str, limit: Limit) {
        self.windows.retain(|(_, t), _| t != template);
        self.overrides.insert(template.to_owned(), limit);
    }

    /// Counts a call by `owner` to `template`, whose documented limit is `documented`, or refuses it; a
    /// refused call is not counted. Operations without a limit are not counted and get no headers.
    pub(crate) fn check(&mut self, owner: &str, template: &str, documented: Option<Limit>, now: Instant) -> Decision {
        let Some(limit) = self.overrides.get(template).copied().or(documented) else {
            return Decision::Allowed(Vec::new());
        };
        let key = (owner.to_owned(), template.to_owned());
        let window = match self.windows.get(&key) {
            Some(window) if now.duration_since(window.started) < limit.window => *window,
            _ => Window { started: now, count: 0 },
        };
        let reset = limit.window.saturating_sub(now.duration_since(window.started));
        let mut headers = vec![
            ("x-ratelimit-limit", format!("{}, {};w={}", limit.max, limit.max, ceil_secs(limit.window).max(1))),
            ("x-ratelimit-reset", ceil_secs(reset).to_string()),
        ];
        if window.count >= limit.max {
            headers.push(("x-ratelimit-remaining", "0".to_owned()));
            headers.push(("retry-after", ceil_secs(reset).max(1).to_string()));
            return Decision::Limited(headers);
        }
        let count = window.count + 1;
        self.windows.insert(key, Window { count, ..window });
        headers.push(("x-ratelimit-remaining", (limit.max - count).to_string()));
        Decision::Allowed(headers)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::spec::spec;

    fn header(decision: &Decision, name: &str) -> String {
        let (Decision::Allowed(headers) | Decision::Limited(headers)) = decision;
        headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    #[test]
    fn the_documents_limits_are_read() {
        let operation = spec().operation("GET", "/cloud/v2/groups/{group_id}").unwrap();
        assert_eq!(documented_limit(operation), Some(Limit { max: 150, window: Duration::from_secs(60) }));
        let legacy = spec().operation("GET", "/v1/users/{userId}").unwrap();
        assert_eq!(documented_limit(legacy), None);
    }

    #[test]
    fn windows_count_per_owner_and_operation() {
        let mut limits = RateLimits::default();
        let limit = Some(Limit { max: 2, window: Duration::from_secs(60) });
        let start = Instant::now();
        let first = limits.check("groups/7", "/a", limit, start);
        assert_eq!(header(&first, "x-ratelimit-limit"), "2, 2;w=60");
        assert_eq!(header(&first, "x-ratelimit-remaining"), "1");
        assert_eq!(header(&first, "x-ratelimit-reset"), "60");
        assert!(matches!(limits.check("groups/7", "/a", limit, start), Decision::Allowed(_)));
        let refused = limits.check("groups/7", "/a", limit, start + Duration::from_millis(20_500));
        assert!(matches!(refused, Decision::Limited(_)));
        assert_eq!(header(&refused, "retry-after"), "40");
        assert_eq!(header(&refused, "x-ratelimit-remaining"), "0");
        assert!(matches!(limits.check("groups/7", "/b", limit, start), Decision::Allowed(_)), "per operation");
        assert!(matches!(limits.check("users/1", "/a", limit, start), Decision::Allowed(_)), "per owner");
        let later = limits.check("groups/7", "/a", limit, start + Duration::from_secs(60));
        assert_eq!(header(&later, "x-ratelimit-remaining"), "1", "a new window");
    }

    #[test]
    fn tests_may_replace_a_limit_and_unlimited_calls_get_no_headers() {
        let mut limits = RateLimits::default();
        let now = Instant::now();
        assert_eq!(limits.check("users/1", "/a", None, now), Decision::Allowed(Vec::new()));
        limits.set("/a", Limit { max: 0, window: Duration::from_millis(200) });
        let refused = limits.check("users/1", "/a", None, now);
        assert!(matches!(refused, Decision::Limited(_)));
        assert_eq!(header(&refused, "x-ratelimit-limit"), "0, 0;w=1");
        assert_eq!(header(&refused, "retry-after"), "1");
    }
}
