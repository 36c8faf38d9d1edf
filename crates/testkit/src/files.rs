//! A static file host on loopback: stands in for the image CDNs (Discord's, imgur) that cards fetch
//! from, and counts what it serves so tests can tell a fetch from a reuse.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
};

/// One file the host serves.
#[derive(Debug, Clone)]
pub struct HostedFile {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Serves files over HTTP/1.1 on `127.0.0.1` (one thread per connection, `connection: close`), each
/// with an `ETag` that changes when the file is replaced; a request whose `If-None-Match` names the
/// current tag gets `304 Not Modified`. Unknown paths are 404. The serving thread lives as long as the
/// test process.
#[derive(Debug)]
pub struct FileHost {
    base: String,
    files: Arc<Mutex<HashMap<String, (HostedFile, u64)>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    not_modified: Arc<Mutex<HashMap<String, usize>>>,
}

impl FileHost {
    pub fn start(files: impl IntoIterator<Item = (&'static str, HostedFile)>) -> Self {
        let files: Arc<Mutex<HashMap<String, (HostedFile, u64)>>> =
            Arc::new(Mutex::new(files.into_iter().map(|(path, file)| (path.to_owned(), (file, 1))).collect()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let not_modified = Arc::new(Mutex::new(HashMap::new()));
        let (served, counted, unchanged) = (Arc::clone(&files), Arc::clone(&hits), Arc::clone(&not_modified));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let (files, hits, unchanged) = (Arc::clone(&served), Arc::clone(&counted), Arc::clone(&unchanged));
                std::thread::spawn(move || answer(stream, &files, &hits, &unchanged));
            }
        });
        Self { base, files, hits, not_modified }
    }

    /// Serves `file` at `path` from now on, under a new `ETag`.
    pub fn replace(&self, path: &str, file: HostedFile) {
        if let Ok(mut files) = self.files.lock() {
            let version = files.get(path).map_or(1, |(_, v)| v + 1);
            files.insert(path.to_owned(), (file, version));
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// How many times `path` was requested (304 answers included).
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().map(|h| h.get(path).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// How many requests for `path` were answered `304 Not Modified`.
    pub fn not_modified(&self, path: &str) -> usize {
        self.not_modified.lock().map(|h| h.get(path).copied().unwrap_or(0)).unwrap_or(0)
    }
}

/// The `ETag` of version `version` of a file.
fn etag(version: u64) -> String {
    format!("\"v{version}\"")
}

fn answer(
    mut stream: TcpStream,
    files: &Mutex<HashMap<String, (HostedFile, u64)>>,
    hits: &Mutex<HashMap<String, usize>>,
    not_modified: &Mutex<HashMap<String, usize>>,
) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut if_none_match = None;
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {
                if let Some((name, value)) = header.split_once(':')
                    && name.trim().eq_ignore_ascii_case("if-none-match")
                {
                    if_none_match = Some(value.trim().to_owned());
                }
            }
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    if let Ok(mut hits) = hits.lock() {
        *hits.entry(path.clone()).or_default() += 1;
    }
    let file = files.lock().ok().and_then(|files| files.get(&path).cloned());
    let response = match file {
        Some((_, version)) if if_none_match.as_deref() == Some(etag(version).as_str()) => {
            if let Ok(mut counts) = not_modified.lock() {
                *counts.entry(path).or_default() += 1;
            }
            format!("HTTP/1.1 304 Not Modified\r\netag: {}\r\nconnection: close\r\n\r\n", etag(version)).into_bytes()
        }
        Some((file, version)) => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {}\r\ncontent-length: {}\r\netag: {}\r\nconnection: close\r\n\r\n",
                file.content_type,
                file.bytes.len(),
                etag(version)
            )
            .into_bytes();
            r.extend_from_slice(&file.bytes);
            r
        }
        None => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&response);
}
