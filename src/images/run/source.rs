//! Where pushed images come from: the operator's own Docker engine (its
//! API on the local socket: the image's ID and layers, then `docker save`
//! when something must be sent), or an OCI image layout directory a
//! provider prepared (skopeo's `oci:` output: `index.json`,
//! `blobs/sha256/`), read directly.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;

use crate::images::archive::tagged;
use crate::site::files::ImagePush;

/// An image as the source knows it, before any byte is read.
#[derive(Debug, Clone)]
pub struct Described {
    pub reference: String,
    /// `sha256:<hex>` of the config: the image ID a host must end up with.
    pub id: String,
    pub diff_ids: Vec<String>,
}

/// One layer blob: a byte range of a local file and its digest.
#[derive(Debug, Clone)]
pub struct Blob {
    pub path: PathBuf,
    pub offset: u64,
    pub size: u64,
    pub digest: String,
}

impl Blob {
    pub fn open(&self) -> Result<impl Read> {
        let mut f = File::open(&self.path).with_context(|| self.path.display().to_string())?;
        f.seek(SeekFrom::Start(self.offset))?;
        Ok(f.take(self.size))
    }
}

/// An image whose bytes are at hand: config and layer blobs.
pub struct Materialized {
    pub config: Vec<u8>,
    pub blobs: Vec<Blob>,
    /// The `docker save` output, removed with this.
    _saved: Option<tempfile::TempDir>,
}

pub enum Source {
    Engine {
        docker: bollard::Docker,
        rt: tokio::runtime::Runtime,
    },
    Layout(PathBuf),
}

impl Source {
    pub fn open(push: &ImagePush) -> Result<Source> {
        match &push.layout {
            Some(dir) => {
                if !dir.join("index.json").is_file() {
                    bail!(
                        "{}: not an OCI image layout (no index.json); make one with `skopeo copy docker://IMAGE oci:{}:TAG`",
                        dir.display(),
                        dir.display()
                    );
                }
                Ok(Source::Layout(dir.clone()))
            }
            None => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("tokio runtime")?;
                let docker = bollard::Docker::connect_with_local_defaults()
                    .context("the local Docker engine (images: push reads the images from it)")?;
                Ok(Source::Engine { docker, rt })
            }
        }
    }

    pub fn describe(&self, reference: &str) -> Result<Described> {
        match self {
            Source::Engine { docker, rt } => {
                let i = rt
                    .block_on(docker.inspect_image(reference))
                    .map_err(|e| anyhow!("{reference} is not in this machine's Docker engine ({e}): pull or build it here first"))?;
                Ok(Described {
                    reference: reference.to_string(),
                    id: i
                        .id
                        .ok_or_else(|| anyhow!("{reference}: the engine gave no ID"))?,
                    diff_ids: i.root_fs.and_then(|r| r.layers).unwrap_or_default(),
                })
            }
            Source::Layout(dir) => {
                let (_, config, _) = layout_image(dir, reference)?;
                let cfg: serde_json::Value = serde_json::from_slice(&read_blob(dir, &config)?)
                    .with_context(|| format!("{reference}: config {config}"))?;
                let diff_ids = cfg["rootfs"]["diff_ids"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|d| d.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Described {
                    reference: reference.to_string(),
                    id: config,
                    diff_ids,
                })
            }
        }
    }

    /// The tags of repository `name` (as written in image references)
    /// the source holds: what an update of a push site can move to.
    pub fn tags(&self, name: &str) -> Result<Vec<String>> {
        let prefix = format!("{name}:");
        let names: Vec<String> = match self {
            Source::Engine { docker, rt } => {
                let filters: HashMap<&str, Vec<&str>> = HashMap::from([("reference", vec![name])]);
                let opts = bollard::query_parameters::ListImagesOptionsBuilder::new()
                    .filters(&filters)
                    .build();
                rt.block_on(docker.list_images(Some(opts)))
                    .map_err(|e| anyhow!("listing the local images of {name}: {e}"))?
                    .into_iter()
                    .flat_map(|i| i.repo_tags)
                    .collect()
            }
            Source::Layout(dir) => {
                let index: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(dir.join("index.json"))
                        .with_context(|| format!("{}/index.json", dir.display()))?,
                )?;
                index["manifests"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str())
                    .map(|n| {
                        if n.contains(':') {
                            n.to_string()
                        } else {
                            format!("{prefix}{n}")
                        }
                    })
                    .collect()
            }
        };
        let mut tags: Vec<String> = names
            .iter()
            .filter_map(|n| n.strip_prefix(&prefix).map(String::from))
            .collect();
        tags.sort();
        tags.dedup();
        Ok(tags)
    }

    /// The image's bytes (for the engine, a `docker save` into a
    /// temporary directory).
    pub fn materialize(&self, d: &Described) -> Result<Materialized> {
        match self {
            Source::Engine { docker, rt } => {
                let dir = tempfile::Builder::new().prefix("regie-save-").tempdir()?;
                let path = dir.path().join("saved.tar");
                let mut f = File::create(&path)?;
                rt.block_on(async {
                    let mut s = docker.export_image(&d.reference);
                    while let Some(chunk) = s.next().await {
                        let chunk =
                            chunk.map_err(|e| anyhow!("docker save {}: {e}", d.reference))?;
                        std::io::Write::write_all(&mut f, &chunk)?;
                    }
                    Ok::<_, anyhow::Error>(())
                })?;
                drop(f);
                let (config, blobs) = read_saved(&path, d)?;
                Ok(Materialized {
                    config,
                    blobs,
                    _saved: Some(dir),
                })
            }
            Source::Layout(dir) => {
                let (_, config, layers) = layout_image(dir, &d.reference)?;
                let blobs = layers
                    .into_iter()
                    .map(|(digest, size)| Blob {
                        path: blob_path(dir, &digest),
                        offset: 0,
                        size,
                        digest,
                    })
                    .collect();
                Ok(Materialized {
                    config: read_blob(dir, &config)?,
                    blobs,
                    _saved: None,
                })
            }
        }
    }
}

