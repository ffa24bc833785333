//! Reads the router's source and lists every route it declares: `.route(PATH, METHODS)`
//! calls, with the prefixes of `.nest(...)`, robust to rustfmt wrapping and comments.

use std::collections::{BTreeMap, BTreeSet};

use super::METHODS;

fn strip_comments(src: &str) -> Vec<u8> {
    let mut b = src.as_bytes().to_vec();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = skip_string(&b, i),
            b'r' if is_raw_string_start(&b, i) => i = skip_raw_string(&b, i),
            b'\'' => i = skip_char(&b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    b[i] = b' ';
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        b[i] = b' ';
                        b[i + 1] = b' ';
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        b[i] = b' ';
                        b[i + 1] = b' ';
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if b[i] != b'\n' {
                            b[i] = b' ';
                        }
                        i += 1;
                    }
                }
            }
            _ => i += 1,
        }
    }
    b
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether a raw string (`r"…"`, `r#"…"#`, `br"…"`) starts at `i`.
fn is_raw_string_start(b: &[u8], i: usize) -> bool {
    if i > 0 && is_ident(b[i - 1]) && b[i - 1] != b'b' {
        return false;
    }
    if i > 1 && b[i - 1] == b'b' && is_ident(b[i - 2]) {
        return false;
    }
    let mut j = i + 1;
    while b.get(j) == Some(&b'#') {
        j += 1;
    }
    b.get(j) == Some(&b'"')
}

/// The index just past the raw string starting at `i`.
fn skip_raw_string(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    let mut hashes = 0;
    while b[j] == b'#' {
        hashes += 1;
        j += 1;
    }
    j += 1; // the opening quote
    while j < b.len() {
        if b[j] == b'"' && b[j + 1..].iter().take(hashes).filter(|&&c| c == b'#').count() == hashes {
            return j + 1 + hashes;
        }
        j += 1;
    }
    b.len()
}

