//! The client's address: the socket's peer, unless the peer is a trusted proxy, whose
//! `X-Forwarded-For` / `Forwarded` then names the client. The widget's per-address
//! connection limit shows which address Parley saw.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::visitor::widget_key;
use crate::support::{TestApp, spawn_app_with};

/// Opens a widget socket claiming to come from `forwarded_for`; the HTTP status of a refusal.
async fn connect(
    app: &TestApp,
    key: &str,
    header: &'static str,
    forwarded_for: &str,
) -> Result<crate::support::client::Ws, String> {
    let url = format!("{}/widget/ws?channel={key}", app.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(header, forwarded_for.parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().to_string()),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn an_untrusted_peer_cannot_pose_as_other_addresses() {
    let app = spawn_app_with(|c| c.widget.connections_per_ip = 1).await;
    let admin = app.admin().await;
    let (_, key) = widget_key(&admin).await;
    let _first = connect(&app, &key, "x-forwarded-for", "203.0.113.1").await.unwrap();
    let second = connect(&app, &key, "x-forwarded-for", "203.0.113.2").await;
    assert_eq!(second.err().as_deref(), Some("429 Too Many Requests"), "both are 127.0.0.1, whatever they say");
    let third = connect(&app, &key, "forwarded", "for=203.0.113.3").await;
    assert_eq!(third.err().as_deref(), Some("429 Too Many Requests"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_counted_on_its_own() {
    let app = spawn_app_with(|c| {
        c.widget.connections_per_ip = 1;
        c.http.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
    })
    .await;
    let admin = app.admin().await;
    let (_, key) = widget_key(&admin).await;
    let _a = connect(&app, &key, "x-forwarded-for", "203.0.113.1").await.unwrap();
    let _b = connect(&app, &key, "x-forwarded-for", "203.0.113.2").await.unwrap();
    let _c = connect(&app, &key, "forwarded", "for=\"[2001:db8::7]:4711\";proto=https").await.unwrap();
    // What a client prepends is not believed: the proxy appended the real one, .1 again.
    let again = connect(&app, &key, "x-forwarded-for", "198.51.100.9, 203.0.113.1").await;
    assert_eq!(again.err().as_deref(), Some("429 Too Many Requests"));
}
