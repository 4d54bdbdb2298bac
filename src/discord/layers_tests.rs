//! The edge's layers hold (see this module's parent): a feature imports services only, never
//! another feature nor a driver; nothing but `discord::run` imports a driver; the services do
//! not import each other in a cycle. The edges are read from the sources (every `super::…` and
//! `crate::discord::…` path outside comments and test modules), so an import that breaks the
//! flow fails here, and a new module must be given its layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const DRIVERS: &[&str] = &["gateway", "timers", "sharding"];
const FEATURES: &[&str] = &[
    "relay",
    "watch",
    "surveys",
    "alerts",
    "catchup",
    "service_levels",
    "commands",
];
const SERVICES: &[&str] = &[
    "live",
    "outbox",
    "access",
    "replies",
    "render",
    "custom_id",
    "channels",
    "bot",
    "state",
    "holes",
    "config",
];

type Edges = BTreeMap<String, BTreeSet<String>>;

/// The top-level modules of `discord` that each one names.
fn edges() -> Edges {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/discord");
    let mut edges = Edges::new();
    read_dir(&root, &root, &mut edges);
    edges
}

fn read_dir(root: &Path, dir: &Path, edges: &mut Edges) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            read_dir(root, &path, edges);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap().with_extension("");
            let mut module: Vec<String> = rel
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            if module.first().is_some_and(|m| m == "layers_tests") || module.is_empty() {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            let named = edges.entry(module[0].clone()).or_default();
            for target in named_modules(&source, &module) {
                if target != module[0] {
                    named.insert(target);
                }
            }
        }
    }
}

/// The top-level modules that `source`, the file of `module`, names through `super::` or
/// `crate::discord::` paths.
fn named_modules(source: &str, module: &[String]) -> Vec<String> {
    let code: String = source
        .split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    loop {
        let next = [rest.find("super::"), rest.find("crate::discord::")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else { break };
        rest = &rest[at..];
        let base: &[String] = if let Some(r) = rest.strip_prefix("crate::discord::") {
            rest = r;
            &[]
        } else {
            let mut ups = 0;
            while let Some(r) = rest.strip_prefix("super::") {
                rest = r;
                ups += 1;
            }
            &module[..module.len().saturating_sub(ups)]
        };
        for name in first_names(rest) {
            out.push(base.first().cloned().unwrap_or(name));
        }
    }
    out
}

/// The first identifier of a path, or of each path in a `{…}` group.
fn first_names(rest: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(group) = rest.strip_prefix('{') else {
        return vec![ident(rest)];
    };
    let (mut depth, mut start, mut names) = (0, 0, Vec::new());
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                names.push(ident(&group[start..i]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                names.push(ident(&group[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

fn layer(m: &str) -> Option<u8> {
    [DRIVERS, FEATURES, SERVICES]
        .iter()
        .position(|l| l.contains(&m))
        .map(|p| p as u8)
}

#[test]
fn features_use_services_and_nothing_points_back_up() {
    let edges = edges();
    assert!(
        edges["relay"].contains("live") && edges["gateway"].contains("relay"),
        "the edges are read: {edges:?}"
    );
    let mut wrong = Vec::new();
    for (from, targets) in &edges {
        let Some(l) = layer(from) else {
            wrong.push(format!(
                "{from} has no layer: add it to DRIVERS, FEATURES or SERVICES"
            ));
            continue;
        };
        for to in targets {
            match layer(to) {
                None => wrong.push(format!("{from} -> {to}: {to} has no layer")),
                Some(t) if t < l || (t == l && l < 2) => {
                    wrong.push(format!("{from} -> {to} points up or sideways"))
                }
                Some(_) => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn services_do_not_import_each_other_in_a_cycle() {
    let edges = edges();
    fn visit(m: &str, edges: &Edges, path: &mut Vec<String>, done: &mut BTreeSet<String>) {
        if let Some(at) = path.iter().position(|p| p == m) {
            panic!("cycle: {} -> {m}", path[at..].join(" -> "));
        }
        if !done.insert(m.to_string()) {
            return;
        }
        path.push(m.to_string());
        for next in edges.get(m).into_iter().flatten() {
            visit(next, edges, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        visit(m, &edges, &mut Vec::new(), &mut done);
    }
}
