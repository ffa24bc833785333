//! How the console and the widget are delivered: the console's page under a strict
//! Content-Security-Policy that no site may frame, its modules under versioned URLs
//! kept for good, and text and JSON compressed (gzip, brotli) where clients accept it.

use std::io::Read;

use crate::support::spawn_app;
use crate::support::webhook_fake::FakeReceiver;

async fn get(url: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url);
    if let Some(e) = encoding {
        req = req.header("accept-encoding", e);
    }
    req.send().await.unwrap()
}

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_console_page_runs_only_its_own_scripts_and_cannot_be_framed() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/setup"] {
        let res = get(&format!("{}{path}", app.base), None).await;
        assert_eq!(res.status(), 200);
        let csp = header(&res, "content-security-policy").expect("a CSP");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(header(&res, "x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(header(&res, "referrer-policy").as_deref(), Some("same-origin"));
        let html = res.text().await.unwrap();
        // Every script is a file of its own: nothing inline for the CSP to refuse.
        for tag in html.split("<script").skip(1) {
            assert!(tag.split('>').next().unwrap().contains(" src="), "inline script in {path}: {tag}");
        }
    }
    // The widget is embedded by other sites: neither it nor its demo page refuses framing.
    let widget = get(&format!("{}/widget.js", app.base), None).await;
    assert_eq!(widget.status(), 200);
    assert!(header(&widget, "x-frame-options").is_none() && header(&widget, "content-security-policy").is_none());
}

#[tokio::test]
async fn the_consoles_modules_are_versioned_and_kept_so_a_reload_asks_for_nothing_but_the_page() {
    let app = spawn_app().await;
    let page = get(&app.base, None).await;
    let etag = header(&page, "etag").unwrap();
    assert_eq!(header(&page, "cache-control").as_deref(), Some("no-cache"));
    let html = page.text().await.unwrap();
    let src = html.split("src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let version = src.strip_prefix("/console/v/").and_then(|r| r.strip_suffix("/app.js")).expect(&src).to_owned();
    assert!(html.contains(&format!("/console/v/{version}/console.css")), "{html}");

    // app.js imports './api.js': the same versioned folder, kept for a year.
    for file in ["app.js", "api.js", "console.css"] {
        let res = get(&format!("{}/console/v/{version}/{file}", app.base), None).await;
        assert_eq!(res.status(), 200, "{file}");
        assert_eq!(header(&res, "cache-control").as_deref(), Some("public, max-age=31536000, immutable"), "{file}");
    }
    let app_js = get(&format!("{}{src}", app.base), None).await.text().await.unwrap();
    assert!(app_js.contains("from './api.js'"), "relative imports keep the version");
    // Another build's version, or none, is served but asked again next time.
    let stale = get(&format!("{}/console/v/000000000000/app.js", app.base), None).await;
    assert_eq!((stale.status().as_u16(), header(&stale, "cache-control").as_deref()), (200, Some("no-cache")));
    let plain = get(&format!("{}/console/app.js", app.base), None).await;
    assert_eq!(header(&plain, "cache-control").as_deref(), Some("no-cache"));
    // The page itself is revalidated: unchanged, it costs a 304.
    let again = reqwest::Client::new().get(&app.base).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn text_and_json_are_compressed_for_clients_that_accept_it() {
    let app = spawn_app().await;
    let url = format!("{}/widget.js", app.base);
    let identity = get(&url, None).await;
    assert!(header(&identity, "content-encoding").is_none());
    let identity = identity.bytes().await.unwrap();

    let gz = get(&url, Some("gzip")).await;
    assert_eq!(header(&gz, "content-encoding").as_deref(), Some("gzip"));
    let gz = gz.bytes().await.unwrap();
    assert!(gz.len() * 2 < identity.len(), "{} of {}", gz.len(), identity.len());
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut plain).unwrap();
    assert_eq!(plain, identity);

    let br = get(&url, Some("br;q=1.0, gzip;q=0.5")).await;
    assert_eq!(header(&br, "content-encoding").as_deref(), Some("br"));
    let br = br.bytes().await.unwrap();
    let mut plain = Vec::new();
    brotli_decompressor::Decompressor::new(&br[..], 4096).read_to_end(&mut plain).unwrap();
    assert_eq!(plain, identity);

    // JSON from the API too.
    let doc = get(&format!("{}/api/v1/openapi.json", app.base), Some("gzip")).await;
    assert_eq!(header(&doc, "content-encoding").as_deref(), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&doc.bytes().await.unwrap()[..]).read_to_string(&mut text).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["openapi"].is_string());
}

#[tokio::test]
async fn webhook_answers_are_never_compressed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let fake = FakeReceiver::start().await;
    let channel = app.webhook_channel(&admin, &fake).await;
    let raw = serde_json::json!({"user_id": "u", "message_id": "m1", "text": "hi"}).to_string();
    let res = reqwest::Client::new()
        .post(format!("{}/hooks/{}", app.base, channel.id))
        .header("content-type", "application/json")
        .header("accept-encoding", "gzip, br")
        .header("x-parley-signature", parley_webhook::sign(&channel.secret, raw.as_bytes()))
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-encoding").is_none());
}
