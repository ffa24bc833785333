//! The generated OpenAPI document (`parley::http::openapi`) against the router in
//! `src/http/mod.rs`: every route the router declares must be documented, and nothing
//! else. The router's source is read as text, so a route added without its
//! `#[utoipa::path]` (or without listing it in `openapi.rs`) fails here.

use std::collections::BTreeSet;

use serde_json::Value;

const ROUTER: &str = include_str!("../../src/http/mod.rs");

/// The HTTP methods an OpenAPI path item may hold, which are also axum's method routers.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn spec() -> Value {
    serde_json::from_str(parley::http::openapi::json()).expect("the generated document is valid JSON")
}

// A small scanner for Rust source: enough to find `.route(...)` calls and their arguments
// however rustfmt wraps them, without being fooled by comments or string literals.
mod routes;

use routes::router_routes;

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
    let error = resolve(&spec, &schemas["Error"]["properties"]["error"]);
    assert!(error["properties"]["code"].is_object(), "Error is {{error:{{code,message}}}}");
    assert!(error["properties"]["message"].is_object(), "Error is {{error:{{code,message}}}}");
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
    assert!(
        undocumented.is_empty(),
        "routes in src/http/mod.rs missing from the OpenAPI document (add #[utoipa::path] and list it in src/http/openapi.rs): {undocumented:?}"
    );
    assert!(unrouted.is_empty(), "the OpenAPI document has routes src/http/mod.rs does not: {unrouted:?}");
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

/// Every 2xx answer with a JSON body names its schema (a `$ref`, or an inline schema
/// that is not the empty "anything"), so clients get types, not `{}`.
#[test]
fn every_json_success_names_a_schema() {
    let spec = spec();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            for (status, r) in op["responses"].as_object().unwrap() {
                let r = resolve(&spec, r);
                if !status.starts_with('2') {
                    continue;
                }
                let Some(schema) = r["content"].get("application/json").map(|c| &c["schema"]) else { continue };
                let named = schema["$ref"].is_string()
                    || schema["type"].is_string()
                    || schema["oneOf"].is_array()
                    || schema["allOf"].is_array();
                assert!(named, "{m} {path} {status}: the JSON body has no schema: {schema}");
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "only {checked} JSON success bodies found");
}

/// The Event schema has one alternative per event kind, and the state enums list the
/// values the code writes: both come from the same declarations as the code's.
#[test]
fn events_and_states_match_the_code() {
    use parley::model::{ChatStatus, EventKind, MessageState};
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let kinds: BTreeSet<&str> = schemas["Event"]["oneOf"]
        .as_array()
        .expect("Event is a oneOf")
        .iter()
        .map(|alt| alt["properties"]["kind"]["enum"][0].as_str().expect("each alternative names its kind"))
        .collect();
    assert_eq!(kinds, EventKind::ALL.iter().map(|k| k.as_str()).collect());
    let values = |name: &str| -> Vec<String> {
        serde_json::from_value(schemas[name]["enum"].clone()).unwrap_or_else(|_| panic!("{name} is a string enum"))
    };
    assert_eq!(values("ChatStatus"), ChatStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert_eq!(values("MessageState"), MessageState::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>());
}

/// The document is the one the app serves.
#[tokio::test]
async fn the_app_serves_the_generated_document() {
    let app = crate::support::spawn_app().await;
    let (status, served) = app.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(served, spec());
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
