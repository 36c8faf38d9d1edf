//! Noctra's utility routes: `/api/Text/stringify`, `/api/TextChunker/split`, `/api/Regex/match`,
//! `/api/Timestamp`, `/api/CommonValue`. No API key: they touch no stored data.
//!
//! Where the specification writes a failure body that is not the usual `{"error": ...}` envelope
//! (a bare JSON string, or the regex route's result object), that body is sent as written.

use actix_web::{
    HttpRequest, get,
    http::{StatusCode, header},
    post, web,
};
use garrison_core::utilities::{self, OffsetUnit, RegexOutcome, chunk_size, split_into_chunks};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{Body, Params, RawBody},
};
use crate::regex_pool::RegexJobError;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StringifyResponse {
    #[schema(example = "Hello \"world\"\nNew line")]
    text: String,
    /// Characters (Unicode scalar values) of `text`.
    #[schema(example = 22)]
    character_count: usize,
    #[schema(example = "Hello \\\"world\\\"\\nNew line")]
    stringified: String,
}

/// Escape plain text for embedding in a JSON string (backslashes, quotes, newlines, carriage returns, tabs).
#[utoipa::path(tag = "Utilities", request_body(content = String, content_type = "text/plain", example = "Hello \"world\"\nNew line"),
    responses((status = 200, body = StringifyResponse),
    (status = 400, description = "empty body: the JSON string \"Request body must not be empty.\"", body = String),
    (status = 413, body = ErrorBody), (status = 415, description = "not text/plain", body = ErrorBody)))]
