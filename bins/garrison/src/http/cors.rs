//! Cross-origin requests (CORS), so a browser page (the specifications' "Try It" consoles, a
//! dashboard on another origin) may call the API.
//!
//! The rule is structural: CORS applies to paths under `/api/` and to nothing else. `/healthz`,
//! `/readyz`, `/openapi.json`, and any dashboard or session route to come (which must therefore never
//! live under `/api/`) get no CORS header, so no other origin's script can read them.
//!
//! - Origins: `GARRISON_CORS_ORIGINS`, `*` (the default) for any, else exact origins; empty for none.
//! - Never `Access-Control-Allow-Credentials`: every credential Garrison takes (API keys, bot and
//!   interaction tokens, auth keys) is a header the calling script sets itself, never a cookie.
//! - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here, before
//!   routing: 204 with the allowed methods and, as allowed headers, the ones the browser asks for
//!   (every header the two specifications name is a header some route reads, and the card routes read
//!   dozens more; no credential travels implicitly, so listing them would protect nothing). A preflight
//!   from an origin not allowed gets 403 and no CORS header.
//! - Every other `/api/` answer to an allowed origin carries `Access-Control-Allow-Origin` and exposes
//!   `Retry-After`, `X-Request-Id`, `Idempotent-Replayed` and `X-Total-Pages` to the script.

use std::sync::Arc;

use actix_web::{
    Error, HttpResponse,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{self, HeaderMap, HeaderValue},
    },
    middleware::Next,
};

use super::error::ApiError;

/// The methods the API's routes use.
const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
/// Response headers a script may read besides the CORS-safelisted ones.
/// Every answer header a script may need: back-off, request ids, idempotent replays, page counts.
const EXPOSED_HEADERS: &str = "Retry-After, X-Request-Id, Idempotent-Replayed, X-Total-Pages";
/// How long a browser may reuse a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Which origins may call the API from a browser.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    any: bool,
    origins: Arc<[String]>,
}

impl CorsPolicy {
    /// From the `cors_origins` setting: `*` admits any origin; otherwise origins are compared exactly
    /// (ignoring ASCII case and a trailing `/`).
    pub fn new(origins: &[String]) -> Self {
        let any = origins.iter().any(|o| o == "*");
        let origins = origins.iter().filter(|o| *o != "*").map(|o| o.trim_end_matches('/').to_ascii_lowercase());
        Self { any, origins: origins.collect() }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, when it is allowed.
    fn allow_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        if self.any {
            return Some(HeaderValue::from_static("*"));
        }
        let origin = origin?;
        let text = origin.to_str().ok()?.to_ascii_lowercase();
        self.origins.contains(&text).then(|| origin.clone())
    }
}

/// Whether CORS applies to `path`: the API's routes, `/api/...`, and nothing else.
pub fn applies(path: &str) -> bool {
    path.as_bytes().get(..5).is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"/api/"))
}

/// The headers a preflight asks for, when they are a well-formed list of header names.
fn requested_headers(headers: &HeaderMap) -> Option<HeaderValue> {
    let value = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS)?;
    let text = value.to_str().ok()?;
    let well_formed = text.split(',').map(str::trim).all(|name| {
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    });
    well_formed.then(|| value.clone())
}

fn vary(headers: &mut HeaderMap, policy: &CorsPolicy, preflight: bool) {
    let value = match (policy.any, preflight) {
        (true, false) => return,
        (true, true) => "Access-Control-Request-Headers",
        (false, false) => "Origin",
        (false, true) => "Origin, Access-Control-Request-Headers",
    };
    headers.append(header::VARY, HeaderValue::from_static(value));
}

fn preflight(policy: &CorsPolicy, req: &ServiceRequest) -> HttpResponse {
    let Some(origin) = policy.allow_origin(req.headers().get(header::ORIGIN)) else {
        let mut refused = actix_web::ResponseError::error_response(&ApiError::new(
            StatusCode::FORBIDDEN,
            "this origin may not call the API",
        ));
        vary(refused.headers_mut(), policy, true);
        return refused;
    };
    let mut response = HttpResponse::NoContent();
    response
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE));
    if let Some(requested) = requested_headers(req.headers()) {
        response.insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, requested));
    }
    let mut response = response.finish();
    vary(response.headers_mut(), policy, true);
    response
}

/// Answers preflights on `/api/` paths and adds the CORS headers to every other `/api/` answer.
pub async fn cors(
    policy: CorsPolicy,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if !applies(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let headers = req.headers();
    if req.method() == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let response = preflight(&policy, &req);
        return Ok(req.into_response(response).map_into_right_body());
    }
    let allowed = policy.allow_origin(headers.get(header::ORIGIN));
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    if let Some(origin) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
    }
    vary(headers, &policy, false);
    Ok(response.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_api_paths_get_cors() {
        for path in ["/api/xp", "/API/xp", "/api/modlogs/view/x", "/Api/"] {
            assert!(applies(path), "{path}");
        }
        for path in
            ["/healthz", "/readyz", "/openapi.json", "/api", "/apix/y", "/dashboard/api/x", "/", "", "/ap\u{e9}/"]
        {
            assert!(!applies(path), "{path}");
        }
    }

    #[test]
    fn origins_are_matched_exactly() {
        let any = CorsPolicy::new(&["*".into()]);
        assert_eq!(any.allow_origin(None), Some(HeaderValue::from_static("*")));
        let some = CorsPolicy::new(&["https://Dash.example/".into(), "http://127.0.0.1:3000".into()]);
        let origin = HeaderValue::from_static("https://dash.example");
        assert_eq!(some.allow_origin(Some(&origin)), Some(origin));
        assert!(some.allow_origin(Some(&HeaderValue::from_static("http://127.0.0.1:3000"))).is_some());
        for other in ["https://dash.example.evil", "http://dash.example", "null", "https://127.0.0.1:3000"] {
            assert_eq!(some.allow_origin(Some(&HeaderValue::from_static(other))), None, "{other}");
        }
        assert_eq!(some.allow_origin(None), None);
        assert_eq!(CorsPolicy::new(&[]).allow_origin(Some(&HeaderValue::from_static("https://a.example"))), None);
    }

    #[test]
    fn requested_headers_are_echoed_only_when_well_formed() {
        let mut headers = HeaderMap::new();
        assert_eq!(requested_headers(&headers), None);
        headers.insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("authorization,bot-token,content-type,x-api-key"),
        );
        assert!(requested_headers(&headers).is_some());
        headers.insert(header::ACCESS_CONTROL_REQUEST_HEADERS, HeaderValue::from_static("a b, c"));
        assert_eq!(requested_headers(&headers), None);
        headers.insert(header::ACCESS_CONTROL_REQUEST_HEADERS, HeaderValue::from_static("a,,b"));
        assert_eq!(requested_headers(&headers), None);
    }
}
