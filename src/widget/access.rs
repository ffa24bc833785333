//! Who may use a widget, and as whom: a page's origin against the channel's allowed
//! origins, and the visitor a connection speaks for — a verified user of the site, the
//! holder of a valid token, or someone new (within the per-IP limit on new visitors).

use std::net::IpAddr;

use serde_json::Value as Json;

use super::limits::WidgetLimits;
use crate::channels::StoredChannel;

/// A page on an origin the channel does not allow gets no widget; with no list, any
/// page may embed it.
pub fn origin_allowed(channel: &StoredChannel, origin: Option<&str>) -> bool {
    let allowed: Vec<&str> = channel.channel.settings["allowed_origins"]
        .as_array()
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    if allowed.is_empty() {
        return true;
    }
    let origin = origin.unwrap_or("");
    allowed.iter().any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// What a connection says about its visitor.
pub struct Claim<'a> {
    /// The site's own user id and its HMAC under the channel's secret.
    pub user: Option<(&'a str, &'a str)>,
    /// The token the widget got on an earlier visit.
    pub token: Option<&'a str>,
}

/// The visitor as (token, visitor id), or a refusal as (code, message).
pub fn identify(
    channel: &StoredChannel,
    claim: &Claim,
    limits: &WidgetLimits,
    ip: IpAddr,
    now: i64,
) -> Result<(String, String), (&'static str, &'static str)> {
    let key = channel.channel.setting("token_key").unwrap_or_default();
    let id = channel.channel.id;
    if let Some((user, hash)) = claim.user
        && parley_widget::verify_user(channel.channel.setting("secret").unwrap_or_default(), user, hash)
    {
        let visitor = format!("user:{user}");
        return Ok((parley_widget::sign_visitor(key, id, &visitor), visitor));
    }
    if let Some(token) = claim.token.filter(|t| !t.is_empty()) {
        return parley_widget::verify_visitor(key, id, token)
            .map(|v| (token.to_owned(), v))
            .ok_or(("bad_token", "this visitor token is not valid here; start a new chat"));
    }
    if !limits.new_visitor(ip, now) {
        return Err(("rate_limited", "too many new visitors from this address; try again in a minute"));
    }
    let visitor = parley_widget::new_visitor_id();
    Ok((parley_widget::sign_visitor(key, id, &visitor), visitor))
}

#[cfg(test)]
mod tests {
    use parley_sdk::Channel;
    use serde_json::json;

    use super::*;

    fn channel(settings: Json) -> StoredChannel {
        let channel = Channel { id: 1, kind: "widget".into(), name: "Site".into(), settings };
        StoredChannel { channel, key: "k".into(), distribution: true, created_at: 0, broken_reason: None }
    }

    #[test]
    fn only_listed_origins_get_the_widget_when_there_is_a_list() {
        let open = channel(json!({}));
        assert!(origin_allowed(&open, None));
        let listed = channel(json!({"allowed_origins": ["https://shop.example/"]}));
        assert!(origin_allowed(&listed, Some("https://SHOP.example")));
        assert!(!origin_allowed(&listed, Some("https://evil.example")));
        assert!(!origin_allowed(&listed, None));
    }

    #[test]
    fn a_token_speaks_for_its_visitor_on_its_channel_only() {
        let c = channel(json!({"token_key": "secret-key"}));
        let limits = WidgetLimits::new(&crate::config::Widget::default());
        let ip: IpAddr = [127, 0, 0, 1].into();
        let none = Claim { user: None, token: None };
        let (token, visitor) = identify(&c, &none, &limits, ip, 0).unwrap();
        let again = Claim { user: None, token: Some(&token) };
        assert_eq!(identify(&c, &again, &limits, ip, 0).unwrap().1, visitor);
        let other = channel(json!({"token_key": "another-key"}));
        assert_eq!(identify(&other, &again, &limits, ip, 0).unwrap_err().0, "bad_token");
    }
}
