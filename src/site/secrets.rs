//! Site secrets: generated on first render, kept encrypted with age next to
//! the inventory, stable across renders, never printed unless asked for.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::{bail, Context, Result};
use rand::Rng;

/// A secret value. Debug and Display never show it; use [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

/// How a new secret is generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Letters and digits: safe in every file format and URL.
    Alnum(usize),
    /// Lowercase hex.
    Hex(usize),
}

impl Kind {
    pub fn parse(kind: &str, length: usize) -> Result<Kind> {
        if !(16..=128).contains(&length) {
            bail!("secret length must be 16 to 128, not {length}");
        }
        Ok(match kind {
            "alnum" => Kind::Alnum(length),
            "hex" => Kind::Hex(length),
            _ => bail!("unknown secret kind `{kind}` (expected alnum or hex)"),
        })
    }

    fn generate(self) -> String {
        let mut rng = rand::rngs::OsRng;
        match self {
            Kind::Alnum(n) => {
                const CS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                (0..n)
                    .map(|_| CS[rng.gen_range(0..CS.len())] as char)
                    .collect()
            }
            Kind::Hex(n) => (0..n)
                .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap())
                .collect(),
        }
    }
}

/// How the secrets file is unlocked.
pub enum Key {
    /// An age X25519 identity; the file is encrypted to it and to `extra`.
    Identity {
        identity: age::x25519::Identity,
        extra: Vec<age::x25519::Recipient>,
    },
    /// A passphrase (scrypt); slow on purpose (about a second per unlock).
    Passphrase(SecretString),
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Identity { identity, extra } => {
                write!(
                    f,
                    "Key::Identity({}, +{} recipients)",
                    identity.to_public(),
                    extra.len()
                )
            }
            Key::Passphrase(_) => f.write_str("Key::Passphrase(********)"),
        }
    }
}

/// Read an identity file as written by `age-keygen` or `regie secrets keygen`.
pub fn read_identity(path: &Path) -> Result<age::x25519::Identity> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read age identity {}", path.display()))?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .with_context(|| format!("{} holds no AGE-SECRET-KEY line", path.display()))?;
    line.parse::<age::x25519::Identity>()
        .map_err(|e| anyhow::anyhow!("{}: invalid age identity: {e}", path.display()))
}

/// Write a new identity file (mode 0600); refuses to overwrite.
pub fn keygen(path: &Path) -> Result<String> {
    if path.exists() {
        bail!(
            "{} already exists: refusing to overwrite a key",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let body = format!(
        "# regie age identity\n# public key: {public}\n{}\n",
        id.to_string().expose_secret()
    );
    write_private(path, body.as_bytes())?;
    Ok(public)
}

/// Atomically write a file readable by its owner only.
pub fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    crate::util::fs::write_atomic(path, data, 0o600)
}

/// The decrypted secrets of one site.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    values: BTreeMap<String, Secret>,
    added: Vec<String>,
}

impl Store {
    /// Open the store; a missing file is an empty store (first render).
    pub fn open(path: &Path, key: &Key) -> Result<Store> {
        let mut values = BTreeMap::new();
        if path.exists() {
            let f = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let dec = age::Decryptor::new(age::armor::ArmoredReader::new(f))
                .with_context(|| format!("{} is not an age file", path.display()))?;
            let mut plain = String::new();
            let mut reader = match key {
                Key::Identity { identity, .. } => {
                    dec.decrypt(std::iter::once(identity as &dyn age::Identity))
                }
                Key::Passphrase(p) => {
                    let mut id = age::scrypt::Identity::new(p.clone());
                    id.set_max_work_factor(22);
                    dec.decrypt(std::iter::once(&id as &dyn age::Identity))
                }
            }
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot decrypt {}: {e} (wrong key or passphrase?)",
                    path.display()
                )
            })?;
            reader
                .read_to_string(&mut plain)
                .with_context(|| format!("cannot decrypt {}", path.display()))?;
            let map: BTreeMap<String, String> = serde_yaml::from_str(&plain)
                .with_context(|| format!("{} decrypts to invalid content", path.display()))?;
            values = map.into_iter().map(|(k, v)| (k, Secret(v))).collect();
        }
        Ok(Store {
            path: path.to_path_buf(),
            values,
            added: Vec::new(),
        })
    }

    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.values.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The secret called `name`, generated now if it does not exist yet.
    pub fn get_or_generate(&mut self, name: &str, kind: Kind) -> Secret {
        if let Some(s) = self.values.get(name) {
            return s.clone();
        }
        let s = Secret(kind.generate());
        self.values.insert(name.to_string(), s.clone());
        self.added.push(name.to_string());
        s
    }

    /// A value derived once from another secret and then kept (e.g. a salted
    /// password hash: regenerating it each render would change the files).
    pub fn derived(&mut self, name: &str, make: impl FnOnce() -> String) -> Secret {
        if let Some(s) = self.values.get(name) {
            return s.clone();
        }
        let s = Secret(make());
        self.values.insert(name.to_string(), s.clone());
        self.added.push(name.to_string());
        s
    }

    /// Set a value the operator provides (not one regie generates).
    pub fn set(&mut self, name: &str, value: String) {
        self.values.insert(name.to_string(), Secret(value));
        self.added.push(name.to_string());
    }

    pub fn added(&self) -> &[String] {
        &self.added
    }

    /// Encrypt and write the store if anything was added.
    pub fn save_if_changed(&mut self, key: &Key) -> Result<bool> {
        if self.added.is_empty() {
            return Ok(false);
        }
        self.save(key)?;
        Ok(true)
    }

    /// Encrypt and write the store now, to the key's current recipients
    /// (`regie secrets rekey` after adding or removing a colleague).
    pub fn save(&mut self, key: &Key) -> Result<()> {
        let map: BTreeMap<&str, &str> = self
            .values
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        let plain = serde_yaml::to_string(&map)?;
        let enc = match key {
            Key::Identity { identity, extra } => {
                let mut rs: Vec<&dyn age::Recipient> = Vec::new();
                let me = identity.to_public();
                rs.push(&me);
                for r in extra {
                    rs.push(r);
                }
                age::Encryptor::with_recipients(rs.into_iter()).context("cannot encrypt secrets")?
            }
            Key::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
        };
        let mut out = Vec::new();
        {
            let armored =
                age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)?;
            let mut w = enc.wrap_output(armored)?;
            w.write_all(plain.as_bytes())?;
            w.finish()?.finish()?;
        }
        write_private(&self.path, &out)?;
        self.added.clear();
        Ok(())
    }
}

