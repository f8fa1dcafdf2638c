//! Rendering: from a validated site to the exact bytes of every file each
//! host needs. Pure apart from the secret store; writing is separate.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::site::catalog::FileSpec;
pub use crate::site::files::{
    sha256_hex, HostRender, Manifest, RenderedFile, StackManifest, MARKER, VERSION,
};
use crate::site::image;
use crate::site::inventory::Resolved;
use crate::site::labels;
use crate::site::layout::project;
use crate::site::mail;
use crate::site::secrets::{Kind, Store};
use crate::site::site_files::site_known_hosts;

// --- escaping filters: every value a template prints goes through one -----

fn as_text(v: &Json) -> tera::Result<String> {
    Ok(match v {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Null => String::new(),
        _ => return Err(tera::Error::msg("cannot print a list or mapping here")),
    })
}

/// A YAML scalar for a compose file: a JSON string (valid YAML) with `$`
/// doubled so compose does not interpolate it.
fn f_yaml(v: &Json, _: &HashMap<String, Json>) -> tera::Result<Json> {
    let out = match v {
        Json::Array(_) | Json::Object(_) => serde_json::to_string(v).map_err(tera::Error::msg)?,
        _ => serde_json::to_string(&Json::String(as_text(v)?)).map_err(tera::Error::msg)?,
    };
    Ok(Json::String(out.replace('$', "$$")))
}

/// A value in an env file (`KEY=value`). Compose v1 reads values literally;
/// v2 strips surrounding quotes, expands `$` and cuts at ` #`. Only values
/// both read the same are accepted; anything else is an error rather than a
/// silently different value. (Quotes inside a value, as in "Mairie d'Anville",
/// are fine.) The value is never echoed: it may be a secret.
fn f_env(v: &Json, _: &HashMap<String, Json>) -> tera::Result<Json> {
    let s = as_text(v)?;
    refuse("env", &s)?;
    Ok(Json::String(s))
}

fn refuse(filter: &str, s: &str) -> tera::Result<()> {
    match crate::site::escape::refusal(filter, s) {
        Some(why) => Err(tera::Error::msg(why)),
        None => Ok(()),
    }
}

/// A Caddyfile token: bare when plainly safe, else double-quoted.
fn f_caddy(v: &Json, _: &HashMap<String, Json>) -> tera::Result<Json> {
    let s = as_text(v)?;
    refuse("caddy", &s)?;
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".:_/-@".contains(&b))
    {
        Ok(Json::String(s))
    } else {
        Ok(Json::String(format!(
            "\"{}\"",
            s.replace('\\', "\\\\").replace('"', "\\\"")
        )))
    }
}

/// A bare word for line-oriented files (`user@domain|hash`): letters,
/// digits and `@._+-$/` only (crypt hashes use `$` and `/`). The value is
/// never echoed in the error: it may be a secret.
fn f_token(v: &Json, _: &HashMap<String, Json>) -> tera::Result<Json> {
    let s = as_text(v)?;
    refuse("token", &s)?;
    Ok(Json::String(s))
}

/// A PHP single-quoted string literal.
fn f_php(v: &Json, _: &HashMap<String, Json>) -> tera::Result<Json> {
    let s = as_text(v)?;
    refuse("php", &s)?;
    Ok(Json::String(format!(
        "'{}'",
        s.replace('\\', "\\\\").replace('\'', "\\'")
    )))
}

/// At most `n` bytes of a text, cut at a character boundary and without
/// trailing spaces (`max_bytes(n=30)`), for settings limited in bytes such
/// as Mattermost's site name. Not an escaper: an escaping filter follows.
fn f_max_bytes(v: &Json, args: &HashMap<String, Json>) -> tera::Result<Json> {
    let s = as_text(v)?;
    let n = args
        .get("n")
        .and_then(Json::as_u64)
        .ok_or_else(|| tera::Error::msg("max_bytes needs n=<bytes>"))? as usize;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if i + c.len_utf8() > n {
            break;
        }
        end = i + c.len_utf8();
    }
    Ok(Json::String(s[..end].trim_end().to_string()))
}

