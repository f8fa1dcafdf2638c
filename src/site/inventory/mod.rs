//! The site inventory: one YAML file per client site, parsed strictly and
//! validated against the catalog. Every problem becomes a [`Diagnostic`]
//! naming the file, line, column and YAML path.

mod schema;
mod syntax;
mod validate;

pub use schema::{
    BackupAccess, BackupPolicy, Host, ImageMode, Inventory, Keep, Locale, Maintenance, Monitoring,
    Notify, Offsite, ProxySpec, RegistrySpec, Resources, Role, SecretsSpec, ServiceSpec, Site,
    Smtp, SmtpSecurity, Ssh, TlsMode,
};
pub use syntax::{
    is_address, is_domain, is_email, is_image_ref, is_slug, parse_host_port, parse_window, Window,
};

use crate::site::diag::Show;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value as Json;

use crate::site::catalog::Catalog;
use crate::site::diag::{did_you_mean, Diagnostic, InvalidInput, PositionIndex};

use validate::{err, validate};

// ---------------------------------------------------------------------------
// Resolved model: what rendering works from.

#[derive(Debug, Clone, Serialize)]
pub struct Placed {
    pub name: String,
    pub host: String,
    /// Web hostname when the stack has a web entry point.
    pub hostname: Option<String>,
    pub version: String,
    /// Component -> full image reference.
    pub images: BTreeMap<String, String>,
    pub resources: BTreeMap<String, Resources>,
    /// Settings with defaults filled in.
    pub settings: Json,
}

/// A validated inventory with everything resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub file: PathBuf,
    pub inv: Inventory,
    pub catalog: Catalog,
    /// Host -> stacks placed on it: the automatic proxy first, then the
    /// services in name order (deploy brings them up in this order).
    pub placement: BTreeMap<String, Vec<Placed>>,
    pub warnings: Vec<Diagnostic>,
}

impl Resolved {
    /// A path of the inventory taken relative to the inventory file.
    pub fn relative(&self, p: &Path) -> PathBuf {
        self.file.parent().unwrap_or(Path::new(".")).join(p)
    }

    /// The host running `service` and its placement; an error naming the
    /// inventory when the service is not placed.
    pub fn service(&self, service: &str) -> anyhow::Result<(String, Placed)> {
        self.placement
            .iter()
            .find_map(|(h, v)| {
                v.iter()
                    .find(|p| p.name == service)
                    .map(|p| (h.clone(), p.clone()))
            })
            .ok_or_else(|| {
                anyhow::anyhow!("no service `{service}` placed in {}", self.file.display())
            })
    }

