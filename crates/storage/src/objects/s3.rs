//! Objects in an S3 bucket through rust-s3 (AWS, or any S3-compatible server at a custom endpoint).
//!
//! - Small bodies (`put`) are one `PutObject`. `put_stream` reads the body into parts of
//!   [`PART_SIZE`] bytes and sends them one after another as a multipart upload, so memory stays near
//!   one part whatever the object's size (at most 10,000 parts: 80 GiB). A body that ends before the
//!   first part is full is sent as one `PutObject`. If the body fails, a part fails or the upload is
//!   dropped half-way, the multipart upload is aborted; a process killed meanwhile leaves an incomplete
//!   upload that a bucket lifecycle rule ("abort incomplete multipart uploads") cleans up.
//! - `get` is one `GetObject` whose body is streamed as it arrives (timeout [`GET_TIMEOUT`] for the
//!   whole transfer; every other request has rust-s3's 60 seconds).
//! - Listings use `ListObjectsV2` with `StartAfter`: the continuation is the last key listed, as in the
//!   local store, so a listing can also resume after any key (keyset pagination).
//! - The HTTP client ignores `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`: traffic to the bucket (signed
//!   requests, object bodies) goes straight to the endpoint, never to a proxy the environment names.
//! - Errors name the operation, the status and S3's error code, never a response body or a credential.

use std::{fmt, time::Duration};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use garrison_core::{
    Timestamp,
    objects::{
        ByteStream, Continuation, DEFAULT_CONTENT_TYPE, ObjectBody, ObjectError, ObjectFuture, ObjectKey, ObjectMeta,
        ObjectPage, ObjectPrefix, ObjectStore, ObjectSummary, check_content_type,
    },
};
use s3::{
    Bucket, BucketConfiguration, Region,
    command::Command,
    creds::Credentials,
    error::S3Error,
    request::{Request, tokio_backend::ReqwestRequest},
    serde_types::Part,
};
use time::{
    OffsetDateTime,
    format_description::well_known::{Rfc2822, Rfc3339},
};

use super::page_limit;

/// Bytes per part of a multipart upload (S3's minimum is 5 MiB, except for the last part).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// How long one streamed download may take in total.
pub const GET_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Where the bucket is and how to sign requests to it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// `https://host[:port]` of an S3-compatible server; `None` for AWS, whose endpoint follows from
    /// the region.
    pub endpoint: Option<String>,
    /// E.g. `us-east-1`; S3-compatible servers usually accept any name.
    pub region: String,
    pub bucket: String,
    /// `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (most self-hosted servers need it).
    pub path_style: bool,
    pub access_key: String,
    pub secret_key: String,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("path_style", &self.path_style)
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .finish()
    }
}

/// An [`ObjectStore`] over one S3 bucket.
#[derive(Clone)]
pub struct S3ObjectStore {
    bucket: Box<Bucket>,
    /// The same bucket with [`GET_TIMEOUT`].
    download_bucket: Box<Bucket>,
    config: S3Config,
}

impl fmt::Debug for S3ObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3ObjectStore").field("config", &self.config).finish_non_exhaustive()
    }
}

/// The `<Code>` of an S3 error document, if there is one.
fn error_code(body: &str) -> Option<&str> {
    let start = body.find("<Code>")? + "<Code>".len();
    let end = body[start..].find("</Code>")? + start;
    let code = body[start..end].trim();
    (!code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(code)
}

/// Converts a rust-s3 error at the edge. `key` is the object the operation was about, so a 404 on it
/// means "no such object" (but not when the bucket itself is missing).
fn s3_failure(operation: &str, key: Option<&ObjectKey>, error: S3Error) -> ObjectError {
    match error {
        S3Error::HttpFailWithBody(status, body) => {
            let code = error_code(&body);
            match (status, code, key) {
                (404, Some("NoSuchKey") | None, Some(key)) => ObjectError::NotFound(key.clone()),
                (404, Some("NoSuchBucket"), _) => {
                    ObjectError::Unavailable(format!("S3 {operation}: the bucket does not exist (NoSuchBucket)"))
                }
                _ => ObjectError::Unavailable(format!(
                    "S3 {operation} answered HTTP {status}{}",
                    code.map(|c| format!(" ({c})")).unwrap_or_default()
                )),
            }
        }
        S3Error::HttpFail => ObjectError::Unavailable(format!("S3 {operation} failed")),
        // Without the URL: its path is the object key, which may hold a view id.
        S3Error::Reqwest(e) => ObjectError::Unavailable(format!("S3 {operation}: {}", e.without_url())),
        S3Error::Io(e) => ObjectError::Unavailable(format!("S3 {operation}: {e}")),
        S3Error::Credentials(_) => ObjectError::Unavailable(format!("S3 {operation}: the credentials are unusable")),
        other => ObjectError::Internal(format!("S3 {operation}: {other}")),
    }
}

/// Milliseconds since the epoch of an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, from HEAD and GET)
/// or an ISO 8601 one (`2015-10-21T07:28:00.000Z`, from listings).
fn parse_time(text: Option<&str>) -> Timestamp {
    let Some(text) = text.map(str::trim) else { return Timestamp::from_millis(0) };
    let parsed = OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(text, &Rfc2822))
        .or_else(|_| OffsetDateTime::parse(&text.replace(" GMT", " +0000"), &Rfc2822));
    match parsed {
        Ok(at) => Timestamp::from_millis(i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)),
        Err(_) => {
            tracing::warn!(value = text, "S3 sent a modification time that does not parse");
            Timestamp::from_millis(0)
        }
    }
}

