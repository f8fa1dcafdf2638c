//! Syntax predicates shared by validation (names, domains, addresses,
//! paths, image references, times) and the maintenance window parser.

use std::net::IpAddr;

use serde::Serialize;

pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_domain(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && !s
            .rsplit('.')
            .next()
            .unwrap_or("")
            .bytes()
            .all(|b| b.is_ascii_digit())
}

pub fn is_email(s: &str) -> bool {
    let Some((local, dom)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && is_domain(dom)
}

/// A network in CIDR notation (`192.168.1.0/24`, `fd00::/8`), or a single
/// address, as Caddy's `remote_ip` reads it: the address and its prefix
/// length.
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, len) = match s.split_once('/') {
        Some((ip, len)) => (ip, Some(len)),
        None => (s, None),
    };
    let ip: IpAddr = ip.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
            l.parse().ok().filter(|n| *n <= max)?
        }
        Some(_) => return None,
    };
    Some((ip, len))
}

/// Whether the network `net` (from [`parse_cidr`]) holds `ip`.
pub fn cidr_contains(net: (IpAddr, u8), ip: IpAddr) -> bool {
    match (net.0, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(net.1)).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(net.1)).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

pub fn is_address(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok() || is_domain(s) || is_slug(s)
}

/// `host` or `host:port` (port 1 to 65535, 22 when absent); an IPv6
/// address goes in brackets when a port follows (`[fd00::1]:2222`).
pub fn parse_host_port(s: &str) -> Option<(String, u16)> {
    let (host, port) = match s.strip_prefix('[') {
        Some(rest) => {
            let (h, after) = rest.split_once(']')?;
            match after {
                "" => (h, None),
                p => (h, Some(p.strip_prefix(':')?)),
            }
        }
        None => match s.split_once(':') {
            Some((h, p)) if !p.contains(':') => (h, Some(p)),
            Some(_) => (s, None),
            None => (s, None),
        },
    };
    if !is_address(host) {
        return None;
    }
    let port = match port {
        None => 22,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok().filter(|n| *n > 0)?,
        Some(_) => return None,
    };
    Some((host.to_string(), port))
}

pub(super) fn is_abs_path(s: &str) -> bool {
    s.starts_with('/')
        && s.len() > 1
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
        && !s.split('/').any(|c| c == "..")
}

pub(super) fn is_tag(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && !s.starts_with(['.', '-'])
}

/// `[registry[:port]/]path[:tag][@sha256:digest]`, lowercase path.
pub fn is_image_ref(s: &str) -> bool {
    if s.starts_with('-') {
        return false;
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let Some(h) = d.strip_prefix("sha256:") else {
            return false;
        };
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
    }
    let (name, tag) = match rest.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, Some(t)),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        if !is_tag(t) {
            return false;
        }
    }
    if name.is_empty() {
        return false;
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        let reg = parts.remove(0);
        let host = reg.split(':').next().unwrap_or("");
        if host.is_empty()
            || !reg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b))
        {
            return false;
        }
    }
    parts.iter().all(|p| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && p.as_bytes()[0].is_ascii_alphanumeric()
    })
}

pub(super) fn is_hhmm(s: &str) -> bool {
    let Some((h, m)) = s.split_once(':') else {
        return false;
    };
    h.len() == 2
        && m.len() == 2
        && h.parse::<u32>().is_ok_and(|h| h < 24)
        && m.parse::<u32>().is_ok_and(|m| m < 60)
}

pub(super) fn is_memory(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    let digits = s.trim_end_matches(['k', 'm', 'g', 'b']);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.len() - digits.len() <= 2
}

/// Text that lands in config files: printable, one line.
pub(super) fn is_text(s: &str) -> bool {
    !s.chars().any(|c| c.is_control())
}

/// A zone of the tz database (bundled in the binary), spelt as the database
/// spells it: it ends in systemd's `OnCalendar=` and in `TZ`.
pub(super) fn is_timezone(s: &str) -> bool {
    let shaped = s == "UTC"
        || (s.contains('/')
            && s.split('/').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b))
            }));
    shaped
        && jiff::tz::db()
            .get(s)
            .is_ok_and(|z| z.iana_name().is_some_and(|n| n == s))
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Parsed maintenance window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub days: Vec<String>,
    pub start: String,
    pub end: String,
}

