//! A real container registry for update tests: Debian's `docker-registry`
//! (the distribution project's registry, API v2) on a loopback port, with
//! storage in a temporary directory, holding the `regie-upd` test image in
//! four versions built locally from the busybox test image:
//!
//! - 1.0.0 and 1.1.0: healthy;
//! - 1.2.0: its health check always fails;
//! - 1.3.0: on start it "migrates" the data volume (writes /data/format,
//!   appends to /data/notes.txt), then fails its health check.
#![allow(dead_code)]

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::testbed::{docker, free_port};

pub const VERSIONS: [&str; 4] = ["1.0.0", "1.1.0", "1.2.0", "1.3.0"];

pub struct Registry {
    pub addr: String,
    extra: std::cell::RefCell<Vec<String>>,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    pub fn start() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let conf = dir.path().join("config.yml");
        std::fs::write(
            &conf,
            format!(
                "version: 0.1\nlog: {{ level: warn }}\nstorage:\n  filesystem: {{ rootdirectory: {} }}\n  delete: {{ enabled: true }}\nhttp: {{ addr: \"{addr}\" }}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("docker-registry (Debian package docker-registry)");
        let t0 = Instant::now();
        while TcpStream::connect(&addr).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "registry did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let r = Registry {
            addr,
            extra: Default::default(),
            child,
            _dir: dir,
        };
        r.push_versions();
        r
    }

    pub fn image(&self, version: &str) -> String {
        format!("{}/regie-upd:{version}", self.addr)
    }

    /// Build the four local images once (regie-upd-test:VERSION), then tag
    /// and push each to this registry and drop the registry tags again, so
    /// the engine holds none of them under the registry's name.
    fn push_versions(&self) {
        for v in VERSIONS {
            let local = format!("regie-upd-test:{v}");
            if !docker(&["image", "inspect", &local]).status.success() {
                build(v, &local);
            }
            let remote = self.image(v);
            assert!(docker(&["tag", &local, &remote]).status.success());
            let o = docker(&["push", "-q", &remote]);
            assert!(o.status.success(), "push {remote}: {o:?}");
            assert!(docker(&["rmi", &remote]).status.success());
        }
    }

    /// Push a local image under `name:tag` in this registry (the engine's
    /// tag is dropped again); returns the registry reference.
    pub fn push(&self, local: &str, name_tag: &str) -> String {
        let remote = format!("{}/{name_tag}", self.addr);
        assert!(docker(&["tag", local, &remote]).status.success());
        let o = docker(&["push", "-q", &remote]);
        assert!(o.status.success(), "push {remote}: {o:?}");
        assert!(docker(&["rmi", &remote]).status.success());
        self.extra.borrow_mut().push(remote.clone());
        remote
    }

    /// The digest the registry serves for a version (a plain HTTP HEAD).
    pub fn digest(&self, version: &str) -> String {
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "HEAD /v2/regie-upd/manifests/{version} HTTP/1.1\r\nHost: {}\r\nAccept: application/vnd.docker.distribution.manifest.v2+json\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut head = String::new();
        s.read_to_string(&mut head).unwrap();
        head.lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("docker-content-digest:")
                    .map(|d| d.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no digest header in {head}"))
    }
}

fn build(version: &str, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let healthy = version == "1.0.0" || version == "1.1.0";
    std::fs::write(p.join("version"), format!("{version}\n")).unwrap();
    std::fs::write(
        p.join("start"),
        "mkdir -p /data /www\ncat /version > /www/index.html\ntest -f /migrate && . /migrate\nexec /bin/httpd -f -p 8080 -h /www\n",
    )
    .unwrap();
    std::fs::write(
        p.join("health"),
        if healthy {
            "exec wget -q -O /dev/null http://127.0.0.1:8080/\n"
        } else {
            "exit 1\n"
        },
    )
    .unwrap();
    if version == "1.3.0" {
        std::fs::write(
            p.join("migrate"),
            "echo 4 > /data/format\necho migrated by 1.3.0 >> /data/notes.txt\n",
        )
        .unwrap();
    }
    let cid = docker(&["create", "regie-busybox:1"]);
    assert!(cid.status.success(), "{cid:?}");
    let cid = String::from_utf8_lossy(&cid.stdout).trim().to_string();
    let src = format!("{}/.", p.display());
    assert!(docker(&["cp", &src, &format!("{cid}:/")]).status.success());
    let o = docker(&[
        "commit",
        "--change",
        "CMD [\"/bin/sh\", \"/start\"]",
        &cid,
        tag,
    ]);
    assert!(o.status.success(), "{o:?}");
    docker(&["rm", "-f", &cid]);
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for v in VERSIONS {
            docker(&["rmi", &self.image(v)]);
        }
        for i in self.extra.borrow().iter() {
            docker(&["rmi", i]);
        }
    }
}
