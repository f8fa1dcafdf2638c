//! What rendering produces and deploying consumes: the files of a host with
//! their modes and hashes, and the manifest that records them on the host.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Marker file in a render output directory: only such a directory is ever
/// replaced by `regie render`.
pub const MARKER: &str = ".regie-render";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RenderedFile {
    /// Path relative to the host directory: `<stack>/<file>`.
    pub path: String,
    #[serde(skip, default)]
    pub content: Vec<u8>,
    pub mode: u32,
    pub secret: bool,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StackManifest {
    pub name: String,
    /// Compose project name (`docker compose -p`).
    pub project: String,
    pub version: String,
    pub images: BTreeMap<String, String>,
    pub config_hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub regie_version: String,
    /// Set on the host copy only: who deployed, when (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<u64>,
    pub site: String,
    pub host: String,
    pub base_dir: String,
    pub stacks: Vec<StackManifest>,
    pub files: Vec<RenderedFile>,
}

#[derive(Debug, Clone)]
pub struct HostRender {
    pub host: String,
    pub files: Vec<RenderedFile>,
    pub manifest: Manifest,
    /// Set when regie carries this host's images (`images: push`).
    pub push: Option<ImagePush>,
}

/// A host whose images regie pushes: where they come from, and the images
/// it needs besides its stacks' (the backup image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePush {
    /// An OCI image layout directory; None for the operator's Docker engine.
    pub layout: Option<std::path::PathBuf>,
    pub extra: Vec<String>,
}

impl HostRender {
    pub fn manifest_json(&self) -> String {
        serde_json::to_string_pretty(&self.manifest).expect("manifest serializes") + "\n"
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
