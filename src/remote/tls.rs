//! Reads the certificate a TLS endpoint serves for a hostname (SNI) and
//! judges it: expiry, issuer, and whether it verifies against the
//! browsers' roots. The handshake itself accepts any certificate, so an
//! expired or self-signed one is still read and reported.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::site::state::CertStatus;

/// Accepts every chain and keeps it.
#[derive(Debug)]
struct Keep {
    chain: Mutex<Vec<CertificateDer<'static>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Keep {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut c = self.chain.lock().expect("chain lock");
        c.push(end_entity.clone().into_owned());
        c.extend(intermediates.iter().map(|i| i.clone().into_owned()));
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The chain served at `endpoint` (`host:port`) for `hostname`.
pub fn fetch_chain(
    endpoint: &str,
    hostname: &str,
    timeout: Duration,
) -> Result<Vec<CertificateDer<'static>>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let keep = Arc::new(Keep {
        chain: Mutex::new(Vec::new()),
        provider: provider.clone(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .dangerous()
        .with_custom_certificate_verifier(keep.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(hostname.to_string())
        .map_err(|_| anyhow!("invalid hostname `{hostname}`"))?;
    let addr = endpoint
        .to_socket_addrs()
        .with_context(|| format!("resolving {endpoint}"))?
        .next()
        .ok_or_else(|| anyhow!("{endpoint}: no address"))?;
    let mut sock = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {endpoint}"))?;
    sock.set_read_timeout(Some(timeout))?;
    sock.set_write_timeout(Some(timeout))?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).context("TLS client")?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock)
            .with_context(|| format!("TLS handshake with {endpoint}"))?;
    }
    conn.send_close_notify();
    let _ = conn.complete_io(&mut sock);
    let _ = sock.flush();
    let chain = keep.chain.lock().expect("chain lock").clone();
    if chain.is_empty() {
        return Err(anyhow!("{endpoint} sent no certificate"));
    }
    Ok(chain)
}

/// Judge a chain read for `hostname` at unix time `now`.
pub fn judge(
    hostname: &str,
    endpoint: &str,
    chain: &[CertificateDer<'static>],
    now: i64,
) -> CertStatus {
    let mut st = CertStatus {
        hostname: hostname.into(),
        endpoint: endpoint.into(),
        ..Default::default()
    };
    match x509_parser::parse_x509_certificate(chain[0].as_ref()) {
        Ok((_, cert)) => {
            let na = cert.validity().not_after.timestamp();
            st.not_after = Some(na);
            st.days_left = Some(((na - now) as f64 / 86400.0 * 10.0).round() / 10.0);
            st.issuer = Some(cert.issuer().to_string());
        }
        Err(e) => {
            st.error = Some(format!("unreadable certificate: {e}"));
            return st;
        }
    }
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build();
    let (Ok(v), Ok(name)) = (verifier, ServerName::try_from(hostname.to_string())) else {
        return st;
    };
    let time = UnixTime::since_unix_epoch(Duration::from_secs(now.max(0) as u64));
    match v.verify_server_cert(&chain[0], &chain[1..], &name, &[], time) {
        Ok(_) => st.trusted = Some(true),
        Err(e) => {
            st.trusted = Some(false);
            st.error = Some(describe(&e));
        }
    }
    st
}

fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "unknown issuer (self-signed or private CA)".into()
        }
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "expired".into()
        }
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => "not valid for this name".into(),
        other => other.to_string(),
    }
}

/// Read and judge; a connection failure is reported in the status.
pub fn check(hostname: &str, endpoint: &str, now: i64) -> CertStatus {
    match fetch_chain(endpoint, hostname, Duration::from_secs(8)) {
        Ok(chain) => judge(hostname, endpoint, &chain, now),
        Err(e) => CertStatus {
            hostname: hostname.into(),
            endpoint: endpoint.into(),
            error: Some(format!("{e:#}")),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(name: &str, not_after: i64) -> CertificateDer<'static> {
        let mut p = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = time::OffsetDateTime::from_unix_timestamp(not_after).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        p.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn self_signed_is_read_but_not_trusted() {
        let now = 1_796_083_200; // 2026-12-01
        let c = cert("cloud.example.fr", now + 5 * 86400);
        let st = judge("cloud.example.fr", "127.0.0.1:443", &[c], now);
        assert_eq!(st.days_left, Some(5.0));
        assert_eq!(st.trusted, Some(false));
        assert!(st.error.unwrap().contains("unknown issuer"));
        assert!(st.issuer.is_some());
        let old = judge(
            "cloud.example.fr",
            "x:443",
            &[cert("cloud.example.fr", now - 86400)],
            now,
        );
        assert_eq!(old.days_left, Some(-1.0));
    }
}
