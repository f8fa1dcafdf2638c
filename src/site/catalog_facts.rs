//! The catalog with its upstream facts: which facts apply to a
//! component's image, and the descriptor's hooks and dumps checked against
//! them when the catalog loads (a second `impl Catalog`, beside the
//! descriptor schema of `catalog.rs`).

use anyhow::{bail, Result};

use crate::site::catalog::Catalog;
use crate::site::facts::ImageFacts;

impl Catalog {
    /// The facts of a component's image, when they were checked for the
    /// image and tag the descriptor pins (after an image bump without new
    /// facts, none: nothing is assumed about the new image).
    pub fn image_facts(&self, stack: &str, component: &str) -> Option<&ImageFacts> {
        let c = self.stacks.get(stack)?.components.get(component)?;
        let f = self.facts.get(stack)?.components.get(component)?;
        (f.image == c.image && f.tag == format!("{}{}", c.tag, c.suffix)).then_some(f)
    }

    /// Facts name known components, and every command and user the
    /// descriptor's hooks and dumps use works in the image they run in.
    pub(crate) fn check_facts(&self, name: &str) -> Result<()> {
        let d = &self.stacks[name];
        if let Some(f) = self.facts.get(name) {
            if let Some(c) = f.components.keys().find(|c| !d.components.contains_key(*c)) {
                bail!("upstream facts of `{name}` name unknown component `{c}`");
            }
        }
        let o = &self.origin[name];
        let hooks = d.backup.before.iter().chain(&d.backup.after);
        let hooks = hooks.chain(&d.backup.after_restore).chain(&d.upgrade.after);
        let mut uses: Vec<(&str, Option<&str>, Vec<String>)> = hooks
            .map(|x| (x.component.as_str(), x.user.as_deref(), x.command.clone()))
            .collect();
        // Dumps as they run: a `postgres:` dump's commands are built from it.
        for x in &d.backup.dumps {
            uses.push((&x.component, None, x.dump_command()));
            uses.push((&x.component, None, x.restore_command()));
            if let Some(c) = x.check_command() {
                uses.push((&x.component, None, c));
            }
        }
        for (comp, user, cmd) in uses {
            let cmd = cmd.as_slice();
            let Some(f) = self.image_facts(name, comp) else {
                continue;
            };
            let r = user.map_or(Ok(()), |u| f.check_user(u));
            if let Err(e) = r.and_then(|_| f.check_command(cmd)) {
                bail!("{o}: `{}` in component `{comp}` {e}", cmd.join(" "));
            }
        }
        // A secret passed as a file (`NAME_FILE=` in an env file) is read
        // only by an image whose entrypoint is known to read NAME_FILE.
        if let Some(f) = self.facts.get(name) {
            for spec in d.files.iter().filter(|x| x.template.ends_with(".env.tera")) {
                let src = self
                    .templates
                    .get(&spec.template)
                    .map_or("", String::as_str);
                for var in file_env_vars(src) {
                    if !f.components.values().any(|c| c.file_env.contains(&var)) {
                        bail!(
                            "{o}: {} sets {var}_FILE, but no component's upstream facts say its image reads {var} from a file (file_env)",
                            spec.template
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// The NAME of each `NAME_FILE=` line of an env file template.
fn file_env_vars(src: &str) -> Vec<String> {
    src.lines()
        .filter_map(|l| l.trim().split_once('=').map(|(k, _)| k))
        .filter_map(|k| k.strip_suffix("_FILE"))
        .filter(|k| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::file_env_vars;

    #[test]
    fn file_variables_of_an_env_template() {
        let src = "# c\nPOSTGRES_PASSWORD_FILE=/run/secrets/db_password\nX=1\nNEXTCLOUD_ADMIN_PASSWORD_FILE=/a\n";
        assert_eq!(
            file_env_vars(src),
            ["POSTGRES_PASSWORD", "NEXTCLOUD_ADMIN_PASSWORD"]
        );
        assert!(file_env_vars("A=1\n# B_FILE is explained\n").is_empty());
    }
}
