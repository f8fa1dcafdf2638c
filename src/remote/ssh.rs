//! SSH transport (libssh2 through the ssh2 crate): one connection per host
//! for a whole run, strict host-key checking, key files or ssh-agent, jump
//! hosts, sudo. Runs shell scripts whose every value was quoted by
//! [`quote`]; secrets travel on stdin, never on a command line.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::util::shell::{known_hosts_name, quote};
use base64::Engine;
use sha2::Digest;
use ssh2::{CheckResult, HashType, KnownHostFileKind, KnownHostKeyFormat, Session};

/// OpenSSH-style fingerprint: `SHA256:` and unpadded base64 of the key blob.
pub fn fingerprint(key: &[u8]) -> String {
    let d = sha2::Sha256::digest(key);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(d)
    )
}

/// Where and how to reach one host.
#[derive(Debug, Clone)]
pub struct Target {
    /// Inventory name, for messages.
    pub name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub identity: Option<PathBuf>,
    pub sudo: bool,
    pub jump: Option<Box<Target>>,
}

/// Host-key policy for a run.
#[derive(Debug, Clone)]
pub struct HostKeys {
    /// The inventory's own known_hosts file (written by `regie hosts trust`).
    pub site_file: PathBuf,
    /// Also trust `~/.ssh/known_hosts`.
    pub user_file: Option<PathBuf>,
    /// Record unknown keys instead of refusing them (never a changed key).
    pub accept_new: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot reach {host} ({addr}): {reason}")]
    Unreachable {
        host: String,
        addr: String,
        reason: String,
    },
    #[error(
        "host key of {host} ({addr}) is not known: {fingerprint} ({kind}).\n  \
         Check it against the server's console (ssh-keygen -lf /etc/ssh/ssh_host_{kind}_key.pub), then run:\n    \
         regie hosts trust -i {inventory} {host}\n  or deploy with --accept-new-host-keys"
    )]
    UnknownHostKey {
        host: String,
        addr: String,
        fingerprint: String,
        kind: String,
        inventory: String,
    },
    #[error(
        "HOST KEY OF {host} ({addr}) HAS CHANGED: now {fingerprint}. Refusing to connect: this is either a \
         reinstalled server or someone in the middle. Remove the old key from {file} only once you know which."
    )]
    ChangedHostKey {
        host: String,
        addr: String,
        fingerprint: String,
        file: String,
    },
    #[error("authentication as {user} on {host} failed: {reason}")]
    Auth {
        host: String,
        user: String,
        reason: String,
    },
    #[error("{host}: {what}: {reason}")]
    Protocol {
        host: String,
        what: String,
        reason: String,
    },
}

fn proto(host: &str, what: &str, e: impl std::fmt::Display) -> SshError {
    SshError::Protocol {
        host: host.into(),
        what: what.into(),
        reason: e.to_string(),
    }
}

/// Output of one remote script.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub status: i32,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.status == 0
    }
}

/// An open, authenticated connection.
pub struct Conn {
    pub target: Target,
    sess: Session,
    /// Commands run so far (each one SSH channel: a round trip).
    commands: std::sync::atomic::AtomicU64,
    /// How long one remote command may take.
    command_timeout: Duration,
    /// Set while a Docker API forwarding thread owns the session.
    pub(crate) api_open: Arc<AtomicBool>,
    // Keeps a jump host's session and its forwarding thread alive.
    _jump: Option<Box<Conn>>,
}

fn key_kind(t: ssh2::HostKeyType) -> (&'static str, KnownHostKeyFormat) {
    use ssh2::HostKeyType::*;
    match t {
        Rsa => ("rsa", KnownHostKeyFormat::SshRsa),
        Dss => ("dsa", KnownHostKeyFormat::SshDss),
        Ecdsa256 => ("ecdsa", KnownHostKeyFormat::Ecdsa256),
        Ecdsa384 => ("ecdsa", KnownHostKeyFormat::Ecdsa384),
        Ecdsa521 => ("ecdsa", KnownHostKeyFormat::Ecdsa521),
        Ed25519 => ("ed25519", KnownHostKeyFormat::Ed25519),
        Unknown => ("unknown", KnownHostKeyFormat::Unknown),
    }
}

