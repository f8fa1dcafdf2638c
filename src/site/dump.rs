//! A stack's database dumps (`backup.dumps` in a descriptor): the commands
//! that write and load them and, for PostgreSQL, the roles file captured
//! beside each dump so that a restore into a fresh cluster finds the roles
//! owning its objects (Nextcloud's installer makes its own, `oc_admin`).

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dump {
    pub component: String,
    /// A PostgreSQL database: regie makes the dump, restore and check
    /// commands, captures the cluster's roles beside the dump and creates
    /// the missing ones before loading it (see `Postgres`). Without it,
    /// `command` and `restore` are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<Postgres>,
    /// Writes the dump on stdout (not with `postgres`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Reads the dump on stdin (not with `postgres`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restore: Vec<String>,
    pub file: String,
    /// The volume holding the live database: emptied before a dump is
    /// loaded back, so the restore starts from a fresh database.
    #[serde(default)]
    pub volume: Option<String>,
    /// A command printing a short value (e.g. a count of tables) recorded
    /// at backup time and compared after a restore drill.
    #[serde(default)]
    pub check: Option<Vec<String>>,
}

/// A PostgreSQL dump: `user` is the image's bootstrap superuser (it dumps,
/// reads the roles and restores), `database` the application's database.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Postgres {
    pub user: String,
    pub database: String,
    /// Where the application keeps its own database login, for captures
    /// that hold no roles file (taken before regie captured roles): the
    /// role is created with that password before the dump is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_from: Option<LoginFrom>,
}

/// A PHP configuration file in a backed-up volume holding
/// `'<user_key>' => '<user>'` and `'<password_key>' => '<password>'` lines
/// (Nextcloud's `config/config.php`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoginFrom {
    pub volume: String,
    pub path: String,
    pub user_key: String,
    pub password_key: String,
}

impl Dump {
    /// The command writing the dump on stdout.
    pub fn dump_command(&self) -> Vec<String> {
        match &self.postgres {
            Some(p) => vec![
                "pg_dump".into(),
                format!("--username={}", p.user),
                format!("--dbname={}", p.database),
                "--format=custom".into(),
            ],
            None => self.command.clone(),
        }
    }

    /// The command loading the dump from stdin into a fresh database. A
    /// PostgreSQL dump keeps its owners (the roles are created first) and
    /// stops at the first error.
    pub fn restore_command(&self) -> Vec<String> {
        match &self.postgres {
            Some(p) => vec![
                "pg_restore".into(),
                format!("--username={}", p.user),
                format!("--dbname={}", p.database),
                "--clean".into(),
                "--if-exists".into(),
                "--exit-on-error".into(),
            ],
            None => self.restore.clone(),
        }
    }

    /// The command printing the value compared after a drill: given, or
    /// for PostgreSQL the number of tables in the `public` schema.
    pub fn check_command(&self) -> Option<Vec<String>> {
        if let Some(c) = &self.check {
            return Some(c.clone());
        }
        self.postgres.as_ref().map(|p| {
            vec![
                "psql".into(),
                format!("--username={}", p.user),
                format!("--dbname={}", p.database),
                "-tAc".into(),
                "select count(*) from information_schema.tables where table_schema = 'public'"
                    .into(),
            ]
        })
    }

    /// The file the cluster's roles (`pg_dumpall --roles-only`) are stored
    /// as beside a PostgreSQL dump: `nextcloud.pgdump` -> `nextcloud.roles.sql`.
    pub fn roles_file(&self) -> Option<String> {
        self.postgres.as_ref()?;
        let stem = match self.file.rsplit_once('.') {
            Some((s, _)) if !s.is_empty() => s,
            _ => &self.file,
        };
        Some(format!("{stem}.roles.sql"))
    }
}

