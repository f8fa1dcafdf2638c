//! Upstream facts: what the catalog relies on about each image it runs
//! (the user, whether there is a shell, which programs exist, the CPU
//! architectures published, the image's own healthcheck...), one file per
//! stack in `stacks/facts/<stack>.yml`, each fact with the upstream file or
//! issue it was read from. Loaded with the catalog; the checks here say
//! whether a command, a compose healthcheck or a hook's user can work in an
//! image, so tests and validation catch a template that runs `curl` in an
//! image without it.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::site::arch::Arch;

/// The facts of one stack's images, by component.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StackFacts {
    pub stack: String,
    pub components: BTreeMap<String, ImageFacts>,
}

/// What is known about one image at one tag.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageFacts {
    /// The image as the descriptor writes it (placeholders included).
    pub image: String,
    /// The tag the facts were checked for, suffix included (`34.0.2-apache`).
    pub tag: String,
    /// The account the main process runs as once started.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub uid: Option<u32>,
    /// Accounts that exist in the image (usable as `docker exec -u`).
    pub users: Vec<String>,
    /// The image has `/bin/sh` (needed by `CMD-SHELL` and `sh -c`).
    pub shell: bool,
    /// Programs present: bare names are on the PATH, absolute paths exact.
    pub programs: Vec<String>,
    /// Programs known to be missing (said so a reader does not assume them).
    #[serde(default)]
    pub absent: Vec<String>,
    /// CPU architectures the tag is published for.
    pub archs: Vec<String>,
    /// The image's own HEALTHCHECK as a compose `test` (`[]`: none).
    pub healthcheck: Vec<String>,
    /// Database roles the image or its application's installer creates.
    #[serde(default)]
    pub db_roles: Vec<String>,
    /// Ports the service listens on inside the container.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Paths the templates mount or write, and what the image does there.
    #[serde(default)]
    pub paths: BTreeMap<String, String>,
    /// Environment the image sets that the catalog relies on.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Variables the image's entrypoint also reads from the file that
    /// `<NAME>_FILE` names (a secret passed as a file, not in the environment).
    #[serde(default)]
    pub file_env: Vec<String>,
    /// Fact name -> where it was read (repository, path, tag or commit; or
    /// an issue address).
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// Fact name -> why it could not be checked and what evidence there is.
    #[serde(default)]
    pub unverified: BTreeMap<String, String>,
}

/// Shell words that are not programs looked up in the image.
const BUILTINS: [&str; 12] = [
    "exit", "true", "false", "test", "[", "echo", "command", "set", "cd", "export", "!", "exec",
];

