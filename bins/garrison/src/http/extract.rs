//! Request parsing: JSON bodies, query strings, identifiers and the API-key caller. Each failure
//! becomes an [`ApiError`] that names what is wrong.

use std::{future::Future, pin::Pin};

use actix_web::{
    FromRequest, HttpRequest,
    dev::Payload,
    error::{JsonPayloadError, PayloadError},
    http::{StatusCode, header},
    web,
};
use garrison_core::{Error, MemberKey, RobloxUserId, ServerId, apikey::Principal, records::MemberRecords};
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use utoipa::IntoParams;

use super::{AppState, error::ApiError};

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body of at most [`MAX_BODY_BYTES`]: 413 when larger, 400 when not JSON,
/// 422 when JSON of the wrong shape (the message names the field).
#[derive(Debug)]
pub struct Body<T>(pub T);

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("request body is empty: send a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = if path == "." { inner.to_string() } else { format!("{path}: {inner}") };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
            }
            _ => ApiError::bad_request(format!("malformed JSON: {inner}")),
        }
    })?;
    deserializer.end().map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("request body is larger than {MAX_BODY_BYTES} bytes"))
}

/// Reads a whole request body of at most [`MAX_BODY_BYTES`] (413 past that).
fn read_body(req: &HttpRequest, payload: &mut Payload) -> impl Future<Output = Result<web::Bytes, ApiError>> + 'static {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    // The app registers a `PayloadConfig` of the same limit, so a chunked body stops there too.
    let bytes = web::Bytes::from_request(req, payload);
    async move {
        if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
            return Err(too_large());
        }
        bytes.await.map_err(|err| match err.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => too_large(),
            _ => match err.as_error::<JsonPayloadError>() {
                Some(JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. }) => too_large(),
                _ => ApiError::bad_request(format!("cannot read the request body: {err}")),
            },
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = read_body(req, payload);
        Box::pin(async move { decode(&bytes.await?).map(Body) })
    }
}

/// A raw request body of at most [`MAX_BODY_BYTES`] (413 past that), for routes that take text.
#[derive(Debug)]
pub struct RawBody(pub web::Bytes);

impl RawBody {
    /// The body as JSON of shape `T`, or `T::default()` when the body is empty (optional bodies).
    pub fn json_or_default<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.0.iter().all(u8::is_ascii_whitespace) { Ok(T::default()) } else { decode(&self.0) }
    }
}

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = read_body(req, payload);
        Box::pin(async move { bytes.await.map(RawBody) })
    }
}

/// A query string, parsed into `T`: 400 naming the parameter when one is missing or malformed.
#[derive(Debug)]
pub struct Params<T>(pub T);

fn decode_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            ApiError::bad_request(inner.to_string())
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })
}

impl<T: DeserializeOwned> FromRequest for Params<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(decode_query(req.query_string()).map(Params))
    }
}

impl<T> std::ops::Deref for Params<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// An identifier as clients send it: a JSON string (`"123"`) or a JSON number (`123`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdText(pub String);

impl<'de> Deserialize<'de> for IdText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = IdText;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an id as a string or an integer")
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<IdText, E> {
                Ok(IdText(v.to_string()))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<IdText, E> {
                Ok(IdText(v.to_string()))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<IdText, E> {
                Ok(IdText(v.to_owned()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl IdText {
    pub fn server(&self, field: &'static str) -> Result<ServerId, Error> {
        ServerId::parse(field, &self.0)
    }

    pub fn roblox(&self, field: &'static str) -> Result<RobloxUserId, Error> {
        RobloxUserId::parse(field, &self.0)
    }
}

/// `serverId` + `robloxId` from a body or query.
pub fn member_key(server: &IdText, roblox: &IdText) -> Result<MemberKey, Error> {
    Ok(MemberKey { server: server.server("serverId")?, member: roblox.roblox("robloxId")? })
}

/// `?serverId=&robloxId=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// Discord server id (snowflake).
    #[param(value_type = String, example = "123456789012345678")]
    server_id: IdText,
    /// Roblox user id.
    #[param(value_type = String, example = "123456789")]
    roblox_id: IdText,
}

impl MemberQuery {
    pub fn key(&self) -> Result<garrison_core::MemberKey, garrison_core::Error> {
        member_key(&self.server_id, &self.roblox_id)
    }
}

/// `?serverId=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ServerQuery {
    /// Discord server id (snowflake).
    #[param(value_type = String, example = "123456789012345678")]
    server_id: IdText,
}

impl ServerQuery {
    pub fn server(&self) -> Result<ServerId, Error> {
        self.server_id.server("serverId")
    }
}

/// The API key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`. A request
/// without one is refused (401) before anything else is read. The key itself is checked by
/// [`Caller::run`], together with the work, in one trip to a blocking thread.
pub struct Caller(String);

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Caller(<redacted>)")
    }
}

fn presented_key(req: &HttpRequest) -> Result<String, ApiError> {
    let malformed = || ApiError::from(Error::Unauthenticated("invalid API key"));
    if let Some(value) = req.headers().get("x-api-key") {
        return value.to_str().map(str::to_owned).map_err(|_| malformed());
    }
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(Error::Unauthenticated(
            "missing API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
        )
        .into());
    };
    let value = value.to_str().map_err(|_| malformed())?;
    match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => Ok(key.trim().to_owned()),
        _ => Err(Error::Unauthenticated("unsupported Authorization scheme: use `Authorization: Bearer <key>`").into()),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(presented_key(req).map(Caller))
    }
}