/// A key of a PHP configuration array, safe inside the backup script's sed
/// expression.
fn php_key_ok(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The checks of one dump that the descriptor's other parts do not make
/// (`o` names the descriptor in messages).
pub fn check_dump(o: &str, x: &Dump, backed_up: &[String]) -> Result<()> {
    match &x.postgres {
        Some(p) => {
            if !x.command.is_empty() || !x.restore.is_empty() {
                bail!("{o}: backup dump {}: `postgres` makes the dump and restore commands, give no `command` or `restore`", x.file);
            }
            if p.user.is_empty() || p.database.is_empty() {
                bail!(
                    "{o}: backup dump {}: `postgres` needs a user and a database",
                    x.file
                );
            }
            if let Some(l) = &p.login_from {
                if !backed_up.contains(&l.volume) {
                    bail!("{o}: backup dump {}: `login_from` reads volume `{}`, which the backup does not capture", x.file, l.volume);
                }
                if !php_key_ok(&l.user_key) || !php_key_ok(&l.password_key) {
                    bail!(
                        "{o}: backup dump {}: `login_from` keys are letters, digits and `_`",
                        x.file
                    );
                }
                if l.path.is_empty()
                    || l.path.starts_with('/')
                    || l.path.split('/').any(|c| c == "..")
                {
                    bail!(
                        "{o}: backup dump {}: `login_from.path` is a path inside the volume",
                        x.file
                    );
                }
            }
        }
        None => {
            if x.command.is_empty() || x.restore.is_empty() {
                bail!(
                    "{o}: backup dump {}: give `postgres`, or both `command` and `restore`",
                    x.file
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(file: &str) -> Dump {
        serde_yaml::from_str(&format!(
            "{{ component: db, postgres: {{ user: nc, database: ncdb }}, file: {file}, volume: db }}"
        ))
        .unwrap()
    }

    #[test]
    fn postgres_dumps_keep_owners_and_stop_at_the_first_error() {
        let d = pg("nextcloud.pgdump");
        assert_eq!(
            d.dump_command(),
            [
                "pg_dump",
                "--username=nc",
                "--dbname=ncdb",
                "--format=custom"
            ]
        );
        let r = d.restore_command();
        assert_eq!(r[0], "pg_restore");
        assert!(r.contains(&"--exit-on-error".to_string()), "{r:?}");
        assert!(!r.iter().any(|w| w == "--no-owner"), "{r:?}");
        assert_eq!(d.check_command().unwrap()[0], "psql");
        assert_eq!(d.roles_file().as_deref(), Some("nextcloud.roles.sql"));
        assert_eq!(pg("plain").roles_file().as_deref(), Some("plain.roles.sql"));
    }

    #[test]
    fn command_dumps_are_as_given_and_have_no_roles_file() {
        let d: Dump = serde_yaml::from_str(
            "{ component: db, command: [mysqldump, x], restore: [mysql, x], file: x.sql }",
        )
        .unwrap();
        assert_eq!(d.dump_command(), ["mysqldump", "x"]);
        assert_eq!(d.restore_command(), ["mysql", "x"]);
        assert!(d.check_command().is_none());
        assert!(d.roles_file().is_none());
        check_dump("t", &d, &[]).unwrap();
    }

    #[test]
    fn bad_dumps_are_refused() {
        let mut d = pg("a.pgdump");
        d.command = vec!["pg_dump".into()];
        assert!(check_dump("t", &d, &[]).is_err(), "postgres and a command");
        let d: Dump = serde_yaml::from_str("{ component: db, command: [x], file: x }").unwrap();
        assert!(check_dump("t", &d, &[]).is_err(), "no restore");
        let login = |vol: &str, key: &str, path: &str| {
            let mut d = pg("a.pgdump");
            d.postgres.as_mut().unwrap().login_from = Some(LoginFrom {
                volume: vol.into(),
                path: path.into(),
                user_key: key.into(),
                password_key: "dbpassword".into(),
            });
            check_dump("t", &d, &["html".to_string()])
        };
        login("html", "dbuser", "config/config.php").unwrap();
        assert!(
            login("db", "dbuser", "config/config.php").is_err(),
            "volume not captured"
        );
        assert!(
            login("html", "db'user", "config/config.php").is_err(),
            "key"
        );
        assert!(login("html", "dbuser", "../etc/passwd").is_err(), "path");
    }
}