fn size_from(length: Option<i64>, operation: &str) -> Result<u64, ObjectError> {
    length
        .and_then(|l| u64::try_from(l).ok())
        .ok_or_else(|| ObjectError::Internal(format!("S3 {operation} sent no Content-Length")))
}

/// A multipart upload that is aborted unless it completed.
struct PendingUpload {
    bucket: Box<Bucket>,
    key: String,
    upload_id: String,
    parts: Vec<Part>,
    finished: bool,
}

impl PendingUpload {
    async fn abort(mut self) {
        self.finished = true;
        if let Err(e) = self.bucket.abort_upload(&self.key, &self.upload_id).await {
            // The key is not logged: transcript and modlog keys hold view ids, which act as passwords.
            tracing::warn!(error = %s3_failure("AbortMultipartUpload", None, e), "cannot abort an upload");
        }
    }
}

impl Drop for PendingUpload {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Dropped mid-way (the caller gave up): abort in the background if a runtime is there.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let bucket = self.bucket.clone();
            let key = std::mem::take(&mut self.key);
            let upload_id = std::mem::take(&mut self.upload_id);
            runtime.spawn(async move {
                let _ = bucket.abort_upload(&key, &upload_id).await;
            });
        }
    }
}

impl S3ObjectStore {
    /// A store for the configured bucket. Makes no request: a wrong endpoint, bucket or key shows on
    /// the first operation.
    pub fn new(config: S3Config) -> Result<Self, ObjectError> {
        if config.bucket.trim().is_empty() {
            return Err(ObjectError::Internal("the S3 bucket name is empty".into()));
        }
        if config.access_key.is_empty() || config.secret_key.is_empty() {
            return Err(ObjectError::Internal("the S3 access key and secret key are both required".into()));
        }
        let bucket = Bucket::new(&config.bucket, Self::region(&config)?, Self::credentials(&config)?)
            .map_err(|e| s3_failure("client setup", None, e))?;
        // rust-s3 builds a default reqwest client, which would send every request through the proxy
        // that HTTP_PROXY / HTTPS_PROXY / ALL_PROXY name. A proxy rule of our own (that never applies)
        // turns that off: the bucket is always reached directly.
        let direct = rust_s3_reqwest::Proxy::custom(|_: &rust_s3_reqwest::Url| None::<rust_s3_reqwest::Url>);
        let bucket = Box::new(bucket.set_proxy(direct).map_err(|e| s3_failure("client setup", None, e))?);
        let bucket = if config.path_style { bucket.with_path_style() } else { bucket };
        let download_bucket =
            bucket.with_request_timeout(GET_TIMEOUT).map_err(|e| s3_failure("client setup", None, e))?;
        Ok(Self { bucket, download_bucket, config })
    }

