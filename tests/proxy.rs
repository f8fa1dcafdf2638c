//! The proxy stack deployed by `regie deploy` on the test bed, with a real
//! Caddy (regie-caddy:1, Debian's package laid out as the upstream image):
//! a LAN site (`tls internal`) serves a small web stack over HTTPS through
//! the rendered Caddyfile, and a client container trusts only the root
//! that `regie proxy root-ca` hands out, as the docs tell LAN clients to.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::regie;
use common::testbed::{docker, TestBed};

/// A busybox web stack served through the proxy at web.<domain>.
fn add_web_stack(tb: &TestBed) {
    let cat = tb.dir.path().join("catalog");
    std::fs::write(
        cat.join("stacks/web.yml"),
        "name: web\n\
         description: Test stack, a static page behind the reverse proxy\n\
         subdomain: web\n\
         web: { component: app, port: 8080 }\n\
         min_ram_mb: 16\n\
         components:\n  app: { image: regie-busybox, tag: \"1\", main: true }\n\
         upgrade: { policy: same-major }\n\
         files:\n\
         \x20 - { template: web/index.html.tera, path: www/index.html }\n\
         \x20 - { template: web/docker-compose.yml.tera, path: docker-compose.yml }\n",
    )
    .unwrap();
    let t = cat.join("templates/web");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        t.join("index.html.tera"),
        "web stack of {{ site.name | token }} at {{ stack.hostname | token }}\n",
    )
    .unwrap();
    std::fs::write(
        t.join("docker-compose.yml.tera"),
        r#"version: "2.4"
services:
  app:
    image: {{ stack.images.app | yaml }}
    command: ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]
    stop_signal: SIGKILL
    volumes:
      - ./www:/www:ro
    labels:
      regie.site: {{ site.name | yaml }}
      regie.config-hash: {{ config_hash | yaml }}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      timeout: 2s
      retries: 2
    networks:
      proxy:
        aliases: ["{{ stack.name | token }}-app"]
networks:
  proxy:
    external: true
    name: {{ proxy_network | yaml }}
"#,
    )
    .unwrap();
}

/// The proxy container's address on the site's proxy network.
fn proxy_ip(tb: &TestBed, network: &str) -> String {
    let id = tb.container_of("proxy", "caddy");
    let o = docker(&[
        "inspect",
        "-f",
        &format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}"),
        &id,
    ]);
    let ip = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(!ip.is_empty(), "the proxy is on {network}");
    ip
}

/// curl from a fresh client container on the proxy network; `cacert`: the
/// one root it trusts (none: only the image's public roots).
fn client_get(
    network: &str,
    url: &str,
    resolve: &str,
    cacert: Option<&std::path::Path>,
) -> std::process::Output {
    let mut args = vec![
        "run".to_string(),
        "--rm".into(),
        "--network".into(),
        network.into(),
    ];
    if let Some(c) = cacert {
        args.extend(["-v".into(), format!("{}:/tmp/root.crt:ro", c.display())]);
    }
    args.extend(
        [
            "regie-caddy:1",
            "curl",
            "-sS",
            "--max-time",
            "20",
            "--resolve",
            resolve,
        ]
        .map(String::from),
    );
    if cacert.is_some() {
        args.extend(["--cacert".into(), "/tmp/root.crt".into()]);
    }
    args.push(url.into());
    Command::new("docker")
        .args(&args)
        .output()
        .expect("docker CLI")
}

#[test]
fn a_lan_site_serves_https_through_the_rendered_caddyfile_to_clients_trusting_the_root() {
    let tb = TestBed::new(1);
    let inv = tb.inventory("  web:\n    host: srv1\n", "");
    add_web_stack(&tb);
    let mut y = std::fs::read_to_string(&inv).unwrap();
    y.push_str("proxy: { tls: internal, images: { caddy: \"regie-caddy:1\" } }\n");
    std::fs::write(&inv, y).unwrap();

    let d = regie()
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    assert!(
        d.status.success(),
        "deploy: {}\n{}",
        String::from_utf8_lossy(&d.stdout),
        String::from_utf8_lossy(&d.stderr)
    );
    let rendered =
        std::fs::read_to_string(tb.host("srv1").base.join("proxy/config/Caddyfile")).unwrap();
    assert!(rendered.contains("tls internal"), "{rendered}");

    // The operator's way to the root: printed, and written to a file.
    let root = tb.dir.path().join("root.crt");
    let o = regie()
        .args(["proxy", "root-ca", "-i"])
        .arg(&inv)
        .arg("-o")
        .arg(&root)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "root-ca: {err}");
    let pem = std::fs::read_to_string(&root).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
    assert!(!pem.contains("PRIVATE"));
    let printed = regie()
        .args(["proxy", "root-ca", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    assert!(printed.status.success());
    assert_eq!(String::from_utf8_lossy(&printed.stdout), pem);
    // The fingerprint regie shows is the one openssl computes.
    let f = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&root)
        .output()
        .expect("openssl");
    let f = String::from_utf8_lossy(&f.stdout);
    let fp = f.trim().rsplit('=').next().unwrap();
    assert_eq!(fp.len(), 95, "{f}");
    assert!(
        err.contains(&format!("srv1: SHA-256 fingerprint {fp}")),
        "{err}"
    );
    // It is the local CA's root: self-signed, a CA.
    let t = Command::new("openssl")
        .args([
            "x509",
            "-noout",
            "-subject",
            "-issuer",
            "-ext",
            "basicConstraints",
            "-in",
        ])
        .arg(&root)
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&t.stdout);
    assert!(t.contains("CA:TRUE"), "{t}");

    // A client trusting only that root gets the web stack's page over HTTPS.
    let network = format!("{}_proxy", tb.site);
    let name = "web.test.example";
    let resolve = format!("{name}:443:{}", proxy_ip(&tb, &network));
    let url = format!("https://{name}/");
    let until = Instant::now() + Duration::from_secs(60);
    let body = loop {
        let o = client_get(&network, &url, &resolve, Some(&root));
        if o.status.success() {
            break String::from_utf8_lossy(&o.stdout).into_owned();
        }
        assert!(
            Instant::now() < until,
            "no HTTPS answer in 60 s: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    assert_eq!(body, format!("web stack of {} at {name}\n", tb.site));
    // Without that root the same client refuses the certificate (curl exit
    // 60): the trust comes from the file, not from the image.
    let o = client_get(&network, &url, &resolve, None);
    assert_eq!(
        o.status.code(),
        Some(60),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Plain HTTP is redirected to HTTPS.
    let o = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            &network,
            "regie-caddy:1",
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "--resolve",
        ])
        .arg(format!("{name}:80:{}", proxy_ip(&tb, &network)))
        .arg(format!("http://{name}/"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("308 {url}"));
}