fn new_tera(templates: &BTreeMap<String, String>) -> Result<tera::Tera> {
    let mut t = tera::Tera::default();
    t.autoescape_on(vec![]);
    t.add_raw_templates(templates.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| anyhow!("{}", tera_chain(&e)))?;
    t.register_filter("yaml", f_yaml);
    t.register_filter("env", f_env);
    t.register_filter("caddy", f_caddy);
    t.register_filter("token", f_token);
    t.register_filter("php", f_php);
    t.register_filter("max_bytes", f_max_bytes);
    // Templates must not read the operator's environment (it may hold
    // REGIE_PASSPHRASE or cloud credentials).
    t.register_function(
        "get_env",
        |_: &HashMap<String, Json>| -> tera::Result<Json> {
            Err(tera::Error::msg("get_env is disabled in regie templates"))
        },
    );
    Ok(t)
}

fn tera_chain(e: &tera::Error) -> String {
    let mut s = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn arg_str<'a>(args: &'a HashMap<String, Json>, k: &str) -> tera::Result<&'a str> {
    args.get(k)
        .and_then(Json::as_str)
        .ok_or_else(|| tera::Error::msg(format!("missing string argument `{k}`")))
}

/// Register `secret(name, kind, length)` and `sha512_crypt(name)` for one
/// stack; names are prefixed with the stack (`chat.db_password`).
fn register_secret_fns(t: &mut tera::Tera, store: &Arc<Mutex<Store>>, prefix: &str) {
    let st = store.clone();
    let pre = prefix.to_string();
    t.register_function("secret", move |args: &HashMap<String, Json>| {
        let name = format!("{pre}.{}", arg_str(args, "name")?);
        let kind = args.get("kind").and_then(Json::as_str).unwrap_or("alnum");
        let len = args.get("length").and_then(Json::as_u64).unwrap_or(32) as usize;
        let kind = Kind::parse(kind, len).map_err(|e| tera::Error::msg(e.to_string()))?;
        let v = st.lock().expect("store").get_or_generate(&name, kind);
        Ok(Json::String(v.expose().to_string()))
    });
    let st = store.clone();
    let pre = prefix.to_string();
    t.register_function("sha512_crypt", move |args: &HashMap<String, Json>| {
        let name = format!("{pre}.{}", arg_str(args, "name")?);
        let mut s = st.lock().expect("store");
        let pw = s.get_or_generate(&name, Kind::Alnum(20));
        let h = s.derived(&format!("{name}#sha512crypt"), || {
            let params = sha_crypt::Sha512Params::new(5000).expect("valid rounds");
            sha_crypt::sha512_simple(pw.expose(), &params).expect("hashing works")
        });
        Ok(Json::String(h.expose().to_string()))
    });
}

/// The mail stack's derived values (`mail` in its templates: accounts
/// with the service mailboxes, aliases with postmaster and abuse, the
/// backend network) and, for each stack that sends mail, its `mail_sender`
/// (SMTP host, address, password). Empty without a mail service.
fn mail_contexts(site: &Resolved, store: &Arc<Mutex<Store>>) -> (Json, BTreeMap<String, Json>) {
    let inv = &site.inv;
    let Ok((mail_host, m)) = site.service(mail::STACK) else {
        return (Json::Null, BTreeMap::new());
    };
    let domains = mail::domains(&m.settings, &inv.site.domain);
    let primary = mail::primary_domain(&domains, &inv.site.domain);
    let senders: Vec<String> = site
        .placement
        .values()
        .flatten()
        .filter(|p| {
            site.catalog
                .stacks
                .get(&p.name)
                .is_some_and(|d| d.sends_mail)
        })
        .map(|p| p.name.clone())
        .collect();
    let accounts = mail::accounts(&m.settings, &senders, &primary);
    let aliases = mail::aliases(&m.settings, &domains, &accounts, &inv.site.contact);
    let backend = m.settings["backend_subnet"]
        .as_str()
        .and_then(|s| mail::Backend::parse(s).ok())
        .map(|b| {
            json!({ "subnet": b.subnet(), "gateway": b.gateway(),
                    "dynamic_range": b.dynamic_range(), "webmail": b.webmail() })
        });
    let mut out = BTreeMap::new();
    for s in &senders {
        let address = mail::sender_address(s, &primary);
        let pw = store
            .lock()
            .expect("store")
            .get_or_generate(&mail::password_secret(&address), Kind::Alnum(20));
        let local_part = address.split('@').next().unwrap_or_default();
        out.insert(
            s.clone(),
            json!({ "host": m.hostname, "address": address, "local_part": local_part,
                    "domain": primary, "password": pw.expose(),
                    // A LAN-only mail host's certificate comes from the proxy's own CA.
                    "public_certificate": site.acme(&mail_host) }),
        );
    }
    let ctx = json!({
        "domains": domains,
        "postmaster": format!("postmaster@{primary}"),
        "accounts": accounts.iter().map(|a| json!({
            "address": a.address, "quota": a.quota, "service": a.service })).collect::<Vec<_>>(),
        "aliases": aliases.iter().map(|a| json!({
            "address": a.address, "to": a.to, "generated": a.generated })).collect::<Vec<_>>(),
        "backend": backend,
    });
    (ctx, out)
}