/// Find the key for a site: an explicit identity file, `$REGIE_AGE_IDENTITY`,
/// `$REGIE_PASSPHRASE`, then `~/.config/regie/identity.txt`.
pub fn find_key(explicit: Option<&Path>, recipients: &[String]) -> Result<Key> {
    let extra = recipients
        .iter()
        .map(|r| {
            r.parse::<age::x25519::Recipient>()
                .map_err(|e| anyhow::anyhow!("invalid recipient {r}: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let from_file = |p: &Path| -> Result<Key> {
        Ok(Key::Identity {
            identity: read_identity(p)?,
            extra: extra.clone(),
        })
    };
    if let Some(p) = explicit {
        return from_file(p);
    }
    if let Some(p) = std::env::var_os("REGIE_AGE_IDENTITY").filter(|v| !v.is_empty()) {
        return from_file(Path::new(&p));
    }
    if let Ok(p) = std::env::var("REGIE_PASSPHRASE") {
        if !p.is_empty() {
            return Ok(Key::Passphrase(SecretString::from(p)));
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join(".config/regie/identity.txt");
        if p.exists() {
            return from_file(&p);
        }
    }
    bail!(
        "no key to unlock the site's secrets: set secrets.identity in the inventory, \
         REGIE_AGE_IDENTITY or REGIE_PASSPHRASE, or create ~/.config/regie/identity.txt \
         with `regie secrets keygen`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted() {
        let s = Secret::new("hunter2hunter2".into());
        assert_eq!(format!("{s}"), "********");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn generated_secrets_have_the_requested_shape() {
        let a = Kind::Alnum(32).generate();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        let h = Kind::Hex(40).generate();
        assert!(h
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(Kind::Alnum(32).generate(), a);
        assert!(Kind::parse("alnum", 8).is_err());
    }

    #[test]
    fn round_trip_with_identity_and_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let idf = dir.path().join("id.txt");
        keygen(&idf).unwrap();
        assert!(keygen(&idf).is_err(), "keygen must not overwrite");
        let key = Key::Identity {
            identity: read_identity(&idf).unwrap(),
            extra: vec![],
        };
        let path = dir.path().join("s.age");
        let mut st = Store::open(&path, &key).unwrap();
        let a = st.get_or_generate("chat.db", Kind::Alnum(24));
        assert!(st.save_if_changed(&key).unwrap());
        let mut st2 = Store::open(&path, &key).unwrap();
        assert_eq!(st2.get_or_generate("chat.db", Kind::Alnum(24)), a);
        assert!(!st2.save_if_changed(&key).unwrap());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(raw.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        assert!(!raw.contains(a.expose()));
        // Another key cannot open it.
        let other = Key::Identity {
            identity: age::x25519::Identity::generate(),
            extra: vec![],
        };
        assert!(Store::open(&path, &other).is_err());

        let pk = Key::Passphrase(SecretString::from("correct horse".to_string()));
        let p2 = dir.path().join("p.age");
        let mut st = Store::open(&p2, &pk).unwrap();
        let b = st.get_or_generate("x", Kind::Hex(32));
        st.save_if_changed(&pk).unwrap();
        assert_eq!(Store::open(&p2, &pk).unwrap().get("x"), Some(&b));
        let wrong = Key::Passphrase(SecretString::from("wrong".to_string()));
        assert!(Store::open(&p2, &wrong).is_err());
    }
}
