//! `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body under the
//! app secret. Checked before anything is parsed, in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "x-hub-signature-256";

/// The header's value for `body`, as Meta computes it (tests and the benchmark sign with it).
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// Whether `header` signs `body`: a missing prefix or a value that is not hex fails.
pub fn verify(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(given) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else { return false };
    let Ok(given) = hex::decode(given) else { return false };
    let mut m = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    m.update(body);
    // `verify_slice` compares in constant time.
    m.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_wrong_and_malformed_signatures() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let good = sign("app-secret", body);
        assert!(verify("app-secret", body, Some(&good)));
        assert!(!verify("other-secret", body, Some(&good)));
        assert!(!verify("app-secret", b"{}", Some(&good)));
        assert!(!verify("app-secret", body, Some(good.trim_start_matches("sha256="))));
        assert!(!verify("app-secret", body, Some("sha256=zz")));
        assert!(!verify("app-secret", body, None));
    }
}
