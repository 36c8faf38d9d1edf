//! Objects as files under one directory.
//!
//! Layout: key `a/b/c` is the file `ROOT/a/b/c~` (its bytes, exactly as put) next to `ROOT/a/b/c~meta`
//! (its content type, one line of text). Directory names are key segments verbatim and never contain
//! `~`, which no key may contain, while every file the store writes does; so `a` and `a/b` can both
//! be objects (`ROOT/a~` and `ROOT/a/b~`), as on S3, and nothing in the tree is ambiguous.
//!
//! Writes go to a temporary file in the object's own directory (`c~tmp-<pid>-<n>`), are flushed to
//! disk, then renamed over the old file: a reader opens either the old file or the new one, never a
//! half-written one. The content-type sidecar is renamed into place just before the data file, so
//! for a moment an overwrite that changes the content type can show the new type with the old bytes.
//! Deleting removes the data file first (the object is gone at once), then the sidecar, then any
//! directories left empty.
//!
//! A listing walks the directory the prefix names and sorts the keys it finds, so its cost grows
//! with the number of objects under that prefix (fine for the thousands a server keeps per prefix).

use std::{
    io,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, stream};
use garrison_core::{
    Timestamp,
    objects::{
        ByteStream, Continuation, DEFAULT_CONTENT_TYPE, ObjectBody, ObjectError, ObjectFuture, ObjectKey, ObjectMeta,
        ObjectPage, ObjectPrefix, ObjectStore, ObjectSummary, check_content_type,
    },
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{page_limit, system_time_millis};

const DATA_SUFFIX: &str = "~";
const META_SUFFIX: &str = "~meta";
const TEMP_MARK: &str = "~tmp-";
/// Bytes per chunk of a streamed read.
const READ_CHUNK: usize = 128 * 1024;
/// Attempts at creating a temporary file while a concurrent delete may remove its directory.
const CREATE_ATTEMPTS: usize = 5;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// An [`ObjectStore`] over a local directory (default `./data/objects`).
#[derive(Debug, Clone)]
pub struct FsObjectStore {
    root: PathBuf,
}

/// Where one object's files are.
struct ObjectPaths {
    dir: PathBuf,
    leaf: String,
    data: PathBuf,
    meta: PathBuf,
}

/// A temporary file that is removed unless it was renamed into place.
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    fn kept(mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn unavailable(action: &str, path: &Path, error: &io::Error) -> ObjectError {
    ObjectError::Unavailable(format!("cannot {action} {}: {error}", path.display()))
}

fn is_not_found(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

impl FsObjectStore {
    /// The store rooted at `root`, which is created if missing.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, ObjectError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| unavailable("create the object directory", &root, &e))?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn paths(&self, key: &ObjectKey) -> ObjectPaths {
        let mut dir = self.root.clone();
        let (leaf, parents) = key.as_str().rsplit_once('/').map_or((key.as_str(), None), |(p, l)| (l, Some(p)));
        if let Some(parents) = parents {
            dir.extend(parents.split('/'));
        }
        ObjectPaths {
            data: dir.join(format!("{leaf}{DATA_SUFFIX}")),
            meta: dir.join(format!("{leaf}{META_SUFFIX}")),
            leaf: leaf.to_owned(),
            dir,
        }
    }

    /// Creates a new temporary file next to the object, creating the directory as needed.
    async fn create_temp(paths: &ObjectPaths, what: &str) -> Result<(tokio::fs::File, TempFile), ObjectError> {
        let mut last_error = None;
        for _ in 0..CREATE_ATTEMPTS {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = paths.dir.join(format!("{}{TEMP_MARK}{}-{n}{what}", paths.leaf, std::process::id()));
            match tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await {
                Ok(file) => return Ok((file, TempFile(Some(path)))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // The directory is missing (new, or just removed by a delete that emptied it).
                    tokio::fs::create_dir_all(&paths.dir)
                        .await
                        .map_err(|e| unavailable("create the directory", &paths.dir, &e))?;
                    last_error = Some(e);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => return Err(unavailable("create", &path, &e)),
            }
        }
        let error = last_error.unwrap_or_else(|| io::Error::other("no attempt made"));
        Err(unavailable("create a temporary file in", &paths.dir, &error))
    }

    /// Writes `body` to a temporary file and renames it (and the content-type sidecar) into place.
    async fn write(&self, key: &ObjectKey, mut body: ByteStream, content_type: &str) -> Result<u64, ObjectError> {
        check_content_type(content_type)?;
        let paths = self.paths(key);
        let (mut file, data_temp) = Self::create_temp(&paths, "").await?;
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await.map_err(|e| unavailable("write", data_temp.path(), &e))?;
            written += chunk.len() as u64;
        }
        file.flush().await.map_err(|e| unavailable("write", data_temp.path(), &e))?;
        file.sync_all().await.map_err(|e| unavailable("sync", data_temp.path(), &e))?;
        drop(file);

        let (mut meta_file, meta_temp) = Self::create_temp(&paths, "-meta").await?;
        meta_file.write_all(content_type.as_bytes()).await.map_err(|e| unavailable("write", meta_temp.path(), &e))?;
        meta_file.flush().await.map_err(|e| unavailable("write", meta_temp.path(), &e))?;
        drop(meta_file);

        tokio::fs::rename(meta_temp.path(), &paths.meta).await.map_err(|e| unavailable("rename", &paths.meta, &e))?;
        meta_temp.kept();
        tokio::fs::rename(data_temp.path(), &paths.data).await.map_err(|e| unavailable("rename", &paths.data, &e))?;
        data_temp.kept();
        // Make the renames durable too; a failure here leaves the object in place, so it is not an error.
        if let Ok(dir) = tokio::fs::File::open(&paths.dir).await {
            let _ = dir.sync_all().await;
        }
        Ok(written)
    }

    async fn content_type(meta: &Path) -> String {
        match tokio::fs::read_to_string(meta).await {
            Ok(text) if check_content_type(text.trim()).is_ok() => text.trim().to_owned(),
            _ => DEFAULT_CONTENT_TYPE.to_owned(),
        }
    }

    /// Removes `dir` and its parents while they are empty, stopping at the root.
    async fn remove_empty_dirs(&self, mut dir: PathBuf) {
        while dir != self.root && dir.starts_with(&self.root) {
            if tokio::fs::remove_dir(&dir).await.is_err() {
                return;
            }
            if !dir.pop() {
                return;
            }
        }
    }
}

/// Every object under `dir` (whose keys start with `key_prefix`) that can match `prefix`.
fn collect_keys(dir: &Path, key_prefix: &str, prefix: &str, found: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else { continue };
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            if name.contains('~') || ObjectKey::parse(&name).is_err() {
                continue;
            }
            let below = format!("{key_prefix}{name}/");
            if below.starts_with(prefix) || prefix.starts_with(&below) {
                collect_keys(&entry.path(), &below, prefix, found)?;
            }
        } else if file_type.is_file()
            && let Some(leaf) = name.strip_suffix(DATA_SUFFIX)
            && !leaf.contains('~')
            && ObjectKey::parse(leaf).is_ok()
        {
            let key = format!("{key_prefix}{leaf}");
            if key.starts_with(prefix) {
                found.push((key, entry.path()));
            }
        }
    }
    Ok(())
}

