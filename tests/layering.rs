//! Dependencies point one way (ARCHITECTURE.md → "Who depends on whom"): the store
//! and the configuration know no domain, the inbox is the bottom of the domain, the
//! domain knows neither HTTP nor the app's state, and only the top layer (HTTP, the
//! hub, workers) takes `App`. Read from the source, so a `use`
//! that points back up fails here before it tangles anything.

use std::path::{Path, PathBuf};

/// Files that take `App`: the HTTP layer, the hub handle, and the workers that live in
/// their domain's folder but run on the whole app (the outbox's sending, distribution's
/// pass). The notifier and the notifications bot's ingest hook work on a transaction
/// only, and the event consumers' and jobs' runners on the store.
const TOP: &[&str] = &[
    "lib.rs",
    "main.rs",
    "app.rs",
    "hub.rs",
    "http/",
    "outbox/worker.rs",
    "outbox/attempt.rs",
    "distribution/worker.rs",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without `//` comments (doc links may point anywhere) and without its
/// unit tests (which may set up their fixtures through any module).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("a source file is readable");
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// Every (file, what it must not name) that breaks the layering.
fn violations() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for path in files {
        let name = path.strip_prefix(&src).expect("under src/").to_string_lossy().replace('\\', "/");
        if TOP.iter().any(|t| name == *t || (t.ends_with('/') && name.starts_with(t))) {
            continue;
        }
        let code = code(&path);
        // The outbox's queue is where every layer puts sends; its worker is the top's.
        let mut forbidden = vec!["crate::app", "crate::hub", "crate::http", "crate::outbox::run", "axum"];
        let domain = [
            "crate::inbox",
            "crate::operators",
            "crate::channels",
            "crate::distribution",
            "crate::reports",
            "crate::widget",
            "crate::notify",
        ];
        if name.starts_with("store/") {
            // The store serves every layer and knows none of them.
            forbidden.extend(domain);
            forbidden.extend(["crate::outbox", "crate::jobs", "crate::consumers", "crate::config"]);
        } else if name.starts_with("model/") {
            // The domain's values: every layer speaks them, they know none.
            forbidden.extend(domain);
            forbidden.extend(["crate::outbox", "crate::jobs", "crate::consumers", "crate::config"]);
        } else if name.starts_with("config") {
            // The domain reads its settings; the settings know no domain.
            forbidden.extend(domain);
            forbidden.extend(["crate::outbox", "crate::jobs", "crate::consumers"]);
        } else if name.starts_with("inbox/") {
            // The bottom of the domain: chats, messages, contacts need no one else's.
            forbidden.extend(domain.iter().filter(|d| **d != "crate::inbox"));
        }
        for f in forbidden {
            if code.contains(f) {
                found.push(format!("src/{name} uses {f}"));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn the_domain_and_the_store_point_down_only() {
    assert_eq!(violations(), Vec::<String>::new());
}
