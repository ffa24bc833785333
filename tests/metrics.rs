//! `/metrics` has every series docs/METRICS.md documents, right after start.

use crate::support::spawn_app;

/// The series names of the table in docs/METRICS.md (its first column).
fn documented() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/METRICS.md")).unwrap();
    doc.lines().filter_map(|l| l.strip_prefix("| `")).filter_map(|l| l.split('`').next()).map(str::to_owned).collect()
}

#[tokio::test]
async fn every_documented_series_is_there_right_after_start() {
    let app = spawn_app().await;
    let names = documented();
    assert!(names.len() >= 20, "the table was read: {names:?}");
    // One request, so that the request series have a first sample.
    assert_eq!(app.anonymous().get("/healthz").await.0, 200);
    let res = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let series: Vec<&str> =
        text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(['{', ' ']).next()).collect();
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| {
            !series.iter().any(|s| {
                *s == n.as_str()
                    || s.strip_prefix(n.as_str()).is_some_and(|r| ["_bucket", "_sum", "_count"].contains(&r))
            })
        })
        .collect();
    assert!(missing.is_empty(), "missing {missing:?} in:\n{text}");
    // Registered at start, before any message: present with some value (the recorder is
    // the process's, so other tests of this binary may have counted already).
    assert!(text.contains(r#"parley_inbound_total{kind="telegram",result="created"} "#), "{text}");
    assert!(text.contains(r#"route="/healthz""#), "{text}");
    assert!(text.contains(&format!(r#"parley_build_info{{version="{}"}} 1"#, env!("CARGO_PKG_VERSION"))), "{text}");
}

#[test]
fn the_grafana_dashboard_asks_only_for_documented_series() {
    let names = documented();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/grafana-dashboard.json")).unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut asked = Vec::new();
    for panel in dash["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("parley_") || word.starts_with("process_") {
                    let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| word.strip_suffix(s)).unwrap_or(word);
                    asked.push(base.to_owned());
                }
            }
        }
    }
    assert!(asked.len() > 15, "{asked:?}");
    let unknown: Vec<&String> = asked.iter().filter(|a| !names.contains(a)).collect();
    assert!(unknown.is_empty(), "the dashboard asks for undocumented series: {unknown:?}");
}
