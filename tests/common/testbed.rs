//! The test bed: real OpenSSH servers in containers of the local Docker
//! Engine, each with its own host key, the engine's socket mounted and its
//! deploy directory bind-mounted at the same path inside and out (so compose
//! bind mounts resolve). Images are built locally by
//! tests/testbed/build-images.sh (no registry is reachable).
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// The hosts' image: Debian bookworm with sshd, Docker's CLI, compose v1
/// and the compose v2 plugin (which regie prefers when a host has it).
pub const TESTHOST_IMAGE: &str = "regie-testhost:4";
/// restic 0.19.1, the version regie pins by default, as the `backup.image`.
pub const RESTIC_IMAGE: &str = "regie-restic:3";
/// restic 0.14 (Debian bookworm's): repositories made by an older restic.
pub const RESTIC_OLD_IMAGE: &str = "regie-restic:1";
/// The NAS: an sshd host with rclone (the hosts' append-only access) and
/// restic 0.19.1 (retention from regie's side).
pub const NAS_IMAGE: &str = "regie-nas:1";

/// Which compose CLI the hosts of a test bed offer regie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeCli {
    /// Both; regie takes `docker compose` (v2).
    V2,
    /// Only `docker-compose` (v1, 1.29): the round trips kept while
    /// regie supports v1.
    V1Only,
}

impl ComposeCli {
    /// The `com.docker.compose.version` label compose puts on the
    /// containers it creates: which CLI really ran.
    pub fn label_prefix(self) -> &'static str {
        match self {
            ComposeCli::V2 => "2.",
            ComposeCli::V1Only => "1.",
        }
    }
}

static IMAGES: Once = Once::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI")
}

fn ensure_images() {
    IMAGES.call_once(|| {
        let st = Command::new("bash")
            .arg("tests/testbed/build-images.sh")
            .status()
            .expect("bash");
        assert!(st.success(), "building the test bed images failed");
    });
}

pub struct Host {
    pub name: String,
    pub container: String,
    pub port: u16,
    pub base: PathBuf,
}

pub struct TestBed {
    /// Size in KiB of a tmpfs mounted as each host's deploy directory
    /// (disk-full tests); None for the plain disk.
    pub tmpfs_kib: Option<u64>,
    pub compose: ComposeCli,
    pub site: String,
    pub dir: tempfile::TempDir,
    pub key: PathBuf,
    pub hosts: Vec<Host>,
    /// The Docker socket the next host started mounts (the machine's
    /// engine when None); see [`TestBed::start_host_on_engine`].
    next_socket: Option<PathBuf>,
}

/// A port of 127.0.0.1 free now (a host's sshd, a registry).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_ssh(port: u16) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(30) {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Read;
            s.set_read_timeout(Some(Duration::from_secs(2))).ok();
            let mut b = [0u8; 4];
            if s.read_exact(&mut b).is_ok() && &b == b"SSH-" {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("sshd on port {port} did not come up");
}

impl TestBed {
    /// Start `n` hosts named srv1..srvN.
    pub fn new(n: usize) -> TestBed {
        Self::with_tmpfs(n, None)
    }

    pub fn with_tmpfs(n: usize, tmpfs_kib: Option<u64>) -> TestBed {
        Self::build(n, tmpfs_kib, ComposeCli::V2)
    }

    /// `n` hosts that have compose v1 only.
    pub fn with_compose_v1(n: usize) -> TestBed {
        Self::build(n, None, ComposeCli::V1Only)
    }

