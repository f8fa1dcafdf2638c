//! Registry HTTP API v2 client: tag lists and manifest digests, with the
//! bearer-token challenge registries such as Docker Hub use. Nothing is
//! pulled: `update check` only reads lists and manifest heads.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

pub use crate::site::image::ImageRef;

/// Base URL of a registry's API: the inventory's `registries:` entry when
/// there is one (mirror, private registry), Docker Hub's API host for
/// `docker.io`, plain HTTP for loopback registries (as Docker itself allows
/// them without TLS), HTTPS otherwise.
pub fn base_url(registry: &str, mirrors: &BTreeMap<String, String>) -> String {
    if let Some(u) = mirrors.get(registry) {
        return u.trim_end_matches('/').to_string();
    }
    if registry == "docker.io" {
        return "https://registry-1.docker.io".into();
    }
    let host = registry.rsplit_once(':').map_or(registry, |(h, _)| h);
    if host == "localhost" || host.starts_with("127.") || host == "[::1]" {
        format!("http://{registry}")
    } else {
        format!("https://{registry}")
    }
}

/// A `WWW-Authenticate: Bearer realm=...,service=...,scope=...` challenge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

pub fn parse_challenge(h: &str) -> Option<Challenge> {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let mut params = BTreeMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let (k, after) = s.split_once('=')?;
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (v, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            match after.find(',') {
                Some(i) => (&after[..i], &after[i..]),
                None => (after, ""),
            }
        };
        params.insert(k, v.to_string());
        s = tail.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

/// The next page of a tag list from a `Link: <...>; rel="next"` header,
/// made absolute against `base`.
pub fn next_link(link: &str, base: &str) -> Option<String> {
    for part in link.split(',') {
        let part = part.trim();
        if !part.contains("rel=\"next\"") {
            continue;
        }
        let start = part.find('<')? + 1;
        let end = part.find('>')?;
        let u = &part[start..end];
        return Some(if u.starts_with("http") {
            u.to_string()
        } else {
            format!("{base}{u}")
        });
    }
    None
}

/// Media types accepted for a manifest head: multi-arch indexes first, so
/// the digest is the one `docker pull` records as RepoDigest.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";

/// A client for one repository of one registry, keeping the bearer token
/// it was given.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    repository: String,
    token: Option<String>,
}

impl Client {
    pub fn new(image: &ImageRef, mirrors: &BTreeMap<String, String>) -> Client {
        Client {
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
                .redirects(5)
                .build(),
            base: base_url(&image.registry, mirrors),
            repository: image.repository.clone(),
            token: None,
        }
    }

    fn request(&mut self, method: &str, url: &str, accept: Option<&str>) -> Result<ureq::Response> {
        for attempt in 0..2 {
            let mut req = self.agent.request(method, url);
            if let Some(a) = accept {
                req = req.set("Accept", a);
            }
            if let Some(t) = &self.token {
                req = req.set("Authorization", &format!("Bearer {t}"));
            }
            match req.call() {
                Ok(r) => return Ok(r),
                Err(ureq::Error::Status(401, r)) if attempt == 0 => {
                    let h = r.header("WWW-Authenticate").unwrap_or("").to_string();
                    self.token = Some(self.fetch_token(&h)?);
                }
                Err(ureq::Error::Status(code, r)) => {
                    let body = r.into_string().unwrap_or_default();
                    bail!(
                        "{} answered {code} for {url}: {}",
                        self.base,
                        body.chars().take(200).collect::<String>().trim()
                    )
                }
                Err(e) => return Err(anyhow!("cannot reach the registry {}: {e}", self.base)),
            }
        }
        bail!("{} refused the token it issued for {url}", self.base)
    }

