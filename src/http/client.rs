//! The client's address: the socket's peer, or what a trusted proxy says it forwarded
//! for (`X-Forwarded-For`, `Forwarded`). Anyone else's headers are ignored, so a
//! client cannot pose as another address to slip past the per-address limits
//! (login, widget). Resolved once per request by [`resolve`], which puts it in the
//! request's extensions for the handlers ([`ClientAddr`]) and the request's log span.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::app::App;

/// The address a request came from, as far as Parley can trust it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The client behind `peer`: walking the forwarding chain from the nearest hop, every
/// hop that is a trusted proxy is passed over; the first that is not is the client.
/// With no trusted proxy (the default) that is always the peer itself.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let trusted_hop = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&unmapped(*ip)));
    if !trusted_hop(&peer) {
        return peer;
    }
    // Hops as the proxies appended them, nearest last. `Forwarded` (RFC 7239) wins
    // when present, as it is the standard one.
    let hops: Vec<IpAddr> = if headers.contains_key("forwarded") {
        headers
            .get_all("forwarded")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(forwarded_for)
            .collect()
    } else {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| parse_node(hop.trim()))
            .collect()
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        client = hop;
        if !trusted_hop(&hop) {
            break;
        }
    }
    client
}

/// `for=` of one `Forwarded` element (`for=192.0.2.1;proto=https`), if it is an address.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then(|| parse_node(value.trim().trim_matches('"'))).flatten()
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`,
/// `2001:db8::1`. Obfuscated names (`_hidden`, `unknown`) are not addresses.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(unmapped(ip));
    }
    if let Ok(sock) = node.parse::<SocketAddr>() {
        return Some(unmapped(sock.ip()));
    }
    node.strip_prefix('[').and_then(|n| n.strip_suffix(']')).and_then(|n| n.parse().ok()).map(unmapped)
}

/// `::ffff:192.0.2.1` is `192.0.2.1`: one client, one address, whatever the socket family.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Middleware: finds the request's [`ClientAddr`] once and keeps it in its extensions.
pub async fn resolve(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    // Served without connection info (a router driven in-process): no peer to trust.
    let peer = peer.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let addr = ClientAddr(client_addr(peer, req.headers(), &app.config.http.trusted_proxies));
    req.extensions_mut().insert(addr);
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts.extensions.get::<ClientAddr>().copied().unwrap_or(ClientAddr(IpAddr::from([0, 0, 0, 0]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("forwarded", "for=203.0.113.8")]);
        assert_eq!(client_addr(ip("198.51.100.7"), &h, &[]), ip("198.51.100.7"));
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client_addr(ip("198.51.100.7"), &h, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_proxy_chain_is_walked_back_to_the_first_untrusted_hop() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        // The client may prepend anything: only what the trusted proxies appended counts.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(client_addr(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        let h = headers(&[("forwarded", "for=1.1.1.1, for=\"[2001:db8::5]:4711\";proto=https")]);
        assert_eq!(client_addr(ip("::1"), &h, &trusted), ip("2001:db8::5"));
        let h = headers(&[("x-forwarded-for", "203.0.113.9:5000")]);
        assert_eq!(client_addr(ip("::ffff:10.1.2.3"), &h, &trusted), ip("203.0.113.9"));
        // No header, or nothing usable in it: the proxy itself.
        assert_eq!(client_addr(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_addr(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
    }
}