    fn build(n: usize, tmpfs_kib: Option<u64>, compose: ComposeCli) -> TestBed {
        ensure_images();
        let site = format!(
            "t{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        // The deploy directories live under /tmp at the same path inside
        // the host containers and on the engine's machine.
        let dir = tempfile::Builder::new()
            .prefix("regie-tb-")
            .tempdir_in("/tmp")
            .unwrap();
        let key = dir.path().join("id_ed25519");
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .expect("ssh-keygen (openssh-client)");
        assert!(st.success());
        std::fs::copy(
            key.with_extension("pub"),
            dir.path().join("authorized_keys"),
        )
        .unwrap();
        let mut tb = TestBed {
            tmpfs_kib,
            compose,
            site,
            dir,
            key,
            hosts: Vec::new(),
            next_socket: None,
        };
        for i in 1..=n {
            tb.start_host(&format!("srv{i}"), None);
        }
        tb
    }

    /// Start a host container; `port` reuses a given published port.
    pub fn start_host(&mut self, name: &str, port: Option<u16>) -> usize {
        self.start_host_with(name, port, &[], TESTHOST_IMAGE)
    }

    /// Start a host whose Docker engine is the one behind `socket` (a
    /// second engine of the machine, see `common::engine`) instead of the
    /// machine's.
    pub fn start_host_on_engine(&mut self, name: &str, socket: &Path) -> usize {
        self.next_socket = Some(socket.to_path_buf());
        self.start_host_with(name, None, &[], TESTHOST_IMAGE)
    }

    /// Start the NAS: a host named `nas` whose `/srv/backup` (the
    /// repositories, owned by its `deploy` user) is a directory of the
    /// machine, on a tmpfs of `tmpfs_kib` KiB when given (disk-full tests).
    pub fn start_nas(&mut self, tmpfs_kib: Option<u64>) -> usize {
        let repo = self.nas_repo();
        std::fs::create_dir_all(&repo).unwrap();
        if let Some(kib) = tmpfs_kib {
            let st = Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
                .arg(&repo)
                .status()
                .expect("mount");
            assert!(st.success(), "mounting a tmpfs needs root");
        }
        let mount = format!("{}:/srv/backup", repo.display());
        // A fixed port, so that a stopped and restarted NAS keeps it.
        let port = free_port();
        let i = self.start_host_with("nas", Some(port), &["-v", &mount], NAS_IMAGE);
        let c = self.hosts[i].container.clone();
        let o = docker(&["exec", &c, "chown", "deploy:deploy", "/srv/backup"]);
        assert!(o.status.success());
        i
    }

    /// Start `far`, the off-site server: another NAS container (its
    /// repositories in [`TestBed::far_repo`]) on a network of its own that
    /// the NAS joins. regie reaches it on 127.0.0.1 and its published port;
    /// the site's machines (the NAS; the hosts' restic, on the machine's
    /// network) at the address returned, port 22.
    pub fn start_offsite(&mut self) -> String {
        let repo = self.far_repo();
        std::fs::create_dir_all(&repo).unwrap();
        let mount = format!("{}:/srv/backup", repo.display());
        let port = free_port();
        let i = self.start_host_with("far", Some(port), &["-v", &mount], NAS_IMAGE);
        let far = self.hosts[i].container.clone();
        assert!(
            docker(&["exec", &far, "chown", "deploy:deploy", "/srv/backup"])
                .status
                .success()
        );
        let net = format!("regie-{}-offsite", self.site);
        let o = docker(&["network", "create", &net]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for c in [far.as_str(), self.host("nas").container.as_str()] {
            let o = docker(&["network", "connect", &net, c]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let o = docker(&[
            "inspect",
            "-f",
            &format!("{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}"),
            &far,
        ]);
        let ip = String::from_utf8_lossy(&o.stdout).trim().to_string();
        assert!(
            ip.parse::<std::net::IpAddr>().is_ok(),
            "address of far: {ip:?}"
        );
        ip
    }

    /// The off-site server's repository directory on the machine.
    pub fn far_repo(&self) -> PathBuf {
        self.dir.path().join("far-repo")
    }

    /// YAML of the off-site server's host entry (as `deploy`).
    pub fn far_yaml(&self) -> String {
        self.storage_yaml("far")
    }

    /// The NAS's repository directory on the machine.
    pub fn nas_repo(&self) -> PathBuf {
        self.dir.path().join("nas-repo")
    }

    /// YAML of the NAS host entry (SFTP as `deploy`).
    pub fn nas_yaml(&self) -> String {
        self.storage_yaml("nas")
    }

    /// A NAS-like host entry: role nas, `deploy` over SSH, `/srv/backup`.
    fn storage_yaml(&self, name: &str) -> String {
        let h = self.host(name);
        format!(
            "  {name}:\n    role: nas\n    address: 127.0.0.1\n    ssh: {{ user: deploy, port: {}, identity: {} }}\n    path: /srv/backup\n",
            h.port,
            self.key.display()
        )
    }

    fn start_host_with(
        &mut self,
        name: &str,
        port: Option<u16>,
        extra: &[&str],
        image: &str,
    ) -> usize {
        let base = self.dir.path().join(name).join("base");
        std::fs::create_dir_all(&base).unwrap();
        if let Some(kib) = self.tmpfs_kib {
            let st = Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
                .arg(&base)
                .status()
                .expect("mount");
            assert!(st.success(), "mounting a tmpfs needs root");
        }
        let container = format!("regie-{}-{name}", self.site);
        // A fixed port, even when the caller gives none: a container that
        // is stopped and started again keeps it (an ephemeral published
        // port would change).
        let port = port.unwrap_or_else(free_port);
        let publish = format!("127.0.0.1:{port}:22");
        let auth = format!(
            "{}:/regie-test/authorized_keys:ro",
            self.dir.path().join("authorized_keys").display()
        );
        let mount = format!("{}:{}", base.display(), base.display());
        let socket = format!(
            "{}:/var/run/docker.sock",
            self.next_socket
                .take()
                .unwrap_or_else(|| PathBuf::from("/var/run/docker.sock"))
                .display()
        );
        // The entrypoint comes from the source tree (changes need no rebuild).
        let entry = format!(
            "{}/tests/testbed/testhost-entrypoint.sh:/usr/local/sbin/regie-testhost:ro",
            env!("CARGO_MANIFEST_DIR")
        );
        let out = docker(
            &[
                "run",
                "-d",
                "--name",
                &container,
                "--label",
                &format!("regie-testbed={}", self.site),
                "-p",
                &publish,
                "-v",
                &socket,
                "-v",
                &mount,
                "-v",
                &auth,
                "-v",
                &entry,
            ]
            .into_iter()
            .chain(
                match self.compose {
                    ComposeCli::V2 => [].as_slice(),
                    ComposeCli::V1Only => ["-e", "REGIE_TESTHOST_COMPOSE=v1"].as_slice(),
                }
                .iter()
                .copied(),
            )
            .chain(extra.iter().copied())
            .chain([image])
            .collect::<Vec<_>>(),
        );
        assert!(
            out.status.success(),
            "docker run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let p = docker(&["port", &container, "22/tcp"]);
        let text = String::from_utf8_lossy(&p.stdout);
        let port: u16 = text
            .lines()
            .next()
            .and_then(|l| l.rsplit(':').next())
            .and_then(|x| x.trim().parse().ok())
            .expect("published port");
        wait_ssh(port);
        let h = Host {
            name: name.into(),
            container,
            port,
            base,
        };
        if let Some(i) = self.hosts.iter().position(|x| x.name == name) {
            self.hosts[i] = h;
            i
        } else {
            self.hosts.push(h);
            self.hosts.len() - 1
        }
    }

    pub fn host(&self, name: &str) -> &Host {
        self.hosts.iter().find(|h| h.name == name).expect("host")
    }

    /// Stop a host's container (`docker stop`), keeping it.
    pub fn stop(&self, name: &str) {
        assert!(docker(&["stop", "-t", "1", &self.host(name).container])
            .status
            .success());
    }

    /// Start a stopped host again and wait for its sshd.
    pub fn restart(&self, name: &str) {
        let h = self.host(name);
        assert!(docker(&["start", &h.container]).status.success());
        wait_ssh(h.port);
    }

    /// Remove a host container (its deploy directory stays).
    pub fn kill(&self, name: &str) {
        docker(&["rm", "-f", &self.host(name).container]);
    }

    /// Write the inventory: every host, plus `services` (YAML lines under
    /// `services:`), with the test catalog. Returns its path.
    pub fn inventory(&self, services: &str, extra_hosts: &str) -> PathBuf {
        self.inventory_with_backup(
            services,
            extra_hosts,
            "backup: { to: local, path: /var/backups/regie }\n",
        )
    }

    /// Same, with the given `backup:` section; the NAS (when started) is
    /// not among the servers, it goes in `extra_hosts`.
    pub fn inventory_with_backup(
        &self,
        services: &str,
        extra_hosts: &str,
        backup: &str,
    ) -> PathBuf {
        let cat = self.dir.path().join("catalog");
        if !cat.exists() {
            super::copy_tree(Path::new("tests/fixtures/catalog"), &cat);
        }
        let mut y = format!(
            "site: {{ name: {}, domain: test.example, contact: ops@test.example }}\ncatalog: catalog\nhosts:\n",
            self.site
        );
        for h in self
            .hosts
            .iter()
            .filter(|h| h.name != "nas" && h.name != "far")
        {
            y.push_str(&format!(
                "  {}:\n    role: server\n    address: 127.0.0.1\n    ssh: {{ user: root, port: {}, identity: {} }}\n    base_dir: {}\n",
                h.name,
                h.port,
                self.key.display(),
                h.base.display()
            ));
        }
        y.push_str(extra_hosts);
        y.push_str("services:\n");
        y.push_str(services);
        y.push_str(backup);
        // Secrets unlocked by an age identity (a passphrase costs a second of scrypt per run).
        let id = self.dir.path().join("age-identity.txt");
        if !id.exists() {
            regie::site::secrets::keygen(&id).unwrap();
        }
        y.push_str(&format!("secrets: {{ identity: {} }}\n", id.display()));
        let p = self.dir.path().join("site.yml");
        std::fs::write(&p, y).unwrap();
        p
    }

    /// Add a copy of the `hello` test stack under another name to the
    /// site's catalog (call after `inventory` laid the catalog out).
    pub fn add_stack_copy(&self, name: &str) {
        let cat = self.dir.path().join("catalog");
        std::fs::write(
            cat.join(format!("stacks/{name}.yml")),
            std::fs::read_to_string(cat.join("stacks/hello.yml"))
                .unwrap()
                .replace("name: hello", &format!("name: {name}"))
                .replace("hello/", &format!("{name}/")),
        )
        .unwrap();
        super::copy_tree(
            &cat.join("templates/hello"),
            &cat.join(format!("templates/{name}")),
        );
    }

    /// One SQL statement in the `db` container of a stack of this site (the
    /// test stacks' database and user are both `notes`); its output,
    /// unaligned, without headers. Panics when psql fails.
    pub fn psql(&self, stack: &str, q: &str) -> String {
        let id = self.container_of(stack, "db");
        let o = docker(&[
            "exec",
            &id,
            "psql",
            "-v",
            "ON_ERROR_STOP=1",
            "-U",
            "notes",
            "-d",
            "notes",
            "-tAc",
            q,
        ]);
        assert!(
            o.status.success(),
            "{q}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// Run a command in a compose-managed container of this site.
    pub fn exec_in(&self, project_service: (&str, &str), cmd: &[&str]) -> String {
        let (stack, service) = project_service;
        let id = self.container_of(stack, service);
        let mut args = vec!["exec", id.as_str()];
        args.extend_from_slice(cmd);
        let o = docker(&args);
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// The one running container of a compose service of this site.
    pub fn container_of(&self, stack: &str, service: &str) -> String {
        let project = format!("{}-{stack}", self.site);
        let ids = docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
        ]);
        let ids = String::from_utf8_lossy(&ids.stdout).trim().to_string();
        assert_eq!(
            ids.lines().count(),
            1,
            "one running container for {project}/{service}: {ids:?}"
        );
        ids
    }

    /// Assert that the compose CLI this test bed offers is the one that
    /// created `stack`'s `service` container (compose labels its version).
    pub fn assert_made_by_expected_compose(&self, stack: &str, service: &str) {
        let id = self.container_of(stack, service);
        let o = docker(&[
            "inspect",
            "-f",
            "{{index .Config.Labels \"com.docker.compose.version\"}}",
            &id,
        ]);
        let v = String::from_utf8_lossy(&o.stdout).trim().to_string();
        assert!(
            v.starts_with(self.compose.label_prefix()),
            "{stack}/{service} was created by compose {v:?}, expected {:?}",
            self.compose
        );
    }

    /// Remove a stack's containers and its `volumes` (a lost disk, or a
    /// new empty host).
    pub fn destroy_stack(&self, stack: &str, volumes: &[&str]) {
        let p = format!("{}-{stack}", self.site);
        let ids = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={p}"),
        ]);
        let ids: Vec<String> = String::from_utf8_lossy(&ids.stdout)
            .split_whitespace()
            .map(String::from)
            .collect();
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        assert!(docker(&args).status.success());
        for v in volumes {
            assert!(docker(&["volume", "rm", &format!("{p}_{v}")])
                .status
                .success());
        }
    }

    pub fn containers(&self) -> Vec<String> {
        let o = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=regie.site={}", self.site),
        ]);
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(String::from)
            .collect()
    }
}

impl Drop for TestBed {
    fn drop(&mut self) {
        let mut ids = self.containers();
        let o = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=regie-testbed={}", self.site),
        ]);
        ids.extend(
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(String::from),
        );
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids.iter().map(String::as_str));
            docker(&args);
        }
        for kind in ["network", "volume"] {
            let o = docker(&[kind, "ls", "-q", "--filter", &format!("name={}", self.site)]);
            let names: Vec<String> = String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(String::from)
                .collect();
            if !names.is_empty() {
                let mut args = vec![kind, "rm"];
                args.extend(names.iter().map(String::as_str));
                docker(&args);
            }
        }
        if self.tmpfs_kib.is_some() {
            for h in &self.hosts {
                let _ = Command::new("umount").arg(&h.base).status();
            }
        }
        let _ = Command::new("umount")
            .arg(self.nas_repo())
            .stderr(std::process::Stdio::null())
            .status();
        // Files written by root inside containers: the temp dir removes them.
    }
}
