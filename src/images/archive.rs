//! The archive regie sends a host: the layout `docker load` reads
//! (`manifest.json`, the image config, one `<digest>/layer.tar` per layer)
//! holding only the layers the host lacks. The manifest still lists every
//! layer: the engine looks each one up by chain ID and opens the file only
//! for a layer it does not hold. Every byte written is checked against its
//! digest on the way, so a corrupt source layer never leaves this machine.
//! The archive is deterministic (fixed order, times and owners): the same
//! image and host give the same bytes, which is what lets a cut transfer
//! resume.

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

/// One layer of the image, in the order of the config's diff IDs.
pub struct Layer<'a> {
    /// `sha256:<hex>` of the blob as stored (the diff ID for an
    /// uncompressed layer, the compressed digest otherwise).
    pub digest: String,
    pub size: u64,
    /// The blob's bytes when the host lacks this layer; None to leave it
    /// out.
    pub data: Option<Box<dyn Read + 'a>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{what} is corrupt in the source: sha256 {got}, expected {want}")]
    Corrupt {
        what: String,
        got: String,
        want: String,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// sha256 (hex) of the whole archive.
    pub sha256: String,
    pub bytes: u64,
    pub layers_sent: usize,
}

/// `reference` with `:latest` when it names no tag (as Docker reads it):
/// `docker load` only tags with a tag.
pub fn tagged(reference: &str) -> String {
    if crate::site::image::ImageRef::parse(reference).tag.is_some() {
        reference.to_string()
    } else {
        format!("{reference}:latest")
    }
}

fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// The `manifest.json` of the archive.
pub fn manifest(reference: &str, image_id: &str, layer_digests: &[String]) -> Vec<u8> {
    let layers: Vec<String> = layer_digests
        .iter()
        .map(|d| format!("{}/layer.tar", hex_of(d)))
        .collect();
    serde_json::to_vec(&serde_json::json!([{
        "Config": format!("{}.json", hex_of(image_id)),
        "RepoTags": [tagged(reference)],
        "Layers": layers,
    }]))
    .expect("manifest serializes")
}

struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

struct Checked<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

fn header(path: &str, size: u64, dir: bool) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_path(path).expect("archive paths are short");
    h.set_size(size);
    h.set_mode(if dir { 0o755 } else { 0o644 });
    h.set_entry_type(if dir {
        tar::EntryType::Directory
    } else {
        tar::EntryType::Regular
    });
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    h
}

/// Write the archive of `reference` (config `config`, whose sha256 must be
/// `image_id`) to `out`, with the layers that carry data.
pub fn write<W: Write>(
    out: W,
    reference: &str,
    image_id: &str,
    config: &[u8],
    layers: Vec<Layer<'_>>,
) -> Result<Written, ArchiveError> {
    let got = format!("sha256:{}", hex::encode(Sha256::digest(config)));
    if got != image_id {
        return Err(ArchiveError::Corrupt {
            what: format!("the config of {reference}"),
            got,
            want: image_id.to_string(),
        });
    }
    let digests: Vec<String> = layers.iter().map(|l| l.digest.clone()).collect();
    let mut b = tar::Builder::new(Hashing {
        inner: out,
        hash: Sha256::new(),
        bytes: 0,
    });
    let m = manifest(reference, image_id, &digests);
    b.append(&header("manifest.json", m.len() as u64, false), &m[..])?;
    let cfg = format!("{}.json", hex_of(image_id));
    b.append(&header(&cfg, config.len() as u64, false), config)?;
    let mut written: Vec<String> = Vec::new();
    for l in layers {
        let Some(data) = l.data else { continue };
        if written.contains(&l.digest) {
            continue;
        }
        let dir = hex_of(&l.digest).to_string();
        b.append(&header(&format!("{dir}/"), 0, true), std::io::empty())?;
        let mut r = Checked {
            inner: data.take(l.size),
            hash: Sha256::new(),
        };
        b.append(&header(&format!("{dir}/layer.tar"), l.size, false), &mut r)?;
        let got = format!("sha256:{}", hex::encode(r.hash.finalize()));
        if got != l.digest {
            return Err(ArchiveError::Corrupt {
                what: format!("layer {} of {reference}", l.digest),
                got,
                want: l.digest,
            });
        }
        written.push(l.digest);
    }
    let mut h = b.into_inner()?;
    h.flush()?;
    Ok(Written {
        sha256: hex::encode(h.hash.finalize()),
        bytes: h.bytes,
        layers_sent: written.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(b: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(b)))
    }

    fn layer(data: &'static [u8], send: bool) -> Layer<'static> {
        Layer {
            digest: sha(data),
            size: data.len() as u64,
            data: send.then(|| Box::new(data) as Box<dyn Read>),
        }
    }

    #[test]
    fn holds_the_manifest_the_config_and_only_the_sent_layers() {
        let config = br#"{"rootfs":{}}"#;
        let id = sha(config);
        let mut out = Vec::new();
        let w = write(
            &mut out,
            "regie-busybox",
            &id,
            config,
            vec![layer(b"base", false), layer(b"top", true)],
        )
        .unwrap();
        assert_eq!(w.layers_sent, 1);
        assert_eq!(w.bytes, out.len() as u64);
        assert_eq!(w.sha256, hex::encode(Sha256::digest(&out)));
        let mut a = tar::Archive::new(&out[..]);
        let mut names = Vec::new();
        let mut man = String::new();
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            if p == "manifest.json" {
                e.read_to_string(&mut man).unwrap();
            }
            names.push(p);
        }
        let top = hex_of(&sha(b"top")).to_string();
        assert_eq!(
            names,
            vec![
                "manifest.json".to_string(),
                format!("{}.json", hex_of(&id)),
                format!("{top}/"),
                format!("{top}/layer.tar"),
            ]
        );
        let m: serde_json::Value = serde_json::from_str(&man).unwrap();
        assert_eq!(m[0]["RepoTags"][0], "regie-busybox:latest");
        assert_eq!(m[0]["Layers"].as_array().unwrap().len(), 2);
        // Deterministic: the same input gives the same bytes.
        let mut again = Vec::new();
        write(
            &mut again,
            "regie-busybox",
            &id,
            config,
            vec![layer(b"base", false), layer(b"top", true)],
        )
        .unwrap();
        assert_eq!(out, again);
    }

    #[test]
    fn a_corrupt_layer_or_config_is_refused() {
        let config = b"{}";
        let id = sha(config);
        let bad = Layer {
            digest: sha(b"good"),
            size: 4,
            data: Some(Box::new(&b"evil"[..])),
        };
        let e = write(Vec::new(), "a:1", &id, config, vec![bad]).unwrap_err();
        assert!(matches!(e, ArchiveError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains("corrupt"));
        let e = write(Vec::new(), "a:1", &sha(b"other"), config, vec![]).unwrap_err();
        assert!(e.to_string().contains("config"), "{e}");
    }

    #[test]
    fn tags_default_to_latest() {
        assert_eq!(tagged("busybox"), "busybox:latest");
        assert_eq!(
            tagged("reg.example.fr:5000/app"),
            "reg.example.fr:5000/app:latest"
        );
        assert_eq!(tagged("app:1"), "app:1");
    }
}