impl HostKeys {
    /// Check a presented key. `Ok(true)` if it must be recorded now.
    fn check(&self, sess: &Session, t: &Target, inventory: &str) -> Result<bool, SshError> {
        let (key, ktype) = sess
            .host_key()
            .ok_or_else(|| proto(&t.name, "host key", "server sent none"))?;
        let (kind, _) = key_kind(ktype);
        let fp = fingerprint(key);
        let mut files = vec![self.site_file.clone()];
        files.extend(self.user_file.clone());
        for f in &files {
            if !f.exists() {
                continue;
            }
            let mut kh = sess
                .known_hosts()
                .map_err(|e| proto(&t.name, "known_hosts", e))?;
            kh.read_file(f, KnownHostFileKind::OpenSSH)
                .map_err(|e| proto(&t.name, &format!("reading {}", f.display()), e))?;
            match kh.check_port(&t.address, t.port, key) {
                CheckResult::Match => return Ok(false),
                CheckResult::Mismatch => {
                    return Err(SshError::ChangedHostKey {
                        host: t.name.clone(),
                        addr: known_hosts_name(&t.address, t.port),
                        fingerprint: fp,
                        file: f.display().to_string(),
                    })
                }
                CheckResult::NotFound => {}
                CheckResult::Failure => return Err(proto(&t.name, "known_hosts", "check failed")),
            }
        }
        if self.accept_new {
            return Ok(true);
        }
        Err(SshError::UnknownHostKey {
            host: t.name.clone(),
            addr: known_hosts_name(&t.address, t.port),
            fingerprint: fp,
            kind: kind.into(),
            inventory: inventory.into(),
        })
    }

    /// Append the session's host key to the site's known_hosts file.
    pub fn record(&self, sess: &Session, t: &Target) -> Result<String, SshError> {
        let (key, ktype) = sess
            .host_key()
            .ok_or_else(|| proto(&t.name, "host key", "server sent none"))?;
        let (_, fmt) = key_kind(ktype);
        let mut kh = sess
            .known_hosts()
            .map_err(|e| proto(&t.name, "known_hosts", e))?;
        if self.site_file.exists() {
            kh.read_file(&self.site_file, KnownHostFileKind::OpenSSH)
                .map_err(|e| proto(&t.name, "known_hosts", e))?;
        }
        kh.add(&known_hosts_name(&t.address, t.port), key, &t.name, fmt)
            .map_err(|e| proto(&t.name, "known_hosts", e))?;
        if let Some(dir) = self
            .site_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| proto(&t.name, "known_hosts", e))?;
        }
        kh.write_file(&self.site_file, KnownHostFileKind::OpenSSH)
            .map_err(|e| proto(&t.name, &format!("writing {}", self.site_file.display()), e))?;
        Ok(fingerprint(key))
    }
}

