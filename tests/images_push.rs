//! Sites without a registry (`images: push`): regie carries the images
//! over the host's SSH connection, only the layers its engine lacks. The
//! host here has a Docker engine of its own (a second dockerd on the
//! machine, `common::engine`) that starts empty; the source is the
//! machine's engine (the operator's) or an OCI layout made by skopeo.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::engine::Engine;
use common::regie;
use common::testbed::{docker, TestBed};

struct Site {
    tb: TestBed,
    engine: Engine,
    inv: PathBuf,
}

/// The ID of an image in the machine's (the operator's) engine.
fn local_id(image: &str) -> String {
    let o = docker(&["image", "inspect", "--format", "{{.Id}}", image]);
    assert!(o.status.success(), "{image} missing: run build-images.sh");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

impl Site {
    /// srv1 on an empty engine of its own, the `hello` stack on it running
    /// `image`, `extra` appended to the inventory (`images: push`...).
    fn new(image: &str, extra: &str) -> Site {
        Self::with(&Self::services(image), extra, |_| {})
    }

    /// `catalog` gets the site's catalog directory before anything runs.
    fn with(services: &str, extra: &str, catalog: impl FnOnce(&Path)) -> Site {
        let engine = Engine::start();
        let mut tb = TestBed::new(0);
        tb.start_host_on_engine("srv1", engine.socket());
        let inv = tb.inventory_with_backup(services, "", extra);
        catalog(&inv.parent().unwrap().join("catalog"));
        let s = Site { tb, engine, inv };
        s.cmd(&["hosts", "trust", "srv1"]).assert().success();
        s
    }

    fn services(image: &str) -> String {
        format!("  hello:\n    host: srv1\n    images: {{ app: \"{image}\" }}\n")
    }

    fn set_image(&self, from: &str, to: &str) {
        let y = std::fs::read_to_string(&self.inv).unwrap();
        std::fs::write(
            &self.inv,
            y.replace(&Self::services(from), &Self::services(to)),
        )
        .unwrap();
    }

    fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = regie();
        c.args(args).arg("-i").arg(&self.inv);
        c
    }

    /// `deploy --yes --output json`: exit code, the host's report, stderr.
    fn deploy(&self) -> (i32, serde_json::Value, String) {
        let o = self
            .cmd(&["deploy", "--yes", "--output", "json"])
            .output()
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
        (
            o.status.code().unwrap_or(-1),
            v[0].clone(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    /// The image the running hello container was created from, in the
    /// host's engine.
    fn running_image(&self) -> String {
        let o = self.engine.cli(&[
            "ps",
            "--filter",
            &format!("label=com.docker.compose.project={}-hello", self.tb.site),
            "--format",
            "{{.ID}}",
        ]);
        let id = String::from_utf8_lossy(&o.stdout).trim().to_string();
        assert_eq!(id.lines().count(), 1, "one running hello container: {id:?}");
        let o = self.engine.cli(&["inspect", "--format", "{{.Image}}", &id]);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    fn staging(&self) -> PathBuf {
        self.tb.host("srv1").base.join(".regie/images")
    }

    /// The archives staged on the host: (path, size).
    fn parts(&self) -> Vec<(PathBuf, u64)> {
        std::fs::read_dir(self.staging())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "part"))
                    .map(|p| {
                        let n = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                        (p, n)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Start a deploy and kill it once `min` bytes of an archive are
    /// staged on the host, then release the lock it held.
    fn cut_deploy(&self, min: u64) -> u64 {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("regie"))
            .args(["deploy", "--yes", "-i"])
            .arg(&self.inv)
            .env("REGIE_SSH_CONFIG", "/dev/null")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        loop {
            if self.parts().iter().any(|(_, n)| *n >= min) {
                child.kill().unwrap();
                break;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "the deploy ended before its transfer could be cut"
            );
            assert!(t0.elapsed() < Duration::from_secs(120), "no transfer seen");
            std::thread::sleep(Duration::from_millis(2));
        }
        child.wait().unwrap();
        self.cmd(&["lock", "release", "srv1"]).assert().success();
        // The host's side of the cut connection may still be writing what
        // it had received: wait until the staged size holds still.
        let mut parts = self.parts();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = self.parts();
            if now == parts {
                break;
            }
            parts = now;
        }
        assert_eq!(parts.len(), 1, "{parts:?}");
        parts[0].1
    }
}

fn image<'a>(rep: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    rep["images"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["image"] == name))
        .unwrap_or_else(|| panic!("no image {name} in {rep:#}"))
}

#[test]
fn a_host_without_the_image_gets_it_and_a_new_tag_sends_only_its_new_layer() {
    let s = Site::new("regie-pushed:1", "images: push\n");
    assert_eq!(s.engine.image_id("regie-pushed:1"), None);
    let (code, rep, err) = s.deploy();
    assert_eq!(code, 0, "{rep:#}\n{err}");
    let first = image(&rep, "regie-pushed:1");
    assert_eq!(first["layers"], 1);
    assert_eq!(first["layers_sent"], 1);
    let first_bytes = first["bytes_sent"].as_u64().unwrap();
    assert!(first_bytes > 1_000_000, "{first:#}");
    assert_eq!(
        s.engine.image_id("regie-pushed:1").as_deref(),
        Some(local_id("regie-pushed:1").as_str())
    );
    assert_eq!(s.running_image(), local_id("regie-pushed:1"));
    // The machine's own engine runs nothing of the site.
    assert!(s.tb.containers().is_empty());

    // A new tag on the same base: only its own layer travels.
    s.set_image("regie-pushed:1", "regie-pushed:2");
    let (code, rep, err) = s.deploy();
    assert_eq!(code, 0, "{rep:#}\n{err}");
    let second = image(&rep, "regie-pushed:2");
    assert_eq!(second["layers"], 2);
    assert_eq!(second["layers_sent"], 1);
    let second_bytes = second["bytes_sent"].as_u64().unwrap();
    assert!(
        second_bytes < 64 * 1024,
        "the new layer holds one small file, {second_bytes} bytes were sent"
    );
    assert_eq!(s.running_image(), local_id("regie-pushed:2"));
    eprintln!("bytes sent: first push {first_bytes}, new tag {second_bytes}");

    // In sync: nothing to push, nothing sent.
    let (code, rep, _) = s.deploy();
    assert_eq!(code, 0);
    assert!(rep["images"].is_null(), "{rep:#}");
}

#[test]
fn a_cut_transfer_leaves_the_engine_unchanged_a_corrupt_one_is_refused_and_the_next_run_completes()
{
    let s = Site::new("regie-pushed-big:1", "images: push\n");
    let before = s.engine.images();
    // Cut, then corrupt what was staged: refused, nothing loaded.
    let staged = s.cut_deploy(8 << 20);
    assert_eq!(s.engine.images(), before, "a cut transfer loaded something");
    let (path, _) = s.parts().remove(0);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = (staged / 2) as usize;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let (code, rep, err) = s.deploy();
    assert_ne!(code, 0);
    let e = rep["error"].as_str().unwrap_or_default();
    assert!(e.contains("corrupt"), "{rep:#}\n{err}");
    assert_eq!(s.engine.images(), before, "a corrupt archive was loaded");
    assert!(s.parts().is_empty(), "the corrupt archive stays staged");

    // Cut again, then resume: only the rest is sent.
    let staged = s.cut_deploy(8 << 20);
    assert_eq!(s.engine.images(), before);
    let (code, rep, err) = s.deploy();
    assert_eq!(code, 0, "{rep:#}\n{err}");
    let big = image(&rep, "regie-pushed-big:1");
    assert_eq!(big["resumed_from"].as_u64(), Some(staged), "{big:#}");
    assert_eq!(
        big["bytes_sent"].as_u64().unwrap() + staged,
        big["archive_bytes"].as_u64().unwrap()
    );
    assert_eq!(s.running_image(), local_id("regie-pushed-big:1"));
    assert!(s.parts().is_empty(), "the archive is removed once loaded");
}

fn skopeo_layout(dir: &Path, image: &str, tag: &str) {
    let o = std::process::Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("docker-daemon:{image}"))
        .arg(format!("oci:{}:{tag}", dir.display()))
        .output()
        .expect("skopeo (Debian package skopeo)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn an_oci_layout_from_skopeo_is_pushed_and_a_corrupt_layer_is_refused() {
    let s = Site::new("regie-pushed:2", "images: push\nimage_layout: layout\n");
    let dir = s.inv.parent().unwrap().join("layout");
    skopeo_layout(&dir, "regie-pushed:2", "2");
    // Corrupt the biggest blob (the base layer), keeping its size.
    let blobs = dir.join("blobs/sha256");
    let biggest = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let good = std::fs::read(&biggest).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    std::fs::write(&biggest, &bad).unwrap();
    let (code, rep, err) = s.deploy();
    assert_ne!(code, 0);
    let e = rep["error"].as_str().unwrap_or_default();
    assert!(e.contains("corrupt in the source"), "{rep:#}\n{err}");
    assert!(s.engine.images().is_empty());
    assert!(s.parts().is_empty(), "nothing was sent");

    std::fs::write(&biggest, &good).unwrap();
    let (code, rep, err) = s.deploy();
    assert_eq!(code, 0, "{rep:#}\n{err}");
    assert_eq!(image(&rep, "regie-pushed:2")["layers_sent"], 2);
    // The image ID is the layout's config digest (skopeo rewrites the
    // config as OCI's); its layers are the operator's.
    let read = |d: &str| -> serde_json::Value {
        let hex = d.strip_prefix("sha256:").unwrap();
        serde_json::from_slice(&std::fs::read(blobs.join(hex)).unwrap()).unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let manifest = read(index["manifests"][0]["digest"].as_str().unwrap());
    let config = manifest["config"]["digest"].as_str().unwrap();
    assert_eq!(s.running_image(), config);
    let layers = |id: &str, e: &dyn Fn(&[&str]) -> std::process::Output| {
        let o = e(&[
            "image",
            "inspect",
            "--format",
            "{{json .RootFS.Layers}}",
            id,
        ]);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(
        layers(config, &|a| s.engine.cli(a)),
        layers("regie-pushed:2", &|a| docker(a))
    );
}

/// A stack whose main component is `regie-pushed` (the version is its
/// tag), with a data volume that is backed up: what `update apply` needs.
const PUSHED_STACK: &str = "name: pushed
description: Test stack whose images are pushed over SSH
min_ram_mb: 16
components:
  app: { image: regie-pushed, tag: \"1\", main: true }
volumes:
  data: \"the app's data (/data)\"
backup:
  volumes: [data]
upgrade: { policy: one-major-at-a-time }
files:
  - { template: pushed/docker-compose.yml.tera, path: docker-compose.yml }
";

const PUSHED_COMPOSE: &str = "services:
  app:
    image: {{ stack.images.app | yaml }}
    stop_signal: SIGKILL
    volumes:
      - data:/data
    labels:
      regie.site: {{ site.name | yaml }}
      regie.config-hash: {{ config_hash | yaml }}
    healthcheck:
      test: [\"CMD\", \"test\", \"-d\", \"/www\"]
      interval: 1s
      timeout: 2s
      retries: 2
volumes:
  data:
";

#[test]
fn update_apply_pushes_the_new_version_when_the_site_has_no_registry() {
    let backups = tempfile::tempdir_in("/tmp").unwrap();
    let s = Site::with(
        "  pushed:\n    host: srv1\n    version: \"1\"\n",
        &format!(
            "images: push\nbackup: {{ to: local, path: {}, image: \"regie-restic:3\" }}\n",
            backups.path().display()
        ),
        |cat| {
            std::fs::write(cat.join("stacks/pushed.yml"), PUSHED_STACK).unwrap();
            std::fs::create_dir_all(cat.join("templates/pushed")).unwrap();
            std::fs::write(
                cat.join("templates/pushed/docker-compose.yml.tera"),
                PUSHED_COMPOSE,
            )
            .unwrap();
        },
    );
    // The first deploy pushes the stack's image and the backup image.
    let (code, rep, err) = s.deploy();
    assert_eq!(code, 0, "{rep:#}\n{err}");
    image(&rep, "regie-pushed:1");
    eprintln!("first deploy: {:#}", image(&rep, "regie-restic:3"));
    assert_eq!(
        s.engine.image_id("regie-restic:3").as_deref(),
        Some(local_id("regie-restic:3").as_str())
    );
    s.cmd(&["backup", "init"]).assert().success();
    // The versions on offer are the operator's engine's tags (no registry).
    let o = s
        .cmd(&["update", "check", "--output", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let app = v
        .as_array()
        .and_then(|a| a.iter().find(|c| c["service"] == "pushed"))
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(
        app["candidates"]["newer"],
        serde_json::json!(["2"]),
        "{v:#}"
    );
    assert!(app["error"].is_null(), "{v:#}");
    let o = s
        .cmd(&[
            "update",
            "apply",
            "--service",
            "pushed",
            "--to",
            "2",
            "--now",
            "--output",
            "json",
            "--health-timeout",
            "60",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert!(
        o.status.success(),
        "{v:#}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = v.to_string();
    assert!(text.contains("\"updated\""), "{v:#}");
    let push = v
        .pointer("/steps")
        .or_else(|| v.pointer("/0/steps"))
        .and_then(|s| s.as_array())
        .and_then(|a| a.iter().find(|st| st["step"] == "push"))
        .unwrap_or_else(|| panic!("no push step: {v:#}"));
    assert_eq!(push["ok"], true);
    let detail = push["detail"].as_str().unwrap();
    assert!(
        detail.contains("regie-pushed:2 pushed (1 of 2 layers"),
        "{detail}"
    );
    // The new version runs, from the image the operator had.
    let o = s.engine.cli(&[
        "ps",
        "--filter",
        &format!("label=com.docker.compose.project={}-pushed", s.tb.site),
        "--format",
        "{{.Image}}",
    ]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "regie-pushed:2");
    assert_eq!(
        s.engine.image_id("regie-pushed:2").as_deref(),
        Some(local_id("regie-pushed:2").as_str())
    );
}
