//! Compares the pinned fields of an expected JSON object with an actual report.

use serde_json::Value;

/// Every field of `expected` must be in `actual` with the same value (numbers within 1e-9
/// relative, for means); fields only in `actual` are ignored. Returns the differences.
pub fn subset_differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(expected, actual, "", &mut out);
    out
}

fn walk(e: &Value, a: &Value, path: &str, out: &mut Vec<String>) {
    match (e, a) {
        (Value::Object(eo), Value::Object(ao)) => {
            for (k, ev) in eo {
                match ao.get(k) {
                    Some(av) => walk(ev, av, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: missing (expected {ev})")),
                }
            }
        }
        (Value::Array(ea), Value::Array(aa)) => {
            if ea.len() != aa.len() {
                out.push(format!(
                    "{path}: {} items, expected {}: {a} vs {e}",
                    aa.len(),
                    ea.len()
                ));
                return;
            }
            for (i, (ev, av)) in ea.iter().zip(aa).enumerate() {
                walk(ev, av, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(en), Value::Number(an)) => {
            let (x, y) = (
                en.as_f64().unwrap_or(f64::NAN),
                an.as_f64().unwrap_or(f64::NAN),
            );
            if (x - y).abs() > 1e-9 * x.abs().max(1.0) {
                out.push(format!("{path}: {an}, expected {en}"));
            }
        }
        _ => {
            if e != a {
                out.push(format!("{path}: {a}, expected {e}"));
            }
        }
    }
}

pub fn assert_subset(expected: &Value, actual: &Value) {
    let diffs = subset_differences(expected, actual);
    assert!(
        diffs.is_empty(),
        "report differs:\n  {}\nfull report: {}",
        diffs.join("\n  "),
        serde_json::to_string_pretty(actual).unwrap_or_default()
    );
}