/// Forward a local loopback port to `addr:port` through a jump host's
/// session, so libssh2 (which needs a socket) can open the next hop.
fn forward_through(jump: &Conn, addr: &str, port: u16) -> Result<TcpStream, SshError> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| proto(&jump.target.name, "jump", e))?;
    let local = listener
        .local_addr()
        .map_err(|e| proto(&jump.target.name, "jump", e))?;
    let mut channel = jump
        .sess
        .channel_direct_tcpip(addr, port, None)
        .map_err(|e| SshError::Unreachable {
            host: jump.target.name.clone(),
            addr: format!("{addr}:{port} via {}", jump.target.name),
            reason: e.to_string(),
        })?;
    let sess = jump.sess.clone();
    std::thread::spawn(move || {
        let Ok((mut sock, _)) = listener.accept() else {
            return;
        };
        let _ = sock.set_nonblocking(true);
        sess.set_blocking(false);
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let mut idle = true;
            match sock.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    idle = false;
                    let mut off = 0;
                    while off < n {
                        match channel.write(&buf[off..n]) {
                            Ok(w) => off += w,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                                std::thread::sleep(Duration::from_millis(1))
                            }
                            Err(_) => return,
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
            match channel.read(&mut buf) {
                Ok(0) if channel.eof() => break,
                Ok(0) => {}
                Ok(n) => {
                    idle = false;
                    let _ = sock.set_nonblocking(false);
                    if sock.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    let _ = sock.set_nonblocking(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
            if idle {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let _ = channel.close();
    });
    TcpStream::connect(local).map_err(|e| proto(&jump.target.name, "jump", e))
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    /// Shown in "run regie hosts trust -i …".
    pub inventory: String,
}

impl Conn {
    pub fn connect(t: &Target, keys: &HostKeys, opts: &Options) -> Result<Conn, SshError> {
        let (tcp, jump) = match &t.jump {
            Some(j) => {
                let jc = Conn::connect(j, keys, opts)?;
                let s = forward_through(&jc, &t.address, t.port)?;
                (s, Some(Box::new(jc)))
            }
            None => {
                let addr = format!("{}:{}", t.address, t.port);
                let unreachable = |reason: String| SshError::Unreachable {
                    host: t.name.clone(),
                    addr: addr.clone(),
                    reason,
                };
                let sa = addr
                    .to_socket_addrs()
                    .map_err(|e| unreachable(e.to_string()))?
                    .next()
                    .ok_or_else(|| unreachable("no address".into()))?;
                let s = TcpStream::connect_timeout(&sa, opts.connect_timeout)
                    .map_err(|e| unreachable(e.to_string()))?;
                (s, None)
            }
        };
        let _ = tcp.set_nodelay(true);
        let mut sess = Session::new().map_err(|e| proto(&t.name, "session", e))?;
        sess.set_tcp_stream(tcp);
        sess.set_timeout(opts.connect_timeout.as_millis() as u32);
        sess.handshake().map_err(|e| SshError::Unreachable {
            host: t.name.clone(),
            addr: format!("{}:{}", t.address, t.port),
            reason: format!("SSH handshake failed: {e}"),
        })?;
        let record = keys.check(&sess, t, &opts.inventory)?;
        authenticate(&sess, t)?;
        if record {
            keys.record(&sess, t)?;
        }
        sess.set_keepalive(true, 15);
        sess.set_timeout(opts.command_timeout.as_millis() as u32);
        Ok(Conn {
            target: t.clone(),
            sess,
            commands: Default::default(),
            command_timeout: opts.command_timeout,
            api_open: Arc::new(AtomicBool::new(false)),
            _jump: jump,
        })
    }

    /// Connect only far enough to read the host key (for `regie hosts trust`).
    pub fn fetch_host_key(t: &Target, opts: &Options) -> Result<(Session, String), SshError> {
        let addr = format!("{}:{}", t.address, t.port);
        let sa = addr
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| SshError::Unreachable {
                host: t.name.clone(),
                addr: addr.clone(),
                reason: "no address".into(),
            })?;
        let tcp = TcpStream::connect_timeout(&sa, opts.connect_timeout).map_err(|e| {
            SshError::Unreachable {
                host: t.name.clone(),
                addr: addr.clone(),
                reason: e.to_string(),
            }
        })?;
        let mut sess = Session::new().map_err(|e| proto(&t.name, "session", e))?;
        sess.set_tcp_stream(tcp);
        sess.set_timeout(opts.connect_timeout.as_millis() as u32);
        sess.handshake()
            .map_err(|e| proto(&t.name, "handshake", e))?;
        let fp = sess
            .host_key_hash(HashType::Sha256)
            .map(|_| ())
            .and(sess.host_key())
            .map(|(k, _)| fingerprint(k));
        Ok((sess, fp.unwrap_or_default()))
    }

    /// How many commands this connection has run: each is one round trip
    /// (a channel), which is what a deploy's remote work is counted in.
    pub fn commands_run(&self) -> u64 {
        self.commands.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Run `script` with `sh -c` (under `sudo -n` when the host needs it),
    /// feeding `stdin`. Values inside `script` must already be quoted.
    /// Fails when the command has not ended within the command timeout.
    pub fn run(&self, script: &str, stdin: &[u8]) -> Result<Output, SshError> {
        let mut input = stdin;
        self.run_streaming(script, &mut input, &mut |_| {})
    }

    /// [`Conn::run`] with `stdin` read from `input` as it is sent (an
    /// image archive of any size), `sent` told the bytes sent so far. The
    /// command timeout counts from the last progress, so a long transfer
    /// fails only when the link stalls for that long.
    pub fn run_streaming(
        &self,
        script: &str,
        input: &mut dyn Read,
        sent: &mut dyn FnMut(u64),
    ) -> Result<Output, SshError> {
        self.commands
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let host = &self.target.name;
        if self.api_open.load(Ordering::SeqCst) {
            // The session is non-blocking and another thread drives it.
            return Err(proto(
                host,
                "run",
                "the Docker API holds the session; close it first",
            ));
        }
        let mut deadline = Instant::now() + self.command_timeout;
        let failed = |what: &str, e: std::io::Error| {
            if e.kind() == ErrorKind::TimedOut {
                let s = self.command_timeout.as_secs();
                proto(host, what, format!("no answer within {s} s ({e})"))
            } else {
                proto(host, what, e)
            }
        };
        let mut ch = patiently(deadline, || Ok(self.sess.channel_session()?))
            .map_err(|e| failed("channel", e))?;
        let cmd = if self.target.sudo && self.target.user != "root" {
            format!("sudo -n sh -c {}", quote(script))
        } else {
            format!("sh -c {}", quote(script))
        };
        patiently(deadline, || Ok(ch.exec(&cmd)?)).map_err(|e| failed("exec", e))?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(proto(host, "reading local data", e)),
            };
            let mut off = 0;
            while off < n {
                match patiently(deadline, || ch.write(&buf[off..n])) {
                    Ok(0) => return Err(proto(host, "sending data", "channel closed")),
                    Ok(w) => {
                        off += w;
                        total += w as u64;
                        deadline = Instant::now() + self.command_timeout;
                    }
                    Err(e) => return Err(failed("sending data", e)),
                }
            }
            sent(total);
        }
        patiently(deadline, || Ok(ch.send_eof()?)).map_err(|e| failed("sending data", e))?;
        let stdout = read_all(&mut ch, deadline).map_err(|e| failed("reading output", e))?;
        let stderr =
            read_all(&mut ch.stderr(), deadline).map_err(|e| failed("reading errors", e))?;
        patiently(deadline, || Ok(ch.wait_close()?)).map_err(|e| failed("closing", e))?;
        let status = ch
            .exit_status()
            .map_err(|e| proto(host, "exit status", e))?;
        Ok(Output {
            stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            status,
        })
    }

    pub fn session(&self) -> &Session {
        &self.sess
    }
}

/// Call a blocking libssh2 operation again when it gave up early.
///
/// With keep-alives on, libssh2 (1.11) in blocking mode waits on the socket
/// only until the next keep-alive is due, and when nothing arrived by then
/// it returns "Timed out waiting on socket" instead of sending the
/// keep-alive and waiting on. Any command that stays silent across that
/// moment would fail, however far its own timeout is. The operation is
/// left in a state where calling it again resumes it (as after `EAGAIN`),
/// so it is called again, which sends the keep-alive, until `deadline`.
fn patiently<T>(
    deadline: Instant,
    mut op: impl FnMut() -> std::io::Result<T>,
) -> std::io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == ErrorKind::TimedOut && Instant::now() < deadline => {}
            r => return r,
        }
    }
}

