//! Versions of images that publish every release as a new tag, neither
//! semver nor moving: Jitsi's `stable-11146`, `stable-11146-1`, … and
//! DokuWiki's `2026-07-14`, `2026-07-14a`, … (policy `release-tags`). A
//! tag's form is its leading letters (`stable-`); what follows is numbers
//! separated by `-` or `.`, with at most one trailing lowercase letter (a
//! hotfix). Tags of the same form are ordered by their numbers, then the
//! letter: `stable-11146` < `stable-11146-1` < `stable-11200`, and
//! `2026-07-14` < `2026-07-14a` < `2026-07-14b`. Pure.

use std::cmp::Ordering;

/// A release tag's order key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    numbers: Vec<u64>,
    /// `None` sorts before any letter.
    letter: Option<u8>,
}

/// The form a tag shares with its releases: its prefix before the first
/// digit (`stable-`, or empty for date tags).
fn prefix(tag: &str) -> &str {
    &tag[..tag.find(|c: char| c.is_ascii_digit()).unwrap_or(tag.len())]
}

/// The tag's key, when it is a release of the same form as `current`.
pub fn release(tag: &str, current: &str) -> Option<Release> {
    let p = prefix(current);
    let rest = tag.strip_prefix(p)?;
    let (body, letter) = match rest.as_bytes().last() {
        Some(b) if b.is_ascii_lowercase() => (&rest[..rest.len() - 1], Some(*b)),
        _ => (rest, None),
    };
    if body.is_empty() || !body.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let numbers = body
        .split(['-', '.'])
        .map(|n| {
            (!n.is_empty() && n.len() <= 12 && n.bytes().all(|b| b.is_ascii_digit()))
                .then(|| n.parse().ok())
                .flatten()
        })
        .collect::<Option<Vec<u64>>>()?;
    Some(Release { numbers, letter })
}

/// `tag` against `current`, when both are releases of the same form.
pub fn compare(tag: &str, current: &str) -> Option<Ordering> {
    Some(release(tag, current)?.cmp(&release(current, current)?))
}

/// The releases among `tags` newer than `current`, oldest first.
pub fn newer(current: &str, tags: &[String]) -> Vec<String> {
    let Some(cur) = release(current, current) else {
        return vec![];
    };
    let mut out: Vec<(Release, String)> = tags
        .iter()
        .filter_map(|t| Some((release(t, current)?, t.clone())))
        .filter(|(r, _)| *r > cur)
        .collect();
    out.sort();
    out.dedup();
    out.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn jitsi_releases_and_their_hotfix_builds() {
        let t = tags(&[
            "stable-11031",
            "stable-11146",
            "stable-11146-1",
            "stable-11146-2",
            "stable-11200",
            "stable",
            "latest",
            "unstable-2026-11-01",
            "stable-11146-2-arm64",
        ]);
        assert_eq!(
            newer("stable-11146-1", &t),
            ["stable-11146-2", "stable-11200"]
        );
        assert_eq!(newer("stable-11200", &t), Vec::<String>::new());
        assert_eq!(
            compare("stable-11146", "stable-11146-1"),
            Some(Ordering::Less)
        );
        assert_eq!(compare("stable", "stable-11146"), None);
    }

    #[test]
    fn dokuwiki_date_tags_and_hotfix_letters() {
        let t = tags(&[
            "2025-05-14",
            "2026-07-14",
            "2026-07-14a",
            "2026-07-14b",
            "2026-07-14c",
            "2027-01-02",
            "stable",
            "oldstable",
            "latest",
        ]);
        assert_eq!(newer("2026-07-14b", &t), ["2026-07-14c", "2027-01-02"]);
        assert_eq!(compare("2026-07-14", "2026-07-14a"), Some(Ordering::Less));
        assert_eq!(compare("2025-05-14", "2026-07-14b"), Some(Ordering::Less));
    }

    #[test]
    fn a_current_tag_that_is_no_release_has_no_newer() {
        assert!(newer("stable", &tags(&["stable-11146"])).is_empty());
        assert!(newer("latest", &tags(&["2026-07-14"])).is_empty());
    }
}