impl ImageFacts {
    /// The names of the facts this entry states (each needs a source).
    fn stated(&self) -> Vec<&'static str> {
        let mut v = vec!["users", "shell", "programs", "archs", "healthcheck"];
        let opt = [
            ("user", self.user.is_some()),
            ("uid", self.uid.is_some()),
            ("absent", !self.absent.is_empty()),
            ("db_roles", !self.db_roles.is_empty()),
            ("ports", !self.ports.is_empty()),
            ("paths", !self.paths.is_empty()),
            ("env", !self.env.is_empty()),
            ("file_env", !self.file_env.is_empty()),
        ];
        v.extend(opt.iter().filter(|(_, on)| *on).map(|(k, _)| *k));
        v
    }

    /// The architectures, parsed (checked at load).
    pub fn arches(&self) -> Vec<Arch> {
        self.archs.iter().filter_map(|a| Arch::parse(a)).collect()
    }

    /// Whether the architecture list was read from upstream.
    pub fn archs_verified(&self) -> bool {
        !self.unverified.contains_key("archs")
    }

    fn check(&self, o: &str) -> Result<()> {
        for f in self.stated() {
            if !self.sources.contains_key(f) && !self.unverified.contains_key(f) {
                bail!("{o}: fact `{f}` has neither a source nor an `unverified` note");
            }
        }
        for k in self.sources.keys().chain(self.unverified.keys()) {
            if !self.stated().contains(&k.as_str()) {
                bail!("{o}: `{k}` is not a fact stated here (sources and unverified name facts)");
            }
        }
        if self.archs.is_empty() {
            bail!("{o}: `archs` is empty");
        }
        for a in &self.archs {
            match Arch::parse(a) {
                Some(p) if p.as_str() == a => {}
                Some(p) => bail!("{o}: architecture `{a}` is written `{p}`"),
                None => bail!("{o}: unknown architecture `{a}`"),
            }
        }
        if let Some(p) = self.programs.iter().find(|p| self.absent.contains(p)) {
            bail!("{o}: `{p}` is listed both present and absent");
        }
        if self.shell && self.absent.iter().any(|p| p == "sh") {
            bail!("{o}: `shell: true` but `sh` is listed absent");
        }
        if let Some(u) = &self.user {
            if !self.users.contains(u) {
                bail!("{o}: the running user `{u}` is not among `users`");
            }
        }
        if !self.healthcheck.is_empty() {
            self.check_healthcheck(&self.healthcheck)
                .map_err(|e| anyhow::anyhow!("{o}: the image's own healthcheck: {e}"))?;
        }
        Ok(())
    }

    /// Whether `program` (a command's first word) exists in the image.
    pub fn has_program(&self, program: &str) -> bool {
        if program == "sh" || program == "/bin/sh" {
            return self.shell;
        }
        self.programs.iter().any(|p| {
            p == program || (!program.contains('/') && p.rsplit('/').next() == Some(program))
        })
    }

    /// A command run with `docker exec` or as an exec-form healthcheck.
    pub fn check_command(&self, cmd: &[String]) -> Result<(), String> {
        let Some(prog) = cmd.first() else {
            return Err("empty command".into());
        };
        if !self.has_program(prog) {
            return Err(format!("runs `{prog}`, which the image does not have"));
        }
        if (prog == "sh" || prog.ends_with("/sh")) && cmd.get(1).map(String::as_str) == Some("-c") {
            if let Some(script) = cmd.get(2) {
                return self.check_shell(script);
            }
        }
        Ok(())
    }

    /// A shell command line: needs `sh`, and every program it starts.
    pub fn check_shell(&self, script: &str) -> Result<(), String> {
        if !self.shell {
            return Err("needs a shell, and the image has no `sh`".into());
        }
        for part in script.split(['|', '&', ';', '(', ')', '\n']) {
            let Some(word) = part.split_whitespace().next() else {
                continue;
            };
            if BUILTINS.contains(&word) || word.contains('=') {
                continue;
            }
            if !self.has_program(word) {
                return Err(format!("runs `{word}`, which the image does not have"));
            }
        }
        Ok(())
    }

    /// A compose healthcheck `test` (list form, or a string for CMD-SHELL).
    pub fn check_healthcheck(&self, test: &[String]) -> Result<(), String> {
        match test.first().map(String::as_str) {
            Some("NONE") => Ok(()),
            Some("CMD") => self.check_command(&test[1..]),
            Some("CMD-SHELL") => self.check_shell(&test[1..].join(" ")),
            _ => Err(format!("unknown healthcheck form {test:?}")),
        }
    }

    /// A `user:` of a hook or a compose service.
    pub fn check_user(&self, user: &str) -> Result<(), String> {
        let name = user.split(':').next().unwrap_or(user);
        if self.users.iter().any(|u| u == name) || name.parse::<u32>().is_ok_and(|n| n == 0) {
            return Ok(());
        }
        if self.uid.is_some_and(|u| u.to_string() == name) {
            return Ok(());
        }
        Err(format!(
            "runs as `{user}`, which is not an account of the image ({})",
            self.users.join(", ")
        ))
    }
}

impl StackFacts {
    pub fn parse(name: &str, src: &str, origin: &str) -> Result<StackFacts> {
        let f: StackFacts = serde_yaml::from_str(src)
            .map_err(|e| anyhow::anyhow!("upstream facts {origin} are invalid: {e}"))?;
        if f.stack != name {
            bail!(
                "upstream facts {origin} are for stack `{}` but the file is named `{name}.yml`",
                f.stack
            );
        }
        for (c, i) in &f.components {
            i.check(&format!("{origin}: {c}"))?;
        }
        Ok(f)
    }
}