/// Read a channel stream to its end (see [`patiently`]).
fn read_all(r: &mut impl Read, deadline: Instant) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match patiently(deadline, || r.read(&mut buf)) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn authenticate(sess: &Session, t: &Target) -> Result<(), SshError> {
    let auth_err = |reason: String| SshError::Auth {
        host: t.name.clone(),
        user: t.user.clone(),
        reason,
    };
    let mut tried = Vec::new();
    if let Some(id) = &t.identity {
        match sess.userauth_pubkey_file(&t.user, None, id, None) {
            Ok(()) if sess.authenticated() => return Ok(()),
            Ok(()) => tried.push(format!("key {}: not accepted", id.display())),
            Err(e) => tried.push(format!("key {}: {e}", id.display())),
        }
    }
    if std::env::var_os("SSH_AUTH_SOCK").is_some() {
        match sess.userauth_agent(&t.user) {
            Ok(()) if sess.authenticated() => return Ok(()),
            Ok(()) => tried.push("ssh-agent: no key accepted".into()),
            Err(e) => tried.push(format!("ssh-agent: {e}")),
        }
    }
    if t.identity.is_none() {
        if let Some(home) = std::env::var_os("HOME") {
            for n in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                let p = Path::new(&home).join(".ssh").join(n);
                if p.exists() {
                    match sess.userauth_pubkey_file(&t.user, None, &p, None) {
                        Ok(()) if sess.authenticated() => return Ok(()),
                        _ => tried.push(format!("key {}: not accepted", p.display())),
                    }
                }
            }
        }
    }
    if tried.is_empty() {
        tried.push("no identity file and no ssh-agent".into());
    }
    Err(auth_err(tried.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_hostile_values() {
        assert_eq!(quote("plain"), "'plain'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$(rm -rf /); `x`"), "'$(rm -rf /); `x`'");
    }

    #[test]
    fn quoted_values_reach_the_shell_unchanged() {
        for v in [
            "a b",
            "it's",
            "$(echo pwned)",
            "`id`",
            "x\ny",
            "\\",
            "'\"'",
            "--flag",
            "*",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", quote(v)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), v);
        }
    }

    #[test]
    fn known_hosts_names() {
        assert_eq!(known_hosts_name("192.0.2.1", 22), "192.0.2.1");
        assert_eq!(known_hosts_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
    }
}

/// What `~/.ssh/config` says about a host (first value wins, as in OpenSSH).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigEntry {
    pub host_name: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_file: Option<String>,
    pub proxy_jump: Option<String>,
}

