//! The rendered Caddyfile run by a real Caddy (Debian's `caddy` package),
//! on a LAN example whose proxy uses `tls internal`: it must load as
//! rendered, serve HTTPS with its internal CA, and apply the access rules
//! the catalog relies on. Only the ports, the admin address and the data
//! directory are changed, so the test needs neither root nor port 443.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Caddy(Child);

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The proxy's Caddyfile and env file of the example host serving the wiki.
fn wiki_proxy(out: &Path) -> (String, String, String) {
    let files = common::render_example("asso-lan", out);
    let (path, caddyfile) = files
        .iter()
        .find(|(p, c)| {
            p.ends_with("proxy/config/Caddyfile") && String::from_utf8_lossy(c).contains("wiki.")
        })
        .expect("a host of asso-lan proxies the wiki");
    let host = path.split('/').next().unwrap().to_string();
    let env = String::from_utf8(files[&format!("{host}/proxy/proxy.env")].clone()).unwrap();
    (host, String::from_utf8(caddyfile.clone()).unwrap(), env)
}

/// `curl` status code of a request to `name` on 127.0.0.1 (`-k`: the
/// certificate comes from Caddy's internal CA).
fn status_of(scheme: &str, name: &str, port: u16, path: &str) -> String {
    let o = Command::new("curl")
        .args([
            "-sk",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
        ])
        .arg("--resolve")
        .arg(format!("{name}:{port}:127.0.0.1"))
        .arg(format!("{scheme}://{name}:{port}{path}"))
        .output()
        .expect("curl is installed");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn status(name: &str, port: u16, path: &str) -> String {
    status_of("https", name, port, path)
}

#[test]
fn the_rendered_caddyfile_loads_and_guards_the_wiki_installer() {
    let tmp = tempfile::tempdir().unwrap();
    let (_host, caddyfile, env) = wiki_proxy(&tmp.path().join("out"));
    let key = env
        .lines()
        .find_map(|l| l.strip_prefix("REGIE_WIKI_INSTALL_KEY="))
        .expect("proxy.env holds the installer key");
    assert!(key.len() >= 24, "a short key: {}", key.len());
    let (http, https, admin) = (free_port(), free_port(), free_port());
    let rendered_admin = "\tadmin 127.0.0.1:2019\n";
    assert!(caddyfile.contains(rendered_admin), "{caddyfile}");
    let cf = caddyfile.replacen(
        rendered_admin,
        &format!("\tadmin 127.0.0.1:{admin}\n\thttp_port {http}\n\thttps_port {https}\n\tskip_install_trust\n"),
        1,
    );
    let dir = tmp.path().join("caddy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Caddyfile"), cf).unwrap();
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(dir.join("Caddyfile"))
        .env("REGIE_WIKI_INSTALL_KEY", key)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("HOME", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("caddy is installed (Debian package `caddy`)");
    let mut caddy = Caddy(child);
    let name = "wiki.jardins.lan.example";
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = caddy.0.try_wait().unwrap() {
            let mut err = String::new();
            caddy
                .0
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("caddy exited ({st}) on the rendered Caddyfile:\n{err}");
        }
        if status(name, https, "/doku.php") != "000" {
            break;
        }
        assert!(Instant::now() < until, "caddy did not serve HTTPS in 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Without the key, or with another, the installer is refused by the
    // proxy; with it, the request goes on to the wiki (absent here: 502).
    assert_eq!(status(name, https, "/install.php"), "403");
    assert_eq!(status(name, https, "/install.php?key=guess"), "403");
    assert_eq!(status(name, https, "/install.php?key="), "403");
    assert_eq!(
        status(name, https, &format!("/install.php?key={key}")),
        "502"
    );
    // The rest of the wiki is not behind the key.
    assert_eq!(status(name, https, "/doku.php"), "502");
    // Plain HTTP redirects to HTTPS.
    assert_eq!(status_of("http", name, http, "/"), "308");
}

/// `caddy validate` on every proxy Caddyfile that the example inventories
/// render, ACME (public hosts) and internal CA (LAN hosts) alike, with the
/// values of the host's proxy.env: a template change that Caddy cannot
/// load fails here. Every `{$NAME}` the file reads must be in proxy.env.
#[test]
fn every_rendered_caddyfile_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let mut examples: Vec<String> = std::fs::read_dir("inventories")
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            n.strip_suffix(".yml").map(String::from)
        })
        .collect();
    examples.sort();
    assert!(examples.len() >= 3, "{examples:?}");
    let (mut checked, mut acme, mut internal) = (0, 0, 0);
    for ex in &examples {
        let files = common::render_example(ex, &tmp.path().join(ex));
        for (path, cf) in files
            .iter()
            .filter(|(p, _)| p.ends_with("/proxy/config/Caddyfile"))
        {
            let host = path.split('/').next().unwrap();
            let cf = String::from_utf8(cf.clone()).unwrap();
            let env = String::from_utf8(files[&format!("{host}/proxy/proxy.env")].clone()).unwrap();
            let vars: Vec<(&str, &str)> = env
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('='))
                .collect();
            for used in cf.split("{$").skip(1) {
                let name = used.split('}').next().unwrap();
                assert!(
                    vars.iter().any(|(k, _)| *k == name),
                    "{ex}/{path} reads {{${name}}}, not in proxy.env"
                );
            }
            if cf.contains("\ttls internal\n") {
                internal += 1;
            } else {
                assert!(
                    cf.contains("\temail "),
                    "{ex}/{path}: neither ACME nor internal"
                );
                acme += 1;
            }
            let dir = tmp.path().join(format!("v-{ex}-{host}"));
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("Caddyfile");
            std::fs::write(&file, &cf).unwrap();
            let o = Command::new("caddy")
                .args(["validate", "--adapter", "caddyfile", "--config"])
                .arg(&file)
                .envs(vars.iter().copied())
                .env("XDG_DATA_HOME", dir.join("data"))
                .env("XDG_CONFIG_HOME", dir.join("config"))
                .env("HOME", &dir)
                .output()
                .expect("caddy is installed (Debian package `caddy`)");
            assert!(
                o.status.success(),
                "caddy validate refuses {ex}/{path}:\n{}\n{cf}",
                String::from_utf8_lossy(&o.stderr)
            );
            checked += 1;
        }
    }
    assert!(acme > 0 && internal > 0, "acme {acme}, internal {internal}");
    eprintln!("caddy validate: {checked} Caddyfiles ({acme} ACME, {internal} internal CA)");
}
