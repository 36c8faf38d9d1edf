//! Just enough `multipart/form-data` to read what Discord clients upload: a `payload_json` part
//! and `files[n]` parts.

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) filename: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) data: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// The value of `key="..."` in a `Content-Disposition` header.
fn disposition_value(header: &str, key: &str) -> Option<String> {
    let start = header.find(&format!("{key}=\""))? + key.len() + 2;
    let end = header[start..].find('"')? + start;
    Some(header[start..end].to_owned())
}

/// The parts of a form body, or `None` if it is not a well-formed form with this boundary.
pub(crate) fn parse(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}");
    let separator = format!("\r\n{delimiter}");
    let mut rest = &body[find(body, delimiter.as_bytes())? + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let headers_end = find(rest, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest[..headers_end]).ok()?;
        rest = &rest[headers_end + 4..];
        let data_end = find(rest, separator.as_bytes())?;
        let data = rest[..data_end].to_vec();
        rest = &rest[data_end + separator.len()..];
        let (mut name, mut filename, mut content_type) = (None, None, None);
        for line in headers.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else { continue };
            match key.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    name = disposition_value(value, "name");
                    filename = disposition_value(value, "filename");
                }
                "content-type" => content_type = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        parts.push(Part { name: name?, filename, content_type, data });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_twilights_forms() {
        // The layout twilight-http's `Form` builds: no trailing newline after the final `--`.
        let body = b"--XYZ\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"card.png\"\r\n\r\n\x89PNG\r\n--XYZ\r\nContent-Disposition: form-data; name=\"payload_json\"\r\nContent-Type: application/json\r\n\r\n{\"content\":\"hi\"}\r\n--XYZ--";
        let parts = parse(body, "XYZ").expect("a well-formed form");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "files[0]");
        assert_eq!(parts[0].filename.as_deref(), Some("card.png"));
        assert_eq!(parts[0].data, b"\x89PNG");
        assert_eq!(parts[1].name, "payload_json");
        assert_eq!(parts[1].content_type.as_deref(), Some("application/json"));
        assert_eq!(parts[1].data, b"{\"content\":\"hi\"}");
        assert_eq!(parse(b"garbage", "XYZ"), None);
    }
}
