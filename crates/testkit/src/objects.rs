//! An in-memory [`ObjectStore`], following the port's rules, for testing code that stores objects
//! without a directory or a bucket. The object-store contract suite (`crates/storage/tests/objects.rs`)
//! runs on it as on the local and S3 stores.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
};

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, stream};
use garrison_core::{
    Clock,
    objects::{
        ByteStream, Continuation, MAX_LIST_LIMIT, ObjectBody, ObjectError, ObjectFuture, ObjectKey, ObjectMeta,
        ObjectPage, ObjectPrefix, ObjectStore, ObjectSummary, check_content_type,
    },
};

/// Bytes handed out per chunk by `get`, so readers see a stream as from a real store.
const CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone)]
struct Stored {
    bytes: Bytes,
    meta: ObjectMeta,
}

/// Objects in a map behind one lock; `last_modified` comes from the clock it is given.
pub struct MemoryObjectStore {
    objects: Mutex<BTreeMap<ObjectKey, Stored>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryObjectStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryObjectStore").field("objects", &self.len()).finish_non_exhaustive()
    }
}

impl MemoryObjectStore {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { objects: Mutex::new(BTreeMap::new()), clock }
    }

    /// How many objects are stored.
    pub fn len(&self) -> usize {
        self.objects.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn store(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) {
        let meta = ObjectMeta {
            key: key.clone(),
            size: bytes.len() as u64,
            content_type: content_type.to_owned(),
            last_modified: self.clock.now(),
        };
        let stored = Stored { bytes, meta };
        self.objects.lock().unwrap_or_else(PoisonError::into_inner).insert(key.clone(), stored);
    }

    fn find(&self, key: &ObjectKey) -> Option<Stored> {
        self.objects.lock().unwrap_or_else(PoisonError::into_inner).get(key).cloned()
    }
}

impl ObjectStore for MemoryObjectStore {
    fn put<'a>(&'a self, key: &'a ObjectKey, bytes: Bytes, content_type: &'a str) -> ObjectFuture<'a, ()> {
        Box::pin(async move {
            check_content_type(content_type)?;
            self.store(key, bytes, content_type);
            Ok(())
        })
    }

    fn put_stream<'a>(
        &'a self,
        key: &'a ObjectKey,
        mut body: ByteStream,
        content_type: &'a str,
    ) -> ObjectFuture<'a, u64> {
        Box::pin(async move {
            check_content_type(content_type)?;
            // Collected first and stored whole, so a failing body stores nothing.
            let mut all = BytesMut::new();
            while let Some(chunk) = body.next().await {
                all.extend_from_slice(&chunk?);
            }
            let size = all.len() as u64;
            self.store(key, all.freeze(), content_type);
            Ok(size)
        })
    }

    fn get<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, ObjectBody> {
        Box::pin(async move {
            let stored = self.find(key).ok_or_else(|| ObjectError::NotFound(key.clone()))?;
            let bytes = stored.bytes;
            let chunks: Vec<Result<Bytes, ObjectError>> =
                (0..bytes.len()).step_by(CHUNK).map(|at| Ok(bytes.slice(at..(at + CHUNK).min(bytes.len())))).collect();
            Ok(ObjectBody { meta: stored.meta, bytes: Box::pin(stream::iter(chunks)) })
        })
    }

    fn head<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, Option<ObjectMeta>> {
        Box::pin(async move { Ok(self.find(key).map(|stored| stored.meta)) })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPrefix,
        after: Option<&'a Continuation>,
        limit: usize,
    ) -> ObjectFuture<'a, ObjectPage> {
        Box::pin(async move {
            let limit = limit.clamp(1, MAX_LIST_LIMIT);
            let objects = self.objects.lock().unwrap_or_else(PoisonError::into_inner);
            let mut matching = objects
                .values()
                .filter(|stored| prefix.matches(&stored.meta.key))
                .filter(|stored| after.is_none_or(|after| stored.meta.key.as_str() > after.as_str()))
                .map(|stored| ObjectSummary {
                    key: stored.meta.key.clone(),
                    size: stored.meta.size,
                    last_modified: stored.meta.last_modified,
                })
                .peekable();
            let mut page = Vec::new();
            while page.len() < limit {
                let Some(summary) = matching.next() else { break };
                page.push(summary);
            }
            let next = match (matching.peek(), page.last()) {
                (Some(_), Some(last)) => Some(Continuation::new(last.key.as_str())),
                _ => None,
            };
            Ok(ObjectPage { objects: page, next })
        })
    }

    fn delete<'a>(&'a self, key: &'a ObjectKey) -> ObjectFuture<'a, ()> {
        Box::pin(async move {
            self.objects.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
            Ok(())
        })
    }
}
