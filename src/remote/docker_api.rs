//! The Docker API of a remote host, through the host's SSH session: a
//! local Unix socket (in a private temporary directory) whose connections
//! are forwarded as `direct-streamlocal` channels to the host's
//! `/var/run/docker.sock`, and bollard as the client.
//!
//! While a [`DockerApi`] is open it owns the SSH session (non-blocking for
//! the forwarding thread): the connection refuses commands until it is
//! dropped, which joins the thread and makes the session blocking again.
//! The forwarding needs the SSH user to have access to the socket (root or
//! the docker group); callers fall back to `docker inspect` over a command
//! otherwise (sudo users).

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use futures_util::StreamExt;

use crate::remote::ssh::Conn;
use crate::site::state::Container;
use crate::site::state::ContainerStatus;

const SOCKET: &str = "/var/run/docker.sock";
const EAGAIN: i32 = -37;

pub struct DockerApi {
    docker: bollard::Docker,
    rt: tokio::runtime::Runtime,
    stop: Arc<AtomicBool>,
    pump: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
    sess: ssh2::Session,
    /// The connection's flag that refuses commands while this is open.
    open: Arc<AtomicBool>,
}

struct Pair {
    sock: UnixStream,
    ch: ssh2::Channel,
    to_ch: Vec<u8>,
    to_sock: Vec<u8>,
    sock_eof: bool,
    ch_eof: bool,
}

fn would_block(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::WouldBlock
}

/// Move bytes both ways; true while the pair is alive.
fn pump_pair(p: &mut Pair, buf: &mut [u8]) -> bool {
    let mut alive = true;
    if !p.sock_eof && p.to_ch.is_empty() {
        match p.sock.read(buf) {
            Ok(0) => p.sock_eof = true,
            Ok(n) => p.to_ch.extend_from_slice(&buf[..n]),
            Err(e) if would_block(&e) => {}
            Err(_) => alive = false,
        }
    }
    if !p.to_ch.is_empty() {
        match p.ch.write(&p.to_ch) {
            Ok(n) => {
                p.to_ch.drain(..n);
            }
            Err(e) if would_block(&e) => {}
            Err(_) => alive = false,
        }
    }
    if p.sock_eof && p.to_ch.is_empty() {
        let _ = p.ch.send_eof();
    }
    if !p.ch_eof && p.to_sock.is_empty() {
        match p.ch.read(buf) {
            Ok(0) if p.ch.eof() => p.ch_eof = true,
            Ok(0) => {}
            Ok(n) => p.to_sock.extend_from_slice(&buf[..n]),
            Err(e) if would_block(&e) => {}
            Err(_) => alive = false,
        }
    }
    if !p.to_sock.is_empty() {
        match p.sock.write(&p.to_sock) {
            Ok(n) => {
                p.to_sock.drain(..n);
            }
            Err(e) if would_block(&e) => {}
            Err(_) => alive = false,
        }
    }
    if p.ch_eof && p.to_sock.is_empty() {
        let _ = p.sock.shutdown(std::net::Shutdown::Write);
        if p.sock_eof {
            alive = false;
        }
    }
    alive
}

fn open_channel(sess: &ssh2::Session) -> Option<ssh2::Channel> {
    for _ in 0..5000 {
        match sess.channel_direct_streamlocal(SOCKET, None) {
            Ok(c) => return Some(c),
            Err(e) if e.code() == ssh2::ErrorCode::Session(EAGAIN) => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(_) => return None,
        }
    }
    None
}

