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

/// Serves fixed files over HTTP/1.1 on `127.0.0.1` (one thread per connection, `connection: close`).
/// Unknown paths are 404. The serving thread lives as long as the test process.
#[derive(Debug)]
pub struct FileHost {
    base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl FileHost {
    pub fn start(files: impl IntoIterator<Item = (&'static str, HostedFile)>) -> Self {
        let files: Arc<HashMap<String, HostedFile>> =
            Arc::new(files.into_iter().map(|(path, file)| (path.to_owned(), file)).collect());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let counted = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let (files, hits) = (Arc::clone(&files), Arc::clone(&counted));
                std::thread::spawn(move || answer(stream, &files, &hits));
            }
        });
        Self { base, hits }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// How many times `path` was requested.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().map(|h| h.get(path).copied().unwrap_or(0)).unwrap_or(0)
    }
}

fn answer(mut stream: TcpStream, files: &HashMap<String, HostedFile>, hits: &Mutex<HashMap<String, usize>>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    if let Ok(mut hits) = hits.lock() {
        *hits.entry(path.clone()).or_default() += 1;
    }
    let response = match files.get(&path) {
        Some(file) => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                file.content_type,
                file.bytes.len()
            )
            .into_bytes();
            r.extend_from_slice(&file.bytes);
            r
        }
        None => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&response);
}
