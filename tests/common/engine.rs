//! A second Docker Engine on the machine, for a test host that must have
//! an engine of its own (the test bed's hosts share the machine's): its own
//! config file (the machine's daemon.json may set data-root), data root,
//! exec root, socket, pid file, containerd namespaces, and its own bridge,
//! created here beforehand, with a distinct address pool. Never
//! `--bridge none`: that deletes the main engine's docker0 on this kind of
//! machine. iptables is left alone (the machine's rules belong to the main
//! engine). Dropping it stops the daemon (killing its containers), removes
//! the bridge, unmounts and removes its directories.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct Engine {
    pub dir: PathBuf,
    pub socket: PathBuf,
    bridge: String,
    child: Child,
}

fn ip(args: &[&str]) {
    let o = Command::new("ip")
        .args(args)
        .output()
        .expect("ip (iproute2)");
    assert!(
        o.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

impl Engine {
    pub fn start() -> Engine {
        let n = (std::process::id() as usize + COUNTER.fetch_add(1, Ordering::SeqCst)) % 40;
        let dir = tempfile::Builder::new()
            .prefix("regie-engine-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let bridge = format!("rgeng{}{n}", std::process::id() % 1000);
        let _ = Command::new("ip")
            .args(["link", "del", &bridge])
            .stderr(Stdio::null())
            .status();
        ip(&["link", "add", &bridge, "type", "bridge"]);
        ip(&["addr", "add", &format!("10.199.{n}.1/24"), "dev", &bridge]);
        ip(&["link", "set", &bridge, "up"]);
        let conf = dir.join("daemon.json");
        std::fs::write(&conf, "{}\n").unwrap();
        let socket = dir.join("docker.sock");
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        let ns = format!("regie-test-{}-{n}", std::process::id());
        let child = Command::new("dockerd")
            .arg("--config-file")
            .arg(&conf)
            .arg("--data-root")
            .arg(dir.join("root"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--host")
            .arg(format!("unix://{}", socket.display()))
            .arg("--pidfile")
            .arg(dir.join("docker.pid"))
            .args(["--bridge", &bridge])
            .args([
                "--default-address-pool",
                &format!("base=10.{}.0.0/16,size=24", 200 + n),
            ])
            .args(["--containerd-namespace", &ns])
            .args(["--containerd-plugins-namespace", &format!("{ns}-plugins")])
            .args(["--storage-driver", "vfs", "--iptables=false"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd");
        let e = Engine {
            dir,
            socket,
            bridge,
            child,
        };
        let t0 = Instant::now();
        while !e.cli(&["info"]).status.success() {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "second dockerd did not start: {}",
                std::fs::read_to_string(e.dir.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        e
    }

    /// The docker CLI against this engine.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker")
            .arg("-H")
            .arg(format!("unix://{}", self.socket.display()))
            .args(args)
            .output()
            .expect("docker CLI")
    }

    /// The ID of `image` in this engine, None when it has none.
    pub fn image_id(&self, image: &str) -> Option<String> {
        let o = self.cli(&["image", "inspect", "--format", "{{.Id}}", image]);
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
    }

    /// Every image ID this engine holds, sorted.
    pub fn images(&self) -> Vec<String> {
        let o = self.cli(&["image", "ls", "-aq", "--no-trunc"]);
        let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(String::from)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SIGTERM: the daemon stops its containers and its containerd.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .status();
        // The daemon bind-mounts its data root (and its containers' mounts
        // may linger): unmount everything under the directory, deepest
        // first, then remove it.
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        let prefix = self.dir.to_string_lossy().into_owned();
        let mut ours: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        ours.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in ours {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
