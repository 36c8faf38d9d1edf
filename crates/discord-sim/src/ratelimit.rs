//! Discord's rate limits: per-route buckets keyed by token, route and major parameter, and an
//! optional global limit per token.
//!
//! Routes are unlimited unless a test configures them, so ordinary tests run at full speed; an
//! unlimited route still answers with bucket headers (a limit of 65535 per second that is never
//! enforced). The exception is channel creation, limited from the start as Discord limits it
//! ([`CHANNEL_CREATE_RATE_LIMIT`]; tests may change or lift it). `X-RateLimit-Scope` comes only with
//! 429 answers, as from Discord.
//!
//! In the scope-less mode ([`RateLimits::set_scopeless`]) 429 answers carry only `Retry-After`, as
//! Cloudflare's do in front of Discord (and as some Discord-compatible servers answer): no
//! `X-RateLimit-Scope`, no bucket headers. Their JSON body stays Discord's.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The limit reported by routes without one.
const UNLIMITED: u32 = u16::MAX as u32;

/// `POST /guilds/{guild_id}/channels` out of the box: 5 requests per 5 seconds per bot and guild,
/// the tight bucket a bot restoring a server's channels runs into (Discord does not document its
/// figure; this is the simulator's reading of it). Change it with `Simulator::set_rate_limit`, lift
/// it with `Simulator::clear_rate_limit`.
pub const CHANNEL_CREATE_RATE_LIMIT: (u32, Duration) = (5, Duration::from_secs(5));

/// Routes limited from the start.
const DEFAULT_LIMITS: &[(&str, &str, (u32, Duration))] =
    &[("POST", "/guilds/{guild_id}/channels", CHANNEL_CREATE_RATE_LIMIT)];

/// A limit: `limit` requests per `window`.
#[derive(Debug, Clone, Copy)]
struct Limit {
    limit: u32,
    window: Duration,
    enforced: bool,
}

/// One fixed window of counted requests.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

impl Window {
    /// The window in force at `now`: this one, or a fresh one once it has ended.
    fn current(self, now: Instant, length: Duration) -> Window {
        if now.duration_since(self.started) >= length { Window { started: now, count: 0 } } else { self }
    }
}

