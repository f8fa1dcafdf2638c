//! `regie docs`: the site's run book (dossier d'exploitation), the document a
//! provider hands over: hosts, services and URLs, where the data lives,
//! backups and restores (with regie, with the host's script, with restic
//! alone), running everything without regie, updates, DNS records, contacts.
//!
//! Commands as data: [`runbook`] builds a [`Document`] from the resolved
//! site and a date, with no network and no secret (it says where secrets are,
//! never what they are); [`to_markdown`] and [`to_html`] render it; [`cli`]
//! writes the two files.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::json;

use crate::backup::{self, Capture, Repo};
use crate::catalog::{Descriptor, Exec, FileSpec, UpgradePolicy};
use crate::inventory::{Locale, Placed, Resolved, Role};
use crate::render::VERSION;

// ---------------------------------------------------------------------------
// Document model.

/// A run of text inside a paragraph, list item or table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    /// Commands, paths, names: shown as code.
    Code(String),
    Strong(String),
    /// An absolute URL, shown as itself.
    Link(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Level 1 is the title; level 2 a main section, numbered when rendered
    /// (and starting a new page in print); 3 and 4 sub-sections.
    Heading(u8, String),
    Para(Vec<Inline>),
    List(Vec<Vec<Inline>>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
    /// Verbatim text (commands, file trees, zone files), with its language
    /// for syntax highlighting in Markdown viewers.
    Code {
        lang: &'static str,
        text: String,
    },
    /// The list of main sections, under its title.
    Toc(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub locale: Locale,
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Document {
    /// Titles of the main sections (level 2 headings), in order.
    fn sections(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Heading(2, t) => Some(t.as_str()),
            _ => None,
        })
    }
}

fn t(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}
fn c(s: impl Into<String>) -> Inline {
    Inline::Code(s.into())
}

/// A template: `` `x` `` is code, `{name}` placeholders outside code are
/// replaced by the given inlines, the rest is text. An unknown placeholder
/// stays as written; a template with unbalanced backticks has no code.
fn fill(tpl: &str, args: &[(&str, Inline)]) -> Vec<Inline> {
    let mut out = Vec::new();
    if tpl.matches('`').count() % 2 == 1 {
        fill_text(tpl, args, &mut out);
        return out;
    }
    for (i, part) in tpl.split('`').enumerate() {
        if i % 2 == 1 {
            out.push(c(part));
        } else {
            fill_text(part, args, &mut out);
        }
    }
    out
}

/// A template without placeholders (markup only).
fn tx(tpl: &str) -> Vec<Inline> {
    fill(tpl, &[])
}

fn fill_text(tpl: &str, args: &[(&str, Inline)], out: &mut Vec<Inline>) {
    let mut text = String::new();
    let mut rest = tpl;
    while let Some(i) = rest.find('{') {
        text.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let arg = after
            .find('}')
            .and_then(|j| args.iter().find(|(k, _)| *k == &after[..j]).map(|a| (j, a)));
        match arg {
            Some((j, (_, v))) => {
                if !text.is_empty() {
                    out.push(t(std::mem::take(&mut text)));
                }
                out.push(v.clone());
                rest = &after[j + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(t(text));
    }
}

/// [`fill`] for plain strings (comments in code blocks).
fn fill_str(tpl: &str, args: &[(&str, &str)]) -> String {
    let args: Vec<(&str, Inline)> = args.iter().map(|(k, v)| (*k, t(*v))).collect();
    fill(tpl, &args)
        .into_iter()
        .map(|i| match i {
            Inline::Text(s) | Inline::Code(s) | Inline::Strong(s) | Inline::Link(s) => s,
        })
        .collect()
}

/// A word for the shell: as is when it holds only safe characters, else
/// single-quoted.
fn sh(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if safe {
        s.to_string()
    } else {
        crate::ssh::quote(s)
    }
}

fn words(cmd: &[String]) -> String {
    cmd.iter().map(|w| sh(w)).collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------
// Markdown.

fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, ch) in s.char_indices() {
        let entity = ch == '&'
            && s[i + 1..]
                .chars()
                .next()
                .is_some_and(|n| n.is_ascii_alphanumeric() || n == '#');
        if entity || "\\`*_[]<>|~".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn longest_run(s: &str, ch: char) -> usize {
    s.split(|x| x != ch).map(str::len).max().unwrap_or(0)
}

/// A code span; in a table cell `|` is escaped (GitHub tables split on it
/// even inside code).
fn md_code(s: &str, in_table: bool) -> String {
    let s = if in_table {
        s.replace('|', "\\|")
    } else {
        s.to_string()
    };
    let n = longest_run(&s, '`');
    let ticks = "`".repeat(n + 1);
    let pad = if n > 0 { " " } else { "" };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

fn md_inlines(items: &[Inline], in_table: bool) -> String {
    items
        .iter()
        .map(|i| match i {
            Inline::Text(s) => md_text(s),
            Inline::Code(s) => md_code(s, in_table),
            Inline::Strong(s) => format!("**{}**", md_text(s)),
            Inline::Link(u) => format!("<{u}>"),
        })
        .collect()
}

fn md_row(cells: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = cells.collect();
    format!("| {} |\n", cells.join(" | "))
}

fn md_table(head: &[String], rows: &[Vec<Vec<Inline>>]) -> String {
    let mut s = md_row(head.iter().map(|h| md_text(h)));
    s.push_str(&md_row(head.iter().map(|_| "---".to_string())));
    for r in rows {
        s.push_str(&md_row(r.iter().map(|cell| md_inlines(cell, true))));
    }
    s
}

fn md_fence(lang: &str, text: &str) -> String {
    let fence = "`".repeat((longest_run(text, '`') + 1).max(3));
    format!("{fence}{lang}\n{}\n{fence}\n", text.trim_end_matches('\n'))
}

pub fn to_markdown(doc: &Document) -> String {
    let mut out = String::new();
    let mut n = 0;
    for b in &doc.blocks {
        let s = match b {
            Block::Heading(2, text) => {
                n += 1;
                format!("## {n}. {}\n", md_text(text))
            }
            Block::Heading(level, text) => {
                format!("{} {}\n", "#".repeat(*level as usize), md_text(text))
            }
            Block::Para(items) => format!("{}\n", md_inlines(items, false)),
            Block::List(items) => items
                .iter()
                .map(|i| format!("- {}\n", md_inlines(i, false)))
                .collect(),
            Block::Table { head, rows } => md_table(head, rows),
            Block::Code { lang, text } => md_fence(lang, text),
            Block::Toc(title) => {
                let items: String = doc
                    .sections()
                    .enumerate()
                    .map(|(i, s)| format!("{}. {}\n", i + 1, md_text(s)))
                    .collect();
                format!("**{}**\n\n{items}", md_text(title))
            }
        };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&s);
    }
    out
}

// ---------------------------------------------------------------------------
// HTML: one self-contained page, printable to PDF.

const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.45;color:#1a1a1a;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.9rem;border-bottom:3px solid #1a1a1a;padding-bottom:.3rem}
h2{font-size:1.45rem;margin-top:2.5rem;border-bottom:1px solid #999}
h3{font-size:1.15rem;margin-top:1.6rem}
h4{font-size:1rem;margin-top:1.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0;font-size:.92rem}
th,td{border:1px solid #bbb;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#eee}
td code{overflow-wrap:anywhere}
code{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.88em;background:#f3f3f3;padding:0 .15em}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.6rem;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem}
pre code{background:none;padding:0}
a{color:#0645ad}
nav ol{columns:2}
@page{size:A4;margin:16mm 14mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:10.5pt}
h2{break-before:page;page-break-before:always}
h2,h3,h4{break-after:avoid;page-break-after:avoid}
pre,tr{break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}
a{color:inherit;text-decoration:none}
}
";

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

fn html_inlines(items: &[Inline]) -> String {
    items
        .iter()
        .map(|i| match i {
            Inline::Text(s) => esc(s),
            Inline::Code(s) => format!("<code>{}</code>", esc(s)),
            Inline::Strong(s) => format!("<strong>{}</strong>", esc(s)),
            Inline::Link(u) => format!("<a href=\"{0}\">{0}</a>", esc(u)),
        })
        .collect()
}

fn html_table(head: &[String], rows: &[Vec<Vec<Inline>>]) -> String {
    let th: String = head
        .iter()
        .map(|h| format!("<th>{}</th>", esc(h)))
        .collect();
    let body: String = rows
        .iter()
        .map(|r| {
            let td: String = r
                .iter()
                .map(|cell| format!("<td>{}</td>", html_inlines(cell)))
                .collect();
            format!("<tr>{td}</tr>\n")
        })
        .collect();
    format!("<table>\n<thead><tr>{th}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n")
}

fn html_toc(doc: &Document, title: &str) -> String {
    let items: String = doc
        .sections()
        .enumerate()
        .map(|(i, s)| format!("<li><a href=\"#s{}\">{}</a></li>\n", i + 1, esc(s)))
        .collect();
    format!(
        "<nav>\n<p><strong>{}</strong></p>\n<ol>\n{items}</ol>\n</nav>\n",
        esc(title)
    )
}

pub fn to_html(doc: &Document) -> String {
    let lang = match doc.locale {
        Locale::Fr => "fr",
        Locale::En => "en",
    };
    let mut body = String::new();
    let mut n = 0;
    for b in &doc.blocks {
        body.push_str(&match b {
            Block::Heading(2, text) => {
                n += 1;
                format!("<h2 id=\"s{n}\">{n}. {}</h2>\n", esc(text))
            }
            Block::Heading(level, text) => format!("<h{level}>{}</h{level}>\n", esc(text)),
            Block::Para(items) => format!("<p>{}</p>\n", html_inlines(items)),
            Block::List(items) => {
                let li: String = items
                    .iter()
                    .map(|i| format!("<li>{}</li>\n", html_inlines(i)))
                    .collect();
                format!("<ul>\n{li}</ul>\n")
            }
            Block::Table { head, rows } => html_table(head, rows),
            Block::Code { text, .. } => format!(
                "<pre><code>{}</code></pre>\n",
                esc(text.trim_end_matches('\n'))
            ),
            Block::Toc(title) => html_toc(doc, title),
        });
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"regie {VERSION}\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        esc(&doc.title)
    )
}

// ---------------------------------------------------------------------------
// Wording, per language. Templates take `{name}` placeholders (see `fill`).

pub struct Lang {
    pub title: &'static str,
    pub toc: &'static str,
    pub none: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub days: [&'static str; 7],
    pub every_day: &'static str,
    pub and: &'static str,
    pub list_sep: &'static str,
    pub window: &'static str,
    pub mb: &'static str,
    pub gb: &'static str,
    // Cover.
    pub colon: &'static str,
    pub cover_site: &'static str,
    pub cover_domain: &'static str,
    pub cover_contact: &'static str,
    pub cover_notify: &'static str,
    pub cover_timezone: &'static str,
    pub cover_inventory: &'static str,
    pub cover_generated: &'static str,
    pub generated_value: &'static str,
    pub cover_intro: &'static str,
    pub cover_reversible: &'static str,
    // Section titles.
    pub s_hosts: &'static str,
    pub s_services: &'static str,
    pub s_data: &'static str,
    pub s_backup: &'static str,
    pub s_restore: &'static str,
    pub s_without: &'static str,
    pub s_updates: &'static str,
    pub s_dns: &'static str,
    pub s_contacts: &'static str,
    // Hosts.
    pub hosts_intro: &'static str,
    pub hosts_head: [&'static str; 8],
    pub role_server: &'static str,
    pub role_nas: &'static str,
    pub role_sbc: &'static str,
    pub public: &'static str,
    pub ssh_jump: &'static str,
    pub repo_sftp: &'static str,
    pub repo_local: &'static str,
    // Services.
    pub services_intro: &'static str,
    pub services_head: [&'static str; 5],
    pub svc_project: &'static str,
    pub svc_url: &'static str,
    pub svc_version: &'static str,
    pub svc_ports: &'static str,
    pub svc_no_ports: &'static str,
    pub svc_automatic: &'static str,
    pub tls_acme: &'static str,
    pub tls_internal: &'static str,
    pub images_head: [&'static str; 2],
    // Data.
    pub data_intro: &'static str,
    pub data_secret: &'static str,
    pub data_manifest: &'static str,
    pub data_backup_dir: &'static str,
    pub data_nas_key: &'static str,
    pub volumes_head: [&'static str; 4],
    pub vol_files: &'static str,
    pub vol_dump: &'static str,
    pub data_db: &'static str,
    pub data_secret_files: &'static str,
    // Backups.
    pub no_backup: &'static str,
    pub policy_head: [&'static str; 2],
    pub p_to: &'static str,
    pub to_sftp: &'static str,
    pub to_local: &'static str,
    pub p_at: &'static str,
    pub at_value: &'static str,
    pub p_keep: &'static str,
    pub keep: [&'static str; 4],
    pub p_services: &'static str,
    pub p_image: &'static str,
    pub p_drills: &'static str,
    pub drills_every: &'static str,
    pub drills_off: &'static str,
    pub repos_head: [&'static str; 3],
    pub backup_password: &'static str,
    pub backup_nas_key: &'static str,
    pub backup_schedule: &'static str,
    pub backup_capture: &'static str,
    pub capture_layout: &'static str,
    pub backup_check: &'static str,
    pub check_comments: [&'static str; 4],
    // Restore.
    pub restore_intro: &'static str,
    pub h_with_regie: &'static str,
    pub with_regie_comments: [&'static str; 3],
    pub with_regie_after: &'static str,
    pub h_with_script: &'static str,
    pub with_script: &'static str,
    pub h_with_restic: &'static str,
    pub with_restic: &'static str,
    pub restic_sftp_comment: &'static str,
    pub restic_compose_note: &'static str,
    pub capture_placeholder: &'static str,
    pub st_choose: &'static str,
    pub st_fetch: &'static str,
    pub st_stop: &'static str,
    pub st_volumes: &'static str,
    pub st_dir: &'static str,
    pub st_db: &'static str,
    pub st_start: &'static str,
    pub st_after: &'static str,
    pub st_clean: &'static str,
    pub h_new_machine: &'static str,
    pub new_machine_nas: &'static str,
    pub new_machine: &'static str,
    // Without regie.
    pub without_intro: &'static str,
    pub h_compose: &'static str,
    pub compose_head: [&'static str; 4],
    pub proxy_first: &'static str,
    pub h_commands: &'static str,
    pub start_all: &'static str,
    pub ops_comments: [&'static str; 6],
    pub compose_versions: &'static str,
    pub h_backup_script: &'static str,
    pub backup_script: &'static str,
    pub script_comments: [&'static str; 5],
    pub h_stop: &'static str,
    pub stop_intro: &'static str,
    pub stop_cron: &'static str,
    pub stop_maintain: &'static str,
    pub h_secrets: &'static str,
    pub secrets_file: &'static str,
    pub secrets_key: &'static str,
    pub secrets_hosts: &'static str,
    pub secrets_here: &'static str,
    pub h_handover: &'static str,
    pub handover_intro: &'static str,
    pub handover_inventory: &'static str,
    pub handover_secrets: &'static str,
    pub handover_key: &'static str,
    pub handover_known_hosts: &'static str,
    pub handover_catalog: &'static str,
    pub handover_runbook: &'static str,
    pub handover_access: &'static str,
    pub handover_nothing_else: &'static str,
    pub handover_after: &'static str,
    pub revoke: [&'static str; 3],
    // Updates.
    pub updates_window: &'static str,
    pub updates_no_window: &'static str,
    pub auto_on: &'static str,
    pub auto_off: &'static str,
    pub updates_head: [&'static str; 4],
    pub policy_same_major: &'static str,
    pub policy_one_major: &'static str,
    pub policy_esr: &'static str,
    pub policy_rolling: &'static str,
    pub updates_comments: [&'static str; 3],
    pub updates_by_hand: &'static str,
    // DNS.
    pub dns_intro: &'static str,
    pub dns_mail: &'static str,
    pub dns_lan: &'static str,
    pub dns_head: [&'static str; 5],
    pub dns_zone: &'static str,
    pub dns_none: &'static str,
    // Contacts.
    pub contacts_head: [&'static str; 2],
    pub c_client: &'static str,
    pub c_notify: &'static str,
    pub c_no_notify: &'static str,
    pub c_webhook: &'static str,
    pub c_webhook_set: &'static str,
    pub c_smtp: &'static str,
    pub c_smtp_user: &'static str,
    pub c_acme: &'static str,
    pub c_window: &'static str,
    pub escalation_notify: &'static str,
    pub escalation_silent: &'static str,
    pub escalation_window: &'static str,
}

pub const FR: Lang = Lang {
    title: "Dossier d'exploitation",
    colon: " : ",
    toc: "Sommaire",
    none: "—",
    yes: "oui",
    no: "non",
    days: ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    every_day: "tous les jours",
    and: " et ",
    list_sep: " ; ",
    window: "{days}, de {start} à {end}",
    mb: "{n}\u{a0}Mo",
    gb: "{n}\u{a0}Go",
    cover_site: "Site",
    cover_domain: "Domaine",
    cover_contact: "Contact client",
    cover_notify: "Notifications du prestataire",
    cover_timezone: "Fuseau horaire",
    cover_inventory: "Inventaire",
    cover_generated: "Document généré le",
    generated_value: "{date}, par regie {version}",
    cover_intro: "Ce dossier décrit le site tel que le définit l'inventaire {inventory} : les hôtes, les services et leurs adresses, l'emplacement des données, les sauvegardes et leur restauration, les enregistrements DNS et les contacts. regie le produit à partir de l'inventaire et de son catalogue, sans se connecter aux hôtes. Il ne contient ni mot de passe ni clé : la section {section} indique où ils se trouvent.",
    cover_reversible: "Tout ce que regie installe est du Docker Compose, des fichiers de configuration et des dépôts restic ordinaires. Avec ce dossier, l'inventaire, le fichier de secrets et sa clé, un administrateur peut exploiter le site sans regie ou le confier à un autre prestataire (réversibilité).",
    s_hosts: "Hôtes",
    s_services: "Services",
    s_data: "Emplacement des données",
    s_backup: "Sauvegardes",
    s_restore: "Restauration",
    s_without: "Exploitation sans regie (réversibilité)",
    s_updates: "Mises à jour et maintenance",
    s_dns: "Enregistrements DNS",
    s_contacts: "Contacts et escalade",
    hosts_intro: "Les machines du site. regie s'y connecte en SSH ; les services y tournent dans Docker, sous le répertoire de base de chaque hôte.",
    hosts_head: ["Hôte", "Rôle", "Adresse", "Accès SSH", "Répertoire de base", "RAM", "Disque", "Services"],
    role_server: "serveur",
    role_nas: "NAS",
    role_sbc: "ordinateur monocarte",
    public: "publique",
    ssh_jump: "par le rebond",
    repo_sftp: "Les sauvegardes vont sur {nas} ({address}), dans {dir} : un dépôt restic par hôte. Les hôtes s'y connectent eux-mêmes en SFTP, avec l'utilisateur {user} sur le port {port}.",
    repo_local: "Chaque hôte garde ses sauvegardes sur son propre disque, dans {dir} : un dépôt restic par hôte.",
    services_intro: "Chaque service est un projet Docker Compose sur son hôte, nommé {pattern}. Les services web sont servis en HTTPS par le proxy Caddy de leur hôte, que regie ajoute d'office. Les descriptions, l'usage des ports et les notes viennent du catalogue de regie, en anglais.",
    services_head: ["Service", "Description", "Hôte", "Adresse", "Version"],
    svc_project: "Projet Compose : {v}",
    svc_url: "Adresse : {v}",
    svc_version: "Version : {v}",
    svc_ports: "Ports publiés sur l'hôte : {v}",
    svc_no_ports: "Ports publiés sur l'hôte : aucun, le service passe par le proxy.",
    svc_automatic: "Ajouté par regie sur chaque hôte qui sert un service web.",
    tls_acme: "Certificats : ACME (Let's Encrypt), compte {email} ; Caddy les renouvelle seul.",
    tls_internal: "Certificats : autorité de certification interne de Caddy. Pour éviter l'alerte des navigateurs, installer son certificat racine ({path} dans le conteneur `caddy`) sur les postes des utilisateurs.",
    images_head: ["Composant", "Image"],
    data_intro: "Sur chaque hôte, tout est sous le répertoire de base : un répertoire par service (fichier compose, fichiers de configuration, et ce que les conteneurs écrivent dans ses sous-répertoires montés), et {regie} pour regie (manifeste du déploiement, verrou, sauvegardes). Les données des services sont dans des volumes Docker nommés ; avec le stockage par défaut de Docker, le contenu d'un volume est sous `/var/lib/docker/volumes/<volume>/_data`.",
    data_secret: "secret, mode 0600",
    data_manifest: "ce qui est déployé : versions, empreintes des fichiers",
    data_backup_dir: "script de sauvegarde, mot de passe restic",
    data_nas_key: ", clé du NAS",
    volumes_head: ["Volume Docker", "Service", "Contenu", "Sauvegarde"],
    vol_files: "fichiers",
    vol_dump: "dump {file}",
    data_db: "Base de données de {service} : composant {component}, volume {volume}. La sauvegarde en fait un dump avec {command}, transmis directement à restic sans fichier sur le disque ({file}).",
    data_secret_files: "Les fichiers marqués secret contiennent des mots de passe en clair ; ils ne sont lisibles que par root. Les mêmes valeurs sont dans le fichier de secrets chiffré du site : voir la section {section}.",
    no_backup: "Aucune sauvegarde n'est configurée : l'inventaire n'a pas de section `backup`. Les données du site ne sont pas protégées.",
    policy_head: ["Paramètre", "Valeur"],
    p_to: "Destination",
    to_sftp: "{host} ({address}), par SFTP",
    to_local: "le disque de chaque hôte",
    p_at: "Heure",
    at_value: "tous les jours à {at} ({tz})",
    p_keep: "Rétention",
    keep: ["{n} dernières", "{n} journalières", "{n} hebdomadaires", "{n} mensuelles"],
    p_services: "Services sauvegardés",
    p_image: "Image restic",
    p_drills: "Tests de restauration",
    drills_every: "automatiques, tous les {n} jours, après une sauvegarde planifiée réussie",
    drills_off: "aucun test automatique (`drill_days: 0`)",
    repos_head: ["Hôte", "Dépôt restic", "Services"],
    backup_password: "Le mot de passe des dépôts est le même pour tous les hôtes. Il est sur chaque hôte dans {file} (mode 0600), et dans les secrets du site sous le nom {name} ({command}). Sans lui, les sauvegardes sont illisibles : gardez le fichier de secrets et sa clé ailleurs qu'avec les sauvegardes.",
    backup_nas_key: "Les hôtes se connectent au NAS avec la clé SSH du site : {file} sur chaque hôte (mode 0600), {name} dans les secrets. Sur le NAS, elle figure dans `~/.ssh/authorized_keys` de l'utilisateur {user}, limitée à SFTP (`restrict,command=\"internal-sftp\"`). La clé d'hôte du NAS est épinglée dans {known}.",
    backup_schedule: "Planification : le minuteur systemd {timer} lance {command} chaque jour à {at} ({tz}) ; une exécution manquée pendant que la machine était éteinte a lieu au démarrage suivant. Sur un hôte sans systemd, c'est la tâche cron {cron} qui s'en charge, à l'heure du fuseau de l'hôte, avec son journal dans {log}.",
    backup_capture: "Chaque sauvegarde d'un service (une capture) produit un instantané restic de ses fichiers (étiquette `part=files`) et un instantané par base de données (`part=dump`), reliés par l'étiquette `capture=<hôte>-<service>-<date UTC>`. Autres étiquettes : `regie`, `site=`, `host=`, `service=` et `kind=` (`scheduled`, `manual`, `safety` avant une restauration, `pre-update` avant une mise à jour). Contenu d'une capture :",
    capture_layout: "/volumes/<volume Docker>/…   # les volumes, montés en lecture seule\n/config/<service>/…          # le répertoire du service sur l'hôte\n/config/manifest.json        # le manifeste de l'hôte (versions des images)\n/dumps/<fichier>             # un dump de base de données (instantané part=dump)",
    backup_check: "Suivi des sauvegardes :",
    check_comments: [
        "dernière sauvegarde et dernier test par service",
        "les captures présentes dans les dépôts",
        "restic check, puis un test de restauration par service",
        "sauvegarder maintenant",
    ],
    restore_intro: "Une restauration remet un service entier dans l'état d'une capture : ses volumes, ses bases de données et les fichiers de données de son répertoire. Les fichiers que regie génère (fichier compose, configuration) ne sont pas écrasés. Trois façons de faire, de la plus simple à la plus manuelle.",
    h_with_regie: "Avec regie",
    with_regie_comments: [
        "les captures d'un service",
        "restaurer la dernière capture",
        "restaurer une capture précise",
    ],
    with_regie_after: "Avant de restaurer, regie capture les données en place (étiquette `pre-restore`) : une restauration ne détruit jamais la seule copie. Si l'hôte d'origine est perdu, {from} lit le dépôt de cet hôte depuis un autre.",
    h_with_script: "Avec le script de l'hôte",
    with_script: "Sans regie sur le poste de l'administrateur : sur l'hôte, en root, le script de sauvegarde fait la même chose (c'est lui que regie lance).",
    h_with_restic: "Avec restic seul",
    with_restic: "Sans regie ni son script : sur l'hôte, en root, avec restic installé (`apt-get install restic`). Au début de chaque session, désigner le dépôt et le mot de passe :",
    restic_sftp_comment: "restic passe par ssh avec la clé du site et la clé d'hôte épinglée du NAS",
    restic_compose_note: "Les commandes ci-dessous utilisent `docker compose` (v2). Avec l'ancien `docker-compose` (v1), écrire `docker-compose`, et remplacer `up -d --wait` par `up -d` puis attendre que `docker-compose ps` montre les conteneurs « healthy ». Étapes pour chaque service :",
    capture_placeholder: "AAAAMMJJTHHMMSSZ",
    st_choose: "Choisir la capture : noter son étiquette capture=…",
    st_fetch: "Récupérer les fichiers de la capture",
    st_stop: "Arrêter le service",
    st_volumes: "Vider chaque volume et y copier la capture",
    st_dir: "Fichiers de données du répertoire du service (les fichiers présents sont gardés)",
    st_db: "Base {file} : dans une base neuve",
    st_start: "Démarrer le service",
    st_after: "Étapes après restauration",
    st_clean: "Nettoyer",
    h_new_machine: "Sur une machine neuve",
    new_machine_nas: "Pour le NAS, copier de même la clé du site ({nas_key}) et la clé d'hôte du NAS dans les chemins donnés à `SFTP`.",
    new_machine: "Si l'hôte est perdu : installer Docker et compose sur la nouvelle machine, y copier le mot de passe des dépôts dans un fichier en mode 0600 ({password}) et y faire pointer `RESTIC_PASSWORD_FILE`. Garder `RESTIC_REPOSITORY` sur le dépôt de l'hôte perdu, puis suivre les mêmes étapes en commençant par le proxy : il crée le réseau {network} et le volume {volume} dont les autres services ont besoin. L'étape du répertoire recrée alors tout le répertoire du service, fichier compose et fichiers d'environnement compris.",
    without_intro: "regie ne laisse sur les hôtes que des fichiers ordinaires : des fichiers Docker Compose (format 2.4), des fichiers de configuration, un script bash de sauvegarde et son minuteur. Aucun agent ne tourne. Tout s'exploite avec `docker`, `docker compose` et `restic`.",
    h_compose: "Fichiers Compose",
    compose_head: ["Service", "Hôte", "Projet", "Fichier compose"],
    proxy_first: "Sur chaque hôte, le proxy crée le réseau {network} et le volume {volume} que les autres services utilisent : il démarre en premier.",
    h_commands: "Commandes courantes",
    start_all: "{host} : tout démarrer, le proxy d'abord",
    ops_comments: [
        "état et santé des conteneurs",
        "journaux",
        "démarrer, ou appliquer un fichier modifié",
        "redémarrer",
        "arrêter et supprimer les conteneurs (les volumes restent)",
        "télécharger les images du fichier",
    ],
    compose_versions: "regie utilise `docker compose` (v2) s'il est installé, sinon `docker-compose` (v1) : les deux lisent ces fichiers et prennent les mêmes options. Chaque fichier compose rappelle en tête la commande pour le lancer sans regie.",
    h_backup_script: "Sauvegardes sans regie",
    backup_script: "Le minuteur lance {script}, un script bash lisible : les réglages de l'hôte en tête, une fonction par service, puis le corps commun. Il se lance aussi à la main, en root :",
    script_comments: [
        "sauvegarder tous les services, puis appliquer la rétention",
        "lister les instantanés d'un service",
        "restaurer la dernière capture d'un service",
        "test de restauration dans un projet temporaire",
        "restic tel quel, sur le dépôt de l'hôte",
    ],
    h_stop: "Arrêter les tâches de regie",
    stop_intro: "regie n'installe qu'une tâche planifiée sur les hôtes : la sauvegarde. Pour la retirer, une fois d'autres sauvegardes en place :",
    stop_cron: "hôtes sans systemd",
    stop_maintain: "`regie maintain` (mises à jour, tests de restauration, notifications) tourne depuis le poste du prestataire, pas sur les hôtes : retirer sa ligne de la crontab du prestataire.",
    h_secrets: "Secrets",
    secrets_file: "Fichier de secrets chiffré avec age : {file}, à côté de l'inventaire. Noms : {list} ; une valeur : {show}.",
    secrets_key: "Il s'ouvre avec l'identité age désignée par `secrets.identity` dans l'inventaire, ou `REGIE_AGE_IDENTITY`, ou `~/.config/regie/identity.txt`. Cette clé se transmet à part, jamais avec le fichier de secrets.",
    secrets_hosts: "Sur les hôtes : les fichiers marqués secret de chaque service (voir la section {section}), et dans {dir} : {files}, tous en mode 0600.",
    secrets_here: "Ce dossier ne reproduit aucune valeur secrète.",
    h_handover: "Remise au client ou à un nouveau prestataire",
    handover_intro: "Pour changer de prestataire, il suffit de remettre :",
    handover_inventory: "l'inventaire {file} ;",
    handover_secrets: "le fichier de secrets {file} ;",
    handover_key: "la clé age qui l'ouvre, par un canal séparé et sûr ; ou bien le nouveau prestataire donne sa clé publique, qui s'ajoute à `secrets.recipients`, puis {rekey} ;",
    handover_known_hosts: "{file}, les clés d'hôte SSH vérifiées par regie ;",
    handover_catalog: "le répertoire de catalogue {dir} (`catalog:` dans l'inventaire) ;",
    handover_runbook: "ce dossier d'exploitation ;",
    handover_access: "les accès SSH aux machines du site (comptes à créer pour le nouveau prestataire).",
    handover_nothing_else: "Rien d'autre n'est nécessaire : ni licence, ni service en ligne, ni agent sur les hôtes. Le nouveau prestataire peut continuer avec regie, ou exploiter le site avec les commandes de ce dossier.",
    handover_after: "Ensuite, retirer les accès de l'ancien prestataire :",
    revoke: [
        "ses clés SSH sur les machines du site ;",
        "sa clé age de `secrets.recipients`, puis `regie secrets rekey` ;",
        "ses adresses dans la section `notify` de l'inventaire.",
    ],
    updates_window: "Fenêtre de maintenance : {window} (fuseau {tz}). `regie update apply` refuse d'agir en dehors (sauf avec `--now`), et `regie maintain` n'applique les mises à jour et ne lance les tests de restauration qu'à l'intérieur.",
    updates_no_window: "Aucune fenêtre de maintenance n'est définie : l'inventaire n'a pas de section `maintenance`.",
    auto_on: "Mises à jour automatiques : oui. `regie maintain` applique dans la fenêtre celles que permet la politique de chaque service, jamais une version majeure, avec une sauvegarde avant et un retour arrière automatique en cas d'échec.",
    auto_off: "Mises à jour automatiques : non. `regie maintain` les signale seulement ; une personne les applique avec `regie update apply`.",
    updates_head: ["Service", "Version", "Politique", "Notes"],
    policy_same_major: "toute version plus récente de la même majeure",
    policy_one_major: "une version majeure à la fois",
    policy_esr: "d'une version ESR à la suivante",
    policy_rolling: "étiquette mobile : suivre l'empreinte (digest)",
    updates_comments: [
        "versions plus récentes permises (ne télécharge rien)",
        "sauvegarde, mise à jour, contrôle de santé, retour arrière en cas d'échec",
        "mises à jour du système en attente, sécurité d'abord",
    ],
    updates_by_hand: "Sans regie : sauvegarder le service, changer l'étiquette de l'image dans son fichier compose, puis `docker compose pull` et `up -d`, en respectant la politique et les notes ci-dessus (une version majeure de PostgreSQL se change par dump et restauration). Tant que regie reste utilisé, changer plutôt `version` dans l'inventaire : le déploiement suivant remettrait l'ancienne image.",
    dns_intro: "Enregistrements à créer chez le gestionnaire de la zone DNS ; regie ne les crée pas.",
    dns_mail: "Pour la messagerie, {command} compare les enregistrements publiés à ceux-ci.",
    dns_lan: "Aucun hôte de service n'est public : ces noms se déclarent dans le DNS du réseau local (serveur DNS interne ou box), pas sur Internet.",
    dns_head: ["Type", "Nom", "Valeur", "Service", "Note"],
    dns_zone: "Les mêmes au format d'un fichier de zone BIND (noms complets ; les lignes en commentaire ne se publient pas telles quelles) :",
    dns_none: "Aucun enregistrement : le site n'a pas de service web.",
    contacts_head: ["Rôle", "Contact"],
    c_client: "Client (contact du site)",
    c_notify: "Prestataire : notifications de regie",
    c_no_notify: "aucune adresse (section `notify` vide)",
    c_webhook: "Webhook de notification",
    c_webhook_set: "configuré (son adresse, qui sert de jeton, n'est pas reproduite ici)",
    c_smtp: "Relais SMTP des notifications",
    c_smtp_user: ", utilisateur {user} (mot de passe : secret `notify.smtp_password`)",
    c_acme: "Compte ACME (avis d'expiration des certificats)",
    c_window: "Fenêtre de maintenance",
    escalation_notify: "`regie maintain` envoie aux adresses de notification les échecs (sauvegarde, mise à jour, test de restauration) et les actions à faire.",
    escalation_silent: "Aucun canal de notification n'est défini : les échecs ne sont signalés à personne. Compléter la section `notify` de l'inventaire.",
    escalation_window: "Les interventions prévues ont lieu dans la fenêtre de maintenance ; en dehors, seulement sur incident, en accord avec le contact client.",
};

pub const EN: Lang = Lang {
    title: "Run book",
    colon: ": ",
    toc: "Contents",
    none: "—",
    yes: "yes",
    no: "no",
    days: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    every_day: "every day",
    and: " and ",
    list_sep: "; ",
    window: "{days}, {start} to {end}",
    mb: "{n}\u{a0}MB",
    gb: "{n}\u{a0}GB",
    cover_site: "Site",
    cover_domain: "Domain",
    cover_contact: "Client contact",
    cover_notify: "Provider notifications",
    cover_timezone: "Time zone",
    cover_inventory: "Inventory",
    cover_generated: "Generated",
    generated_value: "{date}, by regie {version}",
    cover_intro: "This run book describes the site as the inventory {inventory} defines it: hosts, services and their addresses, where the data lives, backups and how to restore them, DNS records and contacts. regie generates it from the inventory and its catalog without connecting to the hosts. It holds no password and no key: section {section} says where they are.",
    cover_reversible: "Everything regie installs is plain Docker Compose, configuration files and restic repositories. With this run book, the inventory, the secrets file and its key, an administrator can run the site without regie or hand it to another provider (reversibility).",
    s_hosts: "Hosts",
    s_services: "Services",
    s_data: "Where the data lives",
    s_backup: "Backups",
    s_restore: "Restoring",
    s_without: "Running the site without regie (reversibility)",
    s_updates: "Updates and maintenance",
    s_dns: "DNS records",
    s_contacts: "Contacts and escalation",
    hosts_intro: "The site's machines. regie reaches them over SSH; the services run in Docker under each host's base directory.",
    hosts_head: ["Host", "Role", "Address", "SSH access", "Base directory", "RAM", "Disk", "Services"],
    role_server: "server",
    role_nas: "NAS",
    role_sbc: "single-board computer",
    public: "public",
    ssh_jump: "through jump host",
    repo_sftp: "Backups go to {nas} ({address}), under {dir}: one restic repository per host. The hosts connect to it themselves over SFTP, as user {user} on port {port}.",
    repo_local: "Each host keeps its backups on its own disk, under {dir}: one restic repository per host.",
    services_intro: "Each service is a Docker Compose project on its host, named {pattern}. Web services are served over HTTPS by their host's Caddy proxy, which regie adds on its own. Descriptions, port purposes and notes come from regie's catalog.",
    services_head: ["Service", "Description", "Host", "URL", "Version"],
    svc_project: "Compose project: {v}",
    svc_url: "URL: {v}",
    svc_version: "Version: {v}",
    svc_ports: "Ports published on the host: {v}",
    svc_no_ports: "Ports published on the host: none, the service is reached through the proxy.",
    svc_automatic: "Added by regie on every host that serves a web service.",
    tls_acme: "Certificates: ACME (Let's Encrypt), account {email}; Caddy renews them on its own.",
    tls_internal: "Certificates: Caddy's internal certificate authority. To spare users the browser warning, install its root certificate ({path} in the `caddy` container) on their machines.",
    images_head: ["Component", "Image"],
    data_intro: "On each host everything is under the base directory: one directory per service (compose file, configuration files, and whatever the containers write into its mounted subdirectories), and {regie} for regie (deploy manifest, lock, backups). The services' data is in named Docker volumes; with Docker's default storage, a volume's contents are under `/var/lib/docker/volumes/<volume>/_data`.",
    data_secret: "secret, mode 0600",
    data_manifest: "what is deployed: versions, file checksums",
    data_backup_dir: "backup script, restic password",
    data_nas_key: ", NAS key",
    volumes_head: ["Docker volume", "Service", "Contents", "Backup"],
    vol_files: "files",
    vol_dump: "dump {file}",
    data_db: "Database of {service}: component {component}, volume {volume}. Backups dump it with {command}, streamed straight into restic with no file on the disk ({file}).",
    data_secret_files: "Files marked secret hold passwords in clear; only root can read them. The same values are in the site's encrypted secrets file: see section {section}.",
    no_backup: "No backups are configured: the inventory has no `backup` section. The site's data is not protected.",
    policy_head: ["Setting", "Value"],
    p_to: "Target",
    to_sftp: "{host} ({address}), over SFTP",
    to_local: "each host's own disk",
    p_at: "Time",
    at_value: "daily at {at} ({tz})",
    p_keep: "Retention",
    keep: ["last {n}", "{n} daily", "{n} weekly", "{n} monthly"],
    p_services: "Services backed up",
    p_image: "restic image",
    p_drills: "Restore drills",
    drills_every: "automatic, every {n} days, after a successful scheduled backup",
    drills_off: "none scheduled (`drill_days: 0`)",
    repos_head: ["Host", "restic repository", "Services"],
    backup_password: "The repositories' password is the same for every host. It is on each host in {file} (mode 0600), and in the site's secrets as {name} ({command}). Without it the backups cannot be read: keep the secrets file and its key somewhere other than with the backups.",
    backup_nas_key: "The hosts reach the NAS with the site's SSH key: {file} on each host (mode 0600), {name} in the secrets. On the NAS it is in `~/.ssh/authorized_keys` of user {user}, limited to SFTP (`restrict,command=\"internal-sftp\"`). The NAS's host key is pinned in {known}.",
    backup_schedule: "Schedule: the systemd timer {timer} runs {command} daily at {at} ({tz}); a run missed while the machine was off happens at the next boot. On a host without systemd, the cron entry {cron} does it instead, in the host's time zone, with its log in {log}.",
    backup_capture: "Each backup of a service (a capture) makes one restic snapshot of its files (tag `part=files`) and one snapshot per database (`part=dump`), tied together by the tag `capture=<host>-<service>-<UTC time>`. Other tags: `regie`, `site=`, `host=`, `service=` and `kind=` (`scheduled`, `manual`, `safety` before a restore, `pre-update` before an update). What a capture holds:",
    capture_layout: "/volumes/<docker volume>/…   # the volumes, mounted read-only\n/config/<service>/…          # the service's directory on the host\n/config/manifest.json        # the host's manifest (image versions)\n/dumps/<file>                # a database dump (snapshot part=dump)",
    backup_check: "Watching the backups:",
    check_comments: [
        "last backup and last drill per service",
        "the captures in the repositories",
        "restic check, then a restore drill per service",
        "back up now",
    ],
    restore_intro: "A restore puts a whole service back as a capture holds it: its volumes, its databases and the data files of its directory. Files regie generates (compose file, configuration) are not overwritten. Three ways, from the simplest to the most manual.",
    h_with_regie: "With regie",
    with_regie_comments: [
        "a service's captures",
        "restore the latest capture",
        "restore a given capture",
    ],
    with_regie_after: "Before restoring, regie captures the data in place (tag `pre-restore`): a restore never destroys the only copy. When the original host is lost, {from} reads that host's repository from another one.",
    h_with_script: "With the host's script",
    with_script: "Without regie on the administrator's machine: on the host, as root, the backup script does the same (it is what regie runs).",
    h_with_restic: "With restic alone",
    with_restic: "Without regie or its script: on the host, as root, with restic installed (`apt-get install restic`). At the start of each session, set the repository and the password:",
    restic_sftp_comment: "restic goes through ssh with the site's key and the NAS's pinned host key",
    restic_compose_note: "The commands below use `docker compose` (v2). With the older `docker-compose` (v1), write `docker-compose`, and replace `up -d --wait` with `up -d`, then wait until `docker-compose ps` shows the containers \"healthy\". Steps for each service:",
    capture_placeholder: "YYYYMMDDTHHMMSSZ",
    st_choose: "Pick the capture: note its capture=… tag",
    st_fetch: "Fetch the capture's files",
    st_stop: "Stop the service",
    st_volumes: "Empty each volume and copy the capture into it",
    st_dir: "Data files of the service's directory (files already there are kept)",
    st_db: "Database {file}: into a fresh database",
    st_start: "Start the service",
    st_after: "After-restore steps",
    st_clean: "Clean up",
    h_new_machine: "On a new machine",
    new_machine_nas: "For the NAS, copy the site's key ({nas_key}) and the NAS's host key the same way, to the paths given in `SFTP`.",
    new_machine: "When the host is lost: install Docker and compose on the new machine, copy the repositories' password there into a file with mode 0600 ({password}) and point `RESTIC_PASSWORD_FILE` at it. Keep `RESTIC_REPOSITORY` on the lost host's repository, then follow the same steps, starting with the proxy: it creates the network {network} and the volume {volume} the other services need. The directory step then recreates the whole service directory, compose file and environment files included.",
    without_intro: "regie leaves only ordinary files on the hosts: Docker Compose files (format 2.4), configuration files, a bash backup script and its timer. No agent runs. Everything is run with `docker`, `docker compose` and `restic`.",
    h_compose: "Compose files",
    compose_head: ["Service", "Host", "Project", "Compose file"],
    proxy_first: "On each host, the proxy creates the network {network} and the volume {volume} the other services use: it starts first.",
    h_commands: "Everyday commands",
    start_all: "{host}: start everything, proxy first",
    ops_comments: [
        "containers' state and health",
        "logs",
        "start, or apply a changed file",
        "restart",
        "stop and remove the containers (volumes stay)",
        "pull the file's images",
    ],
    compose_versions: "regie uses `docker compose` (v2) when it is installed, else `docker-compose` (v1): both read these files and take the same options. Each compose file starts with a comment giving the command to run it without regie.",
    h_backup_script: "Backups without regie",
    backup_script: "The timer runs {script}, a readable bash script: the host's settings first, one function per service, then the common body. It can be run by hand, as root:",
    script_comments: [
        "back up every service, then apply retention",
        "list a service's snapshots",
        "restore a service's latest capture",
        "restore drill into a scratch project",
        "plain restic on this host's repository",
    ],
    h_stop: "Stopping regie's scheduled jobs",
    stop_intro: "regie installs a single scheduled job on the hosts: the backup. To remove it, once other backups are in place:",
    stop_cron: "hosts without systemd",
    stop_maintain: "`regie maintain` (updates, restore drills, notifications) runs from the provider's machine, not on the hosts: remove its line from the provider's crontab.",
    h_secrets: "Secrets",
    secrets_file: "Secrets file, encrypted with age: {file}, beside the inventory. Names: {list}; one value: {show}.",
    secrets_key: "It opens with the age identity named by `secrets.identity` in the inventory, or `REGIE_AGE_IDENTITY`, or `~/.config/regie/identity.txt`. That key is handed over separately, never with the secrets file.",
    secrets_hosts: "On the hosts: each service's files marked secret (see section {section}), and in {dir}: {files}, all with mode 0600.",
    secrets_here: "This run book shows no secret value.",
    h_handover: "Handing over to the client or a new provider",
    handover_intro: "To change provider, hand over:",
    handover_inventory: "the inventory {file};",
    handover_secrets: "the secrets file {file};",
    handover_key: "the age key that opens it, through a separate, safe channel; or the new provider gives its public key, which is added to `secrets.recipients`, then {rekey};",
    handover_known_hosts: "{file}, the SSH host keys regie checks;",
    handover_catalog: "the catalog directory {dir} (`catalog:` in the inventory);",
    handover_runbook: "this run book;",
    handover_access: "SSH access to the site's machines (accounts to create for the new provider).",
    handover_nothing_else: "Nothing else is needed: no licence, no online service, no agent on the hosts. The new provider can go on with regie, or run the site with the commands of this run book.",
    handover_after: "Then remove the former provider's access:",
    revoke: [
        "its SSH keys on the site's machines;",
        "its age key from `secrets.recipients`, then `regie secrets rekey`;",
        "its addresses in the inventory's `notify` section.",
    ],
    updates_window: "Maintenance window: {window} (time zone {tz}). `regie update apply` refuses to run outside it (unless given `--now`), and `regie maintain` applies updates and runs restore drills only inside it.",
    updates_no_window: "No maintenance window is set: the inventory has no `maintenance` section.",
    auto_on: "Automatic updates: yes. `regie maintain` applies, inside the window, those each service's policy allows, never a major version, with a backup first and an automatic rollback on failure.",
    auto_off: "Automatic updates: no. `regie maintain` only reports them; a person applies them with `regie update apply`.",
    updates_head: ["Service", "Version", "Policy", "Notes"],
    policy_same_major: "any newer tag of the same major",
    policy_one_major: "one major at a time",
    policy_esr: "from one extended-support release to the next",
    policy_rolling: "moving tag: follow the digest",
    updates_comments: [
        "newer versions the policies allow (pulls nothing)",
        "backup, update, health check, rollback on failure",
        "pending OS updates, security first",
    ],
    updates_by_hand: "Without regie: back up the service, change the image tag in its compose file, then `docker compose pull` and `up -d`, following the policy and notes above (a PostgreSQL major version changes by dump and restore). While regie is still used, change `version` in the inventory instead: the next deploy would put the old image back.",
    dns_intro: "Records to create at the DNS zone's manager; regie does not create them.",
    dns_mail: "For mail, {command} compares the published records with these.",
    dns_lan: "No host running services is public: these names go into the local network's DNS (internal DNS server or router), not on the internet.",
    dns_head: ["Type", "Name", "Value", "Service", "Note"],
    dns_zone: "The same as a BIND zone file snippet (full names; commented lines cannot be published as they are):",
    dns_none: "No records: the site has no web service.",
    contacts_head: ["Role", "Contact"],
    c_client: "Client (site contact)",
    c_notify: "Provider: regie notifications",
    c_no_notify: "no address (empty `notify` section)",
    c_webhook: "Notification webhook",
    c_webhook_set: "set (its URL, which acts as a token, is not shown here)",
    c_smtp: "SMTP relay for notifications",
    c_smtp_user: ", user {user} (password: secret `notify.smtp_password`)",
    c_acme: "ACME account (certificate expiry notices)",
    c_window: "Maintenance window",
    escalation_notify: "`regie maintain` sends failures (backup, update, restore drill) and things to do to the notification channels.",
    escalation_silent: "No notification channel is set: failures are reported to no one. Fill in the inventory's `notify` section.",
    escalation_window: "Planned work happens inside the maintenance window; outside it, only for incidents, in agreement with the client contact.",
};

pub fn lang(locale: Locale) -> &'static Lang {
    match locale {
        Locale::Fr => &FR,
        Locale::En => &EN,
    }
}

// ---------------------------------------------------------------------------
// Facts from the inventory and the catalog.

/// Compose project of a stack (`<site>-<stack>`, as render and backups name it).
fn project(site: &Resolved, stack: &str) -> String {
    format!("{}-{stack}", site.inv.site.name)
}

/// The proxy's shared network and certificate volume: their names are fixed
/// by the proxy's compose file (`proxy_network`, `proxy_data_volume` in render).
fn proxy_network(site: &Resolved) -> String {
    format!("{}_proxy", site.inv.site.name)
}
fn proxy_data_volume(site: &Resolved) -> String {
    format!("{}_proxy_data", site.inv.site.name)
}

/// Docker's name of a stack's volume: `<project>_<key>` (compose's rule,
/// as in `backup::volume_names` without a compose file), except the proxy's
/// data volume, whose compose file gives it a fixed name.
fn volume_name(site: &Resolved, stack: &str, key: &str) -> String {
    if stack == "proxy" && key == "data" {
        return proxy_data_volume(site);
    }
    format!("{}_{key}", project(site, stack))
}

fn stack_dir(base: &str, stack: &str) -> String {
    format!("{base}/{stack}")
}

fn compose_file(base: &str, stack: &str) -> String {
    format!("{base}/{stack}/docker-compose.yml")
}

fn compose_cmd(site: &Resolved, base: &str, stack: &str) -> String {
    format!(
        "docker compose -p {} -f {}",
        sh(&project(site, stack)),
        sh(&compose_file(base, stack))
    )
}

/// Whether the host's proxy gets certificates by ACME (else Caddy's
/// internal CA), as render decides.
/// Every placed stack with its host, host by host (proxy first on each).
fn placed(site: &Resolved) -> impl Iterator<Item = (&str, &Placed)> {
    site.placement
        .iter()
        .flat_map(|(h, ps)| ps.iter().map(move |p| (h.as_str(), p)))
}

fn descriptor<'a>(site: &'a Resolved, p: &Placed) -> &'a Descriptor {
    &site.catalog.stacks[&p.name]
}

/// Files of a stack that render writes (those with a `when` setting only
/// when it is true).
fn rendered_files<'a>(d: &'a Descriptor, p: &'a Placed) -> impl Iterator<Item = &'a FileSpec> {
    d.files.iter().filter(move |f| {
        f.when
            .as_ref()
            .is_none_or(|w| p.settings[w.as_str()] == serde_json::Value::Bool(true))
    })
}

fn base_dir<'a>(site: &'a Resolved, host: &str) -> &'a str {
    &site.inv.hosts[host].base_dir
}

fn backup_path(site: &Resolved, host: &str, file: &str) -> String {
    format!("{}/{}/{file}", base_dir(site, host), backup::DIR)
}

fn script_path(site: &Resolved, host: &str) -> String {
    format!("{}/{}", base_dir(site, host), backup::SCRIPT)
}

/// Hosts that back something up, with their captures.
fn backed_up(site: &Resolved) -> Vec<(&str, Vec<Capture<'_>>)> {
    site.placement
        .keys()
        .map(|h| (h.as_str(), backup::captures(site, h)))
        .filter(|(_, c)| !c.is_empty())
        .collect()
}

/// A path under the base directory of the backed-up hosts: the real path
/// when they all share one base directory, else with `<base_dir>`.
fn on_hosts(site: &Resolved, rel: &str) -> String {
    let mut bases: Vec<&str> = backed_up(site)
        .iter()
        .map(|(h, _)| base_dir(site, h))
        .collect();
    bases.dedup();
    match bases.as_slice() {
        [one] => format!("{one}/{rel}"),
        _ => format!("<base_dir>/{rel}"),
    }
}

fn timer_unit(site: &Resolved) -> String {
    format!("regie-backup-{}", site.inv.site.name)
}

/// `a, b and c`.
fn join_and(l: &Lang, items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{}{}{last}", init.join(", "), l.and),
    }
}

fn human_window(l: &Lang, window: &str) -> String {
    let Ok(w) = crate::inventory::parse_window(window) else {
        return window.to_string();
    };
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let days = if w.days.len() == 7 {
        l.every_day.to_string()
    } else {
        let names: Vec<&str> = w
            .days
            .iter()
            .filter_map(|d| DAYS.iter().position(|x| x == d).map(|i| l.days[i]))
            .collect();
        join_and(l, &names)
    };
    fill_str(
        l.window,
        &[("days", &days), ("start", &w.start), ("end", &w.end)],
    )
}

// ---------------------------------------------------------------------------
// DNS.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: String,
    pub name: String,
    pub value: String,
    pub service: String,
    pub note: Option<String>,
}

/// The record pointing a name at an address: A, AAAA, or CNAME when the
/// address is a name.
fn address_record(address: &str) -> (&'static str, String) {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => ("A", address.to_string()),
        Ok(IpAddr::V6(_)) => ("AAAA", address.to_string()),
        Err(_) => ("CNAME", format!("{address}.")),
    }
}

/// The domains a stack's `{domain}` records are made for: its `domains`
/// setting (mail), else the site's domain.
fn record_domains(site: &Resolved, p: &Placed) -> Vec<String> {
    let listed: Vec<String> = p.settings["domains"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        vec![site.inv.site.domain.clone()]
    } else {
        listed
    }
}

/// The DNS records the site needs: the catalog's, per service, plus an
/// address record for every web hostname; each once.
pub fn dns_records(site: &Resolved) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    let mut push = |r: Record| {
        if !out
            .iter()
            .any(|o| o.kind == r.kind && o.name == r.name && o.value == r.value)
        {
            out.push(r);
        }
    };
    for (host, p) in placed(site) {
        let Some(hostname) = p.hostname.as_deref() else {
            continue;
        };
        let address = &site.inv.hosts[host].address;
        let d = descriptor(site, p);
        for r in &d.dns {
            let domains = if r.name.contains("{domain}") || r.value.contains("{domain}") {
                record_domains(site, p)
            } else {
                vec![site.inv.site.domain.clone()]
            };
            for domain in domains {
                let vars = crate::catalog::DnsVars {
                    hostname,
                    address,
                    domain: &domain,
                    dkim_selector: d.dkim_selector.as_deref().unwrap_or("{dkim_selector}"),
                };
                let mut kind = r.kind.clone();
                let mut value = vars.fill(&r.value);
                if kind == "A" && r.value == "{address}" {
                    let (k, v) = address_record(address);
                    kind = k.to_string();
                    value = v;
                }
                push(Record {
                    kind,
                    name: vars.fill(&r.name),
                    value,
                    service: p.name.clone(),
                    note: r.note.clone(),
                });
            }
        }
        let (kind, value) = address_record(address);
        push(Record {
            kind: kind.into(),
            name: hostname.into(),
            value,
            service: p.name.clone(),
            note: None,
        });
    }
    out
}

/// A zone file line; records that cannot go into the zone as they are (PTR,
/// set at the address's owner, and values to be filled in, written in
/// parentheses in the catalog) are comments.
fn zone_line(r: &Record, width: usize) -> String {
    let name = if r.name.ends_with('.') {
        r.name.clone()
    } else {
        format!("{}.", r.name)
    };
    let comment = r.kind == "PTR" || r.value.starts_with('(');
    let line = format!("{name:<width$} IN {:<5} {}", r.kind, r.value);
    let note = r
        .note
        .as_deref()
        .map(|n| format!("  ; {n}"))
        .unwrap_or_default();
    if comment {
        format!("; {line}{note}")
    } else {
        format!("{line}{note}")
    }
}

/// Values to fill in (in parentheses in the catalog) are instructions, shown
/// as text; the others are the record's data.
fn dns_value(value: &str) -> Vec<Inline> {
    if value.starts_with('(') {
        tx(value)
    } else {
        vec![c(value)]
    }
}

fn zone_file(records: &[Record]) -> String {
    let width = records.iter().map(|r| r.name.len() + 1).max().unwrap_or(0);
    records
        .iter()
        .map(|r| zone_line(r, width))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------
// The generator.

struct Ctx<'a> {
    site: &'a Resolved,
    l: &'static Lang,
    /// The inventory's file name, as commands name it (`-i`).
    inv: String,
    /// Titles of the main sections in order, for cross references.
    order: Vec<&'static str>,
    blocks: Vec<Block>,
}

impl Ctx<'_> {
    fn h(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading(level, text.into()));
    }
    fn p(&mut self, items: Vec<Inline>) {
        self.blocks.push(Block::Para(items));
    }
    fn list(&mut self, items: Vec<Vec<Inline>>) {
        self.blocks.push(Block::List(items));
    }
    fn table(&mut self, head: &[&str], rows: Vec<Vec<Vec<Inline>>>) {
        self.blocks.push(Block::Table {
            head: head.iter().map(|h| h.to_string()).collect(),
            rows,
        });
    }
    fn code(&mut self, lang: &'static str, text: String) {
        self.blocks.push(Block::Code { lang, text });
    }
    /// `regie ARGS -i SITE.yml REST`.
    fn regie(&self, args: &str, rest: &str) -> String {
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(" {rest}")
        };
        format!("regie {args} -i {}{rest}", sh(&self.inv))
    }
    fn inv(&self) -> &crate::inventory::Inventory {
        &self.site.inv
    }
    /// The number of a main section, as rendered.
    fn no(&self, title: &str) -> String {
        let i = self.order.iter().position(|s| *s == title).unwrap_or(0);
        (i + 1).to_string()
    }
}

/// Lines of shell with a `# comment` aligned after each command.
fn commented(lines: &[(String, &str)]) -> String {
    let width = lines.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    lines
        .iter()
        .map(|(cmd, comment)| format!("{cmd:<width$}  # {comment}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// A main section: its title and what writes its body.
type Part = (&'static str, fn(&mut Ctx));

/// The run book of a site. Pure: reads nothing, connects nowhere, knows no
/// secret.
pub fn runbook(site: &Resolved, date: &str) -> Document {
    let l = lang(site.inv.site.locale);
    let display = site.inv.site.display().to_string();
    let parts: [Part; 9] = [
        (l.s_hosts, hosts),
        (l.s_services, services),
        (l.s_data, data),
        (l.s_backup, backups),
        (l.s_restore, restore),
        (l.s_without, without_regie),
        (l.s_updates, updates),
        (l.s_dns, dns),
        (l.s_contacts, contacts),
    ];
    let mut cx = Ctx {
        site,
        l,
        inv: file_name(&site.file),
        order: parts.iter().map(|(title, _)| *title).collect(),
        blocks: Vec::new(),
    };
    let title = format!("{} — {display}", l.title);
    cover(&mut cx, &title, date);
    for (heading, part) in parts {
        cx.h(2, heading);
        part(&mut cx);
    }
    Document {
        locale: site.inv.site.locale,
        title,
        blocks: cx.blocks,
    }
}

fn cover(cx: &mut Ctx, title: &str, date: &str) {
    let l = cx.l;
    let s = &cx.inv().site;
    let notify = &cx.inv().notify.email;
    let notify = if notify.is_empty() {
        tx(l.none)
    } else {
        vec![t(notify.join(", "))]
    };
    let generated = fill(
        l.generated_value,
        &[("date", t(date)), ("version", t(VERSION))],
    );
    let item = |label: &str, mut value: Vec<Inline>| {
        let mut v = vec![Inline::Strong(label.into()), t(l.colon)];
        v.append(&mut value);
        v
    };
    let items = vec![
        item(l.cover_site, vec![c(&s.name)]),
        item(l.cover_domain, vec![t(&s.domain)]),
        item(l.cover_contact, vec![t(&s.contact)]),
        item(l.cover_notify, notify),
        item(l.cover_timezone, vec![t(&s.timezone)]),
        item(l.cover_inventory, vec![c(&cx.inv)]),
        item(l.cover_generated, generated),
    ];
    cx.h(1, title);
    cx.list(items);
    let intro = fill(
        l.cover_intro,
        &[
            ("inventory", c(&cx.inv)),
            ("section", t(cx.no(l.s_without))),
        ],
    );
    cx.p(intro);
    cx.p(tx(l.cover_reversible));
    cx.blocks.push(Block::Toc(l.toc.into()));
}

fn role(l: &Lang, r: Role) -> &'static str {
    match r {
        Role::Server => l.role_server,
        Role::Nas => l.role_nas,
        Role::Sbc => l.role_sbc,
    }
}

fn ssh_cell(l: &Lang, h: &crate::inventory::Host) -> Vec<Inline> {
    let target = match &h.ssh.user {
        Some(u) => format!("{u}@{}", h.address),
        None => h.address.clone(),
    };
    let mut cell = vec![c(target), t(format!(", port {}", h.ssh.port.unwrap_or(22)))];
    if h.ssh.sudo {
        cell.push(t(", sudo"));
    }
    if let Some(j) = &h.ssh.jump {
        cell.push(t(format!(", {} ", l.ssh_jump)));
        cell.push(c(j));
    }
    cell
}

fn size(tpl: &str, n: Option<u64>, none: &str) -> Vec<Inline> {
    vec![t(n.map_or(none.to_string(), |n| {
        fill_str(tpl, &[("n", &n.to_string())])
    }))]
}

fn hosts(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.p(tx(l.hosts_intro));
    let rows = site
        .inv
        .hosts
        .iter()
        .map(|(name, h)| {
            let mut address = vec![c(&h.address)];
            if h.public {
                address.push(t(format!(" ({})", l.public)));
            }
            let stacks: Vec<&str> = site
                .placement
                .get(name)
                .map(|ps| ps.iter().map(|p| p.name.as_str()).collect())
                .unwrap_or_default();
            let (base, services) = if h.role == Role::Nas {
                (tx(l.none), tx(l.none))
            } else {
                (vec![c(&h.base_dir)], vec![t(stacks.join(", "))])
            };
            vec![
                vec![c(name)],
                vec![t(role(l, h.role))],
                address,
                ssh_cell(l, h),
                base,
                size(l.mb, h.ram_mb, l.none),
                size(l.gb, h.disk_gb, l.none),
                services,
            ]
        })
        .collect();
    cx.table(&l.hosts_head, rows);
    match Repo::of(site) {
        Some(Repo::Sftp {
            nas,
            user,
            address,
            port,
            base,
        }) => cx.p(fill(
            l.repo_sftp,
            &[
                ("nas", c(nas)),
                ("address", c(address)),
                ("dir", c(base)),
                ("user", c(user)),
                ("port", t(port.to_string())),
            ],
        )),
        Some(Repo::Local { base }) => cx.p(fill(l.repo_local, &[("dir", c(base))])),
        None => {}
    }
}

fn url(p: &Placed) -> Vec<Inline> {
    match &p.hostname {
        Some(h) => vec![Inline::Link(format!("https://{h}"))],
        None => vec![t("—")],
    }
}

fn ports(l: &Lang, d: &Descriptor) -> String {
    d.ports
        .iter()
        .map(|p| format!("{}/{} — {}", p.port, p.proto, p.purpose))
        .collect::<Vec<_>>()
        .join(l.list_sep)
}

fn services(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let pattern = format!("{}-<service>", site.inv.site.name);
    cx.p(fill(l.services_intro, &[("pattern", c(pattern))]));
    let rows = placed(site)
        .map(|(host, p)| {
            vec![
                vec![c(&p.name)],
                vec![t(&descriptor(site, p).description)],
                vec![c(host)],
                url(p),
                vec![c(&p.version)],
            ]
        })
        .collect();
    cx.table(&l.services_head, rows);
    for (host, p) in placed(site) {
        service(cx, host, p);
    }
}

fn service(cx: &mut Ctx, host: &str, p: &Placed) {
    let l = cx.l;
    let site = cx.site;
    let d = descriptor(site, p);
    cx.h(3, format!("{} ({host})", p.name));
    let mut items = vec![fill(l.svc_project, &[("v", c(project(site, &p.name)))])];
    if let Some(h) = &p.hostname {
        items.push(fill(
            l.svc_url,
            &[("v", Inline::Link(format!("https://{h}")))],
        ));
    }
    items.push(fill(l.svc_version, &[("v", c(&p.version))]));
    items.push(if d.ports.is_empty() {
        tx(l.svc_no_ports)
    } else {
        fill(l.svc_ports, &[("v", t(ports(l, d)))])
    });
    if d.automatic {
        items.push(tx(l.svc_automatic));
        items.push(tls(cx, host));
    }
    cx.list(items);
    let rows = p
        .images
        .iter()
        .map(|(comp, img)| vec![vec![c(comp)], vec![c(img)]])
        .collect();
    cx.table(&l.images_head, rows);
}

fn tls(cx: &Ctx, host: &str) -> Vec<Inline> {
    let inv = cx.inv();
    if cx.site.acme(host) {
        let email = inv.proxy.email.as_deref().unwrap_or(&inv.site.contact);
        fill(cx.l.tls_acme, &[("email", c(email))])
    } else {
        fill(
            cx.l.tls_internal,
            &[("path", c("/data/caddy/pki/authorities/local/root.crt"))],
        )
    }
}

fn data(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.p(fill(l.data_intro, &[("regie", c(".regie/"))]));
    for host in site.placement.keys() {
        data_host(cx, host);
    }
    let section = cx.no(l.s_without);
    cx.p(fill(l.data_secret_files, &[("section", t(section))]));
}

/// How a volume is backed up on a host: as files, as a dump, or not.
fn volume_backup(l: &Lang, cap: Option<&Capture>, key: &str) -> String {
    let Some(cap) = cap else {
        return l.no.to_string();
    };
    let b = &cap.desc.backup;
    if b.volumes.iter().any(|v| v == key) {
        return l.vol_files.to_string();
    }
    match b.dumps.iter().find(|d| d.volume.as_deref() == Some(key)) {
        Some(d) => fill_str(l.vol_dump, &[("file", &d.file)]),
        None => l.no.to_string(),
    }
}

fn file_tree(cx: &Ctx, host: &str) -> String {
    let l = cx.l;
    let site = cx.site;
    let base = base_dir(site, host);
    let mut lines: Vec<(String, String)> = Vec::new();
    for p in &site.placement[host] {
        for f in rendered_files(descriptor(site, p), p) {
            let comment = if f.secret { l.data_secret } else { "" };
            lines.push((format!("{base}/{}/{}", p.name, f.path), comment.into()));
        }
    }
    lines.push((
        format!("{base}/.regie/manifest.json"),
        l.data_manifest.into(),
    ));
    if !backup::captures(site, host).is_empty() {
        let nas = matches!(Repo::of(site), Some(Repo::Sftp { .. }));
        let comment = format!(
            "{}{}",
            l.data_backup_dir,
            if nas { l.data_nas_key } else { "" }
        );
        lines.push((format!("{base}/{}/", backup::DIR), comment));
    }
    let width = lines.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    lines
        .iter()
        .map(|(path, comment)| match comment.as_str() {
            "" => path.clone(),
            c => format!("{path:<width$}  # {c}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn data_host(cx: &mut Ctx, host: &str) {
    let l = cx.l;
    let site = cx.site;
    cx.h(3, format!("{host} — {}", base_dir(site, host)));
    let tree = file_tree(cx, host);
    cx.code("text", tree);
    let caps = backup::captures(site, host);
    let mut rows = Vec::new();
    let mut dbs = Vec::new();
    for p in &site.placement[host] {
        let d = descriptor(site, p);
        let cap = caps.iter().find(|cp| cp.name == p.name);
        for (key, what) in &d.volumes {
            rows.push(vec![
                vec![c(volume_name(site, &p.name, key))],
                vec![t(&p.name)],
                vec![t(what)],
                vec![t(volume_backup(l, cap, key))],
            ]);
        }
        for dump in &d.backup.dumps {
            let volume = dump
                .volume
                .as_deref()
                .map(|v| volume_name(site, &p.name, v))
                .unwrap_or_else(|| l.none.to_string());
            dbs.push(fill(
                l.data_db,
                &[
                    ("service", c(&p.name)),
                    ("component", c(&dump.component)),
                    ("volume", c(volume)),
                    ("command", c(words(&dump.command))),
                    ("file", c(&dump.file)),
                ],
            ));
        }
    }
    cx.table(&l.volumes_head, rows);
    for db in dbs {
        cx.p(db);
    }
}

fn keep(l: &Lang, k: &crate::inventory::Keep) -> String {
    [k.last, k.daily, k.weekly, k.monthly]
        .iter()
        .zip(l.keep)
        .filter(|(n, _)| **n > 0)
        .map(|(n, tpl)| fill_str(tpl, &[("n", &n.to_string())]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn drill_days(site: &Resolved) -> u32 {
    site.inv.maintenance.as_ref().map_or(30, |m| m.drill_days)
}

fn backups(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let (Some(b), Some(repo)) = (&site.inv.backup, Repo::of(site)) else {
        cx.p(tx(l.no_backup));
        return;
    };
    let hosts = backed_up(site);
    let to = match &repo {
        Repo::Sftp { nas, address, .. } => {
            fill(l.to_sftp, &[("host", c(nas)), ("address", c(address))])
        }
        Repo::Local { .. } => tx(l.to_local),
    };
    let mut names: Vec<&str> = hosts
        .iter()
        .flat_map(|(_, caps)| caps.iter().map(|c| c.name))
        .collect();
    names.sort();
    names.dedup();
    let drills = match drill_days(site) {
        0 => l.drills_off.to_string(),
        n => fill_str(l.drills_every, &[("n", &n.to_string())]),
    };
    let tz = &site.inv.site.timezone;
    let rows = vec![
        vec![tx(l.p_to), to],
        vec![
            tx(l.p_at),
            vec![t(fill_str(l.at_value, &[("at", &b.at), ("tz", tz)]))],
        ],
        vec![tx(l.p_keep), vec![t(keep(l, &b.keep))]],
        vec![tx(l.p_services), vec![t(names.join(", "))]],
        vec![tx(l.p_image), vec![c(backup::restic_image(site))]],
        vec![tx(l.p_drills), tx(&drills)],
    ];
    cx.table(&l.policy_head, rows);
    let rows = hosts
        .iter()
        .map(|(h, caps)| {
            let names: Vec<&str> = caps.iter().map(|c| c.name).collect();
            vec![vec![c(*h)], vec![c(repo.url(h))], vec![t(names.join(", "))]]
        })
        .collect();
    cx.table(&l.repos_head, rows);
    let show = cx.regie("secrets show backup.restic_password", "");
    cx.p(fill(
        l.backup_password,
        &[
            (
                "file",
                c(on_hosts(site, &format!("{}/restic.password", backup::DIR))),
            ),
            ("name", c("backup.restic_password")),
            ("command", c(show)),
        ],
    ));
    if let Repo::Sftp { user, .. } = &repo {
        cx.p(fill(
            l.backup_nas_key,
            &[
                (
                    "file",
                    c(on_hosts(site, &format!("{}/nas_key", backup::DIR))),
                ),
                ("name", c("backup.nas_key")),
                ("user", c(user)),
                (
                    "known",
                    c(on_hosts(site, &format!("{}/known_hosts", backup::DIR))),
                ),
            ],
        ));
    }
    schedule(cx, &b.at);
    cx.p(tx(l.backup_capture));
    cx.code("text", l.capture_layout.to_string());
    cx.p(tx(l.backup_check));
    let lines: Vec<(String, &str)> = [
        "backup status",
        "backup list",
        "backup verify",
        "backup run",
    ]
    .iter()
    .zip(l.check_comments)
    .map(|(cmd, comment)| (cx.regie(cmd, ""), comment))
    .collect();
    cx.code("sh", commented(&lines));
}

fn schedule(cx: &mut Ctx, at: &str) {
    let l = cx.l;
    let site = cx.site;
    let unit = timer_unit(site);
    let script = on_hosts(site, backup::SCRIPT);
    cx.p(fill(
        l.backup_schedule,
        &[
            ("timer", c(format!("{unit}.timer"))),
            (
                "command",
                c(format!("/bin/bash {} run --kind scheduled", sh(&script))),
            ),
            ("at", t(at)),
            ("tz", t(&site.inv.site.timezone)),
            ("cron", c(format!("/etc/cron.d/{unit}"))),
            (
                "log",
                c(on_hosts(site, &format!("{}/cron.log", backup::DIR))),
            ),
        ],
    ));
    cx.code(
        "sh",
        format!(
            "systemctl list-timers {unit}.timer\njournalctl -u {unit}.service --since yesterday"
        ),
    );
}

fn restore(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let hosts = backed_up(site);
    let (Some(repo), Some((_, first_caps))) = (Repo::of(site), hosts.first()) else {
        cx.p(tx(l.no_backup));
        return;
    };
    cx.p(tx(l.restore_intro));
    let example = example_capture(first_caps).name;
    cx.h(3, l.h_with_regie);
    let svc = format!("--service {}", sh(example));
    let lines = vec![
        (cx.regie("backup list", &svc), l.with_regie_comments[0]),
        (cx.regie("restore", &svc), l.with_regie_comments[1]),
        (
            cx.regie("restore", &format!("{svc} --snapshot ID")),
            l.with_regie_comments[2],
        ),
    ];
    cx.code("sh", commented(&lines));
    cx.p(fill(l.with_regie_after, &[("from", c("--from-host HOST"))]));
    cx.h(3, l.h_with_script);
    cx.p(tx(l.with_script));
    let script_lines: Vec<String> = hosts
        .iter()
        .flat_map(|(h, caps)| {
            let script = sh(&script_path(site, h));
            let names: Vec<&str> = caps.iter().map(|c| c.name).collect();
            let s = sh(example_capture(caps).name);
            [
                format!("# {h}: {}", names.join(", ")),
                format!("bash {script} snapshots {s}"),
                format!("bash {script} restore {s} latest"),
                format!("bash {script} restore {s} ID"),
            ]
        })
        .collect();
    cx.code("sh", script_lines.join("\n"));
    cx.h(3, l.h_with_restic);
    cx.p(tx(l.with_restic));
    for (h, _) in &hosts {
        let env = restic_env(cx, &repo, h);
        cx.code("sh", env);
    }
    cx.p(tx(l.restic_compose_note));
    for (h, caps) in &hosts {
        for cp in caps {
            cx.h(4, format!("{} ({h})", cp.name));
            let steps = manual_restore(cx, h, cp);
            cx.code("sh", steps);
        }
    }
    cx.h(3, l.h_new_machine);
    let password = cx.regie("secrets show backup.restic_password", "");
    cx.p(fill(
        l.new_machine,
        &[
            ("password", c(password)),
            ("network", c(proxy_network(site))),
            ("volume", c(proxy_data_volume(site))),
        ],
    ));
    if matches!(repo, Repo::Sftp { .. }) {
        cx.p(fill(l.new_machine_nas, &[("nas_key", c("backup.nas_key"))]));
    }
}

/// The service examples name: one other than the proxy when there is one.
fn example_capture<'a, 'b>(caps: &'a [Capture<'b>]) -> &'a Capture<'b> {
    caps.iter().find(|c| c.name != "proxy").unwrap_or(&caps[0])
}

/// The shell set-up for plain restic on one host's repository.
fn restic_env(cx: &Ctx, repo: &Repo, host: &str) -> String {
    let site = cx.site;
    let mut lines = vec![
        format!("# {host}"),
        format!("export RESTIC_REPOSITORY={}", sh(&repo.url(host))),
        format!(
            "export RESTIC_PASSWORD_FILE={}",
            sh(&backup_path(site, host, "restic.password"))
        ),
    ];
    if let Repo::Sftp {
        user,
        address,
        port,
        ..
    } = repo
    {
        let ssh = format!(
            "ssh -i {} -o UserKnownHostsFile={} -p {port} {user}@{address} -s sftp",
            backup_path(site, host, "nas_key"),
            backup_path(site, host, "known_hosts"),
        );
        lines.push(format!("# {}", cx.l.restic_sftp_comment));
        lines.push(format!("SFTP={}", sh(&ssh)));
        lines.push("restic() { command restic -o sftp.command=\"$SFTP\" \"$@\"; }".into());
    }
    lines.push("restic snapshots".into());
    lines.join("\n")
}

fn exec_line(dc: &str, e: &Exec) -> String {
    let user = e
        .user
        .as_deref()
        .map(|u| format!(" -u {}", sh(u)))
        .unwrap_or_default();
    format!(
        "{dc} exec -T{user} {} {}",
        sh(&e.component),
        words(&e.command)
    )
}

/// The restore of one service with restic and docker alone, as numbered
/// steps; mirrors what the host's script does (`put_back` in backup.sh).
fn manual_restore(cx: &Ctx, host: &str, cp: &Capture) -> String {
    let l = cx.l;
    let site = cx.site;
    let base = base_dir(site, host);
    let name = cp.name;
    let dc = compose_cmd(site, base, name);
    let tmp = format!("/var/tmp/regie-restore/{name}");
    let b = &cp.desc.backup;
    let placeholder = format!("{host}-{name}-{}", l.capture_placeholder);
    let mut steps: Vec<(String, Vec<String>)> = vec![
        (
            l.st_choose.into(),
            vec![
                format!("restic snapshots --tag service={}", sh(name)),
                format!("CAPTURE={}", sh(&placeholder)),
            ],
        ),
        (
            l.st_fetch.into(),
            vec![format!(
                "restic restore latest --tag \"capture=$CAPTURE,part=files\" --target {}",
                sh(&tmp)
            )],
        ),
        (l.st_stop.into(), vec![format!("{dc} stop")]),
    ];
    if !b.volumes.is_empty() {
        let image = backup::restic_image(site);
        let copies = b
            .volumes
            .iter()
            .map(|v| {
                let vol = volume_name(site, name, v);
                format!(
                    "docker run --rm --entrypoint sh -v {}:/from:ro -v {}:/to {} \\\n  -c 'find /to -mindepth 1 -delete && cp -a /from/. /to/'",
                    sh(&format!("{tmp}/volumes/{vol}")),
                    sh(&vol),
                    sh(&image)
                )
            })
            .collect();
        steps.push((l.st_volumes.into(), copies));
    }
    let dir = stack_dir(base, name);
    steps.push((
        l.st_dir.into(),
        vec![
            format!("mkdir -p {}", sh(&dir)),
            format!(
                "cp -a -n {} {}",
                sh(&format!("{tmp}/config/{name}/.")),
                sh(&format!("{dir}/"))
            ),
        ],
    ));
    for d in &b.dumps {
        let comp = sh(&d.component);
        let path = sh(&format!("/dumps/{}", d.file));
        let mut lines = vec![format!("{dc} rm -f -s {comp}")];
        if let Some(v) = &d.volume {
            lines.push(format!(
                "docker volume rm {}",
                sh(&volume_name(site, name, v))
            ));
        }
        lines.push(format!("{dc} up -d --wait {comp}"));
        lines.push(format!(
            "restic dump latest --tag \"capture=$CAPTURE,part=dump\" --path {path} {path} \\\n  | {dc} exec -T {comp} {}",
            words(&d.restore)
        ));
        steps.push((fill_str(l.st_db, &[("file", &d.file)]), lines));
    }
    steps.push((l.st_start.into(), vec![format!("{dc} up -d --wait")]));
    if !b.after_restore.is_empty() {
        let lines = b.after_restore.iter().map(|e| exec_line(&dc, e)).collect();
        steps.push((l.st_after.into(), lines));
    }
    steps.push((l.st_clean.into(), vec![format!("rm -rf {}", sh(&tmp))]));
    steps
        .iter()
        .enumerate()
        .map(|(i, (comment, lines))| format!("# {}. {comment}\n{}", i + 1, lines.join("\n")))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn without_regie(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.p(tx(l.without_intro));
    cx.h(3, l.h_compose);
    let rows = placed(site)
        .map(|(host, p)| {
            vec![
                vec![c(&p.name)],
                vec![c(host)],
                vec![c(project(site, &p.name))],
                vec![c(compose_file(base_dir(site, host), &p.name))],
            ]
        })
        .collect();
    cx.table(&l.compose_head, rows);
    cx.p(fill(
        l.proxy_first,
        &[
            ("network", c(proxy_network(site))),
            ("volume", c(proxy_data_volume(site))),
        ],
    ));
    compose_commands(cx);
    backup_without_regie(cx);
    secrets(cx);
    handover(cx);
}

fn compose_commands(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.h(3, l.h_commands);
    let start: Vec<String> = site
        .placement
        .iter()
        .flat_map(|(host, ps)| {
            let base = base_dir(site, host);
            std::iter::once(format!("# {}", fill_str(l.start_all, &[("host", host)]))).chain(
                ps.iter()
                    .map(move |p| format!("{} up -d", compose_cmd(site, base, &p.name))),
            )
        })
        .collect();
    if start.is_empty() {
        return;
    }
    cx.code("sh", start.join("\n"));
    let Some((host, p)) = placed(site).find(|(_, p)| p.name != "proxy") else {
        return;
    };
    let base = base_dir(site, host);
    let head = format!(
        "P={}\nF={}",
        sh(&project(site, &p.name)),
        sh(&compose_file(base, &p.name))
    );
    let ops: Vec<(String, &str)> = [
        "ps",
        "logs --tail 100 -f",
        "up -d",
        "restart",
        "down",
        "pull",
    ]
    .iter()
    .zip(l.ops_comments)
    .map(|(op, comment)| (format!("docker compose -p \"$P\" -f \"$F\" {op}"), comment))
    .collect();
    cx.code("sh", format!("{head}\n{}", commented(&ops)));
    cx.p(tx(l.compose_versions));
}

fn backup_without_regie(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let hosts = backed_up(site);
    let Some((host, caps)) = hosts.first() else {
        return;
    };
    cx.h(3, l.h_backup_script);
    let script = script_path(site, host);
    cx.p(fill(
        l.backup_script,
        &[("script", c(on_hosts(site, backup::SCRIPT)))],
    ));
    let example = example_capture(caps).name;
    let q = sh(&script);
    let s = sh(example);
    let lines: Vec<(String, &str)> = [
        format!("bash {q} run"),
        format!("bash {q} snapshots {s}"),
        format!("bash {q} restore {s} latest"),
        format!("bash {q} drill {s}"),
        format!("bash {q} restic snapshots"),
    ]
    .into_iter()
    .zip(l.script_comments)
    .collect();
    cx.code("sh", commented(&lines));
    cx.h(3, l.h_stop);
    cx.p(tx(l.stop_intro));
    let unit = timer_unit(site);
    cx.code(
        "sh",
        format!(
            "systemctl disable --now {unit}.timer\n\
             rm -f /etc/systemd/system/{unit}.service /etc/systemd/system/{unit}.timer\n\
             systemctl daemon-reload\n\
             rm -f /etc/cron.d/{unit}   # {}",
            l.stop_cron
        ),
    );
    cx.p(tx(l.stop_maintain));
}

fn secrets(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.h(3, l.h_secrets);
    let file = file_name(&crate::cli::secrets_path(site));
    let items = vec![
        fill(
            l.secrets_file,
            &[
                ("file", c(file)),
                ("list", c(cx.regie("secrets list", ""))),
                ("show", c(cx.regie("secrets show NAME", ""))),
            ],
        ),
        tx(l.secrets_key),
        secrets_on_hosts(cx),
        vec![Inline::Strong(l.secrets_here.into())],
    ];
    cx.list(items);
}

/// Where the hosts keep secrets: the services' secret files, and the
/// backup's password and NAS key.
fn secrets_on_hosts(cx: &Ctx) -> Vec<Inline> {
    let site = cx.site;
    let mut files = vec!["`restic.password`"];
    if matches!(Repo::of(site), Some(Repo::Sftp { .. })) {
        files.push("`nas_key`");
    }
    // The list goes in as markup, so the names are code.
    let tpl =
        cx.l.secrets_hosts
            .replace("{files}", &join_and(cx.l, &files));
    fill(
        &tpl,
        &[
            ("section", t(cx.no(cx.l.s_data))),
            ("dir", c(on_hosts(site, &format!("{}/", backup::DIR)))),
        ],
    )
}

fn handover(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.h(3, l.h_handover);
    cx.p(tx(l.handover_intro));
    let mut items = vec![
        fill(l.handover_inventory, &[("file", c(&cx.inv))]),
        fill(
            l.handover_secrets,
            &[("file", c(file_name(&crate::cli::secrets_path(site))))],
        ),
        fill(
            l.handover_key,
            &[("rekey", c(cx.regie("secrets rekey", "")))],
        ),
        fill(
            l.handover_known_hosts,
            &[("file", c(file_name(&crate::apply::site_known_hosts(site))))],
        ),
    ];
    if let Some(dir) = &site.inv.catalog {
        items.push(fill(
            l.handover_catalog,
            &[("dir", c(dir.display().to_string()))],
        ));
    }
    items.push(tx(l.handover_runbook));
    items.push(tx(l.handover_access));
    cx.list(items);
    cx.p(tx(l.handover_nothing_else));
    cx.p(tx(l.handover_after));
    cx.list(l.revoke.iter().map(|r| tx(r)).collect());
}

fn policy(l: &Lang, p: UpgradePolicy) -> &'static str {
    match p {
        UpgradePolicy::SameMajor => l.policy_same_major,
        UpgradePolicy::OneMajorAtATime => l.policy_one_major,
        UpgradePolicy::Esr => l.policy_esr,
        UpgradePolicy::Rolling => l.policy_rolling,
    }
}

fn updates(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    match &site.inv.maintenance {
        Some(m) => {
            let window = human_window(l, &m.window);
            cx.p(fill(
                l.updates_window,
                &[
                    ("window", Inline::Strong(window)),
                    ("tz", t(&site.inv.site.timezone)),
                ],
            ));
            cx.p(tx(if m.auto_update { l.auto_on } else { l.auto_off }));
        }
        None => cx.p(tx(l.updates_no_window)),
    }
    let mut seen = Vec::new();
    let rows = placed(site)
        .filter(|(_, p)| {
            let first = !seen.contains(&p.name);
            seen.push(p.name.clone());
            first
        })
        .map(|(_, p)| {
            let d = descriptor(site, p);
            vec![
                vec![c(&p.name)],
                vec![c(&p.version)],
                vec![t(policy(l, d.upgrade.policy))],
                tx(&d.upgrade.notes.join(" ")),
            ]
        })
        .collect();
    cx.table(&l.updates_head, rows);
    let lines: Vec<(String, &str)> = vec![
        (cx.regie("update check", ""), l.updates_comments[0]),
        (
            cx.regie("update apply", "--service SERVICE"),
            l.updates_comments[1],
        ),
        (cx.regie("update os", ""), l.updates_comments[2]),
    ];
    cx.code("sh", commented(&lines));
    cx.p(tx(l.updates_by_hand));
}

fn dns(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let records = dns_records(site);
    if records.is_empty() {
        cx.p(tx(l.dns_none));
        return;
    }
    cx.p(tx(l.dns_intro));
    if site.placement.values().flatten().any(|p| p.name == "mail") {
        let check = cx.regie("check dns", "");
        cx.p(fill(l.dns_mail, &[("command", c(check))]));
    }
    if !site.placement.keys().any(|h| site.inv.hosts[h].public) {
        cx.p(tx(l.dns_lan));
    }
    let rows = records
        .iter()
        .map(|r| {
            vec![
                vec![t(&r.kind)],
                vec![c(&r.name)],
                dns_value(&r.value),
                vec![t(&r.service)],
                tx(r.note.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    cx.table(&l.dns_head, rows);
    cx.p(tx(l.dns_zone));
    cx.code("dns", zone_file(&records));
}

fn contacts(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let inv = &site.inv;
    let notify = if inv.notify.email.is_empty() {
        tx(l.c_no_notify)
    } else {
        vec![t(inv.notify.email.join(", "))]
    };
    let mut rows = vec![
        vec![tx(l.c_client), vec![t(&inv.site.contact)]],
        vec![tx(l.c_notify), notify],
    ];
    if inv.notify.webhook.is_some() {
        rows.push(vec![tx(l.c_webhook), tx(l.c_webhook_set)]);
    }
    if let Some(s) = &inv.notify.smtp {
        let mut cell = vec![
            c(format!("{}:{}", s.host, s.port)),
            t(format!(", {}", s.security.as_str())),
        ];
        if let Some(u) = &s.user {
            cell.extend(fill(l.c_smtp_user, &[("user", c(u))]));
        }
        rows.push(vec![tx(l.c_smtp), cell]);
    }
    if site.placement.keys().any(|h| site.acme(h)) {
        let email = inv.proxy.email.as_deref().unwrap_or(&inv.site.contact);
        rows.push(vec![tx(l.c_acme), vec![t(email)]]);
    }
    if let Some(m) = &inv.maintenance {
        let window = format!("{} ({})", human_window(l, &m.window), inv.site.timezone);
        rows.push(vec![tx(l.c_window), vec![t(window)]]);
    }
    cx.table(&l.contacts_head, rows);
    let notified = !inv.notify.email.is_empty() || inv.notify.webhook.is_some();
    cx.p(tx(if notified {
        l.escalation_notify
    } else {
        l.escalation_silent
    }));
    if inv.maintenance.is_some() {
        cx.p(tx(l.escalation_window));
    }
}

// ---------------------------------------------------------------------------
// Command line.

fn parse_date(s: &str) -> Result<String, String> {
    s.parse::<jiff::civil::Date>()
        .map(|d| d.to_string())
        .map_err(|e| format!("expected a date as YYYY-MM-DD: {e}"))
}

#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
    /// Output directory (created if missing); receives <site>-runbook.md and
    /// <site>-runbook.html.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Date printed on the cover instead of today (for reproducible output).
    #[arg(long, hide = true, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub date: Option<String>,
}

fn today(tz: &str) -> String {
    let tz = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned(tz).date().to_string()
}

/// Write a file through a temporary file in the same directory and a rename:
/// a reader never sees half a run book.
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub fn cli(args: &DocsArgs, output: crate::cli::Output) -> Result<i32> {
    let site = crate::cli::load(&args.inventory)?;
    let date = args
        .date
        .clone()
        .unwrap_or_else(|| today(&site.inv.site.timezone));
    let doc = runbook(&site, &date);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let stem = format!("{}-runbook", site.inv.site.name);
    let md = args.out.join(format!("{stem}.md"));
    let html = args.out.join(format!("{stem}.html"));
    write_atomic(&md, &to_markdown(&doc))?;
    write_atomic(&html, &to_html(&doc))?;
    if output == crate::cli::Output::Json {
        crate::cli::print_json(&json!({
            "site": site.inv.site.name,
            "markdown": md,
            "html": html,
        }))?;
    } else {
        println!("{}", md.display());
        println!("{}", html.display());
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_is_escaped() {
        assert_eq!(
            md_text("a_b *c* [d](e) <f> |g| `h`"),
            "a\\_b \\*c\\* \\[d\\](e) \\<f\\> \\|g\\| \\`h\\`"
        );
        assert_eq!(md_text("Dupont & fils &amp;"), "Dupont & fils \\&amp;");
        assert_eq!(md_text("Hôtes réversibilité"), "Hôtes réversibilité");
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(md_code("a`b", false), "`` a`b ``");
        assert_eq!(md_code("a|b", true), "`a\\|b`");
        assert_eq!(md_code("a|b", false), "`a|b`");
        assert_eq!(md_fence("sh", "x ``` y\n"), "````sh\nx ``` y\n````\n");
    }

    #[test]
    fn html_escapes_everything() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let doc = Document {
            locale: Locale::En,
            title: "A <b> & C".into(),
            blocks: vec![Block::Para(vec![
                t("x<y"),
                c("a&b"),
                Inline::Link("https://e.fr/?a=1&b=2".into()),
            ])],
        };
        let h = to_html(&doc);
        assert!(h.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "{h}");
        assert!(h.contains("<title>A &lt;b&gt; &amp; C</title>"));
        assert!(h.contains("<p>x&lt;y<code>a&amp;b</code><a href=\"https://e.fr/?a=1&amp;b=2\">https://e.fr/?a=1&amp;b=2</a></p>"), "{h}");
    }

    fn table() -> Block {
        Block::Table {
            head: vec!["Name".into(), "Value".into()],
            rows: vec![
                vec![vec![c("a|b")], vec![t("x"), c("y")]],
                vec![vec![t("<z>")], vec![]],
            ],
        }
    }

    #[test]
    fn tables_render_in_both_formats() {
        let doc = Document {
            locale: Locale::Fr,
            title: "T".into(),
            blocks: vec![table()],
        };
        assert_eq!(
            to_markdown(&doc),
            "| Name | Value |\n| --- | --- |\n| `a\\|b` | x`y` |\n| \\<z\\> |  |\n"
        );
        let h = to_html(&doc);
        assert!(
            h.contains(
                "<table>\n<thead><tr><th>Name</th><th>Value</th></tr></thead>\n<tbody>\n\
             <tr><td><code>a|b</code></td><td>x<code>y</code></td></tr>\n\
             <tr><td>&lt;z&gt;</td><td></td></tr>\n</tbody>\n</table>\n"
            ),
            "{h}"
        );
    }

    #[test]
    fn sections_are_numbered_and_listed() {
        let doc = Document {
            locale: Locale::Fr,
            title: "T".into(),
            blocks: vec![
                Block::Toc("Sommaire".into()),
                Block::Heading(2, "Hôtes".into()),
                Block::Heading(3, "srv1".into()),
                Block::Heading(2, "Services".into()),
            ],
        };
        assert_eq!(
            to_markdown(&doc),
            "**Sommaire**\n\n1. Hôtes\n2. Services\n\n## 1. Hôtes\n\n### srv1\n\n## 2. Services\n"
        );
        let h = to_html(&doc);
        assert!(h.contains("<li><a href=\"#s2\">Services</a></li>"));
        assert!(h.contains("<h2 id=\"s2\">2. Services</h2>"));
    }

    #[test]
    fn templates_fill_placeholders() {
        assert_eq!(
            fill(
                "in {file} ({mode}) {other}",
                &[("file", c("/x")), ("mode", t("0600"))]
            ),
            vec![t("in "), c("/x"), t(" ("), t("0600"), t(") {other}")]
        );
        assert_eq!(fill_str(FR.mb, &[("n", "8")]), "8\u{a0}Mo");
        assert_eq!(
            fill("see `a {x}` and {x}", &[("x", t("y"))]),
            vec![t("see "), c("a {x}"), t(" and "), t("y")]
        );
        assert_eq!(tx("odd ` tick"), vec![t("odd ` tick")]);
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(sh("/opt/regie/files"), "/opt/regie/files");
        assert_eq!(sh("sftp:u@10.0.0.1:/v/r"), "sftp:u@10.0.0.1:/v/r");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("it's"), "'it'\\''s'");
        assert_eq!(sh("$HOME"), "'$HOME'");
    }

    #[test]
    fn dns_placeholders_and_address_records() {
        let vars = crate::catalog::DnsVars {
            hostname: "mail.x.fr",
            address: "1.2.3.4",
            domain: "x.fr",
            dkim_selector: "mail",
        };
        assert_eq!(
            vars.fill("{dkim_selector}._domainkey.{domain} {hostname}. {address}"),
            "mail._domainkey.x.fr mail.x.fr. 1.2.3.4"
        );
        assert_eq!(address_record("1.2.3.4"), ("A", "1.2.3.4".into()));
        assert_eq!(
            address_record("2001:db8::1"),
            ("AAAA", "2001:db8::1".into())
        );
        assert_eq!(
            address_record("srv.example.fr"),
            ("CNAME", "srv.example.fr.".into())
        );
    }

    #[test]
    fn zone_lines_comment_what_cannot_be_published() {
        let r = |kind: &str, value: &str| Record {
            kind: kind.into(),
            name: "x.fr".into(),
            value: value.into(),
            service: "mail".into(),
            note: None,
        };
        assert_eq!(
            zone_line(&r("MX", "10 mail.x.fr."), 5),
            "x.fr. IN MX    10 mail.x.fr."
        );
        assert!(zone_line(&r("PTR", "mail.x.fr."), 5).starts_with("; "));
        assert!(zone_line(&r("TXT", "(public key …)"), 5).starts_with("; "));
    }

    #[test]
    fn both_languages_have_every_day() {
        assert_eq!(
            human_window(&FR, "mon,thu 22:00-23:30"),
            "lundi et jeudi, de 22:00 à 23:30"
        );
        assert_eq!(
            human_window(&EN, "mon,wed,fri 01:00-02:00"),
            "Monday, Wednesday and Friday, 01:00 to 02:00"
        );
        assert_eq!(
            human_window(&EN, "daily 04:00-05:00"),
            "every day, 04:00 to 05:00"
        );
    }
}