    /// Whether the proxy on `host` gets public certificates (ACME) rather
    /// than the internal CA's.
    pub fn acme(&self, host: &str) -> bool {
        match self.inv.proxy.tls {
            TlsMode::Acme => true,
            TlsMode::Internal => false,
            TlsMode::Auto => self.inv.hosts.get(host).is_some_and(|h| h.public),
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing.

/// Turn a serde_yaml error into a diagnostic, with a suggestion for unknown
/// fields and variants.
fn serde_diag(e: &serde_yaml::Error, src: &str, index: &PositionIndex) -> Diagnostic {
    let full = e.to_string();
    // serde_yaml appends " at line L column C"; we report position separately.
    // The position is reported on its own: drop its copy from the text.
    let msg = match e.location() {
        Some(l) => full.replacen(
            &format!(" at line {} column {}", l.line(), l.column()),
            "",
            1,
        ),
        None => full.clone(),
    };
    let (path, msg) = match msg.split_once(": ") {
        Some((p, m)) if !p.contains(' ') && !p.contains('`') => (p.to_string(), m.to_string()),
        _ => (String::new(), msg),
    };
    let known = [
        "unknown field",
        "unknown variant",
        "missing field",
        "invalid type",
        "invalid value",
        "duplicate",
    ];
    let msg = if known.iter().any(|k| msg.starts_with(k)) {
        msg
    } else {
        format!("invalid YAML: {msg}")
    };
    let mut d = Diagnostic::error(path, msg.clone());
    if let Some(loc) = e.location() {
        d.line = Some(loc.line());
        d.column = Some(loc.column());
    }
    // "unknown field `x`, expected one of `a`, `b`" / "unknown variant `x`, expected `a` or `b`"
    for kind in ["unknown field `", "unknown variant `"] {
        if let Some(rest) = msg.strip_prefix(kind) {
            if let Some((word, tail)) = rest.split_once('`') {
                let what = if kind.contains("field") {
                    "unknown key"
                } else {
                    "unknown value"
                };
                d.message = format!("{what} `{}`", word.shown());
                let cands: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
                if !cands.is_empty() {
                    d.expected = Some(format!("one of {}", cands.join(", ")));
                } else if tail.contains("there are no fields") {
                    d.expected = Some("no keys here".into());
                }
                d.hint = did_you_mean(word, cands.iter().copied());
            }
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let f = rest.trim_end_matches('`');
        d.message = format!("missing required key `{f}`");
    }
    if let Some(rest) = msg.strip_prefix("invalid value: integer `") {
        // "invalid value: integer `70000`, expected u16"
        if let Some((n, exp)) = rest.split_once("`, expected ") {
            d.message = format!("number {} is out of range", n.shown());
            d.expected = Some(number_expected(&d.path, exp));
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid type: integer `") {
        // serde_yaml reads numbers too large for 64 bits as u128/i128.
        if let Some((n, tail)) = rest.split_once('`') {
            if tail.starts_with(" as u128") || tail.starts_with(" as i128") {
                d.message = format!("number {} is too large", n.shown());
                let exp = tail.split_once(", expected ").map_or("", |x| x.1);
                d.expected = Some(number_expected(&d.path, exp));
            }
        }
    }
    if msg == "invalid YAML: unknown anchor" {
        if let Some(name) = d.line.zip(d.column).and_then(|(l, c)| alias_at(src, l, c)) {
            d.message = format!("invalid YAML: unknown anchor `{}`", name.shown());
            d.expected = Some("an alias `*name` after an anchor `&name` of the same file".into());
        }
    }
    if msg.starts_with("invalid YAML: deserializing from YAML containing more than one document") {
        d.message = "invalid YAML: a second document starts here".into();
        d.expected = Some("one document per inventory file (no `---` after the first)".into());
        if let Some((l, c)) = index.second_document {
            d.line = Some(l);
            d.column = Some(c);
        }
    }
    if d.path.is_empty() && d.message.contains("recursion limit exceeded") {
        if let Some(p) = d.line.zip(d.column).and_then(|(l, c)| index.path_at(l, c)) {
            d.path = p;
            d.expected =
                Some("values nested less deeply (the YAML reader stops at 128 levels)".into());
        }
    }
    if d.message.starts_with("number ") {
        return d;
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        if let Some((got, exp)) = rest.split_once(", expected ") {
            d.message = format!("wrong type: got {got}");
            d.expected = Some(match exp {
                "u16" => "a whole number from 1 to 65535".to_string(),
                "u32" | "u64" => "a whole number".to_string(),
                "f64" => "a number".to_string(),
                "a boolean" => "true or false".to_string(),
                _ => exp.to_string(),
            });
        }
    }
    d
}

/// What a number at `path` should be, from serde's type name.
fn number_expected(path: &str, exp: &str) -> String {
    if path.ends_with("port") {
        return "a port number from 1 to 65535".into();
    }
    match exp {
        "u8" => "a whole number from 0 to 255".into(),
        "u16" => "a whole number from 0 to 65535".into(),
        "u32" => "a whole number from 0 to 4294967295".into(),
        "i32" => "a whole number from -2147483648 to 2147483647".into(),
        "u64" | "usize" => "a whole number from 0 to 18446744073709551615".into(),
        "i64" => "a whole number from -9223372036854775808 to 9223372036854775807".into(),
        "f32" | "f64" => "a number".into(),
        e => e.to_string(),
    }
}

/// The name of the alias (`*name`) at line `l`, column `c` (1-based).
fn alias_at(src: &str, l: usize, c: usize) -> Option<String> {
    let line = src.lines().nth(l.checked_sub(1)?)?;
    let rest: String = line.chars().skip(c.checked_sub(1)?).collect();
    let rest = rest.trim_start();
    let name = rest.strip_prefix('*')?;
    let name: String = name
        .chars()
        .take_while(|ch| !ch.is_whitespace() && !",[]{}".contains(*ch))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Parse and validate an inventory file. On error nothing is written
/// anywhere; the caller reports the diagnostics and exits 2.
pub fn load(file: &Path) -> Result<Resolved, InvalidInput> {
    let src = std::fs::read_to_string(file).map_err(|e| InvalidInput {
        file: file.to_path_buf(),
        diagnostics: vec![Diagnostic {
            file: file.to_path_buf(),
            ..Diagnostic::error("", format!("cannot read inventory: {e}"))
        }],
    })?;
    load_str(file, &src)
}

pub fn load_str(file: &Path, src: &str) -> Result<Resolved, InvalidInput> {
    let fail = |mut d: Vec<Diagnostic>| {
        for x in &mut d {
            x.file = file.to_path_buf();
        }
        InvalidInput {
            file: file.to_path_buf(),
            diagnostics: d,
        }
    };
    let index = PositionIndex::build(src);
    if !index.duplicates.is_empty() {
        let diags = index
            .duplicates
            .iter()
            .map(|(path, line, col)| {
                let key = path.rsplit('.').next().unwrap_or(path);
                let mut d = err(path.clone(), format!("duplicate key `{}`", key.shown())).expected(
                    "each name once per mapping (a second entry would silently replace the first)",
                );
                d.line = Some(*line);
                d.column = Some(*col);
                d
            })
            .collect();
        return Err(fail(diags));
    }
    let inv: Inventory =
        serde_yaml::from_str(src).map_err(|e| fail(vec![serde_diag(&e, src, &index)]))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let catalog_dir = inv.catalog.as_ref().map(|c| base.join(c));
    let catalog = Catalog::with_overrides(catalog_dir.as_deref()).map_err(|e| {
        let mut d = Diagnostic::error("catalog", format!("{e:#}"));
        if let Some((l, c)) = index.locate("catalog") {
            d.line = Some(l);
            d.column = Some(c);
        }
        fail(vec![d])
    })?;
    let mut diags = Vec::new();
    let placement = validate(&inv, &catalog, &mut diags);
    // Key errors point at the key, value errors at the value.
    for d in &mut diags {
        let key_like =
            d.message.starts_with("unknown key") || d.message.starts_with("unknown service");
        index.place(file, std::slice::from_mut(d), key_like);
    }
    diags.sort_by_key(|d| (d.severity, d.line, d.column));
    if diags.iter().any(Diagnostic::is_error) {
        return Err(InvalidInput {
            file: file.to_path_buf(),
            diagnostics: diags,
        });
    }
    Ok(Resolved {
        file: file.to_path_buf(),
        inv,
        catalog,
        placement,
        warnings: diags,
    })
}