impl Caller {
    /// The key check (401 if unknown or revoked) followed by `work` as that principal, as one closure
    /// for whichever thread runs it.
    fn authenticated<T>(
        self,
        state: web::Data<AppState>,
        work: impl FnOnce(&MemberRecords, &Principal) -> Result<T, Error> + Send + 'static,
    ) -> impl FnOnce() -> Result<T, Error> + Send + 'static {
        move || {
            let principal = state.keys.authenticate(&self.0)?;
            work(&state.records, &principal)
        }
    }

    /// Checks the key and runs `work`, both on a blocking thread: for work that only reads.
    pub async fn run<T: Send + 'static>(
        self,
        state: web::Data<AppState>,
        work: impl FnOnce(&MemberRecords, &Principal) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, ApiError> {
        blocking(self.authenticated(state, work)).await
    }

    /// For work that changes data: the key check and the work run as one job of the database's writer
    /// (see `Database::run_on_writer`), awaited here without holding a blocking thread. The answer comes
    /// once the change is durable.
    pub async fn run_write<T: Send + 'static>(
        self,
        state: web::Data<AppState>,
        work: impl FnOnce(&MemberRecords, &Principal) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, ApiError> {
        let database = state.database.clone();
        database.run_on_writer(self.authenticated(state, work)).await.map_err(ApiError::from)
    }
}

/// Runs storage work on actix's blocking threads, off the async workers.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(work).await.map_err(ApiError::internal)?.map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        #[allow(dead_code)]
        server_id: IdText,
        #[allow(dead_code)]
        amount: i64,
    }

    #[test]
    fn ids_come_as_strings_or_numbers() {
        let a: Sample = decode(br#"{"serverId":"123","amount":1}"#).expect("string id");
        let b: Sample = decode(br#"{"serverId":123,"amount":1}"#).expect("number id");
        assert_eq!(a.server_id, b.server_id);
    }

    #[test]
    fn shape_errors_name_the_field() {
        let err = decode::<Sample>(br#"{"serverId":"1","amount":"ten"}"#).expect_err("wrong type");
        assert_eq!(err.status().as_u16(), 422);
        assert!(err.message().starts_with("amount: invalid type"), "{}", err.message());
        let err = decode::<Sample>(br#"{"serverId":"1"}"#).expect_err("missing");
        assert!(err.message().starts_with("missing field `amount`"), "{}", err.message());
        let err = decode::<Sample>(br#"{"serverId":true,"amount":1}"#).expect_err("bool id");
        assert!(err.message().starts_with("serverId: invalid type: boolean"), "{}", err.message());
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Page {
        #[allow(dead_code)]
        server_id: IdText,
        limit: Option<u32>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let page: Page = decode_query("serverId=5&limit=7").expect("valid");
        assert_eq!(page.limit, Some(7));
        let err = decode_query::<Page>("serverId=5&limit=many").expect_err("bad limit");
        assert!(err.message().starts_with("limit: "), "{}", err.message());
        let err = decode_query::<Page>("limit=5").expect_err("missing");
        assert_eq!(err.message(), "missing field `serverId`");
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        for body in [&b"{"[..], b"not json", b"", br#"{"serverId":"1","amount":1} trailing"#] {
            let err = decode::<Sample>(body).expect_err("malformed");
            assert_eq!(err.status().as_u16(), 400, "{}", err.message());
        }
    }
}