#[post("/api/Text/stringify")]
pub async fn stringify(req: HttpRequest, body: RawBody) -> Result<web::Json<StringifyResponse>, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("text/plain") {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be text/plain."));
    }
    let body = body.0;
    if body.is_empty() {
        return Err(ApiError::with_body(
            StatusCode::BAD_REQUEST,
            "empty body",
            json!("Request body must not be empty."),
        ));
    }
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("request body is not UTF-8 text"))?;
    let out = utilities::stringify(text);
    Ok(web::Json(StringifyResponse {
        text: text.to_owned(),
        character_count: out.character_count,
        stringified: out.stringified,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // the documented shape; requests are read leniently through `SplitFields`
pub struct SplitBody {
    /// Text to split.
    #[serde(alias = "Text")]
    #[schema(example = "Very long text...")]
    text: Option<String>,
    /// Maximum characters per chunk, 1..=100000 (default 1800).
    #[serde(rename = "chunkSize", alias = "ChunkSize", alias = "chunksize")]
    #[schema(example = 1800)]
    chunk_size: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChunkView {
    /// Position, from 1.
    index: usize,
    content: String,
    /// Characters in `content`.
    length: usize,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SplitResponse {
    chunks: Vec<ChunkView>,
    total_chunks: usize,
    /// Characters in the text sent.
    total_characters: usize,
    chunk_size_used: usize,
}

/// The split body as sent: any JSON value in either field, so that a body the specification's
/// service would not bind (empty, malformed, not an object, `text` not a string) gets its answer,
/// `{"error":"The text field is required."}`, rather than a parser's message.
#[derive(Debug, Default, Deserialize)]
struct SplitFields {
    #[serde(alias = "Text")]
    text: Option<serde_json::Value>,
    #[serde(rename = "chunkSize", alias = "ChunkSize", alias = "chunksize")]
    chunk_size: Option<serde_json::Value>,
}

/// Split text into chunks of at most `chunkSize` characters at whitespace; a longer word gets a chunk of its own.
#[utoipa::path(tag = "Utilities", request_body = SplitBody, responses(
    (status = 200, body = SplitResponse),
    (status = 400, description = "`{\"error\":\"The text field is required.\"}` (also for an empty or malformed body), or `chunkSize` out of range", body = ErrorBody),
    (status = 413, body = ErrorBody)))]
#[post("/api/TextChunker/split")]
pub async fn split_text(body: RawBody) -> Result<web::Json<SplitResponse>, ApiError> {
    let required = || ApiError::bad_request("The text field is required.");
    let fields: SplitFields = serde_json::from_slice(&body.0).map_err(|_| required())?;
    let text = match fields.text {
        Some(serde_json::Value::String(text)) if !text.is_empty() => text,
        _ => return Err(required()),
    };
    let requested = match fields.chunk_size {
        None | Some(serde_json::Value::Null) => None,
        // A number that is not a whole number in range is refused below with the range.
        Some(serde_json::Value::Number(n)) => Some(n.as_i64().unwrap_or(0)),
        Some(_) => Some(0),
    };
    let size = chunk_size(requested)?;
    let chunks: Vec<ChunkView> = split_into_chunks(&text, size)
        .into_iter()
        .map(|c| ChunkView { index: c.index, content: c.content, length: c.length })
        .collect();
    Ok(web::Json(SplitResponse {
        total_chunks: chunks.len(),
        total_characters: text.chars().count(),
        chunk_size_used: size,
        chunks,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegexBody {
    /// Pattern (.NET-style syntax: lookarounds, backreferences and named groups work), at most 2000 characters.
    #[serde(alias = "Pattern")]
    #[schema(example = "^\\w+@[a-zA-Z_]+?\\.[a-zA-Z]{2,3}$")]
    pattern: Option<String>,
    /// Text to test, at most 20000 characters.
    #[serde(alias = "Input")]
    #[schema(example = "user@example.com")]
    input: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegexResponse {
    is_match: bool,
    /// The first match, or null.
    matched_value: Option<String>,
    /// Null on success; what went wrong otherwise.
    error: Option<String>,
}

const TIMEOUT_MESSAGE: &str = "Timeout: Operation took longer than 1s.";

fn regex_failure(status: StatusCode, error: String) -> ApiError {
    // The specification's failure shape, exactly (its 408 example has no `matchedValue`).
    ApiError::with_body(status, error.clone(), json!({"isMatch": false, "error": error}))
}

/// Test a regular expression against an input with a bounded amount of work (408 past one second's worth).
#[utoipa::path(tag = "Utilities", request_body = RegexBody,
    params(("X-Regex-Case-Sensitive" = Option<bool>, Header, description = "true (default) or false")),
    responses((status = 200, body = RegexResponse),
    (status = 400, description = "missing field, invalid pattern, or pattern/input too long", body = RegexResponse),
    (status = 408, description = "`{\"isMatch\":false,\"error\":\"Timeout: Operation took longer than 1s.\"}`", body = RegexResponse),
    (status = 503, description = "too many patterns being tested at once; `Retry-After` says when to try again", body = RegexResponse)))]
#[post("/api/Regex/match")]
pub async fn regex_match(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<RegexBody>,
) -> Result<web::Json<RegexResponse>, ApiError> {
    let case_sensitive = match req.headers().get("x-regex-case-sensitive").map(|v| v.to_str().map(str::trim)) {
        None => true,
        Some(Ok(v)) if v.eq_ignore_ascii_case("true") => true,
        Some(Ok(v)) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(ApiError::bad_request("X-Regex-Case-Sensitive must be true or false.")),
    };
    let RegexBody { pattern, input } = body.0;
    let pattern = pattern.ok_or_else(|| ApiError::bad_request("The pattern field is required."))?;
    let input = input.ok_or_else(|| ApiError::bad_request("The input field is required."))?;
    // Runs in a worker process that is killed at the time limit (see regex_pool.rs).
    let outcome = match state.regex.run(pattern, input, case_sensitive).await {
        Ok(outcome) => outcome,
        Err(RegexJobError::Invalid(err)) => return Err(regex_failure(StatusCode::BAD_REQUEST, err.to_string())),
        Err(RegexJobError::Busy { retry_after }) => {
            let message = "Busy: too many patterns are being tested; try again shortly.".to_owned();
            return Err(
                regex_failure(StatusCode::SERVICE_UNAVAILABLE, message).retry_after(retry_after.as_secs().max(1))
            );
        }
        Err(err @ RegexJobError::Internal(_)) => return Err(ApiError::internal(err)),
    };
    match outcome {
        RegexOutcome::Matched(found) => {
            Ok(web::Json(RegexResponse { is_match: found.is_some(), matched_value: found, error: None }))
        }
        RegexOutcome::InvalidPattern(why) => {
            Err(regex_failure(StatusCode::BAD_REQUEST, format!("Invalid pattern: {why}")))
        }
        RegexOutcome::TooExpensive => Err(regex_failure(StatusCode::REQUEST_TIMEOUT, TIMEOUT_MESSAGE.into())),
    }
}

/// `?value=&unit=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimestampQuery {
    /// Offset amount (default 0); negative values reach into the past.
    #[serde(alias = "Value")]
    #[param(example = 2)]
    value: Option<i64>,
    /// seconds, minutes, hours, days or now (any letter case).
    #[serde(alias = "Unit")]
    #[param(example = "seconds")]
    unit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimestampResponse {
    #[schema(example = 1678886402)]
    unix_timestamp: i64,
}

/// Unix timestamp (seconds) `value` units from now, for Discord's `<t:...>` markup.
#[utoipa::path(tag = "Utilities", params(TimestampQuery), responses(
    (status = 200, body = TimestampResponse),
    (status = 400, description = "unknown unit: the JSON string \"Unknown unit: weeks. Valid: seconds, minutes, hours, days, now.\"", body = String)))]
#[get("/api/Timestamp")]
pub async fn timestamp(
    state: web::Data<AppState>,
    query: Params<TimestampQuery>,
) -> Result<web::Json<TimestampResponse>, ApiError> {
    let Some(name) = query.unit.as_deref() else {
        return Err(ApiError::bad_request(format!(
            "The unit query parameter is required. Valid: {}.",
            OffsetUnit::NAMES
        )));
    };
    let Some(unit) = OffsetUnit::parse(name) else {
        let message = format!("Unknown unit: {name}. Valid: {}.", OffsetUnit::NAMES);
        return Err(ApiError::with_body(StatusCode::BAD_REQUEST, message.clone(), json!(message)));
    };
    let unix_timestamp = state.operations.timestamp_after(query.value.unwrap_or(0), unit)?;
    Ok(web::Json(TimestampResponse { unix_timestamp }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommonValueBody {
    /// First list; its order is kept.
    #[serde(rename = "Value1", alias = "value1")]
    #[schema(example = json!(["admin", "mod", "user"]))]
    value1: Option<Vec<String>>,
    /// Second list.
    #[serde(rename = "Value2", alias = "value2")]
    #[schema(example = json!(["mod", "vip", "user"]))]
    value2: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommonValueResponse {
    #[schema(example = json!(["mod", "user"]))]
    common_values: Vec<String>,
    is_common_found: bool,
}

/// The values both lists hold, in the first list's order, each once (exact, case-sensitive comparison).
#[utoipa::path(tag = "Utilities", request_body = CommonValueBody, responses(
    (status = 200, body = CommonValueResponse), (status = 400, body = ErrorBody)))]
#[post("/api/CommonValue")]
pub async fn common_value(body: Body<CommonValueBody>) -> Result<web::Json<CommonValueResponse>, ApiError> {
    let first = body.0.value1.ok_or_else(|| ApiError::bad_request("The Value1 field is required."))?;
    let second = body.0.value2.ok_or_else(|| ApiError::bad_request("The Value2 field is required."))?;
    let common_values = utilities::common_values(&first, &second);
    Ok(web::Json(CommonValueResponse { is_common_found: !common_values.is_empty(), common_values }))
}
