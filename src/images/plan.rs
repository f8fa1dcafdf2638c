//! What to send a host whose images regie pushes: which images it lacks
//! (by image ID, the sha256 of the image's config), which of their layers
//! its engine already holds (by chain ID, as `docker load` looks them up),
//! and the scripts that stage an archive resumably under `.regie/images`,
//! check its sha256 and load it. Pure: the executor runs these scripts.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::site::files::HostRender;
use crate::site::layout::images_dir;
use crate::util::shell::quote;

/// Chain IDs of a layer stack, as the OCI image spec defines them: the
/// first is the first diff ID, each next one the sha256 of
/// `"<previous chain ID> <diff ID>"`. The engine's layer store is keyed by
/// them, so a layer is reusable only on the same layers beneath it.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(prev) => format!(
                "sha256:{}",
                hex::encode(Sha256::digest(format!("{prev} {d}").as_bytes()))
            ),
        };
        out.push(next);
    }
    out
}

/// Which layers to send: those whose chain ID the host does not hold,
/// every one when the engine keeps its images in containerd (its import
/// reads every blob of the archive).
pub fn layers_to_send(diff_ids: &[String], host: &HostImages) -> Vec<bool> {
    chain_ids(diff_ids)
        .iter()
        .map(|c| host.containerd_store || !host.chains.contains(c))
        .collect()
}

/// What a host's engine answered before a push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostImages {
    /// Image ID under each asked reference (None: not there).
    pub ids: Vec<Option<String>>,
    /// Chain IDs of every layer of every image the engine holds.
    pub chains: BTreeSet<String>,
    /// The engine keeps images in containerd (Docker's containerd image
    /// store): `docker load` reads every layer there.
    pub containerd_store: bool,
    /// Archives already (partly) staged: name -> bytes.
    pub parts: BTreeMap<String, u64>,
}

/// One round trip: the ID of each of `refs`, the layers of every image,
/// the engine's image store and the archives in transit.
pub fn probe_script(base: &str, refs: &[String]) -> String {
    let mut s = String::from("echo '==regie:driver'\ndocker info --format '{{json .DriverStatus}}' 2>/dev/null\necho '==regie:ids'\n");
    for (i, r) in refs.iter().enumerate() {
        s.push_str(&format!(
            "printf '%s ' {i}; docker image inspect --format '{{{{.Id}}}}' {} 2>/dev/null || echo -\n",
            quote(r)
        ));
    }
    s.push_str("echo '==regie:layers'\n");
    s.push_str("docker image ls -aq --no-trunc | sort -u | xargs -r docker image inspect --format '{{range .RootFS.Layers}}{{.}} {{end}}' 2>/dev/null\n");
    s.push_str("echo '==regie:parts'\n");
    s.push_str(&format!(
        "for f in {}/*.part; do [ -f \"$f\" ] && printf '%s %s\\n' \"${{f##*/}}\" \"$(wc -c < \"$f\")\"; done\necho '==regie:end'\n",
        quote(&images_dir(base))
    ));
    s
}