/// One page of the listing, read with blocking calls (run on a blocking thread).
fn list_blocking(root: &Path, prefix: &str, after: Option<&str>, limit: usize) -> Result<ObjectPage, ObjectError> {
    // Only the directory that the prefix's complete segments name can hold matching keys.
    let (start, key_prefix) = match prefix.rsplit_once('/') {
        Some((dirs, _)) => (dirs.split('/').fold(root.to_path_buf(), |p, s| p.join(s)), format!("{dirs}/")),
        None => (root.to_path_buf(), String::new()),
    };
    let mut found = Vec::new();
    collect_keys(&start, &key_prefix, prefix, &mut found).map_err(|e| unavailable("list", &start, &e))?;
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut candidates = found.into_iter().filter(|(key, _)| after.is_none_or(|after| key.as_str() > after)).peekable();
    let mut objects = Vec::with_capacity(limit.min(64));
    while objects.len() < limit {
        let Some((key, path)) = candidates.next() else { break };
        // An object deleted since the walk is simply not listed.
        let Ok(metadata) = std::fs::metadata(&path) else { continue };
        let Ok(key) = ObjectKey::parse(&key) else { continue };
        objects.push(ObjectSummary {
            key,
            size: metadata.len(),
            last_modified: metadata.modified().map_or(Timestamp::from_millis(0), system_time_millis),
        });
    }
    let next = match (candidates.peek(), objects.last()) {
        (Some(_), Some(last)) => Some(Continuation::new(last.key.as_str())),
        _ => None,
    };
    Ok(ObjectPage { objects, next })
}

