//! Image references, parsed the way Docker reads them: registry,
//! repository, tag, digest; and the PostgreSQL major a tag names. One home
//! for the syntax that validation, updates, status and the registry client
//! all need.

/// Where an image lives: registry host (as written in the reference), the
/// repository path in that registry, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `docker.io` for Docker Hub, else `host[:port]`.
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parse `[registry[:port]/]path[:tag][@digest]` the way Docker does:
    /// a first component with a dot, a colon or `localhost` is a registry;
    /// Docker Hub names of one component live under `library/`.
    pub fn parse(s: &str) -> ImageRef {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (s, None),
        };
        let (name, tag) = match rest.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t.to_string())),
            _ => (rest, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                let reg = match first {
                    "index.docker.io" | "registry-1.docker.io" => "docker.io",
                    r => r,
                };
                (reg.to_string(), path.to_string())
            }
            _ => ("docker.io".to_string(), name.to_string()),
        };
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        ImageRef {
            registry,
            repository,
            tag,
            digest,
        }
    }

    /// The name without tag or digest, as the image is written (Docker Hub
    /// names without `docker.io/library/`).
    pub fn name(&self) -> String {
        if self.registry == "docker.io" {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_string()
        } else {
            format!("{}/{}", self.registry, self.repository)
        }
    }
}

/// A tag from an image reference (`repo:tag@digest` -> `tag`).
pub fn image_tag(image: &str) -> Option<&str> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split_once(':').map(|(_, t)| t)
}

/// A PostgreSQL image reference moved to another major: the tag's leading
/// number is replaced (`postgres:17-alpine` → `postgres:18-alpine`). A
/// digest pins the old major's image, so the new reference has none.
pub fn postgres_ref(image: &str, major: u64) -> Option<String> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let tag = image_tag(no_digest)?;
    let name = &no_digest[..no_digest.len() - tag.len() - 1];
    let digits = tag.find(|c: char| !c.is_ascii_digit()).unwrap_or(tag.len());
    if digits == 0 {
        return None;
    }
    Some(format!("{name}:{major}{}", &tag[digits..]))
}

/// The major of a PostgreSQL image reference's tag (`postgres:17-alpine`,
/// `postgres:17@sha256:…` → 17). None without a tag that starts with a
/// number (`postgres@sha256:…`, `postgres:latest`).
pub fn postgres_major(image: &str) -> Option<u64> {
    let tag = image_tag(image)?;
    let digits = tag.find(|c: char| !c.is_ascii_digit()).unwrap_or(tag.len());
    tag[..digits].parse().ok()
}

/// Whether a reference names the PostgreSQL image (the last path
/// component is `postgres`, whatever the registry): the images whose data
/// directory depends on the major.
pub fn is_postgres(image: &str) -> bool {
    let r = ImageRef::parse(image);
    r.repository.rsplit('/').next() == Some("postgres")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_docker() {
        let r = ImageRef::parse("postgres:17-alpine");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "library/postgres")
        );
        assert_eq!(r.tag.as_deref(), Some("17-alpine"));
        assert_eq!(r.name(), "postgres");
        let r = ImageRef::parse("localhost:5000/x/y:1@sha256:ab");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("localhost:5000", "x/y")
        );
        assert_eq!(r.digest.as_deref(), Some("sha256:ab"));
        assert_eq!(r.name(), "localhost:5000/x/y");
    }

    #[test]
    fn tags() {
        assert_eq!(image_tag("nextcloud:34.0.2-apache"), Some("34.0.2-apache"));
        assert_eq!(image_tag("127.0.0.1:5000/regie-upd:1.2.0"), Some("1.2.0"));
        assert_eq!(image_tag("127.0.0.1:5000/regie-upd"), None);
        assert_eq!(image_tag("postgres:17@sha256:abc"), Some("17"));
    }

    #[test]
    fn postgres_majors() {
        assert_eq!(
            postgres_ref("postgres:17-alpine", 18).as_deref(),
            Some("postgres:18-alpine")
        );
        assert_eq!(
            postgres_ref("127.0.0.1:5000/postgres:15", 17).as_deref(),
            Some("127.0.0.1:5000/postgres:17")
        );
        assert_eq!(postgres_ref("postgres:latest", 18), None);
        assert_eq!(postgres_major("127.0.0.1:5000/postgres:15"), Some(15));
    }

    #[test]
    fn postgres_majors_behind_a_digest() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(postgres_major(&format!("postgres:17@{d}")), Some(17));
        assert_eq!(
            postgres_major(&format!("reg.example.fr:5000/postgres:18-alpine@{d}")),
            Some(18)
        );
        assert_eq!(postgres_major(&format!("postgres@{d}")), None);
        assert_eq!(postgres_major("reg.example.fr:5000/postgres"), None);
        assert_eq!(postgres_major("postgres:latest"), None);
        assert_eq!(
            postgres_ref(&format!("postgres:17-alpine@{d}"), 18).as_deref(),
            Some("postgres:18-alpine")
        );
        assert_eq!(postgres_ref(&format!("postgres@{d}"), 18), None);
        assert_eq!(
            postgres_ref("reg.example.fr:5000/postgres:17", 18).as_deref(),
            Some("reg.example.fr:5000/postgres:18")
        );
    }

    #[test]
    fn postgres_images() {
        assert!(is_postgres("postgres:17"));
        assert!(is_postgres("reg.example.fr:5000/mirror/postgres@sha256:ab"));
        assert!(is_postgres("docker.io/library/postgres"));
        assert!(!is_postgres("regie-postgres:2"));
        assert!(!is_postgres("postgres-exporter:1"));
    }
}