/// Problems of a rendered compose file (a stack's or a drill copy) against
/// the facts: each service's healthcheck, `user:` and `entrypoint` must work
/// in its image. Services are matched to components by their
/// `regie.stack` and `regie.component` labels; a component without facts is
/// named too, so a stack cannot slip past unchecked.
pub fn audit_compose(
    facts: impl Fn(&str, &str) -> Option<ImageFacts>,
    file: &str,
    src: &str,
) -> Vec<String> {
    let mut bad = Vec::new();
    let doc: serde_yaml::Value = match serde_yaml::from_str(src) {
        Ok(d) => d,
        Err(e) => return vec![format!("{file}: not YAML: {e}")],
    };
    let Some(services) = doc.get("services").and_then(|s| s.as_mapping()) else {
        return vec![format!("{file}: no services")];
    };
    let strs = |v: &serde_yaml::Value| -> Vec<String> {
        match v {
            serde_yaml::Value::String(s) => vec![s.clone()],
            serde_yaml::Value::Sequence(s) => s
                .iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect(),
            _ => Vec::new(),
        }
    };
    for (name, svc) in services {
        let name = name.as_str().unwrap_or_default();
        let label = |k: &str| {
            svc.get("labels")
                .and_then(|l| l.get(k))
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let (stack, comp) = (label("regie.stack"), label("regie.component"));
        let Some(f) = facts(&stack, &comp) else {
            bad.push(format!(
                "{file}: service `{name}` ({stack}/{comp}) has no upstream facts"
            ));
            continue;
        };
        let at = format!("{file}: service `{name}` ({} {})", f.image, f.tag);
        if let Some(t) = svc.get("healthcheck").and_then(|h| h.get("test")) {
            let test = match t {
                serde_yaml::Value::String(s) => vec!["CMD-SHELL".to_string(), s.clone()],
                _ => strs(t),
            };
            if let Err(e) = f.check_healthcheck(&test) {
                bad.push(format!("{at}: healthcheck {e}"));
            }
        }
        if let Some(u) = svc.get("user").and_then(|u| u.as_str()) {
            if let Err(e) = f.check_user(u) {
                bad.push(format!("{at}: {e}"));
            }
        }
        if let Some(e) = svc.get("entrypoint") {
            let cmd = strs(e);
            let res = match e {
                serde_yaml::Value::String(s) if s.contains(' ') => f.check_shell(s),
                _ => f.check_command(&cmd),
            };
            if let Err(e) = res {
                bad.push(format!("{at}: entrypoint {e}"));
            }
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distroless() -> ImageFacts {
        serde_yaml::from_str(
            r#"
image: example/app
tag: "1"
user: app
users: [root, app]
shell: false
programs: [/app/bin/ctl, /app/bin/app]
absent: [curl, sh]
archs: [amd64]
healthcheck: ["CMD", "/app/bin/ctl", "status"]
sources: { user: s, users: s, shell: s, programs: s, absent: s, archs: s, healthcheck: s }
"#,
        )
        .unwrap()
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_distroless_image_gets_no_shell_and_no_curl() {
        let f = distroless();
        f.check("t").unwrap();
        assert!(f
            .check_healthcheck(&v(&["CMD", "/app/bin/ctl", "status"]))
            .is_ok());
        assert!(
            f.check_healthcheck(&v(&["CMD", "ctl", "status"])).is_ok(),
            "on PATH by name"
        );
        let curl = f.check_healthcheck(&v(&["CMD", "curl", "-f", "http://localhost/"]));
        assert!(curl.unwrap_err().contains("`curl`"));
        let sh = f.check_healthcheck(&v(&["CMD-SHELL", "/app/bin/ctl status || exit 1"]));
        assert!(sh.unwrap_err().contains("no `sh`"));
        assert!(f.check_command(&v(&["sh", "-c", "true"])).is_err());
    }

    #[test]
    fn a_shell_line_needs_each_program() {
        let mut f = distroless();
        f.shell = true;
        f.absent.clear();
        f.programs.extend(v(&["ss", "grep"]));
        assert!(f
            .check_shell("ss --listening --tcp | grep -q ':smtp' || exit 1")
            .is_ok());
        let e = f.check_shell("ss -lt | awk '/smtp/'").unwrap_err();
        assert!(e.contains("`awk`"), "{e}");
        assert!(f
            .check_command(&v(&["sh", "-c", "wget -q http://x/"]))
            .is_err());
    }

    #[test]
    fn users_must_exist() {
        let f = distroless();
        assert!(f.check_user("app").is_ok());
        assert!(f.check_user("0").is_ok());
        assert!(f.check_user("www-data").unwrap_err().contains("root, app"));
    }

    #[test]
    fn every_fact_needs_a_source() {
        let mut f = distroless();
        f.sources.remove("archs");
        assert!(f.check("t").unwrap_err().to_string().contains("`archs`"));
        f.unverified
            .insert("archs".into(), "no build file found".into());
        f.check("t").unwrap();
        assert!(!f.archs_verified());
        f.archs = v(&["x86_64"]);
        assert!(f
            .check("t")
            .unwrap_err()
            .to_string()
            .contains("written `amd64`"));
        let mut g = distroless();
        g.healthcheck = v(&["CMD", "curl", "-f", "http://x/"]);
        assert!(
            g.check("t").is_err(),
            "the image's own check must fit its facts"
        );
    }

    #[test]
    fn compose_services_are_checked_by_label() {
        let src = r#"
services:
  app:
    image: example/app:1
    labels: { regie.stack: s, regie.component: app }
    user: www-data
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost/"]
  other:
    image: x
    labels: { regie.stack: s, regie.component: other }
"#;
        let bad = audit_compose(
            |s, c| (s == "s" && c == "app").then(distroless),
            "s/docker-compose.yml",
            src,
        );
        assert_eq!(bad.len(), 3, "{bad:#?}");
        assert!(bad[0].contains("healthcheck runs `curl`"));
        assert!(bad[1].contains("`www-data`"));
        assert!(bad[2].contains("`other` (s/other) has no upstream facts"));
    }
}