/// Reads a file as a stream of chunks, ending at the first error.
fn file_stream(file: tokio::fs::File, path: PathBuf) -> ByteStream {
    Box::pin(stream::unfold(Some(file), move |state| {
        let path = path.clone();
        async move {
            let mut file = state?;
            let mut buffer = BytesMut::with_capacity(READ_CHUNK);
            match file.read_buf(&mut buffer).await {
                Ok(0) => None,
                Ok(_) => Some((Ok(buffer.freeze()), Some(file))),
                Err(e) => Some((Err(unavailable("read", &path, &e)), None)),
            }
        }
    }))
}

impl ObjectStore for FsObjectStore {
    fn put<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes, content_type: &'a str) -> ObjectFuture<'a, ()> {
        Box::pin(async move {
            self.write(key, Box::pin(stream::once(async move { Ok(bytes) })), content_type).await.map(|_| ())
        })
    }

    fn put_stream<'a>(&'a self, key: &'a ObjectKey, body: ByteStream, content_type: &'a str) -> ObjectFuture<'a, u64> {
        Box::pin(self.write(key, body, content_type))
    }

    fn get<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, ObjectBody> {
        Box::pin(async move {
            let paths = self.paths(key);
            let file = match tokio::fs::File::open(&paths.data).await {
                Ok(file) => file,
                Err(e) if is_not_found(&e) => return Err(ObjectError::NotFound(key.clone())),
                Err(e) => return Err(unavailable("open", &paths.data, &e)),
            };
            // Size and time come from the opened file, so they describe the bytes the stream yields.
            let metadata = file.metadata().await.map_err(|e| unavailable("read", &paths.data, &e))?;
            let meta = ObjectMeta {
                key: key.clone(),
                size: metadata.len(),
                content_type: Self::content_type(&paths.meta).await,
                last_modified: metadata.modified().map_or(Timestamp::from_millis(0), system_time_millis),
            };
            Ok(ObjectBody { meta, bytes: file_stream(file, paths.data) })
        })
    }

    fn head<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, Option<ObjectMeta>> {
        Box::pin(async move {
            let paths = self.paths(key);
            let metadata = match tokio::fs::metadata(&paths.data).await {
                Ok(metadata) if metadata.is_file() => metadata,
                Ok(_) => return Ok(None),
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(unavailable("read", &paths.data, &e)),
            };
            Ok(Some(ObjectMeta {
                key: key.clone(),
                size: metadata.len(),
                content_type: Self::content_type(&paths.meta).await,
                last_modified: metadata.modified().map_or(Timestamp::from_millis(0), system_time_millis),
            }))
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPrefix,
        after: Option<&'a Continuation>,
        limit: usize,
    ) -> ObjectFuture<'a, ObjectPage> {
        let root = self.root.clone();
        let prefix = prefix.as_str().to_owned();
        let after = after.map(|a| a.as_str().to_owned());
        let limit = page_limit(limit);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || list_blocking(&root, &prefix, after.as_deref(), limit))
                .await
                .map_err(|e| ObjectError::Internal(format!("the listing task failed: {e}")))?
        })
    }

    fn delete<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, ()> {
        Box::pin(async move {
            let paths = self.paths(key);
            for path in [&paths.data, &paths.meta] {
                match tokio::fs::remove_file(path).await {
                    Ok(()) => {}
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => return Err(unavailable("remove", path, &e)),
                }
            }
            self.remove_empty_dirs(paths.dir).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_files_under_the_root() {
        let store = FsObjectStore { root: PathBuf::from("/srv/objects") };
        let paths = store.paths(&ObjectKey::parse("cards/1/a.png").expect("valid"));
        assert_eq!(paths.dir, Path::new("/srv/objects/cards/1"));
        assert_eq!(paths.data, Path::new("/srv/objects/cards/1/a.png~"));
        assert_eq!(paths.meta, Path::new("/srv/objects/cards/1/a.png~meta"));
        let paths = store.paths(&ObjectKey::parse("top").expect("valid"));
        assert_eq!(paths.data, Path::new("/srv/objects/top~"));
    }
}