impl DockerApi {
    /// Open the API of the host behind `conn`. Fails (and leaves the
    /// session as it was) when the socket cannot be forwarded.
    pub fn open(conn: &Conn) -> Result<DockerApi> {
        let sess = conn.session().clone();
        if conn.api_open.load(Ordering::SeqCst) {
            return Err(anyhow!(
                "{}: the Docker API is already open",
                conn.target.name
            ));
        }
        // One blocking try first: a refusal (permissions, forwarding
        // disabled) is reported before anything changes.
        let mut probe = sess
            .channel_direct_streamlocal(SOCKET, None)
            .map_err(|e| anyhow!("{}: cannot forward {SOCKET}: {e}", conn.target.name))?;
        let _ = probe.close();
        drop(probe);
        let dir = tempfile::Builder::new()
            .prefix("regie-docker-")
            .tempdir()
            .context("temporary directory")?;
        let path: PathBuf = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).context("local socket")?;
        listener.set_nonblocking(true)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("tokio runtime")?;
        let docker = bollard::Docker::connect_with_unix(
            &path.to_string_lossy(),
            60,
            bollard::API_DEFAULT_VERSION,
        )
        .context("docker API client")?;
        // Nothing fails past this point: from here the pump owns the
        // session until Drop has joined it.
        if conn.api_open.swap(true, Ordering::SeqCst) {
            return Err(anyhow!(
                "{}: the Docker API is already open",
                conn.target.name
            ));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let s2 = sess.clone();
        let pump = std::thread::spawn(move || {
            s2.set_blocking(false);
            let mut pairs: Vec<Pair> = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let _ = sock.set_nonblocking(true);
                        if let Some(ch) = open_channel(&s2) {
                            pairs.push(Pair {
                                sock,
                                ch,
                                to_ch: Vec::new(),
                                to_sock: Vec::new(),
                                sock_eof: false,
                                ch_eof: false,
                            });
                        }
                    }
                    Err(e) if would_block(&e) => {}
                    Err(_) => break,
                }
                let before: usize = pairs.iter().map(|p| p.to_ch.len() + p.to_sock.len()).sum();
                pairs.retain_mut(|p| {
                    let alive = pump_pair(p, &mut buf);
                    if !alive {
                        let _ = p.ch.close();
                    }
                    alive
                });
                // Dropped: every request has returned (calls are blocking),
                // so what is still open is an idle keep-alive connection or
                // an abandoned stream; close them rather than wait for the
                // engine (it may never close a stream).
                if stop2.load(Ordering::SeqCst) {
                    for p in pairs.iter_mut() {
                        let _ = p.ch.close();
                    }
                    break;
                }
                let after: usize = pairs.iter().map(|p| p.to_ch.len() + p.to_sock.len()).sum();
                if before == after {
                    std::thread::sleep(Duration::from_micros(300));
                }
            }
            s2.set_blocking(true);
        });
        Ok(DockerApi {
            docker,
            rt,
            stop,
            pump: Some(pump),
            _dir: dir,
            sess,
            open: conn.api_open.clone(),
        })
    }

    /// Every container carrying a label (`key=value`), inspected.
    async fn inspect_all(
        &self,
        label: &str,
    ) -> Result<Vec<bollard::models::ContainerInspectResponse>, bollard::errors::Error> {
        let filters: HashMap<&str, Vec<&str>> = HashMap::from([("label", vec![label])]);
        let opts = bollard::query_parameters::ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let list = self.docker.list_containers(Some(opts)).await?;
        let mut out = Vec::new();
        for c in list {
            let Some(id) = c.id else { continue };
            out.push(
                self.docker
                    .inspect_container(
                        &id,
                        None::<bollard::query_parameters::InspectContainerOptions>,
                    )
                    .await?,
            );
        }
        Ok(out)
    }

    /// Containers carrying a label (`key=value`), with state and health.
    pub fn containers(&self, label: &str) -> Result<Vec<Container>> {
        let all = self
            .rt
            .block_on(self.inspect_all(label))
            .map_err(|e| anyhow!("docker API: {e}"))?;
        Ok(all.into_iter().map(|i| to_container(&i)).collect())
    }

    /// Containers carrying a label, for `regie status`: with their compose
    /// project, uptime (against the host's clock
    /// `now`), restart counts and the last health check output.
    pub fn status(&self, label: &str, now: u64) -> Result<Vec<(String, ContainerStatus)>> {
        let all = self
            .rt
            .block_on(self.inspect_all(label))
            .map_err(|e| anyhow!("docker API: {e}"))?;
        Ok(all
            .into_iter()
            .map(|i| {
                let c = to_container(&i);
                let state = i.state.clone().unwrap_or_default();
                let started = state
                    .started_at
                    .as_deref()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map(|t| t.as_second().max(0) as u64);
                let running = c.status == "running";
                let health_log = state
                    .health
                    .and_then(|h| h.log)
                    .and_then(|l| l.last().cloned())
                    .and_then(|l| l.output)
                    .and_then(|o| o.lines().find(|l| !l.trim().is_empty()).map(str::to_string))
                    .filter(|_| c.health.as_deref() == Some("unhealthy"));
                (
                    c.project,
                    ContainerStatus {
                        name: c.name,
                        component: c.service,
                        image: c.image,
                        state: c.status,
                        health: c.health,
                        uptime_secs: started.filter(|_| running).map(|s| now.saturating_sub(s)),
                        restart_count: c.restart_count,
                        restarts_24h: None,
                        health_log,
                    },
                )
            })
            .collect())
    }

    /// How many times each container carrying `label` stopped (`die`
    /// events) between `since` and `until` (unix times). The daemon keeps a
    /// bounded event buffer, so this is a lower bound on a very busy host.
    pub fn stops(&self, label: &str, since: u64, until: u64) -> Result<HashMap<String, u64>> {
        self.rt.block_on(async {
            let filters: HashMap<&str, Vec<&str>> = HashMap::from([
                ("type", vec!["container"]),
                ("event", vec!["die"]),
                ("label", vec![label]),
            ]);
            let opts = bollard::query_parameters::EventsOptionsBuilder::new()
                .since(&since.to_string())
                .until(&until.to_string())
                .filters(&filters)
                .build();
            let mut s = self.docker.events(Some(opts));
            let mut out: HashMap<String, u64> = HashMap::new();
            let read = async {
                while let Some(ev) = s.next().await {
                    let ev = ev.map_err(|e| anyhow!("docker API events: {e}"))?;
                    if let Some(name) = ev
                        .actor
                        .and_then(|a| a.attributes)
                        .and_then(|a| a.get("name").cloned())
                    {
                        *out.entry(name).or_default() += 1;
                    }
                }
                Ok::<_, anyhow::Error>(())
            };
            tokio::time::timeout(Duration::from_secs(30), read)
                .await
                .map_err(|_| anyhow!("docker API events: no end of stream after 30 s"))??;
            Ok(out)
        })
    }

    /// Last `tail` log lines of a container.
    pub fn logs(&self, container: &str, tail: u32) -> String {
        self.rt.block_on(async {
            let opts = bollard::query_parameters::LogsOptionsBuilder::new()
                .stdout(true)
                .stderr(true)
                .tail(&tail.to_string())
                .build();
            let mut s = self.docker.logs(container, Some(opts));
            let mut out = String::new();
            while let Some(Ok(chunk)) = s.next().await {
                out.push_str(&chunk.to_string());
            }
            out
        })
    }
}