pub fn parse_window(s: &str) -> Result<Window, String> {
    let (days, times) = s.trim().split_once(' ').ok_or_else(|| {
        if s.contains(':') {
            "missing days before the time range"
        } else {
            "missing time range"
        }
    })?;
    let days: Vec<String> = if days == "daily" {
        DAYS.iter().map(|d| d.to_string()).collect()
    } else {
        days.split(',')
            .map(|d| {
                let d = d.trim().to_ascii_lowercase();
                if DAYS.contains(&d.as_str()) {
                    Ok(d)
                } else {
                    Err(format!(
                        "unknown day `{}`",
                        crate::site::diag::Show::shown(&d)
                    ))
                }
            })
            .collect::<Result<_, _>>()?
    };
    let (a, b) = times
        .trim()
        .split_once('-')
        .ok_or("missing `-` in time range")?;
    if !is_hhmm(a) || !is_hhmm(b) {
        return Err("times must be HH:MM".into());
    }
    if a == b {
        return Err("window is empty".into());
    }
    Ok(Window {
        days,
        start: a.into(),
        end: b.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_checks() {
        assert!(is_domain("techniville.fr"));
        assert!(!is_domain("techniville"));
        assert!(!is_domain("-a.fr"));
        assert!(!is_domain("a..fr"));
        assert!(!is_domain("1.2.3.4"));
        assert!(is_email("dsi@techniville.fr"));
        assert!(!is_email("dsi@techniville"));
        assert!(!is_email("a b@x.fr"));
        assert!(is_image_ref("postgres:17"));
        assert!(is_image_ref("registry.local:5000/team/app:1.2"));
        assert!(is_image_ref("ghcr.io/jitsi/web:stable-10314"));
        assert!(is_image_ref(&format!("x@sha256:{}", "a".repeat(64))));
        assert!(!is_image_ref("Postgres:17"));
        assert!(!is_image_ref("x:1;rm -rf /"));
        assert!(is_memory("512m") && is_memory("2g") && !is_memory("2 GB"));
    }

    #[test]
    fn windows() {
        let w = parse_window("sun 03:00-05:00").unwrap();
        assert_eq!(w.days, vec!["sun"]);
        assert_eq!(parse_window("daily 04:00-05:00").unwrap().days.len(), 7);
        assert!(parse_window("sunday 03:00-05:00").is_err());
        assert!(parse_window("sun 3h-5h").is_err());
    }

    #[test]
    fn cidrs_parse_and_contain() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(parse_cidr("192.168.1.0/24"), Some((ip("192.168.1.0"), 24)));
        assert_eq!(parse_cidr("203.0.113.40"), Some((ip("203.0.113.40"), 32)));
        assert_eq!(parse_cidr("fd00::/8"), Some((ip("fd00::"), 8)));
        for bad in [
            "192.168.1.0/33",
            "10.0.0.0/",
            "bureau",
            "10.0.0.0/+8",
            "::/129",
            "1.2.3.4/08x",
        ] {
            assert_eq!(parse_cidr(bad), None, "{bad}");
        }
        let n = parse_cidr("172.16.0.0/12").unwrap();
        assert!(cidr_contains(n, ip("172.17.0.1")));
        assert!(cidr_contains(n, ip("172.31.255.255")));
        assert!(!cidr_contains(n, ip("172.32.0.1")));
        assert!(!cidr_contains(n, ip("::1")));
        assert!(cidr_contains(
            parse_cidr("0.0.0.0/0").unwrap(),
            ip("8.8.8.8")
        ));
        assert!(cidr_contains(
            parse_cidr("fd00::/8").unwrap(),
            ip("fd12::1")
        ));
        assert!(!cidr_contains(
            parse_cidr("192.168.1.0/24").unwrap(),
            ip("192.168.2.1")
        ));
    }

    #[test]
    fn host_and_port() {
        assert_eq!(
            parse_host_port("far.example.org"),
            Some(("far.example.org".into(), 22))
        );
        assert_eq!(
            parse_host_port("10.0.0.2:2222"),
            Some(("10.0.0.2".into(), 2222))
        );
        assert_eq!(
            parse_host_port("[fd00::1]:2222"),
            Some(("fd00::1".into(), 2222))
        );
        assert_eq!(parse_host_port("fd00::1"), Some(("fd00::1".into(), 22)));
        for bad in [
            "",
            "far:0",
            "far:65536",
            "far:+22",
            "far:x",
            "a b",
            "far:22:1x",
            "[fd00::1]x",
            "$(id)",
        ] {
            assert_eq!(parse_host_port(bad), None, "{bad}");
        }
    }
}