/// Files a capability adds to a host's render beside the stacks' own (the
/// backup script and its keys): given the site, the host, the host's
/// rendered stack files and the site's known_hosts text.
pub type HostFiles =
    fn(&Resolved, &str, &[RenderedFile], &str, &mut Store) -> Result<Vec<RenderedFile>>;

/// Render every host of the site: the stacks' templates, then `extra`'s
/// files for each host. New secrets are added to `store`; the caller saves
/// it once the render is known good.
pub fn render(site: &Resolved, store: Store, extra: HostFiles) -> (Result<Vec<HostRender>>, Store) {
    let shared = Arc::new(Mutex::new(store));
    let res = render_inner(site, &shared, extra);
    let store = Arc::try_unwrap(shared)
        .expect("no template keeps the store")
        .into_inner()
        .expect("store");
    (res, store)
}

fn render_inner(
    site: &Resolved,
    store: &Arc<Mutex<Store>>,
    extra: HostFiles,
) -> Result<Vec<HostRender>> {
    let inv = &site.inv;
    let cat = &site.catalog;
    let mut tera = new_tera(&cat.templates)?;
    let sitectx = json!({
        "name": inv.site.name,
        "display_name": inv.site.display_name.clone().unwrap_or_else(|| inv.site.name.clone()),
        "domain": inv.site.domain,
        "contact": inv.site.contact,
        "timezone": inv.site.timezone,
        "locale": inv.site.locale,
    });
    // Site-wide view of services, for cross references (SMTP relay, links).
    let mut services = serde_json::Map::new();
    for stacks in site.placement.values() {
        for s in stacks {
            services.insert(
                s.name.clone(),
                json!({ "host": s.host, "hostname": s.hostname }),
            );
        }
    }
    let (mail_ctx, senders) = mail_contexts(site, store);
    let mut out = Vec::new();
    // The NAS's pinned key goes into each backed-up host's files.
    let known_hosts = std::fs::read_to_string(site_known_hosts(site)).unwrap_or_default();
    for (hostname, stacks) in &site.placement {
        let host = &inv.hosts[hostname];
        let tls = if site.acme(hostname) {
            "acme"
        } else {
            "internal"
        };
        let web: Vec<Json> = stacks
            .iter()
            .filter_map(|s| {
                let d = &cat.stacks[&s.name];
                let w = d.web.as_ref()?;
                let aliases: Vec<Json> = if s.name == "files" {
                    s.settings["trusted_domains"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                Some(json!({
                    "name": s.name,
                    "hostname": s.hostname,
                    "aliases": aliases,
                    "upstream": format!("{}-{}:{}", s.name, w.component, w.port),
                    "settings": s.settings,
                }))
            })
            .collect();
        let hostctx = json!({
            "name": hostname,
            "address": host.address,
            "public": host.public,
            "base_dir": host.base_dir,
            "tls": tls,
            "acme_email": inv.proxy.email.clone().unwrap_or_else(|| inv.site.contact.clone()),
            "web": web,
        });
        let mut files = Vec::new();
        let mut manifests = Vec::new();
        for s in stacks {
            let d = &cat.stacks[&s.name];
            register_secret_fns(&mut tera, store, &s.name);
            let mut ctx = tera::Context::new();
            ctx.insert("site", &sitectx);
            ctx.insert("host", &hostctx);
            ctx.insert("services", &services);
            ctx.insert("proxy_network", &format!("{}_proxy", inv.site.name));
            ctx.insert(
                "proxy_data_volume",
                &format!("{}_proxy_data", inv.site.name),
            );
            let resources: BTreeMap<&str, Json> = d
                .components
                .keys()
                .map(|c| {
                    let r = s.resources.get(c);
                    (
                        c.as_str(),
                        json!({
                            "memory": r.and_then(|r| r.memory.clone()),
                            "cpus": r.and_then(|r| r.cpus),
                        }),
                    )
                })
                .collect();
            // The major of each PostgreSQL component, which sets where its
            // data volume is mounted (validation refuses a reference without).
            let mut postgres_majors = BTreeMap::new();
            for (c, comp) in &d.components {
                if !image::is_postgres(&comp.image) {
                    continue;
                }
                let img = s.images.get(c).map(String::as_str).unwrap_or_default();
                let major = image::postgres_major(img).ok_or_else(|| {
                    anyhow!(
                        "service `{}` on host `{hostname}`: image `{img}` of component `{c}` does not name its PostgreSQL major",
                        s.name
                    )
                })?;
                postgres_majors.insert(c.as_str(), major);
            }
            ctx.insert(
                "stack",
                &json!({
                    "name": s.name,
                    "project": project(&inv.site.name, &s.name),
                    "hostname": s.hostname,
                    "version": s.version,
                    "images": s.images,
                    "postgres_majors": postgres_majors,
                    "resources": resources,
                    "dir": format!("{}/{}", host.base_dir, s.name),
                }),
            );
            ctx.insert("settings", &s.settings);
            ctx.insert("mail", &mail_ctx);
            ctx.insert("mail_sender", senders.get(&s.name).unwrap_or(&Json::Null));
            // Config files first, then the compose file with their hash.
            let mut specs: Vec<&FileSpec> = d.files.iter().collect();
            specs.sort_by_key(|f| f.is_compose());
            let mut hasher = Sha256::new();
            let mut stack_files = Vec::new();
            for f in specs {
                if let Some(w) = &f.when {
                    if s.settings[w.as_str()] != Json::Bool(true) {
                        continue;
                    }
                }
                if f.is_compose() {
                    let h = hex::encode(hasher.clone().finalize());
                    ctx.insert("config_hash", &h[..16]);
                }
                let text = tera.render(&f.template, &ctx).map_err(|e| {
                    anyhow!(
                        "rendering {} for service `{}` on host `{hostname}`: {}",
                        f.template,
                        s.name,
                        tera_chain(&e)
                    )
                })?;
                if f.is_compose() {
                    let want = labels::Expected {
                        site: &inv.site.name,
                        config_hash: ctx
                            .get("config_hash")
                            .and_then(Json::as_str)
                            .unwrap_or_default(),
                    };
                    labels::check(&text, &f.template, &want)
                        .map_err(|e| anyhow!("service `{}` on host `{hostname}`: {e}", s.name))?;
                } else {
                    hasher.update(f.path.as_bytes());
                    hasher.update([0]);
                    hasher.update(text.as_bytes());
                    hasher.update([0]);
                }
                let content = text.into_bytes();
                stack_files.push(RenderedFile {
                    path: format!("{}/{}", s.name, f.path),
                    sha256: sha256_hex(&content),
                    mode: if f.secret { 0o600 } else { 0o644 },
                    secret: f.secret,
                    content,
                });
            }
            let config_hash = hex::encode(hasher.finalize())[..16].to_string();
            stack_files.sort_by(|a, b| a.path.cmp(&b.path));
            manifests.push(StackManifest {
                name: s.name.clone(),
                project: project(&inv.site.name, &s.name),
                version: s.version.clone(),
                images: s.images.clone(),
                config_hash,
            });
            files.extend(stack_files);
        }
        // The host's backup script, keys and schedule (under .regie/backup).
        let extra = {
            let mut st = store.lock().expect("store");
            extra(site, hostname, &files, &known_hosts, &mut st)?
        };
        files.extend(extra);
        let manifest = Manifest {
            regie_version: VERSION.to_string(),
            deployed_by: None,
            deployed_at: None,
            site: inv.site.name.clone(),
            host: hostname.clone(),
            base_dir: host.base_dir.clone(),
            stacks: manifests,
            files: files.clone(),
        };
        let push =
            (host.image_mode(inv.images) == crate::site::inventory::ImageMode::Push).then(|| {
                crate::site::files::ImagePush {
                    layout: inv.image_layout.as_ref().map(|l| site.relative(l)),
                    extra: Vec::new(),
                }
            });
        out.push(HostRender {
            host: hostname.clone(),
            files,
            manifest,
            push,
        });
    }
    Ok(out)
}

/// Write a render to `out`: `out/<host>/<stack>/<file>` plus
/// `out/<host>/manifest.json`. The whole tree is built beside `out` and
/// swapped in, so a failure leaves the previous render intact. An existing
/// `out` is replaced only if regie made it.
/// Whether `out` may receive a render: absent, empty, or a directory an
/// earlier render wrote. Checked before anything is written (secrets
/// included), and again by [`write`].
pub fn check_out(out: &Path) -> Result<()> {
    if out.exists() && !out.join(MARKER).exists() {
        let empty = out
            .read_dir()
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            bail!(
                "{} exists and was not written by regie render (no {MARKER} file): refusing to replace it",
                out.display()
            );
        }
    }
    Ok(())
}

pub fn write(out: &Path, hosts: &[HostRender]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    check_out(out)?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .context("output directory has no name")?;
    let stage = parent.join(format!(".{name}.new-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&stage);
    let mkdir = |p: &Path| -> Result<()> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(p)
            .with_context(|| format!("cannot create {}", p.display()))
    };
    let result = (|| -> Result<()> {
        mkdir(&stage)?;
        std::fs::write(
            stage.join(MARKER),
            "written by regie render; the whole directory is replaced on each render\n",
        )?;
        for h in hosts {
            let hdir = stage.join(&h.host);
            for f in h.files.iter() {
                let p = hdir.join(&f.path);
                mkdir(p.parent().expect("has parent"))?;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(f.mode)
                    .open(&p)
                    .with_context(|| format!("cannot create {}", p.display()))?;
                file.write_all(&f.content)?;
                file.set_permissions(std::fs::Permissions::from_mode(f.mode))?;
            }
            mkdir(&hdir)?;
            std::fs::write(hdir.join("manifest.json"), h.manifest_json())?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&stage);
        return Err(e);
    }
    if out.exists() {
        std::fs::rename(out, &old)
            .with_context(|| format!("cannot move {} aside", out.display()))?;
    }
    if let Err(e) = std::fs::rename(&stage, out) {
        if old.exists() {
            let _ = std::fs::rename(&old, out);
        }
        let _ = std::fs::remove_dir_all(&stage);
        return Err(e)
            .with_context(|| format!("cannot move the new render into {}", out.display()));
    }
    if old.exists() {
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("cannot remove {}", old.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(
        f: fn(&Json, &HashMap<String, Json>) -> tera::Result<Json>,
        s: &str,
    ) -> tera::Result<String> {
        f(&Json::String(s.into()), &HashMap::new()).map(|v| v.as_str().unwrap().to_string())
    }

    #[test]
    fn yaml_filter_quotes_and_blocks_interpolation() {
        assert_eq!(call(f_yaml, "a\"b\nc: d").unwrap(), r#""a\"b\nc: d""#);
        assert_eq!(call(f_yaml, "p$ss").unwrap(), r#""p$$ss""#);
    }

    #[test]
    fn env_filter_refuses_ambiguous_values() {
        assert_eq!(
            call(f_env, "Mairie de Techniville").unwrap(),
            "Mairie de Techniville"
        );
        assert_eq!(call(f_env, "Mairie d'Anville").unwrap(), "Mairie d'Anville");
        for bad in ["a\nB=c", "a$b", "'q'", "x # y", " lead", "a\\b"] {
            assert!(call(f_env, bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn max_bytes_cuts_at_a_character_boundary() {
        let cut = |s: &str, n: u64| {
            let args = HashMap::from([("n".to_string(), Json::from(n))]);
            f_max_bytes(&Json::String(s.into()), &args)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        };
        // "é" is two bytes; the 30th byte falls inside it, so it is left
        // out whole (cutting it in half would be invalid UTF-8).
        let name = "Association des jardins de Fréjus";
        assert_eq!(name.len(), 34);
        let got = cut(name, 30);
        assert_eq!(got, "Association des jardins de Fr");
        assert_eq!(got.len(), 29);
        assert_eq!(cut("Jardins partagés", 30), "Jardins partagés");
        // No trailing space left after a cut between words.
        assert_eq!(cut("Les Jardins partagés", 12), "Les Jardins");
        assert_eq!(cut("ééé", 5), "éé");
    }

    #[test]
    fn caddy_filter() {
        assert_eq!(call(f_caddy, "chat.example.fr").unwrap(), "chat.example.fr");
        assert_eq!(call(f_caddy, "a b\"c").unwrap(), r#""a b\"c""#);
        assert!(call(f_caddy, "x\n}").is_err());
        assert!(call(f_caddy, "{env.X}").is_err());
    }

    #[test]
    fn token_and_php() {
        assert!(call(f_token, "a@b.fr").is_ok());
        assert!(call(f_token, "a|b").is_err());
        assert!(call(f_token, "a b").is_err());
        let e = call(f_token, "s3cr3t|x").unwrap_err().to_string();
        assert!(!e.contains("s3cr3t"), "filter errors must not echo values");
        assert_eq!(call(f_php, "it's").unwrap(), r"'it\'s'");
    }
}