    fn region(config: &S3Config) -> Result<Region, ObjectError> {
        match config.endpoint.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(endpoint) => Ok(Region::Custom {
                region: config.region.clone(),
                endpoint: endpoint.trim_end_matches('/').to_owned(),
            }),
            None => config
                .region
                .parse()
                .map_err(|_| ObjectError::Internal(format!("unknown S3 region {:?}", config.region))),
        }
    }

    fn credentials(config: &S3Config) -> Result<Credentials, ObjectError> {
        Credentials::new(Some(&config.access_key), Some(&config.secret_key), None, None, None)
            .map_err(|_| ObjectError::Internal("the S3 credentials are unusable".into()))
    }

    /// Creates the configured bucket (first-time setup and tests). Succeeds if the bucket exists and
    /// belongs to these credentials.
    pub async fn create_bucket(&self) -> Result<(), ObjectError> {
        let region = Self::region(&self.config)?;
        let credentials = Self::credentials(&self.config)?;
        let config = BucketConfiguration::default();
        let created = if self.config.path_style {
            Bucket::create_with_path_style(&self.config.bucket, region, credentials, config).await
        } else {
            Bucket::create(&self.config.bucket, region, credentials, config).await
        };
        match created {
            Ok(_) => Ok(()),
            Err(S3Error::HttpFailWithBody(409, body)) if error_code(&body) == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(e) => Err(s3_failure("CreateBucket", None, e)),
        }
    }

    /// Deletes the configured bucket, which must be empty (tests clean up with it).
    pub async fn delete_bucket(&self) -> Result<(), ObjectError> {
        self.bucket.delete().await.map(|_| ()).map_err(|e| s3_failure("DeleteBucket", None, e))
    }

    pub fn config(&self) -> &S3Config {
        &self.config
    }

    async fn put_bytes(&self, key: &ObjectKey, bytes: &[u8], content_type: &str) -> Result<(), ObjectError> {
        self.bucket
            .put_object_with_content_type(key.as_str(), bytes, content_type)
            .await
            .map_err(|e| s3_failure("PutObject", Some(key), e))?;
        Ok(())
    }

    async fn send_part(
        &self,
        upload: &mut PendingUpload,
        part: Vec<u8>,
        content_type: &str,
    ) -> Result<(), ObjectError> {
        let number = u32::try_from(upload.parts.len() + 1).unwrap_or(u32::MAX);
        if number > 10_000 {
            return Err(ObjectError::Internal("the object is larger than 10,000 parts".into()));
        }
        let sent = self
            .bucket
            .put_multipart_chunk(part, &upload.key, number, &upload.upload_id, content_type)
            .await
            .map_err(|e| s3_failure("UploadPart", None, e))?;
        upload.parts.push(sent);
        Ok(())
    }

    async fn upload(&self, key: &ObjectKey, mut body: ByteStream, content_type: &str) -> Result<u64, ObjectError> {
        check_content_type(content_type)?;
        let mut buffer: Vec<u8> = Vec::new();
        let mut upload: Option<PendingUpload> = None;
        let mut total = 0u64;
        let result: Result<(), ObjectError> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                total += chunk.len() as u64;
                buffer.extend_from_slice(&chunk);
                while buffer.len() >= PART_SIZE {
                    let rest = buffer.split_off(PART_SIZE);
                    let part = std::mem::replace(&mut buffer, rest);
                    if upload.is_none() {
                        let started = self
                            .bucket
                            .initiate_multipart_upload(key.as_str(), content_type)
                            .await
                            .map_err(|e| s3_failure("CreateMultipartUpload", Some(key), e))?;
                        upload = Some(PendingUpload {
                            bucket: self.bucket.clone(),
                            key: key.as_str().to_owned(),
                            upload_id: started.upload_id,
                            parts: Vec::new(),
                            finished: false,
                        });
                    }
                    if let Some(upload) = upload.as_mut() {
                        self.send_part(upload, part, content_type).await?;
                    }
                }
            }
            Ok(())
        }
        .await;

        let Some(mut upload) = upload else {
            result?;
            self.put_bytes(key, &buffer, content_type).await?;
            return Ok(total);
        };
        let finished = match result {
            Ok(()) if buffer.is_empty() => Ok(()),
            Ok(()) => self.send_part(&mut upload, std::mem::take(&mut buffer), content_type).await,
            Err(e) => Err(e),
        };
        let completed = match finished {
            Ok(()) => self
                .bucket
                .complete_multipart_upload(key.as_str(), &upload.upload_id, std::mem::take(&mut upload.parts))
                .await
                .map_err(|e| s3_failure("CompleteMultipartUpload", Some(key), e)),
            Err(e) => Err(e),
        };
        match completed {
            Ok(_) => {
                upload.finished = true;
                Ok(total)
            }
            Err(e) => {
                upload.abort().await;
                Err(e)
            }
        }
    }
}

impl ObjectStore for S3ObjectStore {
    fn put<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes, content_type: &'a str) -> ObjectFuture<'a, ()> {
        Box::pin(async move {
            check_content_type(content_type)?;
            self.put_bytes(key, &bytes, content_type).await
        })
    }

