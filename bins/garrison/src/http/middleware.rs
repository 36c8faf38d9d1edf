//! Request ids, case-insensitive paths and the access log.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Uri,
        header::{HeaderName, HeaderValue},
    },
    middleware::Next,
};
use tracing::Instrument;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the access log shows for a path that matches no route.
const UNMATCHED: &str = "unmatched";

/// Hands out request ids: a random per-process prefix and a counter, cheap and unique.
#[derive(Debug, Clone)]
pub struct RequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    pub fn new(entropy: [u8; 4]) -> Self {
        let prefix: String = entropy.iter().map(|b| format!("{b:02x}")).collect();
        Self { prefix: prefix.into(), next: Arc::new(AtomicU64::new(1)) }
    }

    fn issue(&self) -> String {
        format!("{}-{:x}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// A client's own `X-Request-Id` is kept when it is short and printable; otherwise one is issued.
fn accepted(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    (!text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)))
        .then(|| text.to_owned())
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    Parameter,
}

/// The route paths, for matching a request path without regard to letter case: the Noctra
/// specification's clients write `/api/channel/getchannelinfo` as often as `/api/Channel/GetChannelInfo`,
/// and the original service accepts both. A path that differs from a route only in the case of its
/// literal segments is rewritten to the route's spelling before routing; parameters keep theirs.
#[derive(Debug, Clone)]
pub struct CanonicalPaths {
    exact: Arc<HashSet<String>>,
    /// Routes, those with more literal segments first, so `/a/b/user` wins over `/a/b/{id}`.
    routes: Arc<Vec<Vec<Segment>>>,
}

impl CanonicalPaths {
    /// From route templates written as the OpenAPI document does (`/api/Role/booster/{guildId}`).
    pub fn new<'a>(templates: impl IntoIterator<Item = &'a str>) -> Self {
        let mut exact = HashSet::new();
        let mut routes: Vec<Vec<Segment>> = templates
            .into_iter()
            .map(|template| {
                if !template.contains('{') {
                    exact.insert(template.to_owned());
                }
                template
                    .split('/')
                    .map(|s| if s.starts_with('{') { Segment::Parameter } else { Segment::Literal(s.to_owned()) })
                    .collect()
            })
            .collect();
        routes.sort_by_key(|segments: &Vec<Segment>| {
            std::cmp::Reverse(segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count())
        });
        Self { exact: Arc::new(exact), routes: Arc::new(routes) }
    }

    /// The route's spelling of `path`, when it differs from `path` only in letter case.
    pub fn canonical(&self, path: &str) -> Option<String> {
        if self.exact.contains(path) {
            return None;
        }
        let parts: Vec<&str> = path.split('/').collect();
        let route = self.routes.iter().find(|route| {
            route.len() == parts.len()
                && route.iter().zip(&parts).all(|(segment, part)| match segment {
                    Segment::Literal(literal) => literal.eq_ignore_ascii_case(part),
                    Segment::Parameter => !part.is_empty(),
                })
        })?;
        let canonical = route
            .iter()
            .zip(&parts)
            .map(|(segment, part)| match segment {
                Segment::Literal(literal) => literal.as_str(),
                Segment::Parameter => part,
            })
            .collect::<Vec<_>>()
            .join("/");
        (canonical != path).then_some(canonical)
    }
}

/// Rewrites the request's path to its route's spelling (see [`CanonicalPaths`]), keeping the query.
fn canonicalize(paths: &CanonicalPaths, req: &mut ServiceRequest) {
    let Some(path) = paths.canonical(req.path()) else { return };
    let path_and_query = match req.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = req.uri().clone().into_parts();
    let Ok(path_and_query) = path_and_query.parse() else { return };
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = Uri::from_parts(parts) {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
}

/// Gives every response an `X-Request-Id`, matches paths without regard to case, and logs one line
/// per request: method, route, status and duration. The route is the matched template
/// (`/api/modlogs/view/{id}`), never the path itself: for some routes the path is the secret (a view
/// id), and a path that matches no route is logged as `unmatched` for the same reason. Query strings
/// and headers, which may carry keys and tokens, are never logged either.
pub async fn request_context(
    ids: RequestIds,
    paths: CanonicalPaths,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    canonicalize(&paths, &mut req);
    let id = req.headers().get(&REQUEST_ID).and_then(accepted).unwrap_or_else(|| ids.issue());
    let route = req.match_pattern();
    let route = route.as_deref().unwrap_or(UNMATCHED);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), route);
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    let status = response.status().as_u16();
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| tracing::info!(status, micros, "served"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_routes_without_regard_to_case() {
        let paths = CanonicalPaths::new([
            "/api/xp",
            "/api/Channel/GetChannelInfo",
            "/api/medals/user",
            "/api/LevelCard/view/{id}",
            "/api/medals/{name}",
        ]);
        assert_eq!(paths.canonical("/api/xp"), None);
        assert_eq!(paths.canonical("/API/XP").as_deref(), Some("/api/xp"));
        assert_eq!(paths.canonical("/api/channel/getchannelinfo").as_deref(), Some("/api/Channel/GetChannelInfo"));
        assert_eq!(paths.canonical("/api/Channel/GetChannelInfo"), None);
        // Parameters keep their spelling; literals win over parameters.
        assert_eq!(paths.canonical("/api/levelcard/VIEW/AbC").as_deref(), Some("/api/LevelCard/view/AbC"));
        assert_eq!(paths.canonical("/api/MEDALS/USER").as_deref(), Some("/api/medals/user"));
        assert_eq!(paths.canonical("/api/Medals/Purple").as_deref(), Some("/api/medals/Purple"));
        assert_eq!(paths.canonical("/api/levelcard/view/"), None);
        assert_eq!(paths.canonical("/api/unknown"), None);
    }
}
