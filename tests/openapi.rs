//! `src/http/openapi.json` against the router in `src/http/mod.rs`: every route the
//! router declares must be documented, and nothing else. No server is started; the
//! router's source is read as text, so adding a route without documenting it fails here.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

const OPENAPI: &str = include_str!("../src/http/openapi.json");
const ROUTER: &str = include_str!("../src/http/mod.rs");

/// The HTTP methods an OpenAPI path item may hold, which are also axum's method routers.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn spec() -> Value {
    serde_json::from_str(OPENAPI).expect("src/http/openapi.json is valid JSON")
}

// ---------------------------------------------------------------------------------------
// A small scanner for Rust source: enough to find `.route(...)` calls and their arguments
// however rustfmt wraps them, without being fooled by comments or string literals.
// ---------------------------------------------------------------------------------------

/// `src` with comments blanked out (same length, so positions stay valid).
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
fn router_routes(src: &str) -> BTreeSet<(String, String)> {
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
fn documented(spec: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths is an object") {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((path.clone(), m.to_owned()));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn openapi_is_a_3_1_document() {
    let spec = spec();
    let version = spec["openapi"].as_str().expect("an `openapi` version string");
    assert!(version.starts_with("3.1."), "OpenAPI 3.1 expected, found {version}");
    assert!(spec["info"]["title"].is_string(), "info.title");
    assert!(spec["info"]["version"].is_string(), "info.version");
    assert!(spec["paths"].as_object().is_some_and(|p| !p.is_empty()), "paths");
    let components = spec["components"].as_object().expect("components");
    let schemas = components["schemas"].as_object().expect("components.schemas");
    for name in ["Operator", "Chat", "Message", "Contact", "Channel", "Event", "Error"] {
        assert!(schemas.contains_key(name), "components.schemas.{name} is missing");
    }
    let error = &schemas["Error"];
    assert!(error["properties"]["error"]["properties"]["code"].is_object(), "Error is {{error:{{code,message}}}}");
    assert!(error["properties"]["error"]["properties"]["message"].is_object(), "Error is {{error:{{code,message}}}}");
}

#[test]
fn openapi_declares_cookie_and_bearer_security() {
    let spec = spec();
    let schemes = spec["components"]["securitySchemes"].as_object().expect("securitySchemes");
    assert!(
        schemes.values().any(|s| s["type"] == "apiKey" && s["in"] == "cookie" && s["name"] == "parley_session"),
        "a cookie scheme named parley_session"
    );
    assert!(schemes.values().any(|s| s["type"] == "http" && s["scheme"] == "bearer"), "a bearer scheme");
    // Every security requirement names a declared scheme.
    let mut requirements: Vec<&Value> = spec["security"].as_array().into_iter().flatten().collect();
    for item in spec["paths"].as_object().unwrap().values() {
        for m in METHODS {
            requirements.extend(item.get(m).and_then(|o| o["security"].as_array()).into_iter().flatten());
        }
    }
    for r in requirements {
        for name in r.as_object().expect("a security requirement is an object").keys() {
            assert!(schemes.contains_key(name), "security requirement names unknown scheme {name}");
        }
    }
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let routes = router_routes(ROUTER);
    assert!(routes.len() > 20, "found only {} routes in src/http/mod.rs; is the scanner broken?", routes.len());
    assert!(routes.contains(&("/api/v1/chats/{id}/messages".to_owned(), "post".to_owned())), "{routes:?}");
    assert!(routes.contains(&("/console/{path}".to_owned(), "get".to_owned())), "{routes:?}");
    let docs = documented(&spec());
    let undocumented: Vec<_> = routes.difference(&docs).collect();
    let unrouted: Vec<_> = docs.difference(&routes).collect();
    assert!(undocumented.is_empty(), "routes in src/http/mod.rs missing from src/http/openapi.json: {undocumented:?}");
    assert!(unrouted.is_empty(), "src/http/openapi.json documents routes src/http/mod.rs does not have: {unrouted:?}");
}

#[test]
fn every_operation_is_complete() {
    let spec = spec();
    let mut ids = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let templated: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect();
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{m} {path} has no responses"));
            assert!(!responses.is_empty(), "{m} {path} has no responses");
            if let Some(id) = op["operationId"].as_str() {
                assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            }
            // Each `{param}` in the path is declared as a path parameter.
            let params: Vec<&Value> = item["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(op["parameters"].as_array().into_iter().flatten())
                .map(|p| resolve(&spec, p))
                .collect();
            let declared: BTreeSet<String> =
                params.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap().to_owned()).collect();
            assert_eq!(templated, declared, "path parameters of {m} {path}");
            // Error responses of the API use the Error schema.
            if path.starts_with("/api/v1/") {
                for (status, r) in responses {
                    if status.starts_with('4') {
                        let r = resolve(&spec, r);
                        assert_eq!(
                            r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error",
                            "{m} {path} {status} should use the Error schema"
                        );
                    }
                }
                let secured = op.get("security").or(spec.get("security")).and_then(Value::as_array);
                let public = [
                    "/api/v1/login",
                    "/api/v1/logout",
                    "/api/v1/setup",
                    "/api/v1/setup/{token}",
                    "/api/v1/openapi.json",
                ];
                if !public.contains(&path.as_str()) {
                    assert!(
                        secured.is_some_and(|s| !s.is_empty()),
                        "{m} {path} should require a session or bearer token"
                    );
                    assert!(responses.contains_key("401"), "{m} {path} should document 401");
                }
            }
        }
    }
}

#[test]
fn every_reference_resolves() {
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let spec = spec();
    let mut refs = Vec::new();
    walk(&spec, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("only local references expected: {r}"));
        assert!(spec.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => spec.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("{r} does not resolve")),
        None => v,
    }
}

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