    fn put_stream<'a>(&'a self, key: &'a ObjectKey, body: ByteStream, content_type: &'a str) -> ObjectFuture<'a, u64> {
        Box::pin(self.upload(key, body, content_type))
    }

    fn get<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, ObjectBody> {
        Box::pin(async move {
            let request = ReqwestRequest::new(&self.download_bucket, key.as_str(), Command::GetObject)
                .await
                .map_err(|e| s3_failure("GetObject", Some(key), e))?;
            let response = request.response().await.map_err(|e| s3_failure("GetObject", Some(key), e))?;
            let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let meta = ObjectMeta {
                key: key.clone(),
                size: size_from(response.content_length().and_then(|l| i64::try_from(l).ok()), "GetObject")?,
                content_type: header("content-type").unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
                last_modified: parse_time(header("last-modified").as_deref()),
            };
            let shown = key.clone();
            let bytes = response
                .bytes_stream()
                .map_err(move |e| ObjectError::Unavailable(format!("S3 GetObject {shown}: {e}")));
            Ok(ObjectBody { meta, bytes: Box::pin(bytes) })
        })
    }

    fn head<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, Option<ObjectMeta>> {
        Box::pin(async move {
            let head = match self.bucket.head_object(key.as_str()).await {
                Ok((head, 200..=299)) => head,
                Ok((_, 404)) => return Ok(None),
                Ok((_, status)) => {
                    return Err(ObjectError::Unavailable(format!("S3 HeadObject answered HTTP {status}")));
                }
                Err(e) => {
                    return match s3_failure("HeadObject", Some(key), e) {
                        ObjectError::NotFound(_) => Ok(None),
                        other => Err(other),
                    };
                }
            };
            Ok(Some(ObjectMeta {
                key: key.clone(),
                size: size_from(head.content_length, "HeadObject")?,
                content_type: head.content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
                last_modified: parse_time(head.last_modified.as_deref()),
            }))
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPrefix,
        after: Option<&'a Continuation>,
        limit: usize,
    ) -> ObjectFuture<'a, ObjectPage> {
        Box::pin(async move {
            let (page, _) = self
                .bucket
                .list_page(
                    prefix.as_str().to_owned(),
                    None,
                    None,
                    after.map(|a| a.as_str().to_owned()),
                    Some(page_limit(limit)),
                )
                .await
                .map_err(|e| s3_failure("ListObjectsV2", None, e))?;
            let last = page.contents.iter().map(|o| o.key.as_str()).max().map(str::to_owned);
            let mut objects = Vec::with_capacity(page.contents.len());
            for object in page.contents {
                match ObjectKey::parse(&object.key) {
                    Ok(key) if prefix.matches(&key) => objects.push(ObjectSummary {
                        key,
                        size: object.size,
                        last_modified: parse_time(Some(&object.last_modified)),
                    }),
                    // Objects written by something else with keys Garrison would refuse are not listed.
                    _ => tracing::warn!(key = %object.key.escape_debug(), "skipping an S3 object with an invalid key"),
                }
            }
            objects.sort_by(|a, b| a.key.cmp(&b.key));
            let next = if page.is_truncated { last.map(Continuation::new) } else { None };
            Ok(ObjectPage { objects, next })
        })
    }

    fn delete<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, ()> {
        Box::pin(async move {
            match self.bucket.delete_object(key.as_str()).await {
                Ok(_) => Ok(()),
                Err(e) => match s3_failure("DeleteObject", Some(key), e) {
                    ObjectError::NotFound(_) => Ok(()),
                    other => Err(other),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_times_parse_in_both_formats() {
        let expected = Timestamp::from_millis(1_445_412_480_000);
        assert_eq!(parse_time(Some("Wed, 21 Oct 2015 07:28:00 GMT")), expected);
        assert_eq!(parse_time(Some("2015-10-21T07:28:00.000Z")), expected);
        assert_eq!(parse_time(Some("2015-10-21T07:28:00.250Z")).millis(), 1_445_412_480_250);
        assert_eq!(parse_time(Some("yesterday")), Timestamp::from_millis(0));
        assert_eq!(parse_time(None), Timestamp::from_millis(0));
    }

    #[test]
    fn error_codes_are_read_but_bodies_are_not_kept() {
        let body = "<Error><Code>SignatureDoesNotMatch</Code><StringToSign>secret-ish</StringToSign></Error>";
        assert_eq!(error_code(body), Some("SignatureDoesNotMatch"));
        let error = s3_failure("PutObject", None, S3Error::HttpFailWithBody(403, body.into()));
        let message = error.to_string();
        assert!(message.contains("403") && message.contains("SignatureDoesNotMatch"), "{message}");
        assert!(!message.contains("secret-ish"), "{message}");
        let key = ObjectKey::parse("a/b").expect("valid");
        let missing = s3_failure("GetObject", Some(&key), S3Error::HttpFailWithBody(404, String::new()));
        assert!(matches!(missing, ObjectError::NotFound(_)));
        let no_bucket = "<Error><Code>NoSuchBucket</Code></Error>";
        let missing_bucket = s3_failure("GetObject", Some(&key), S3Error::HttpFailWithBody(404, no_bucket.into()));
        assert!(matches!(missing_bucket, ObjectError::Unavailable(_)));
    }

    #[test]
    fn the_secret_key_is_not_debug_printed() {
        let config = S3Config {
            endpoint: Some("http://127.0.0.1:9000".into()),
            region: "us-east-1".into(),
            bucket: "b".into(),
            path_style: true,
            access_key: "AK".into(),
            secret_key: "very-secret".into(),
        };
        let store = S3ObjectStore::new(config.clone()).expect("valid config");
        assert!(!format!("{config:?}").contains("very-secret"));
        assert!(!format!("{store:?}").contains("very-secret"));
    }
}
