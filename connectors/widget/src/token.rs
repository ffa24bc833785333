//! Visitor tokens: the visitor id signed with the channel's key, so a browser can
//! prove which chat is its own and can never claim another's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &str, parts: &[&str]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    for p in parts {
        m.update(p.as_bytes());
        m.update(b"\n");
    }
    m.finalize().into_bytes().to_vec()
}

pub fn new_key() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// A fresh anonymous visitor id.
pub fn new_visitor_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    format!("v:{}", URL_SAFE_NO_PAD.encode(b))
}

/// `<visitor id, base64>.<signature, hex>`
pub fn sign_visitor(key: &str, channel_id: i64, visitor: &str) -> String {
    let sig = mac(key, &["visitor", &channel_id.to_string(), visitor]);
    format!("{}.{}", URL_SAFE_NO_PAD.encode(visitor), hex::encode(sig))
}

/// The visitor id in a token signed for this channel, if the signature holds.
pub fn verify_visitor(key: &str, channel_id: i64, token: &str) -> Option<String> {
    let (id, sig) = token.split_once('.')?;
    let visitor = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
    let expected = mac(key, &["visitor", &channel_id.to_string(), &visitor]);
    let given = hex::decode(sig).ok()?;
    bool::from(expected.ct_eq(&given)).then_some(visitor)
}

/// Identity verification for a site's logged-in users: `user_hash` must be
/// hex(HMAC-SHA256(channel secret, user_id)), computed by the site's server.
pub fn verify_user(secret: &str, user_id: &str, user_hash: &str) -> bool {
    if secret.is_empty() || user_id.is_empty() || user_id.len() > 200 {
        return false;
    }
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    m.update(user_id.as_bytes());
    let expected = m.finalize().into_bytes();
    hex::decode(user_hash.trim()).is_ok_and(|given| bool::from(expected.as_slice().ct_eq(&given)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_for_their_channel_and_key() {
        let t = sign_visitor("k1", 7, "v:abc");
        assert_eq!(verify_visitor("k1", 7, &t).as_deref(), Some("v:abc"));
        assert_eq!(verify_visitor("k1", 8, &t), None);
        assert_eq!(verify_visitor("k2", 7, &t), None);
        let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode("v:other"), t.split_once('.').unwrap().1);
        assert_eq!(verify_visitor("k1", 7, &forged), None);
    }

    #[test]
    fn user_hash_is_hmac_of_user_id() {
        let mut m = HmacSha256::new_from_slice(b"s3cret").unwrap();
        m.update(b"user-42");
        let good = hex::encode(m.finalize().into_bytes());
        assert!(verify_user("s3cret", "user-42", &good));
        assert!(!verify_user("s3cret", "user-43", &good));
        assert!(!verify_user("", "user-42", &good));
    }
}
