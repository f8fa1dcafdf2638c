//! Which hosts have a local CA, the script that reads its root certificate
//! from the running proxy container, and the check of what came back: one
//! PEM certificate (never a private key) and its SHA-256 fingerprint, the
//! value a client compares before trusting it. Pure.

use anyhow::{bail, Result};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::site::inventory::Resolved;
use crate::util::shell::quote;

/// Where Caddy keeps its local authority's root in the proxy's data volume
/// (`XDG_DATA_HOME=/data` in the caddy image).
pub const ROOT_PATH: &str = "/data/caddy/pki/authorities/local/root.crt";

/// Exit status of the script when no proxy container of the site runs.
const NO_PROXY: i32 = 3;
/// Exit status of the script when the proxy has no local CA (yet).
const NO_ROOT: i32 = 4;

/// The hosts whose proxy uses the local CA: `only` when given (an error if
/// that host has no such proxy), else every one; an error when none.
pub fn hosts(site: &Resolved, only: Option<&str>) -> Result<Vec<String>> {
    let internal: Vec<String> = site
        .placement
        .iter()
        .filter(|(h, stacks)| stacks.iter().any(|s| s.name == "proxy") && !site.acme(h))
        .map(|(h, _)| h.clone())
        .collect();
    match only {
        Some(h) if internal.iter().any(|x| x == h) => Ok(vec![h.to_string()]),
        Some(h)
            if site
                .placement
                .get(h)
                .is_some_and(|s| s.iter().any(|s| s.name == "proxy")) =>
        {
            bail!("the proxy on {h} gets public certificates (ACME): clients need no extra root")
        }
        Some(h) => bail!("no reverse proxy on {h} in {}", site.file.display()),
        None if internal.is_empty() => bail!(
            "no host of {} runs a proxy with the local CA (tls internal)",
            site.file.display()
        ),
        None => Ok(internal),
    }
}

/// The script printing the root certificate of the site's running proxy.
pub fn read_script(site: &str) -> String {
    format!(
        "set -eu\n\
         id=$(docker ps -q --filter label=regie.site={site} --filter label=regie.stack=proxy | head -n 1)\n\
         [ -n \"$id\" ] || exit {NO_PROXY}\n\
         docker exec \"$id\" test -f {path} || exit {NO_ROOT}\n\
         docker exec \"$id\" cat {path}\n",
        site = quote(site),
        path = quote(ROOT_PATH),
    )
}

/// A root certificate as fetched from a host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RootCa {
    pub host: String,
    pub pem: String,
    /// SHA-256 of the DER certificate, upper-case hex pairs joined by `:`.
    pub sha256: String,
}

/// Judge the script's answer (`code`, `stdout`) from `host`.
pub fn parse(host: &str, code: i32, stdout: &str) -> Result<RootCa> {
    match code {
        0 => {}
        NO_PROXY => bail!("{host}: the proxy is not running (regie deploy, then try again)"),
        NO_ROOT => bail!(
            "{host}: the proxy has no local CA yet (Caddy makes it when it first serves a LAN site)"
        ),
        c => bail!("{host}: reading the root certificate failed (exit {c})"),
    }
    if stdout.contains("PRIVATE KEY") {
        bail!("{host}: the answer holds a private key, not a certificate: refused");
    }
    let begin = "-----BEGIN CERTIFICATE-----";
    let end = "-----END CERTIFICATE-----";
    if stdout.matches(begin).count() != 1 {
        bail!("{host}: expected one PEM certificate in {ROOT_PATH}");
    }
    let start = stdout.find(begin).unwrap_or(0);
    let Some(stop) = stdout[start..].find(end).map(|i| start + i + end.len()) else {
        bail!("{host}: the PEM certificate in {ROOT_PATH} is cut short");
    };
    let pem = &stdout[start..stop];
    let body: String = pem[begin.len()..pem.len() - end.len()]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| anyhow::anyhow!("{host}: the certificate is not valid base64: {e}"))?;
    Ok(RootCa {
        host: host.to_string(),
        pem: format!("{pem}\n"),
        sha256: fingerprint(&der),
    })
}

/// `AA:BB:...`, the form browsers and `openssl x509 -fingerprint` show.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n";

    #[test]
    fn the_script_quotes_the_site_and_reads_the_root_only() {
        let s = read_script("a b'c");
        assert!(s.contains("label=regie.site='a b'\\''c'"), "{s}");
        assert!(s.contains(&format!("cat {}", quote(ROOT_PATH))), "{s}");
        assert!(ROOT_PATH.ends_with("/pki/authorities/local/root.crt"));
        assert!(!s.contains("root.key"));
    }

    #[test]
    fn only_lan_proxies_have_a_root_to_hand_out() {
        let lan = crate::site::load(std::path::Path::new("inventories/asso-lan.yml")).unwrap();
        assert_eq!(hosts(&lan, None).unwrap(), ["pi"]);
        assert_eq!(hosts(&lan, Some("pi")).unwrap(), ["pi"]);
        let e = hosts(&lan, Some("nope")).unwrap_err().to_string();
        assert!(e.contains("no reverse proxy on nope"), "{e}");
        let public =
            crate::site::load(std::path::Path::new("inventories/cabinet-durand.yml")).unwrap();
        let e = hosts(&public, None).unwrap_err().to_string();
        assert!(
            e.contains("no host of") && e.contains("tls internal"),
            "{e}"
        );
        let e = hosts(&public, Some("srv1")).unwrap_err().to_string();
        assert!(e.contains("ACME"), "{e}");
    }

    #[test]
    fn a_certificate_gives_its_fingerprint() {
        let r = parse("srv1", 0, &format!("noise\n{PEM}")).unwrap();
        assert_eq!(r.pem, PEM);
        // SHA-256 of the bytes 00 01 02 03.
        assert_eq!(
            r.sha256,
            "05:4E:DE:C1:D0:21:1F:62:4F:ED:0C:BC:A9:D4:F9:40:0B:0E:49:1C:43:74:2A:F2:C5:B0:AB:EB:F0:C9:90:D8"
        );
    }

    #[test]
    fn keys_bad_pem_and_missing_roots_are_refused() {
        let key = format!("{PEM}-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n");
        assert!(parse("h", 0, &key)
            .unwrap_err()
            .to_string()
            .contains("private key"));
        assert!(parse("h", 0, "").is_err());
        assert!(parse("h", 0, &format!("{PEM}{PEM}")).is_err());
        assert!(parse(
            "h",
            0,
            "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"
        )
        .is_err());
        assert!(parse("h", 3, "")
            .unwrap_err()
            .to_string()
            .contains("not running"));
        assert!(parse("h", 4, "")
            .unwrap_err()
            .to_string()
            .contains("no local CA"));
        assert!(parse("h", 1, PEM).is_err());
    }
}