    fn fetch_token(&self, challenge: &str) -> Result<String> {
        let c = parse_challenge(challenge)
            .filter(|c| c.scheme == "bearer")
            .ok_or_else(|| {
                anyhow!(
                    "{} needs authentication this client does not do (`{challenge}`)",
                    self.base
                )
            })?;
        let realm = c
            .params
            .get("realm")
            .ok_or_else(|| anyhow!("token challenge without realm from {}", self.base))?;
        let scope = c
            .params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
        let mut req = self.agent.get(realm).query("scope", &scope);
        if let Some(s) = c.params.get("service") {
            req = req.query("service", s);
        }
        let v: serde_json::Value = req
            .call()
            .map_err(|e| anyhow!("token request to {realm} failed: {e}"))?
            .into_json()
            .context("token answer is not JSON")?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| anyhow!("token answer from {realm} has no token"))
    }

    /// Every tag of the repository, following pagination.
    pub fn tags(&mut self) -> Result<Vec<String>> {
        let mut url = format!("{}/v2/{}/tags/list?n=1000", self.base, self.repository);
        let mut out = Vec::new();
        for _ in 0..100 {
            let r = self.request("GET", &url, None)?;
            let link = r.header("Link").map(str::to_string);
            let v: serde_json::Value = r.into_json().context("tag list is not JSON")?;
            if let Some(tags) = v.get("tags").and_then(|t| t.as_array()) {
                out.extend(tags.iter().filter_map(|t| t.as_str()).map(str::to_string));
            }
            match link.and_then(|l| next_link(&l, &self.base)) {
                Some(n) => url = n,
                None => return Ok(out),
            }
        }
        bail!("{}: more than 100 pages of tags", self.repository)
    }

    /// The digest of a tag's manifest (`Docker-Content-Digest`).
    pub fn digest(&mut self, tag: &str) -> Result<String> {
        let url = format!("{}/v2/{}/manifests/{tag}", self.base, self.repository);
        let r = self.request("HEAD", &url, Some(MANIFEST_TYPES))?;
        r.header("Docker-Content-Digest")
            .map(str::to_string)
            .ok_or_else(|| anyhow!("{url}: no Docker-Content-Digest in the answer"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = ImageRef::parse("nextcloud:34.0.2-apache");
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/nextcloud");
        assert_eq!(r.tag.as_deref(), Some("34.0.2-apache"));
        assert_eq!(r.name(), "nextcloud");
        let r = ImageRef::parse("mattermost/mattermost-team-edition:11.7.9");
        assert_eq!(r.repository, "mattermost/mattermost-team-edition");
        let r = ImageRef::parse("127.0.0.1:5000/team/app:1.2@sha256:abc");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(r.name(), "127.0.0.1:5000/team/app");
        let r = ImageRef::parse("ghcr.io/docker-mailserver/docker-mailserver:15.1.0");
        assert_eq!(r.registry, "ghcr.io");
        assert_eq!(r.repository, "docker-mailserver/docker-mailserver");
        assert_eq!(ImageRef::parse("localhost/x").registry, "localhost");
    }

    #[test]
    fn base_urls() {
        let mut m = BTreeMap::new();
        assert_eq!(base_url("docker.io", &m), "https://registry-1.docker.io");
        assert_eq!(base_url("127.0.0.1:5000", &m), "http://127.0.0.1:5000");
        assert_eq!(base_url("ghcr.io", &m), "https://ghcr.io");
        m.insert("docker.io".into(), "https://mirror.example.fr/".into());
        assert_eq!(base_url("docker.io", &m), "https://mirror.example.fr");
    }

    #[test]
    fn parses_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nextcloud:pull""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["service"], "registry.docker.io");
        assert_eq!(c.params["scope"], "repository:library/nextcloud:pull");
        let c = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], "Registry Realm");
        let c = parse_challenge("Bearer realm=https://x/t, service=reg").unwrap();
        assert_eq!(c.params["realm"], "https://x/t");
        assert_eq!(c.params["service"], "reg");
    }

    #[test]
    fn follows_links() {
        assert_eq!(
            next_link(
                r#"</v2/library/x/tags/list?last=b&n=2>; rel="next""#,
                "https://r"
            )
            .as_deref(),
            Some("https://r/v2/library/x/tags/list?last=b&n=2")
        );
        assert_eq!(next_link(r#"<https://r/a>; rel="prev""#, "https://r"), None);
    }
}