impl DockerApi {
    /// Run a container's own health check once, now, as Docker would
    /// (`exec` of its `HEALTHCHECK` test): `Some(true)` when it exits 0
    /// within the check's timeout, `Some(false)` otherwise, `None` when
    /// the container has no check. The gate uses it so as not to wait for
    /// Docker's first verdict, one `interval` after start.
    pub fn probe_health(&self, container: &str) -> Result<Option<bool>> {
        self.rt.block_on(async {
            let i = self
                .docker
                .inspect_container(
                    container,
                    None::<bollard::query_parameters::InspectContainerOptions>,
                )
                .await
                .map_err(|e| anyhow!("docker API: {e}"))?;
            let hc = i.config.and_then(|c| c.healthcheck);
            let Some(cmd) = hc
                .as_ref()
                .and_then(|h| h.test.as_deref())
                .and_then(health_exec_cmd)
            else {
                return Ok(None);
            };
            let timeout = hc
                .and_then(|h| h.timeout)
                .filter(|t| *t > 0)
                .map(|t| Duration::from_nanos(t as u64))
                .unwrap_or(Duration::from_secs(30));
            let exec = self
                .docker
                .create_exec(
                    container,
                    bollard::models::ExecConfig {
                        cmd: Some(cmd),
                        attach_stdout: Some(false),
                        attach_stderr: Some(false),
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| anyhow!("docker API exec: {e}"))?;
            self.docker
                .start_exec(
                    &exec.id,
                    Some(bollard::exec::StartExecOptions {
                        detach: true,
                        ..Default::default()
                    }),
                )
                .await
                .map_err(|e| anyhow!("docker API exec: {e}"))?;
            let t0 = std::time::Instant::now();
            loop {
                let r = self
                    .docker
                    .inspect_exec(&exec.id)
                    .await
                    .map_err(|e| anyhow!("docker API exec: {e}"))?;
                if r.running != Some(true) {
                    return Ok(Some(r.exit_code == Some(0)));
                }
                if t0.elapsed() > timeout {
                    return Ok(Some(false));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    }
}

/// The command Docker runs for a `HEALTHCHECK` test: `CMD` runs its
/// arguments, `CMD-SHELL` runs its string with `/bin/sh -c`; `NONE`, an
/// empty or unknown test is no check.
pub fn health_exec_cmd(test: &[String]) -> Option<Vec<String>> {
    match test.split_first()? {
        (kind, rest) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
        (kind, [line]) if kind == "CMD-SHELL" => {
            Some(vec!["/bin/sh".into(), "-c".into(), line.clone()])
        }
        _ => None,
    }
}

impl Drop for DockerApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(p) = self.pump.take() {
            let _ = p.join();
        }
        self.sess.set_blocking(true);
        self.open.store(false, Ordering::SeqCst);
    }
}

fn to_container(i: &bollard::models::ContainerInspectResponse) -> Container {
    let labels = i
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    let state = i.state.clone().unwrap_or_default();
    Container {
        name: i
            .name
            .clone()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        project: labels
            .get("com.docker.compose.project")
            .cloned()
            .unwrap_or_default(),
        service: labels
            .get("com.docker.compose.service")
            .cloned()
            .unwrap_or_default(),
        status: state.status.map(|s| s.to_string()).unwrap_or_default(),
        health: state
            .health
            .and_then(|h| h.status)
            .map(|s| s.to_string())
            .filter(|s| s != "none" && !s.is_empty()),
        restart_count: i.restart_count.unwrap_or(0).max(0) as u64,
        image: i
            .config
            .as_ref()
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod health_cmd_tests {
    use super::health_exec_cmd;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn docker_s_healthcheck_forms() {
        assert_eq!(
            health_exec_cmd(&v(&[
                "CMD",
                "/mattermost/bin/mmctl",
                "system",
                "status",
                "--local"
            ])),
            Some(v(&["/mattermost/bin/mmctl", "system", "status", "--local"]))
        );
        assert_eq!(
            health_exec_cmd(&v(&["CMD-SHELL", "pg_isready -h 127.0.0.1 || exit 1"])),
            Some(v(&["/bin/sh", "-c", "pg_isready -h 127.0.0.1 || exit 1"]))
        );
        for none in [
            v(&["NONE"]),
            v(&[]),
            v(&["CMD"]),
            v(&["CMD-SHELL", "a", "b"]),
        ] {
            assert_eq!(health_exec_cmd(&none), None, "{none:?}");
        }
    }
}
