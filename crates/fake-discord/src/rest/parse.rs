//! Request bodies as serenity sends them: JSON, or `multipart/form-data` with a `payload_json`
//! part and `files[N]` parts; and query strings (serenity writes `?&limit=50`).

use crate::recording::RecordedAttachment;
use axum::http::{header, HeaderMap};
use serde_json::Value;

pub(super) fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return Vec::new();
    }
    (0..=haystack.len() - needle.len())
        .filter(|&i| &haystack[i..i + needle.len()] == needle)
        .collect()
}

fn header_param(header_line: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = header_line.find(&key)? + key.len();
    let end = header_line[start..].find('"')? + start;
    Some(header_line[start..end].to_string())
}

/// Parse a `multipart/form-data` body into its `payload_json` (parsed) and its file parts.
fn parse_multipart(boundary: &str, body: &[u8]) -> (Option<Value>, Vec<RecordedAttachment>) {
    let delimiter = format!("--{boundary}");
    let starts = find_all(body, delimiter.as_bytes());
    let mut payload = None;
    let mut files = Vec::new();
    for pair in starts.windows(2) {
        let mut part = &body[pair[0] + delimiter.len()..pair[1]];
        part = part.strip_prefix(b"\r\n").unwrap_or(part);
        part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = find_all(part, b"\r\n\r\n").first().copied() else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..split]).to_string();
        let data = &part[split + 4..];
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in headers.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                name = header_param(line, "name");
                filename = header_param(line, "filename");
            } else if lower.starts_with("content-type:") {
                content_type = line.split_once(':').map(|(_, v)| v.trim().to_string());
            }
        }
        let name = name.unwrap_or_default();
        match filename {
            Some(filename) => files.push(RecordedAttachment {
                field: name,
                filename,
                content_type,
                bytes: data.to_vec(),
            }),
            None if name == "payload_json" => payload = serde_json::from_slice(data).ok(),
            None => {}
        }
    }
    (payload, files)
}

pub(super) fn parse_body(
    headers: &HeaderMap,
    body: &[u8],
) -> (Option<Value>, Vec<RecordedAttachment>) {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        if let Some(boundary) = content_type.split("boundary=").nth(1) {
            return parse_multipart(boundary.trim_matches('"'), body);
        }
    }
    if body.is_empty() {
        return (None, Vec::new());
    }
    match serde_json::from_slice(body) {
        Ok(v) => (Some(v), Vec::new()),
        Err(_) => (
            Some(Value::String(String::from_utf8_lossy(body).to_string())),
            Vec::new(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_body_gives_its_payload_and_its_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\r\n\
            {\"content\":\"chart\"}\r\n\
            --XyZ\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"a.png\"\r\n\
            Content-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ--\r\n";
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=XyZ".parse().unwrap(),
        );
        let (payload, files) = parse_body(&headers, body);
        assert_eq!(payload, Some(serde_json::json!({"content": "chart"})));
        assert_eq!(files.len(), 1);
        assert_eq!(
            (files[0].field.as_str(), files[0].filename.as_str()),
            ("files[0]", "a.png")
        );
        assert_eq!(files[0].content_type.as_deref(), Some("image/png"));
        assert_eq!(files[0].bytes, b"\x89PNG");
    }

    #[test]
    fn serenitys_empty_query_pair_is_skipped() {
        assert_eq!(
            parse_query(Some("&limit=50&after=7")),
            [("limit".into(), "50".into()), ("after".into(), "7".into())]
        );
    }
}