/// The index just past the string literal whose opening quote is at `i`.
fn skip_string(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// Past a char literal at `i` (`'x'`, `'\n'`, `'\u{..}'`), or just past the quote of a lifetime.
fn skip_char(b: &[u8], i: usize) -> usize {
    if b.get(i + 1) == Some(&b'\\') {
        let mut j = i + 3;
        while j < b.len() && j < i + 14 {
            if b[j] == b'\'' {
                return j + 1;
            }
            j += 1;
        }
        return i + 1;
    }
    // One (possibly multi-byte) character, then a closing quote.
    let len = match b.get(i + 1) {
        Some(c) if *c < 0x80 => 1,
        Some(c) if *c >= 0xF0 => 4,
        Some(c) if *c >= 0xE0 => 3,
        Some(_) => 2,
        None => return i + 1,
    };
    if b.get(i + 1 + len) == Some(&b'\'') {
        return i + 2 + len;
    }
    i + 1 // a lifetime such as `'a` or `'static`
}

/// The index of the bracket closing the one opened at `open`.
fn matching_close(b: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = skip_string(b, i);
                continue;
            }
            b'r' if is_raw_string_start(b, i) => {
                i = skip_raw_string(b, i);
                continue;
            }
            b'\'' => {
                i = skip_char(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced brackets in src/http/mod.rs after byte {open}");
}

/// Splits the text between brackets at its top-level commas.
fn split_args(b: &[u8], open: usize, close: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = open + 1;
    let mut i = open + 1;
    while i < close {
        match b[i] {
            b'"' => {
                i = skip_string(b, i);
                continue;
            }
            b'r' if is_raw_string_start(b, i) => {
                i = skip_raw_string(b, i);
                continue;
            }
            b'\'' => {
                i = skip_char(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                i = matching_close(b, i) + 1;
                continue;
            }
            b',' => {
                out.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if b[start..close].iter().any(|c| !c.is_ascii_whitespace()) {
        out.push((start, close));
    }
    out
}

fn text(b: &[u8], (s, e): (usize, usize)) -> &str {
    std::str::from_utf8(&b[s..e]).expect("UTF-8 source").trim()
}

/// The value of a plain string literal such as `"/chats/{id}"`.
fn string_literal(s: &str) -> String {
    let s = s.trim();
    assert!(s.starts_with('"') && s.ends_with('"') && s.len() >= 2, "expected a string literal path, found `{s}`");
    s[1..s.len() - 1].replace("\\\"", "\"")
}

/// Every position in `b` where `needle` starts (outside comments, strings and char literals).
fn find_calls(b: &[u8], needle: &str) -> Vec<usize> {
    let n = needle.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + n.len() <= b.len() {
        match b[i] {
            b'"' => {
                i = skip_string(b, i);
                continue;
            }
            b'r' if is_raw_string_start(b, i) => {
                i = skip_raw_string(b, i);
                continue;
            }
            b'\'' => {
                i = skip_char(b, i);
                continue;
            }
            _ => {}
        }
        if &b[i..i + n.len()] == n {
            out.push(i);
        }
        i += 1;
    }
    out
}

/// The position of the opening bracket of a call `.name (` at `at`, allowing whitespace
/// (rustfmt may break lines between the name and its arguments only in odd cases, but
/// be lenient) and a turbofish.
fn call_paren(b: &[u8], after_name: usize) -> Option<usize> {
    let mut i = after_name;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    (b.get(i) == Some(&b'(')).then_some(i)
}

/// The HTTP methods named by a method-router expression such as
/// `get(a::b).post(c::d)` or `routing::get(x)\n    .patch(y)`: the identifiers directly
/// followed by `(` at the expression's top level (handler arguments are not looked into).
fn methods_of(b: &[u8], (start, end): (usize, usize)) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        match b[i] {
            b'"' => {
                i = skip_string(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                i = matching_close(b, i) + 1;
                continue;
            }
            c if is_ident(c) && (i == 0 || !is_ident(b[i - 1])) => {
                let s = i;
                while i < end && is_ident(b[i]) {
                    i += 1;
                }
                let ident = std::str::from_utf8(&b[s..i]).unwrap();
                if call_paren(b, i).is_some_and(|p| p < end) {
                    let name = ident.strip_suffix("_service").unwrap_or(ident);
                    assert!(
                        METHODS.contains(&name),
                        "route method `{ident}` in src/http/mod.rs is not a plain HTTP method router; \
                         teach tests/openapi.rs about it"
                    );
                    out.push(name.to_owned());
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// axum's path syntax to OpenAPI's: `{*path}` → `{path}` (and 0.7's `:id`/`*rest`).
fn openapi_path(axum: &str) -> String {
    axum.split('/')
        .map(|seg| {
            if let Some(name) = seg.strip_prefix("{*").and_then(|s| s.strip_suffix('}')) {
                format!("{{{name}}}")
            } else if let Some(name) = seg.strip_prefix(':').or_else(|| seg.strip_prefix('*')) {
                format!("{{{name}}}")
            } else {
                seg.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn join(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if path == "/" && !prefix.is_empty() { prefix.to_owned() } else { format!("{prefix}{path}") }
}

/// The byte range of the statement `let NAME = …;` (or `let mut NAME …;`).
fn let_statement(b: &[u8], name: &str) -> Option<(usize, usize)> {
    for pat in [format!("let {name} "), format!("let mut {name} "), format!("let {name}="), format!("let {name}:")] {
        for at in find_calls(b, &pat) {
            if at > 0 && is_ident(b[at - 1]) {
                continue;
            }
            // The end is the first `;` at bracket depth 0.
            let mut i = at;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i);
                        continue;
                    }
                    b'(' | b'[' | b'{' => {
                        i = matching_close(b, i) + 1;
                        continue;
                    }
                    b';' => return Some((at, i)),
                    _ => {}
                }
                i += 1;
            }
        }
    }
    None
}

/// Every `(path, method)` the router in `src` serves, with paths in OpenAPI syntax.
/// Routes declared on a router that is later `.nest("/prefix", that_router)`-ed get the
/// prefix (nests of nests too).
pub(super) fn router_routes(src: &str) -> BTreeSet<(String, String)> {
    let b = strip_comments(src);
    // (where the `.nest(` call is, the range of the nested router's `let` statement, prefix)
    let mut nests: Vec<(usize, (usize, usize), String)> = Vec::new();
    for at in find_calls(&b, ".nest") {
        let Some(open) = call_paren(&b, at + ".nest".len()) else {
            continue;
        };
        let close = matching_close(&b, open);
        let args = split_args(&b, open, close);
        assert_eq!(args.len(), 2, "`.nest(` in src/http/mod.rs should have two arguments");
        let prefix = string_literal(text(&b, args[0]));
        let router = text(&b, args[1]);
        assert!(
            router.bytes().all(is_ident),
            "`.nest(\"{prefix}\", {router})`: nest a router bound with `let`, so tests/openapi.rs can find its routes"
        );
        let range = let_statement(&b, router)
            .unwrap_or_else(|| panic!("cannot find `let {router} = …;` for `.nest(\"{prefix}\", {router})`"));
        nests.push((at, range, prefix));
    }
    let mut routes = BTreeSet::new();
    for at in find_calls(&b, ".route") {
        let Some(open) = call_paren(&b, at + ".route".len()) else {
            continue;
        };
        let close = matching_close(&b, open);
        let args = split_args(&b, open, close);
        assert_eq!(args.len(), 2, "`.route(` at byte {at} of src/http/mod.rs should have two arguments");
        let path = join(&prefix_at(&nests, at, 0), &string_literal(text(&b, args[0])));
        let methods = methods_of(&b, args[1]);
        assert!(!methods.is_empty(), "no HTTP method found in route {path}: `{}`", text(&b, args[1]));
        for m in methods {
            routes.insert((openapi_path(&path), m));
        }
    }
    routes
}

/// The prefix that applies at `pos`: that of the innermost nested router whose `let`
/// statement holds `pos`, itself prefixed by wherever that router is nested.
fn prefix_at(nests: &[(usize, (usize, usize), String)], pos: usize, depth: usize) -> String {
    assert!(depth < 16, "routers nested in a cycle in src/http/mod.rs?");
    nests
        .iter()
        .filter(|(_, (s, e), _)| *s <= pos && pos < *e)
        .min_by_key(|(_, (s, e), _)| e - s)
        .map_or_else(String::new, |(call_at, _, prefix)| join(&prefix_at(nests, *call_at, depth + 1), prefix))
}

/// Every `(path, method)` the OpenAPI document describes.

#[test]
fn scanner_survives_rustfmt_wrapping_comments_and_nesting() {
    let src = r#"
        pub fn router(app: App) -> Router {
            // .route("/commented", get(nope))
            let inner = Router::new().route("/deep", delete(x::y));
            let api = Router::new()
                .route(
                    "/chats/{id}/messages",
                    get(chats::history)
                        .post(chats::reply),
                )
                .route("/odd(\"paren\")", put(|| async { "not a .route(\"/fake\", get(f))" }))
                /* .route("/block", post(nope)) */
                .nest("/inner", inner)
                .route("/contacts/{id}", routing::get(contacts::get).patch(contacts::update));
            let c = ')';
            Router::new()
                .nest("/api/v1", api)
                .route("/", get(index))
                .route("/console/{*path}", get_service(files))
                .route("/legacy/:id", get(legacy))
        }
    "#;
    let got: BTreeMap<String, Vec<String>> =
        router_routes(src).into_iter().fold(BTreeMap::new(), |mut m, (p, meth)| {
            m.entry(p).or_default().push(meth);
            m
        });
    let want: BTreeMap<String, Vec<String>> = [
        ("/", vec!["get"]),
        ("/api/v1/chats/{id}/messages", vec!["get", "post"]),
        ("/api/v1/contacts/{id}", vec!["get", "patch"]),
        ("/api/v1/inner/deep", vec!["delete"]),
        ("/api/v1/odd(\"paren\")", vec!["put"]),
        ("/console/{path}", vec!["get"]),
        ("/legacy/{id}", vec!["get"]),
    ]
    .into_iter()
    .map(|(p, m)| (p.to_owned(), m.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(got, want);
}