/// Config and layer blobs of a `docker save` archive: its `manifest.json`
/// names them (`<id>/layer.tar` before Engine 25, `blobs/sha256/<hex>`
/// since); a legacy layer's digest is its diff ID (stored uncompressed).
fn read_saved(path: &Path, d: &Described) -> Result<(Vec<u8>, Vec<Blob>)> {
    let mut pos: HashMap<String, (u64, u64)> = HashMap::new();
    let mut a = tar::Archive::new(File::open(path)?);
    for e in a.entries()? {
        let e = e?;
        let name = e.path()?.to_string_lossy().into_owned();
        pos.insert(name, (e.raw_file_position(), e.size()));
    }
    let read = |name: &str| -> Result<Vec<u8>> {
        let (off, size) = pos
            .get(name)
            .ok_or_else(|| anyhow!("docker save {}: no {name} in the archive", d.reference))?;
        let mut f = File::open(path)?;
        f.seek(SeekFrom::Start(*off))?;
        let mut buf = Vec::with_capacity(*size as usize);
        f.take(*size).read_to_end(&mut buf)?;
        Ok(buf)
    };
    let m: serde_json::Value = serde_json::from_slice(&read("manifest.json")?)?;
    let entry = &m[0];
    let config = read(entry["Config"].as_str().unwrap_or_default())?;
    let layers: Vec<&str> = entry["Layers"]
        .as_array()
        .map(|a| a.iter().filter_map(|l| l.as_str()).collect())
        .unwrap_or_default();
    if layers.len() != d.diff_ids.len() {
        bail!(
            "docker save {}: {} layers, the engine said {}",
            d.reference,
            layers.len(),
            d.diff_ids.len()
        );
    }
    let mut blobs = Vec::new();
    for (l, diff) in layers.iter().zip(&d.diff_ids) {
        let (offset, size) = *pos
            .get(*l)
            .ok_or_else(|| anyhow!("docker save {}: no {l} in the archive", d.reference))?;
        let digest = match l.strip_prefix("blobs/sha256/") {
            Some(hex) => format!("sha256:{hex}"),
            None => diff.clone(),
        };
        blobs.push(Blob {
            path: path.to_path_buf(),
            offset,
            size,
            digest,
        });
    }
    Ok((config, blobs))
}

fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    let (alg, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    dir.join("blobs").join(alg).join(hex)
}

fn read_blob(dir: &Path, digest: &str) -> Result<Vec<u8>> {
    let p = blob_path(dir, digest);
    std::fs::read(&p).with_context(|| format!("{}: blob {digest}", dir.display()))
}

fn read_json(dir: &Path, digest: &str) -> Result<serde_json::Value> {
    serde_json::from_slice(&read_blob(dir, digest)?)
        .with_context(|| format!("{}: blob {digest} is not JSON", dir.display()))
}

/// The manifest of `reference` in an OCI layout: the `index.json` entry
/// whose `org.opencontainers.image.ref.name` is the reference, its tag,
/// or the reference with `:latest`. Returns (manifest digest, config
/// digest, layers (digest, size)).
type LayoutImage = (String, String, Vec<(String, u64)>);

fn layout_image(dir: &Path, reference: &str) -> Result<LayoutImage> {
    let index: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("index.json"))
            .with_context(|| format!("{}/index.json", dir.display()))?,
    )
    .with_context(|| format!("{}/index.json", dir.display()))?;
    let tag = crate::site::image::ImageRef::parse(reference)
        .tag
        .unwrap_or_else(|| "latest".into());
    let full = tagged(reference);
    let names = [reference, tag.as_str(), full.as_str()];
    let entry = index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .is_some_and(|n| names.contains(&n))
        })
        .ok_or_else(|| {
            anyhow!(
                "{reference} is not in the image layout {} (no index.json entry named {reference} or {tag})",
                dir.display()
            )
        })?;
    let mut digest = entry["digest"].as_str().unwrap_or_default().to_string();
    let mut m = read_json(dir, &digest)?;
    if m["manifests"].is_array() {
        // A multi-platform index: one Linux image only.
        let linux: Vec<&serde_json::Value> = m["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|x| x["platform"]["os"] == "linux")
            .collect();
        if linux.len() != 1 {
            bail!("{reference} in {} is a multi-platform index: copy one platform into the layout (skopeo copy --override-arch ARCH)", dir.display());
        }
        digest = linux[0]["digest"].as_str().unwrap_or_default().to_string();
        m = read_json(dir, &digest)?;
    }
    let config = m["config"]["digest"]
        .as_str()
        .ok_or_else(|| anyhow!("{reference}: manifest {digest} has no config"))?
        .to_string();
    let layers = m["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            (
                l["digest"].as_str().unwrap_or_default().to_string(),
                l["size"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    Ok((digest, config, layers))
}