/// The decision on one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Go ahead; these headers go on the answer.
    Allowed(Vec<(&'static str, String)>),
    /// 429: these headers, and the retry-after seconds for the body, and whether it is global.
    Limited { headers: Vec<(&'static str, String)>, retry_after: f64, global: bool },
}

/// Per-route and global limits, and the windows counted against them.
#[derive(Debug)]
pub(crate) struct RateLimits {
    routes: HashMap<(String, String), Limit>,
    global_per_second: Option<u32>,
    buckets: HashMap<(String, String, String, String), Window>,
    global: HashMap<String, Window>,
    scopeless: bool,
}

/// A stable bucket id for a route, like Discord's opaque hashes.
fn bucket_id(method: &str, route: &str) -> String {
    let mut hasher = DefaultHasher::new();
    (method, route).hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn seconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

impl Default for RateLimits {
    fn default() -> Self {
        let mut limits = RateLimits {
            routes: HashMap::new(),
            global_per_second: None,
            buckets: HashMap::new(),
            global: HashMap::new(),
            scopeless: false,
        };
        for (method, route, (limit, window)) in DEFAULT_LIMITS {
            limits.set_route(method, route, *limit, *window);
        }
        limits
    }
}

/// Windows kept before those that ended are forgotten.
const MAX_BUCKETS: usize = 4096;

impl RateLimits {
    /// Drops the windows that have ended (a new one would start afresh anyway), so the map stays
    /// bounded by the buckets in use.
    fn forget_ended_windows(&mut self, now: Instant) {
        let routes = &self.routes;
        self.buckets.retain(|(_, method, route, _), window| {
            let length = routes.get(&(method.clone(), route.clone())).map_or(Duration::from_secs(1), |l| l.window);
            now.duration_since(window.started) < length
        });
        self.global.retain(|_, window| now.duration_since(window.started) < Duration::from_secs(1));
    }

    /// Makes `method route` unlimited (its windows are forgotten).
    pub(crate) fn clear_route(&mut self, method: &str, route: &str) {
        let key = (method.to_ascii_uppercase(), route.to_owned());
        self.buckets.retain(|(_, m, r, _), _| (m, r) != (&key.0, &key.1));
        self.routes.remove(&key);
    }

    /// Limits `method route` to `limit` requests per `window`, per token and major parameter.
    pub(crate) fn set_route(&mut self, method: &str, route: &str, limit: u32, window: Duration) {
        let key = (method.to_ascii_uppercase(), route.to_owned());
        self.buckets.retain(|(_, m, r, _), _| (m, r) != (&key.0, &key.1));
        self.routes.insert(key, Limit { limit, window, enforced: true });
    }

    /// Limits every token to `per_second` requests a second across routes (`None` lifts it).
    pub(crate) fn set_global(&mut self, per_second: Option<u32>) {
        self.global_per_second = per_second;
        self.global.clear();
    }

    /// Whether 429 answers leave out `X-RateLimit-Scope` and the bucket headers (Cloudflare's).
    pub(crate) fn set_scopeless(&mut self, scopeless: bool) {
        self.scopeless = scopeless;
    }

    /// A 429 decision, without the scope and bucket headers in the scope-less mode.
    fn limited(&self, mut headers: Vec<(&'static str, String)>, retry_after: f64, global: bool) -> Decision {
        if self.scopeless {
            headers.retain(|(name, _)| *name == "Retry-After");
        }
        Decision::Limited { headers, retry_after, global }
    }

    /// Counts a request by `token` (empty for unauthenticated) to `method route` with major
    /// parameter `major`, or refuses it; a refused request is not counted. `global_applies` is
    /// false for interaction and webhook routes, which Discord exempts from the global limit.
    pub(crate) fn check(
        &mut self,
        token: &str,
        method: &str,
        route: &str,
        major: &str,
        global_applies: bool,
    ) -> Decision {
        let now = Instant::now();
        let limit = self.routes.get(&(method.to_owned(), route.to_owned())).copied().unwrap_or(Limit {
            limit: UNLIMITED,
            window: Duration::from_secs(1),
            enforced: false,
        });
        let key = (token.to_owned(), method.to_owned(), route.to_owned(), major.to_owned());
        let window =
            self.buckets.get(&key).copied().unwrap_or(Window { started: now, count: 0 }).current(now, limit.window);
        let reset_after = limit.window.saturating_sub(now.duration_since(window.started));
        let reset_at = SystemTime::now().checked_add(reset_after).unwrap_or_else(SystemTime::now);
        let reset_epoch = reset_at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let bucket = bucket_id(method, route);

        if global_applies && let Some(per_second) = self.global_per_second {
            let global = self
                .global
                .get(token)
                .copied()
                .unwrap_or(Window { started: now, count: 0 })
                .current(now, Duration::from_secs(1));
            if global.count >= per_second {
                let retry = Duration::from_secs(1).saturating_sub(now.duration_since(global.started));
                return self.limited(
                    vec![
                        ("Retry-After", retry.as_secs_f64().ceil().max(1.0).to_string()),
                        ("X-RateLimit-Global", "true".to_owned()),
                        ("X-RateLimit-Scope", "global".to_owned()),
                    ],
                    (retry.as_secs_f64() * 1000.0).ceil() / 1000.0,
                    true,
                );
            }
            self.global.insert(token.to_owned(), Window { count: global.count + 1, ..global });
        }

        let mut headers = vec![
            ("X-RateLimit-Limit", limit.limit.to_string()),
            ("X-RateLimit-Reset", seconds(reset_epoch)),
            ("X-RateLimit-Reset-After", seconds(reset_after)),
            ("X-RateLimit-Bucket", bucket),
        ];
        if limit.enforced && window.count >= limit.limit {
            // Undo the global count: a refused request is not counted anywhere.
            if global_applies && let Some(global) = self.global.get_mut(token) {
                global.count = global.count.saturating_sub(1);
            }
            headers.push(("X-RateLimit-Remaining", "0".to_owned()));
            headers.push(("Retry-After", reset_after.as_secs_f64().ceil().max(1.0).to_string()));
            headers.push(("X-RateLimit-Scope", "user".to_owned()));
            return self.limited(headers, (reset_after.as_secs_f64() * 1000.0).ceil() / 1000.0, false);
        }
        let count = window.count + 1;
        if self.buckets.len() >= MAX_BUCKETS {
            self.forget_ended_windows(now);
        }
        self.buckets.insert(key, Window { count, ..window });
        headers.push(("X-RateLimit-Remaining", limit.limit.saturating_sub(count).to_string()));
        // As Discord does: `X-RateLimit-Scope` only on 429 answers. (twilight 0.18 reads bucket headers
        // only when the scope is present, so it learns a bucket from its first 429, as it would from
        // Discord.)
        Decision::Allowed(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
        headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or_default()
    }

    #[test]
    fn unlimited_routes_report_but_never_refuse() {
        let mut limits = RateLimits::default();
        for _ in 0..100 {
            let Decision::Allowed(headers) = limits.check("t", "GET", "/users/@me", "", true) else {
                panic!("refused an unlimited route")
            };
            assert_eq!(header(&headers, "X-RateLimit-Limit"), "65535");
            assert_eq!(header(&headers, "X-RateLimit-Scope"), "");
        }
    }

    #[test]
    fn buckets_are_per_token_and_major_parameter() {
        let mut limits = RateLimits::default();
        limits.set_route("GET", "/guilds/{guild_id}", 1, Duration::from_secs(60));
        assert!(matches!(limits.check("a", "GET", "/guilds/{guild_id}", "1", true), Decision::Allowed(_)));
        assert!(matches!(limits.check("a", "GET", "/guilds/{guild_id}", "1", true), Decision::Limited { .. }));
        assert!(matches!(limits.check("a", "GET", "/guilds/{guild_id}", "2", true), Decision::Allowed(_)));
        assert!(matches!(limits.check("b", "GET", "/guilds/{guild_id}", "1", true), Decision::Allowed(_)));
    }

    #[test]
    fn channel_creation_is_limited_from_the_start_until_lifted() {
        let mut limits = RateLimits::default();
        let route = "/guilds/{guild_id}/channels";
        for _ in 0..CHANNEL_CREATE_RATE_LIMIT.0 {
            assert!(matches!(limits.check("a", "POST", route, "1", true), Decision::Allowed(_)));
        }
        assert!(matches!(limits.check("a", "POST", route, "1", true), Decision::Limited { .. }));
        assert!(matches!(limits.check("a", "POST", route, "2", true), Decision::Allowed(_)), "per guild");
        assert!(matches!(limits.check("a", "GET", route, "1", true), Decision::Allowed(_)), "listing is not");
        limits.clear_route("post", route);
        assert!(matches!(limits.check("a", "POST", route, "1", true), Decision::Allowed(_)));
    }

    #[test]
    fn ended_windows_are_forgotten() {
        let mut limits = RateLimits::default();
        for i in 0..MAX_BUCKETS + 10 {
            assert!(matches!(
                limits.check("t", "GET", "/guilds/{guild_id}", &i.to_string(), true),
                Decision::Allowed(_)
            ));
        }
        assert!(limits.buckets.len() > MAX_BUCKETS, "windows in force are kept");
        limits.forget_ended_windows(Instant::now() + Duration::from_secs(2));
        assert!(limits.buckets.is_empty());
    }

    #[test]
    fn scopeless_429s_carry_only_retry_after() {
        let mut limits = RateLimits::default();
        limits.set_route("GET", "/guilds/{guild_id}", 0, Duration::from_secs(2));
        limits.set_scopeless(true);
        let Decision::Limited { headers, retry_after, global } =
            limits.check("a", "GET", "/guilds/{guild_id}", "1", true)
        else {
            panic!("not limited")
        };
        assert_eq!(headers, vec![("Retry-After", "2".to_owned())]);
        assert!(retry_after > 1.9 && !global);
        limits.set_scopeless(false);
        let Decision::Limited { headers, .. } = limits.check("a", "GET", "/guilds/{guild_id}", "1", true) else {
            panic!("not limited")
        };
        assert_eq!(header(&headers, "X-RateLimit-Scope"), "user");
    }

    #[test]
    fn global_limit_refuses_across_routes() {
        let mut limits = RateLimits::default();
        limits.set_global(Some(2));
        assert!(matches!(limits.check("a", "GET", "/x", "", true), Decision::Allowed(_)));
        assert!(matches!(limits.check("a", "GET", "/y", "", true), Decision::Allowed(_)));
        let Decision::Limited { global, headers, .. } = limits.check("a", "GET", "/z", "", true) else {
            panic!("not limited")
        };
        assert!(global);
        assert_eq!(header(&headers, "X-RateLimit-Scope"), "global");
        assert!(matches!(limits.check("a", "POST", "/callback", "", false), Decision::Allowed(_)));
        assert!(matches!(limits.check("b", "GET", "/z", "", true), Decision::Allowed(_)));
    }
}
