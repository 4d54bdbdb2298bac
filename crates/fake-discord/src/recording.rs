//! What the fake records: every REST call the bot made (with the fake's answer) and the gateway
//! counters. Tests read these to check what the bot did, and wait on them to know when it did.

use crate::json::{collect_custom_ids, path_matches};
use serde_json::Value;

/// A file part of a multipart request (`files[N]` of a message with attachments).
#[derive(Clone, Debug)]
pub struct RecordedAttachment {
    /// The form field name, e.g. `files[0]`.
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// One REST call the bot made.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// 0, 1, 2... in arrival order (use it to look only at calls after a point of the test).
    pub seq: usize,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path without the `/api/v10` prefix, e.g. `/channels/123/messages`.
    pub path: String,
    /// Query pairs (serenity's empty leading pair of `?&a=b` is skipped).
    pub query: Vec<(String, String)>,
    /// The JSON body; for multipart, the parsed `payload_json` part; a non-JSON body as a string;
    /// `None` when empty.
    pub body: Option<Value>,
    /// Files of a multipart body, with their bytes.
    pub attachments: Vec<RecordedAttachment>,
    /// The `Authorization` header (`Bot …` from the bot, `Bearer …` with an OAuth2 token).
    pub authorization: Option<String>,
    /// Status the fake answered.
    pub status: u16,
    /// Body the fake answered (`Null` for 204).
    pub response: Value,
}

impl RecordedRequest {
    /// `r.is("POST", "/channels/*/messages")`: method and path pattern (`*` = one segment).
    pub fn is(&self, method: &str, pattern: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && path_matches(pattern, &self.path)
    }
    /// Segment `i` of the path (`/channels/123/messages` → 0 `channels`, 1 `123`).
    pub fn segment(&self, i: usize) -> Option<&str> {
        self.path.trim_matches('/').split('/').nth(i)
    }
    /// Segment `i` of the path as an id.
    pub fn segment_id(&self, i: usize) -> Option<u64> {
        self.segment(i).and_then(|s| s.parse().ok())
    }
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// `content` of the body, or `data.content` for an interaction callback.
    pub fn content(&self) -> Option<&str> {
        let body = self.body.as_ref()?;
        body.get("content")
            .or_else(|| body.get("data").and_then(|d| d.get("content")))
            .and_then(Value::as_str)
    }
    /// Every `custom_id` anywhere in the body (buttons, selects, modals), in document order.
    pub fn custom_ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(body) = &self.body {
            collect_custom_ids(body, &mut out);
        }
        out
    }
    /// `data.flags` (callbacks) or `flags` of the body has the EPHEMERAL bit (64).
    pub fn is_ephemeral(&self) -> bool {
        let Some(body) = &self.body else { return false };
        let flags = body
            .get("data")
            .and_then(|d| d.get("flags"))
            .or_else(|| body.get("flags"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        flags & 64 != 0
    }
}

/// Counters of the gateway side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// Websocket connections ever opened.
    pub connections_total: usize,
    /// Websocket connections open now.
    pub connected: usize,
    /// IDENTIFYs answered with READY.
    pub identifies: usize,
    /// RESUMEs answered with RESUMED.
    pub resumes: usize,
    /// Heartbeats received.
    pub heartbeats: usize,
    /// Sockets the bot closed itself, with a close frame (a clean shutdown does).
    pub closed_by_bot: usize,
}
