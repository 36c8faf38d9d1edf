//! Request parsing: JSON bodies, query strings, identifiers and the API-key caller. Each failure
//! becomes an [`ApiError`] that names what is wrong.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest,
    body::{EitherBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    error::{JsonPayloadError, PayloadError},
    http::{StatusCode, header},
    middleware::Next,
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
/// Parameter names match without regard to letter case (`serverId`, `serverid`, `ServerId`), as the
/// original services' do: every route's query goes through here.
#[derive(Debug)]
pub struct Params<T>(pub T);

/// The field names `T` deserializes from, when it is a struct (serde hands them to the deserializer).
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    /// A deserializer that only records the fields it is asked for.
    struct Probe<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("probe"))
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(serde::de::Error::custom("probe"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// `query` with each parameter name spelled as `T`'s field of the same name ignoring ASCII case.
fn canonical_query(query: &str, fields: &[&str]) -> Option<String> {
    let pairs: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
    let renamed = |name: &str| {
        if fields.contains(&name) {
            return None;
        }
        fields.iter().find(|field| field.eq_ignore_ascii_case(name)).copied()
    };
    if pairs.iter().all(|(name, _)| renamed(name).is_none()) {
        return None;
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &pairs {
        out.append_pair(renamed(name).unwrap_or(name), value);
    }
    Some(out.finish())
}

fn decode_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let canonical = canonical_query(query, field_names::<T>());
    let query = canonical.as_deref().unwrap_or(query);
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
/// [`Caller::run`], together with the work, in one trip to a blocking thread; a request refused for its
/// input before that check is still refused for a wrong key first (see [`authenticate_first`]).
pub struct Caller {
    key: String,
    checked: Arc<AtomicBool>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Caller(<redacted>)")
    }
}

/// The key a request presented, or why it has none that can be checked.
fn presented_key(req: &HttpRequest) -> Result<String, &'static str> {
    const MALFORMED: &str = "invalid API key";
    if let Some(value) = req.headers().get("x-api-key") {
        return value.to_str().map(str::to_owned).map_err(|_| MALFORMED);
    }
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err("missing API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`");
    };
    let value = value.to_str().map_err(|_| MALFORMED)?;
    match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => Ok(key.trim().to_owned()),
        _ => Err("unsupported Authorization scheme: use `Authorization: Bearer <key>`"),
    }
}

/// Left in the request's extensions by [`Caller`]: the route takes an API key, this is what was
/// presented, and whether the key check has run yet.
#[derive(Clone)]
struct KeyCheck {
    presented: Result<String, &'static str>,
    checked: Arc<AtomicBool>,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let presented = presented_key(req);
        let checked = Arc::new(AtomicBool::new(false));
        req.extensions_mut().insert(KeyCheck { presented: presented.clone(), checked: Arc::clone(&checked) });
        std::future::ready(match presented {
            Ok(key) => Ok(Caller { key, checked }),
            Err(reason) => Err(Error::Unauthenticated(reason).into()),
        })
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
            self.checked.store(true, Ordering::Release);
            let principal = state.keys.authenticate(&self.key)?;
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

    /// Checks the key (on a blocking thread) and says whose it is: for routes whose work is async
    /// (the Discord and Roblox services authorize the principal themselves).
    pub async fn principal(self, state: web::Data<AppState>) -> Result<Principal, ApiError> {
        self.run(state, |_, principal| Ok(principal.clone())).await
    }

    /// For work that changes data: the key check and the work run as one job of the store's writer
    /// (`MemberRecords::write`), awaited here without holding a blocking thread. The answer comes once
    /// the change is durable.
    pub async fn run_write<T: Send + 'static>(
        self,
        state: web::Data<AppState>,
        work: impl FnOnce(&MemberRecords, &Principal) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, ApiError> {
        let write = state.records.write(self.authenticated(state.clone(), work));
        write.await.map_err(ApiError::from)
    }
}

/// Authentication comes before input errors. A route that takes an API key ([`Caller`]) checks it
/// together with its work, after parsing its body, query and ids; when that parsing fails first, the
/// key has not been checked, and a caller with a wrong key would learn about the input rather than
/// the key. So a client error (4xx other than 401, 403 and 429) from such a route, before its key
/// check ran, is answered 401 instead when the key is missing or invalid. One mechanism for every
/// route, no per-handler order to keep; the extra key check is paid only by failed requests.
pub async fn authenticate_first(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let response = next.call(req).await?;
    let status = response.status();
    if !status.is_client_error() || matches!(status.as_u16(), 401 | 403 | 429) {
        return Ok(response.map_into_left_body());
    }
    let check = response.request().extensions().get::<KeyCheck>().cloned();
    let Some(check) = check.filter(|c| !c.checked.load(Ordering::Acquire)) else {
        return Ok(response.map_into_left_body());
    };
    let refusal = match check.presented {
        Err(reason) => Some(Error::Unauthenticated(reason)),
        Ok(key) => match response.request().app_data::<web::Data<AppState>>().cloned() {
            Some(state) => match web::block(move || state.keys.authenticate(&key)).await {
                Ok(Err(err @ Error::Unauthenticated(_))) => Some(err),
                _ => None,
            },
            None => None,
        },
    };
    Ok(match refusal {
        Some(err) => {
            let refused = actix_web::ResponseError::error_response(&ApiError::from(err));
            response.into_response(refused).map_into_right_body()
        }
        None => response.map_into_left_body(),
    })
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
    fn query_parameter_names_ignore_letter_case() {
        for query in ["serverId=5&limit=7", "serverid=5&LIMIT=7", "ServerId=5&Limit=7", "SERVERID=5&limit=7"] {
            let page: Page = decode_query(query).unwrap_or_else(|e| panic!("{query}: {}", e.message()));
            assert_eq!(page.server_id, IdText("5".into()), "{query}");
            assert_eq!(page.limit, Some(7), "{query}");
        }
        // Values keep their spelling and encoding; unknown names stay unknown.
        let page: Page = decode_query("serverid=%35&other=x").expect("valid");
        assert_eq!(page.server_id, IdText("5".into()));
        let err = decode_query::<Page>("serverId=5&ServerId=6").expect_err("twice");
        assert!(err.message().contains("duplicate field"), "{}", err.message());
        assert_eq!(field_names::<Page>(), ["serverId", "limit"]);
        assert_eq!(canonical_query("serverId=1&limit=2", &["serverId", "limit"]), None, "no copy when exact");
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        for body in [&b"{"[..], b"not json", b"", br#"{"serverId":"1","amount":1} trailing"#] {
            let err = decode::<Sample>(body).expect_err("malformed");
            assert_eq!(err.status().as_u16(), 400, "{}", err.message());
        }
    }
}
