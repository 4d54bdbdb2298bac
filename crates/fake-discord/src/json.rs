//! Small JSON helpers shared by the payload builders, the world and the REST routes.

use serde_json::{json, Value};

/// Shallow merge: every key of `patch` (an object) overwrites the same key of `target`.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    if let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            t.insert(k.clone(), v.clone());
        }
    }
}

/// An id given as a JSON string or number.
pub fn id_of(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// The id under `key`, given as a string or a number.
pub(crate) fn field_id(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(id_of)
}

/// Does `path` match `pattern`, where a `*` segment of the pattern matches any one segment?
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let s: Vec<&str> = path.trim_matches('/').split('/').collect();
    p.len() == s.len() && p.iter().zip(&s).all(|(p, s)| *p == "*" || p == s)
}

/// Every `custom_id` string anywhere in `v`, in document order.
pub(crate) fn collect_custom_ids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("custom_id", Value::String(s)) => out.push(s.clone()),
                    _ => collect_custom_ids(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_custom_ids(v, out)),
        _ => {}
    }
}

/// Discord's error body.
pub(crate) fn discord_error(message: &str, code: u32) -> Value {
    json!({"message": message, "code": code})
}
