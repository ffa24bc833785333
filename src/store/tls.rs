//! TLS to PostgreSQL, as the URL's `sslmode` asks (libpq's words, as managed databases
//! document them):
//! - none given: a plain connection, as before (a local server on the same host);
//! - `disable`: plain; `prefer`: encrypted when the server offers it, unverified;
//! - `require`: encrypted or refused, the certificate not checked (libpq's meaning);
//! - `verify-ca`, `verify-full`: encrypted, the certificate checked against the system's
//!   roots and `sslrootcert=FILE` (a managed database's CA), and the host name against it
//!   (`verify-ca` checks the name too: stricter than libpq, never weaker).
//!
//! The `postgres` crate knows only `disable`/`prefer`/`require` and no `sslrootcert`, so
//! both are read here and removed from the URL it parses.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StoreError;

/// How connections to the database are secured.
#[derive(Clone)]
pub(crate) enum Tls {
    Plain,
    Rustls(MakeRustlsConnect),
}

/// Splits the TLS settings off a `postgres://` URL: the URL the `postgres` crate can
/// parse, and how to connect.
pub(crate) fn from_url(url: &str) -> Result<(String, Tls), StoreError> {
    let Some((base, query)) = url.split_once('?') else { return Ok((url.to_owned(), Tls::Plain)) };
    let (mut mode, mut root, mut kept) = (None, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", v)) => mode = Some(v.to_owned()),
            Some(("sslrootcert", v)) => root = Some(v.to_owned()),
            _ => kept.push(pair.to_owned()),
        }
    }
    let (sslmode, tls) = match mode.as_deref() {
        None => (None, Tls::Plain),
        Some("disable") => (Some("disable"), Tls::Plain),
        Some("prefer") => (Some("prefer"), unverified()?),
        Some("require") => (Some("require"), unverified()?),
        Some("verify-ca" | "verify-full") => (Some("require"), verified(root.as_deref())?),
        Some(other) => {
            return Err(StoreError::Open(format!(
                "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
            )));
        }
    };
    kept.extend(sslmode.map(|m| format!("sslmode={m}")));
    let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    Ok((url, tls))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Certificates checked: the system's roots, and the file named by `sslrootcert`.
fn verified(root: Option<&str>) -> Result<Tls, StoreError> {
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(file) = root {
        let pem = std::fs::read(file).map_err(|e| StoreError::Open(format!("cannot read sslrootcert {file}: {e}")))?;
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
            let cert: CertificateDer<'static> =
                cert.map_err(|e| StoreError::Open(format!("sslrootcert {file} is no PEM certificate: {e}")))?;
            roots.add(cert).map_err(|e| StoreError::Open(format!("sslrootcert {file}: {e}")))?;
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Tls::Rustls(MakeRustlsConnect::new(config)))
}

/// Encrypted, the certificate not checked (`require`, `prefer`).
fn unverified() -> Result<Tls, StoreError> {
    let provider = provider();
    let verifier = Arc::new(AnyCertificate(provider.clone()));
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Tls::Rustls(MakeRustlsConnect::new(config)))
}

fn tls_error(e: rustls::Error) -> StoreError {
    StoreError::Open(format!("cannot set up TLS: {e}"))
}

/// libpq's `require`: any certificate, though the handshake's signatures are still
/// checked (the connection is encrypted to whoever holds the certificate's key).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_leave_the_url_the_postgres_crate_parses() {
        let (url, tls) = from_url("postgres://u@h/db").unwrap();
        assert!(url == "postgres://u@h/db" && matches!(tls, Tls::Plain));
        let (url, tls) = from_url("postgres://u@h/db?sslmode=verify-full&application_name=p").unwrap();
        assert_eq!(url, "postgres://u@h/db?application_name=p&sslmode=require");
        assert!(matches!(tls, Tls::Rustls(_)));
        let (url, tls) = from_url("postgres://u@h/db?sslmode=disable").unwrap();
        assert!(url.ends_with("?sslmode=disable") && matches!(tls, Tls::Plain));
        assert!(from_url("postgres://u@h/db?sslmode=allow").is_err_and(|e| e.to_string().contains("sslmode=allow")));
        assert!(from_url("postgres://u@h/db?sslmode=verify-full&sslrootcert=/no/such.pem").is_err());
    }
}