/// Read [`probe_script`]'s answer for `n` references.
pub fn parse_probe(text: &str, n: usize) -> Result<HostImages, String> {
    if !text.contains("==regie:end") {
        return Err("the image probe did not finish (is Docker running?)".into());
    }
    let mut h = HostImages {
        ids: vec![None; n],
        ..Default::default()
    };
    let mut section = "";
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("==regie:") {
            section = s;
            continue;
        }
        match section {
            "driver" => h.containerd_store |= line.contains("io.containerd.snapshotter"),
            "ids" => {
                let Some((i, id)) = line.split_once(' ') else {
                    continue;
                };
                let i: usize = i.parse().map_err(|_| format!("bad probe line {line:?}"))?;
                if i < n && id.starts_with("sha256:") {
                    h.ids[i] = Some(id.trim().to_string());
                }
            }
            "layers" => {
                let diffs: Vec<String> = line.split_whitespace().map(String::from).collect();
                h.chains.extend(chain_ids(&diffs));
            }
            "parts" => {
                if let Some((name, size)) = line.rsplit_once(' ') {
                    if let Ok(size) = size.trim().parse() {
                        h.parts.insert(name.to_string(), size);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(h)
}

/// The staged archive's file name: its own sha256, so a run that finds a
/// part of it resumes where the last one stopped.
pub fn part_name(archive_sha256: &str) -> String {
    format!("{archive_sha256}.part")
}

/// Where to resume sending an archive of `size` bytes: the bytes already
/// staged under its name, or 0 (a longer file is not ours to trust).
pub fn resume_offset(host: &HostImages, name: &str, size: u64) -> u64 {
    host.parts
        .get(name)
        .copied()
        .filter(|n| *n <= size)
        .unwrap_or(0)
}

/// Append stdin to the staged archive `name`, which must hold exactly
/// `offset` bytes (0: start afresh). Other archives in transit are
/// removed: they belong to pushes that will not resume. The engine is not
/// touched.
pub fn upload_script(base: &str, name: &str, offset: u64) -> String {
    let dir = quote(&images_dir(base));
    let file = quote(&format!("{}/{name}", images_dir(base)));
    format!(
        "set -e\numask 077\nmkdir -p {dir}\nchmod 700 {dir}\n\
         for f in {dir}/*.part; do [ \"$f\" = {file} ] || rm -f \"$f\"; done\n\
         [ {offset} -gt 0 ] || : > {file}\n\
         have=$(wc -c < {file})\n\
         if [ \"$have\" -ne {offset} ]; then echo \"staged archive holds $have bytes, expected {offset}\" >&2; exit 3; fi\n\
         cat >> {file}\n"
    )
}

/// Exit status of [`load_script`] when the staged archive's sha256 is not
/// the one sent (it is removed, nothing is loaded).
pub const CORRUPT: i32 = 4;

/// Check the staged archive's sha256, load it, remove it, and check that
/// `reference` now names `image_id`. A corrupt archive is removed before
/// the engine sees it; `docker load` itself checks every layer it reads
/// against the config's diff IDs.
pub fn load_script(
    base: &str,
    name: &str,
    sha256: &str,
    reference: &str,
    image_id: &str,
) -> String {
    let file = quote(&format!("{}/{name}", images_dir(base)));
    let r = quote(reference);
    let id = quote(image_id);
    let sha = quote(sha256);
    format!(
        "got=$(sha256sum {file} | cut -d' ' -f1)\n\
         if [ \"$got\" != {sha} ]; then rm -f {file}; echo \"the staged archive is corrupt (sha256 $got, sent {sha256}); removed, nothing loaded\" >&2; exit {CORRUPT}; fi\n\
         out=$(docker load -i {file} 2>&1); rc=$?\n\
         rm -f {file}\n\
         if [ $rc -ne 0 ]; then echo \"docker load: $out\" >&2; exit 5; fi\n\
         now=$(docker image inspect --format '{{{{.Id}}}}' {r} 2>/dev/null)\n\
         if [ \"$now\" != {id} ]; then echo \"after loading, {reference} is ${{now:-missing}}, expected {image_id}\" >&2; exit 6; fi\n"
    )
}

/// The images a host needs for `stacks` (their components, as rendered)
/// plus the push's extra images (the backup image), each once, in order.
pub fn images_of(r: &HostRender, stacks: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in r
        .manifest
        .stacks
        .iter()
        .filter(|s| stacks.contains(&s.name.as_str()))
    {
        for i in s.images.values() {
            if !out.contains(i) {
                out.push(i.clone());
            }
        }
    }
    for i in r.push.iter().flat_map(|p| p.extra.iter()) {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}

/// Why an image cannot be pushed, before anything is read: `docker load`
/// names images by tag and gives them no registry digest, so a reference
/// pinned by digest would not find the loaded image (compose would try to
/// pull it).
pub fn refuse(reference: &str) -> Option<String> {
    let r = crate::site::image::ImageRef::parse(reference);
    r.digest.is_some().then(|| {
        format!("{reference}: an image pinned by digest cannot be pushed (a loaded image has a tag, no registry digest); name it by tag only")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> String {
        format!("sha256:{}", hex::encode([n; 32]))
    }

    #[test]
    fn chain_ids_follow_the_image_spec() {
        // The spec's definition, computed by hand for two layers.
        let ids = chain_ids(&[d(1), d(2)]);
        assert_eq!(ids[0], d(1));
        let want = hex::encode(Sha256::digest(format!("{} {}", d(1), d(2))));
        assert_eq!(ids[1], format!("sha256:{want}"));
        // The same layer on another base is another chain.
        assert_ne!(chain_ids(&[d(3), d(2)])[1], ids[1]);
        assert!(chain_ids(&[]).is_empty());
    }

    #[test]
    fn only_missing_chains_are_sent() {
        let base = chain_ids(&[d(1)]);
        let host = HostImages {
            chains: base.into_iter().collect(),
            ..Default::default()
        };
        assert_eq!(layers_to_send(&[d(1), d(2)], &host), vec![false, true]);
        // The same top layer on a base the host lacks: both go.
        assert_eq!(layers_to_send(&[d(3), d(2)], &host), vec![true, true]);
        let all = HostImages {
            containerd_store: true,
            ..host
        };
        assert_eq!(layers_to_send(&[d(1), d(2)], &all), vec![true, true]);
    }

    #[test]
    fn probe_answers_are_read() {
        let text = format!(
            "==regie:driver\n[[\"driver-type\",\"io.containerd.snapshotter.v1\"]]\n==regie:ids\n0 sha256:{}\n1 -\n==regie:layers\n{} {} \n\n==regie:parts\nabc.part 1234\n==regie:end\n",
            hex::encode([9u8; 32]),
            d(1),
            d(2)
        );
        let h = parse_probe(&text, 2).unwrap();
        assert_eq!(
            h.ids[0].as_deref(),
            Some(&*format!("sha256:{}", hex::encode([9u8; 32])))
        );
        assert_eq!(h.ids[1], None);
        assert!(h.containerd_store);
        assert_eq!(h.chains.len(), 2);
        assert!(h.chains.contains(&chain_ids(&[d(1), d(2)])[1]));
        assert_eq!(h.parts.get("abc.part"), Some(&1234));
        assert_eq!(resume_offset(&h, "abc.part", 2000), 1234);
        assert_eq!(resume_offset(&h, "abc.part", 1000), 0);
        assert_eq!(resume_offset(&h, "other.part", 2000), 0);
        assert!(parse_probe("==regie:driver\n", 1).is_err());
    }

    #[test]
    fn scripts_quote_every_value() {
        let base = "/srv/it's here";
        let s = probe_script(base, &["evil'$(id)':1".into()]);
        assert!(s.contains(&quote("evil'$(id)':1")));
        assert!(s.contains(&quote("/srv/it's here/.regie/images")));
        let s = upload_script(base, "ab.part", 10);
        assert!(s.contains(&quote("/srv/it's here/.regie/images/ab.part")));
        assert!(s.contains("-ne 10"));
        let s = load_script(base, "ab.part", "ab", "x'y:1", "sha256:00");
        assert!(s.contains(&quote("x'y:1")));
        assert!(s.contains(&format!("exit {CORRUPT}")));
    }

    #[test]
    fn scripts_run_in_sh() {
        // The upload and the sha256 check, run by a real shell in a
        // scratch directory (no Docker needed up to the load).
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().to_str().unwrap();
        let run = |script: &str, stdin: &[u8]| {
            use std::io::Write;
            let mut c = std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            c.stdin.take().unwrap().write_all(stdin).unwrap();
            c.wait_with_output().unwrap()
        };
        std::fs::create_dir_all(images_dir(base)).unwrap();
        std::fs::write(format!("{}/old.part", images_dir(base)), b"x").unwrap();
        assert!(run(&upload_script(base, "n.part", 0), b"hello ")
            .status
            .success());
        assert!(!std::path::Path::new(&format!("{}/old.part", images_dir(base))).exists());
        // A wrong offset is refused and leaves the file as it was.
        let o = run(&upload_script(base, "n.part", 3), b"zzz");
        assert_eq!(o.status.code(), Some(3));
        assert!(run(&upload_script(base, "n.part", 6), b"world")
            .status
            .success());
        let staged = std::fs::read(format!("{}/n.part", images_dir(base))).unwrap();
        assert_eq!(staged, b"hello world");
        let wrong = hex::encode(Sha256::digest(b"something else"));
        let o = run(
            &load_script(base, "n.part", &wrong, "a:1", "sha256:00"),
            b"",
        );
        assert_eq!(o.status.code(), Some(CORRUPT));
        assert!(String::from_utf8_lossy(&o.stderr).contains("corrupt"));
        assert!(!std::path::Path::new(&format!("{}/n.part", images_dir(base))).exists());
    }

    #[test]
    fn digest_only_references_are_refused() {
        assert!(refuse("postgres@sha256:abcd").is_some());
        assert!(refuse("postgres:16@sha256:abcd").is_some());
        assert!(refuse("regie-busybox:1").is_none());
    }
}