fn glob(pattern: &str, s: &str) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], s) || (!s.is_empty() && m(p, &s[1..])),
            (Some(b'?'), Some(_)) => m(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    m(pattern.as_bytes(), s.as_bytes())
}

/// Look up `names` (the inventory address, then the host's name) in the
/// text of an ssh config file. Supports `Host` patterns with `*`, `?` and
/// `!` negation; `Match` blocks are skipped; `Include` is not followed.
pub fn lookup_config(text: &str, names: &[&str]) -> ConfigEntry {
    let mut e = ConfigEntry::default();
    let mut active = true; // lines before the first Host apply to all
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(|c: char| c.is_whitespace() || c == '=') {
            Some((k, v)) => (
                k.to_ascii_lowercase(),
                v.trim_start_matches(|c: char| c.is_whitespace() || c == '=')
                    .trim(),
            ),
            None => continue,
        };
        let value = value.trim_matches('"');
        match key.as_str() {
            "host" => {
                let pats: Vec<&str> = value.split_whitespace().collect();
                active = names.iter().any(|n| {
                    let neg = pats
                        .iter()
                        .filter_map(|p| p.strip_prefix('!'))
                        .any(|p| glob(p, n));
                    !neg && pats
                        .iter()
                        .filter(|p| !p.starts_with('!'))
                        .any(|p| glob(p, n))
                });
            }
            "match" => active = false,
            _ if !active => {}
            "hostname" => {
                e.host_name.get_or_insert_with(|| value.to_string());
            }
            "user" => {
                e.user.get_or_insert_with(|| value.to_string());
            }
            "port" if e.port.is_none() => {
                e.port = value.parse().ok();
            }
            "identityfile" => {
                e.identity_file.get_or_insert_with(|| value.to_string());
            }
            "proxyjump" if !value.eq_ignore_ascii_case("none") => {
                e.proxy_jump
                    .get_or_insert_with(|| value.split(',').next().unwrap_or(value).to_string());
            }
            _ => {}
        }
    }
    e
}

#[cfg(test)]
mod config_tests {
    use super::*;

    const CONF: &str = "\
User fallback-ignored-if-later-set\n\
# clients of the provider\n\
Host *.techniville.fr srv1-tv\n\
    HostName 198.51.100.10\n\
    User admin\n\
    Port 2222\n\
    IdentityFile ~/.ssh/techniville\n\
    ProxyJump bastion.example.fr\n\
Host * !nas*\n\
    User root\n\
    Port 22\n\
Match host foo\n\
    User nope\n";

    #[test]
    fn first_match_wins_and_patterns_apply() {
        let e = lookup_config(CONF, &["srv1-tv"]);
        assert_eq!(e.host_name.as_deref(), Some("198.51.100.10"));
        assert_eq!(e.user.as_deref(), Some("fallback-ignored-if-later-set"));
        assert_eq!(e.port, Some(2222));
        assert_eq!(e.identity_file.as_deref(), Some("~/.ssh/techniville"));
        assert_eq!(e.proxy_jump.as_deref(), Some("bastion.example.fr"));
        let e = lookup_config(
            "Host *\n  User root\n  Port 22\nHost nas1\n  Port 2200\n",
            &["nas1"],
        );
        assert_eq!(e.port, Some(22));
        let e = lookup_config("Host * !nas*\n  User root\n", &["nas1"]);
        assert_eq!(e.user, None);
        let e = lookup_config("Host=web?\n  User=www\n", &["web1"]);
        assert_eq!(e.user.as_deref(), Some("www"));
    }
}
