//! Static HTML reports (pure): one page per client site and a fleet
//! overview of all the sites given.
//!
//! The pages are made for the client's manager: plain words, French or
//! English from the site's locale, open problems first. They are
//! self-contained (inline CSS and SVG charts, no script, no external asset:
//! a Content-Security-Policy forbids any load), so they work offline and
//! print to A4 (`chromium --headless --print-to-pdf`). Charts do not rely on
//! colour alone, so a black and white print stays readable.
//!
//! Rendering is deterministic: no clock (the report date is
//! [`ReportInput::to`]), times in UTC, sizes in SI units (1 GB = 10^9 bytes).

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::check::{Finding, Level};
use crate::history::{BackupRun, ReportInput, Sample};
use crate::status::{ServiceStatus, SiteStatus};

const DAY: u64 = 86_400;
/// The backup chart shows at most this many days (the last ones).
const MAX_DAYS: usize = 366;
/// A longer gap between two readings breaks a line of the disk chart.
const DISK_GAP_SECS: u64 = 12 * 3600;
/// Runs that are the daily backup (the chart).
const DAILY_KINDS: &[&str] = &["scheduled", "manual"];
/// Runs that are a backup of a service (the table; drills are apart).
const BACKUP_KINDS: &[&str] = &["scheduled", "manual", "pre-update", "safety"];
/// Failed backups listed by name under the table.
const MAX_FAILURES_LISTED: usize = 10;
const NBSP: char = '\u{a0}';

// ---------------------------------------------------------------- writing

/// Write `<site>.html` and `<site>.json` for each site and `index.html`
/// (the fleet overview) into `dir`; returns the files written, index last.
/// Each file is written to a temporary name and renamed into place.
pub fn write(dir: &Path, inputs: &[ReportInput]) -> Result<Vec<PathBuf>> {
    check_site_names(inputs)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for input in inputs {
        let site = &input.status.site;
        let json = serde_json::to_string_pretty(input)? + "\n";
        written.push(write_atomic(
            &dir.join(format!("{site}.html")),
            &site_html(input),
        )?);
        written.push(write_atomic(&dir.join(format!("{site}.json")), &json)?);
    }
    written.push(write_atomic(&dir.join("index.html"), &fleet_html(inputs))?);
    Ok(written)
}

/// Site names become file names: refuse what could escape `dir`, collide
/// with `index.html` or with another site.
fn check_site_names(inputs: &[ReportInput]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for input in inputs {
        let site = input.status.site.as_str();
        if !valid_site_name(site) {
            bail!("site name {site:?} cannot name a report file (letters, digits, '-', '_', '.')");
        }
        if site == "index" {
            bail!("a site named \"index\" would overwrite the fleet page index.html");
        }
        if !seen.insert(site) {
            bail!("site {site} is given twice");
        }
    }
    Ok(())
}

fn valid_site_name(site: &str) -> bool {
    !site.is_empty()
        && !site.starts_with('.')
        && site
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn write_atomic(path: &Path, text: &str) -> Result<PathBuf> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    Ok(path.to_path_buf())
}

// ---------------------------------------------------------------- language

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Fr,
    En,
}

/// Every sentence and label of the pages, one table per language.
struct Text {
    doc_title: &'static str,
    fleet_title: &'static str,
    period: &'static str,
    days: (&'static str, &'static str),
    label_period: &'static str,
    label_generated: &'static str,
    label_read: &'static str,
    label_state: &'static str,
    state_ok: &'static str,
    state_attention: &'static str,
    state_problem: &'static str,
    sentence_ok: &'static str,
    sentence_attention: &'static str,
    sentence_problem: &'static str,
    level_ok: &'static str,
    level_warning: &'static str,
    level_unknown: &'static str,
    level_critical: &'static str,
    h_problems: &'static str,
    no_problems: &'static str,
    /// A plain headline per finding kind (`{0}`: its subject); the check's
    /// own message follows as the detail.
    headlines: &'static [(&'static str, &'static str)],
    h_services: &'static str,
    col_service: &'static str,
    col_address: &'static str,
    col_host: &'static str,
    col_version: &'static str,
    col_newest: &'static str,
    col_state: &'static str,
    col_uptime: &'static str,
    up_to_date: &'static str,
    unknown: &'static str,
    major_available: &'static str,
    svc_up: &'static str,
    svc_degraded: &'static str,
    svc_down: &'static str,
    containers: &'static str,
    no_services: &'static str,
    h_availability: &'static str,
    availability_intro: &'static str,
    col_availability: &'static str,
    col_readings: &'static str,
    col_restarts: &'static str,
    col_reachable: &'static str,
    readings: (&'static str, &'static str),
    not_measured: &'static str,
    no_samples: &'static str,
    h_backups: &'static str,
    backup_caption: &'static str,
    chart_added: &'static str,
    legend_ok: &'static str,
    legend_failed: &'static str,
    legend_none: &'static str,
    day_ok: &'static str,
    day_failed: &'static str,
    day_none: &'static str,
    col_last_backup: &'static str,
    col_result: &'static str,
    col_added: &'static str,
    col_duration: &'static str,
    col_in_period: &'static str,
    col_last_success: &'static str,
    succeeded_n: (&'static str, &'static str),
    failed_n: (&'static str, &'static str),
    succeeded: &'static str,
    failed: &'static str,
    ago: &'static str,
    never: &'static str,
    h_failures: &'static str,
    repo_sizes: &'static str,
    no_backups: &'static str,
    h_drills: &'static str,
    drills_intro: &'static str,
    col_time: &'static str,
    col_last_drill: &'static str,
    col_error: &'static str,
    no_drills: &'static str,
    h_updates: &'static str,
    col_action: &'static str,
    col_detail: &'static str,
    act_update: &'static str,
    act_rollback: &'static str,
    act_deploy: &'static str,
    act_postgres: &'static str,
    no_updates: &'static str,
    os_pending: &'static str,
    os_counts: &'static str,
    reboot_needed: &'static str,
    h_disks: &'static str,
    disk_caption: &'static str,
    col_disk: &'static str,
    col_used: &'static str,
    col_trend: &'static str,
    used_of: &'static str,
    trend_points: &'static str,
    stable: &'static str,
    no_disks: &'static str,
    no_disk_history: &'static str,
    h_certs: &'static str,
    col_expires: &'static str,
    col_days_left: &'static str,
    col_trusted: &'static str,
    yes: &'static str,
    no: &'static str,
    no_certs: &'static str,
    h_about: &'static str,
    about: &'static str,
    contact: &'static str,
    not_read: &'static str,
    fleet_intro: &'static str,
    col_site: &'static str,
    col_problems: &'static str,
    col_warnings: &'static str,
    col_oldest_backup: &'static str,
    col_fullest_disk: &'static str,
    col_services_up: &'static str,
    col_cert_days: &'static str,
    no_sites: &'static str,
    fleet_about: &'static str,
}

static FR: Text = Text {
    doc_title: "Rapport de fonctionnement",
    fleet_title: "Vue d'ensemble des sites",
    period: "du {0} au {1} ({2})",
    days: ("{0} jour", "{0} jours"),
    label_period: "Période",
    label_generated: "Rapport établi le",
    label_read: "Dernier relevé",
    label_state: "État général",
    state_ok: "OK",
    state_attention: "Attention",
    state_problem: "Problème",
    sentence_ok: "Tout fonctionne normalement.",
    sentence_attention: "Certains points demandent de l'attention (détails ci-dessous).",
    sentence_problem: "Un problème est en cours (détails ci-dessous).",
    level_ok: "OK",
    level_warning: "Attention",
    level_unknown: "Indéterminé",
    level_critical: "Critique",
    h_problems: "Points ouverts",
    no_problems: "Aucun point ouvert : rien ne demande d'action.",
    headlines: &[
        ("host", "Le serveur {0} ne répond pas"),
        ("nas", "Le NAS {0} ne répond pas"),
        ("service", "Le service {0} ne fonctionne pas normalement"),
        ("disk", "Espace disque : {0} se remplit"),
        ("memory", "Mémoire presque entièrement utilisée sur {0}"),
        (
            "certificate",
            "Le certificat de sécurité de {0} demande une action",
        ),
        ("backup", "Sauvegarde de {0} à vérifier"),
        ("os", "Mises à jour du système en attente sur {0}"),
        ("lock", "Une intervention semble inachevée sur {0}"),
        ("update", "Mise à jour à prévoir pour {0}"),
        ("status", "Une partie de l'état n'a pas pu être relevée"),
    ],
    h_services: "Services et versions",
    col_service: "Service",
    col_address: "Adresse",
    col_host: "Serveur",
    col_version: "Version en service",
    col_newest: "Dernière version autorisée",
    col_state: "État",
    col_uptime: "Démarré depuis",
    up_to_date: "à jour",
    unknown: "inconnue",
    major_available: "version majeure {0} disponible (à planifier)",
    svc_up: "En service",
    svc_degraded: "Dégradé",
    svc_down: "Arrêté",
    containers: "{0} conteneurs sur {1}",
    no_services: "Aucun service déployé.",
    h_availability: "Disponibilité et redémarrages",
    availability_intro: "Part des relevés où le service fonctionnait pendant la période. \
        regie relève l'état du site à chaque passage (au plus un relevé toutes les 10 minutes) : \
        le nombre de relevés indique sur quoi repose le chiffre. Quand un serveur ne répond pas, \
        ses services ne sont pas comptés : le second tableau montre ces absences.",
    col_availability: "Disponibilité",
    col_readings: "Relevés",
    col_restarts: "Redémarrages",
    col_reachable: "Serveur joignable",
    readings: ("{0} relevé", "{0} relevés"),
    not_measured: "non mesurée",
    no_samples: "Pas encore de relevés sur cette période : la disponibilité sera mesurée \
        à partir des prochains passages de regie.",
    h_backups: "Sauvegardes",
    backup_caption:
        "Sauvegardes quotidiennes du {0} au {1} : volume ajouté au dépôt chaque jour (UTC).",
    chart_added: "Volume ajouté",
    legend_ok: "sauvegarde réussie (hauteur : volume ajouté)",
    legend_failed: "au moins un échec ce jour-là",
    legend_none: "aucune sauvegarde",
    day_ok: "{0} : {1} ajoutés, {2}",
    day_failed: "{0} : {1}, {2}, {3} ajoutés",
    day_none: "{0} : aucune sauvegarde",
    col_last_backup: "Dernière sauvegarde (UTC)",
    col_result: "Résultat",
    col_added: "Ajouté",
    col_duration: "Durée",
    col_in_period: "Sur la période",
    col_last_success: "Dernière réussite",
    succeeded_n: ("{0} réussie", "{0} réussies"),
    failed_n: ("{0} échec", "{0} échecs"),
    succeeded: "réussie",
    failed: "échec",
    ago: "il y a {0}",
    never: "jamais",
    h_failures: "Échecs sur la période",
    repo_sizes: "Taille des dépôts de sauvegarde",
    no_backups: "Aucune sauvegarde enregistrée sur cette période.",
    h_drills: "Exercices de restauration",
    drills_intro: "Un exercice restaure une sauvegarde à l'écart des services en marche, \
        puis vérifie que les données sont lisibles : c'est la preuve que les sauvegardes servent.",
    col_time: "Date (UTC)",
    col_last_drill: "Dernier exercice (UTC)",
    col_error: "Erreur",
    no_drills: "Aucun exercice de restauration sur cette période.",
    h_updates: "Mises à jour et interventions",
    col_action: "Intervention",
    col_detail: "Détail",
    act_update: "Mise à jour",
    act_rollback: "Retour à la version précédente",
    act_deploy: "Déploiement",
    act_postgres: "Mise à niveau de PostgreSQL",
    no_updates: "Aucune intervention sur cette période.",
    os_pending: "Mises à jour du système en attente",
    os_counts: "{0} : {1} paquets à mettre à jour, dont {2} de sécurité",
    reboot_needed: "redémarrage nécessaire",
    h_disks: "Espace disque",
    disk_caption: "Occupation des disques du {0} au {1} (%, UTC).",
    col_disk: "Disque",
    col_used: "Occupation",
    col_trend: "Évolution sur la période",
    used_of: "{0} sur {1}",
    trend_points: "{0} points",
    stable: "stable",
    no_disks: "Aucune mesure de disque.",
    no_disk_history: "Pas encore de relevés sur cette période : l'évolution de l'espace disque \
        apparaîtra à partir des prochains passages de regie.",
    h_certs: "Certificats",
    col_expires: "Expire le",
    col_days_left: "Jours restants",
    col_trusted: "Reconnu",
    yes: "oui",
    no: "non",
    no_certs: "Aucun certificat relevé.",
    h_about: "À propos de ce rapport",
    about: "Ce rapport est établi par regie à partir de l'état du site relevé sur les serveurs \
        (par SSH et l'API Docker), de l'historique de ces relevés ({0} sur la période) et des \
        journaux tenus sur les serveurs (sauvegardes, mises à jour). Les heures sont en UTC ; \
        les tailles en unités décimales (1 Go = 1 000 000 000 octets).",
    contact: "Contact",
    not_read: "Non relevé lors du dernier passage",
    fleet_intro: "Rapport du {0} : {1}, les plus urgents en premier.",
    col_site: "Site",
    col_problems: "Problèmes",
    col_warnings: "Avertissements",
    col_oldest_backup: "Sauvegarde la plus ancienne",
    col_fullest_disk: "Disque le plus plein",
    col_services_up: "Services en marche",
    col_cert_days: "Certificat (jours restants)",
    no_sites: "Aucun site.",
    fleet_about: "Chaque site a sa propre page (lien sur son nom). Heures en UTC.",
};

static EN: Text = Text {
    doc_title: "Service report",
    fleet_title: "Sites overview",
    period: "{0} to {1} ({2})",
    days: ("{0} day", "{0} days"),
    label_period: "Period",
    label_generated: "Report date",
    label_read: "Last reading",
    label_state: "Overall state",
    state_ok: "OK",
    state_attention: "Attention",
    state_problem: "Problem",
    sentence_ok: "Everything is working normally.",
    sentence_attention: "Some points need attention (details below).",
    sentence_problem: "A problem is ongoing (details below).",
    level_ok: "OK",
    level_warning: "Warning",
    level_unknown: "Unknown",
    level_critical: "Critical",
    h_problems: "Open problems",
    no_problems: "No open problems: nothing needs action.",
    headlines: &[
        ("host", "Server {0} does not answer"),
        ("nas", "NAS {0} does not answer"),
        ("service", "Service {0} is not working normally"),
        ("disk", "Disk space: {0} is filling up"),
        ("memory", "Memory almost fully used on {0}"),
        (
            "certificate",
            "The security certificate of {0} needs action",
        ),
        ("backup", "Backup of {0} to be checked"),
        ("os", "System updates pending on {0}"),
        ("lock", "A change seems unfinished on {0}"),
        ("update", "Update to plan for {0}"),
        ("status", "Part of the state could not be read"),
    ],
    h_services: "Services and versions",
    col_service: "Service",
    col_address: "Address",
    col_host: "Server",
    col_version: "Version running",
    col_newest: "Newest allowed",
    col_state: "State",
    col_uptime: "Up for",
    up_to_date: "up to date",
    unknown: "unknown",
    major_available: "major version {0} available (to be planned)",
    svc_up: "Running",
    svc_degraded: "Degraded",
    svc_down: "Down",
    containers: "{0} of {1} containers",
    no_services: "No service deployed.",
    h_availability: "Availability and restarts",
    availability_intro:
        "Share of the readings in which the service was working during the period. \
        regie reads the site's state each time it runs (at most one reading every 10 minutes): \
        the number of readings tells what the figure rests on. While a server does not answer, \
        its services are not counted: the second table shows those gaps.",
    col_availability: "Availability",
    col_readings: "Readings",
    col_restarts: "Restarts",
    col_reachable: "Server reachable",
    readings: ("{0} reading", "{0} readings"),
    not_measured: "not measured",
    no_samples: "No readings yet for this period: availability will be measured from \
        regie's next runs.",
    h_backups: "Backups",
    backup_caption: "Daily backups from {0} to {1}: data added to the repository each day (UTC).",
    chart_added: "Data added",
    legend_ok: "successful backup (height: data added)",
    legend_failed: "at least one failure that day",
    legend_none: "no backup",
    day_ok: "{0}: {1} added, {2}",
    day_failed: "{0}: {1}, {2}, {3} added",
    day_none: "{0}: no backup",
    col_last_backup: "Last backup (UTC)",
    col_result: "Result",
    col_added: "Added",
    col_duration: "Duration",
    col_in_period: "In the period",
    col_last_success: "Last success",
    succeeded_n: ("{0} succeeded", "{0} succeeded"),
    failed_n: ("{0} failed", "{0} failed"),
    succeeded: "succeeded",
    failed: "failed",
    ago: "{0} ago",
    never: "never",
    h_failures: "Failures in the period",
    repo_sizes: "Backup repository size",
    no_backups: "No backup recorded in this period.",
    h_drills: "Restore drills",
    drills_intro: "A drill restores a backup away from the live services, then checks that \
        the data can be read: it proves the backups are usable.",
    col_time: "Time (UTC)",
    col_last_drill: "Last drill (UTC)",
    col_error: "Error",
    no_drills: "No restore drill in this period.",
    h_updates: "Updates and changes",
    col_action: "Change",
    col_detail: "Detail",
    act_update: "Update",
    act_rollback: "Rollback to the previous version",
    act_deploy: "Deployment",
    act_postgres: "PostgreSQL upgrade",
    no_updates: "No change in this period.",
    os_pending: "Pending system updates",
    os_counts: "{0}: {1} packages to update, {2} of them security updates",
    reboot_needed: "reboot needed",
    h_disks: "Disk space",
    disk_caption: "Disk use from {0} to {1} (%, UTC).",
    col_disk: "Disk",
    col_used: "Use",
    col_trend: "Change over the period",
    used_of: "{0} of {1}",
    trend_points: "{0} points",
    stable: "stable",
    no_disks: "No disk reading.",
    no_disk_history:
        "No readings yet for this period: the disk trend will show from regie's next runs.",
    h_certs: "Certificates",
    col_expires: "Expires",
    col_days_left: "Days left",
    col_trusted: "Trusted",
    yes: "yes",
    no: "no",
    no_certs: "No certificate read.",
    h_about: "About this report",
    about: "This report is made by regie from the site's state read on the servers (over SSH \
        and the Docker API), the history of those readings ({0} in the period) and the logs \
        kept on the servers (backups, updates). Times are in UTC; sizes in decimal units \
        (1 GB = 1,000,000,000 bytes).",
    contact: "Contact",
    not_read: "Could not be read at the last reading",
    fleet_intro: "Report of {0}: {1}, most urgent first.",
    col_site: "Site",
    col_problems: "Problems",
    col_warnings: "Warnings",
    col_oldest_backup: "Oldest last backup",
    col_fullest_disk: "Fullest disk",
    col_services_up: "Services running",
    col_cert_days: "Certificate (days left)",
    no_sites: "No site.",
    fleet_about: "Each site has its own page (link on its name). Times in UTC.",
};

/// Calendar fields of a unix time, in UTC.
struct Civil {
    year: i16,
    month: i8,
    day: i8,
    hour: i8,
    minute: i8,
}

fn civil(t: u64) -> Civil {
    let ts = i64::try_from(t)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let dt = jiff::tz::Offset::UTC.to_datetime(ts);
    Civil {
        year: dt.year(),
        month: dt.month(),
        day: dt.day(),
        hour: dt.hour(),
        minute: dt.minute(),
    }
}

impl Lang {
    /// French for `fr` (and `fr-…`), English for anything else.
    fn of(locale: &str) -> Lang {
        if locale.trim().to_ascii_lowercase().starts_with("fr") {
            Lang::Fr
        } else {
            Lang::En
        }
    }

    fn t(self) -> &'static Text {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// `01/12/2026` or `2026-12-01`.
    fn date(self, t: u64) -> String {
        let c = civil(t);
        match self {
            Lang::Fr => format!("{:02}/{:02}/{:04}", c.day, c.month, c.year),
            Lang::En => format!("{:04}-{:02}-{:02}", c.year, c.month, c.day),
        }
    }

    fn date_time(self, t: u64) -> String {
        let c = civil(t);
        format!("{} {:02}:{:02}", self.date(t), c.hour, c.minute)
    }

    /// Short axis label: `12/11` or `11-12`.
    fn day_month(self, t: u64) -> String {
        let c = civil(t);
        match self {
            Lang::Fr => format!("{:02}/{:02}", c.day, c.month),
            Lang::En => format!("{:02}-{:02}", c.month, c.day),
        }
    }

    fn decimal(self, x: f64, places: usize) -> String {
        let s = format!("{x:.places$}");
        match self {
            Lang::Fr => s.replace('.', ","),
            Lang::En => s,
        }
    }

    fn pct(self, x: f64, places: usize) -> String {
        match self {
            Lang::Fr => format!("{}{NBSP}%", self.decimal(x, places)),
            Lang::En => format!("{}%", self.decimal(x, places)),
        }
    }

    /// SI units: `1,5 Go` / `1.5 GB`.
    fn size(self, bytes: u64) -> String {
        let units: [&str; 6] = match self {
            Lang::Fr => ["o", "Ko", "Mo", "Go", "To", "Po"],
            Lang::En => ["B", "kB", "MB", "GB", "TB", "PB"],
        };
        let mut v = bytes as f64;
        let mut i = 0;
        while v >= 999.5 && i + 1 < units.len() {
            v /= 1000.0;
            i += 1;
        }
        let places = if i == 0 || v >= 99.95 || (v * 10.0).round() % 10.0 == 0.0 {
            0
        } else {
            1
        };
        format!("{}{NBSP}{}", self.decimal(v, places), units[i])
    }

    /// `3 relevés`, `1 reading`: French takes the singular for 0 and 1.
    fn count(self, n: usize, forms: (&str, &str)) -> String {
        let one = match self {
            Lang::Fr => n <= 1,
            Lang::En => n == 1,
        };
        fill(if one { forms.0 } else { forms.1 }, &[&n.to_string()])
    }

    /// An age in hours, for a person: `moins d'une heure`, `22 h`, `3 jours`.
    fn age(self, hours: f64) -> String {
        if hours < 1.0 {
            match self {
                Lang::Fr => "moins d'une heure".into(),
                Lang::En => "under an hour".into(),
            }
        } else if hours < 48.0 {
            format!("{}{NBSP}h", hours.floor())
        } else {
            self.count((hours / 24.0).floor() as usize, self.t().days)
        }
    }

    /// `" : "` in French, `": "` in English.
    fn colon(self) -> &'static str {
        match self {
            Lang::Fr => " : ",
            Lang::En => ": ",
        }
    }

    fn ago(self, hours: f64) -> String {
        fill(self.t().ago, &[&self.age(hours)])
    }
}

/// `4 min 05 s`, `1 h 02 min`, `42 s`.
fn duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}{NBSP}s"),
        60..=3599 => format!("{}{NBSP}min {:02}{NBSP}s", secs / 60, secs % 60),
        _ => format!("{}{NBSP}h {:02}{NBSP}min", secs / 3600, secs % 3600 / 60),
    }
}

/// Replace `{0}`, `{1}`, ... in `template` by `args` (one pass: an argument
/// containing `{1}` stays as it is).
fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let arg = after
            .find('}')
            .and_then(|close| Some((after[..close].parse::<usize>().ok()?, close)));
        match arg.and_then(|(i, close)| Some((args.get(i)?, close))) {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------- HTML helpers

/// Escape text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --accent: #1f4e79; --text: #1d2125; --muted: #5b6670; --line: #d7dde3; --soft: #f3f6f9; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #fff; color: var(--text);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 28px 28px 40px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 16px; }
.kicker { margin: 0; color: var(--accent); font-size: 12px; font-weight: 700;
  letter-spacing: .08em; text-transform: uppercase; }
h1 { margin: 4px 0 0; font-size: 28px; line-height: 1.2; }
.domain { margin: 2px 0 14px; color: var(--muted); }
.summary { display: flex; flex-wrap: wrap; gap: 16px 32px; align-items: flex-start; }
.state { min-width: 260px; max-width: 420px; padding: 12px 16px; background: var(--soft);
  border: 1px solid var(--line); border-left: 5px solid #2e7d32; border-radius: 4px; }
.state.warn { border-left-color: #c77c00; }
.state.crit { border-left-color: #b3261e; }
.state p { margin: 6px 0 0; }
.state-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 3px 14px; margin: 4px 0 0; font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
h2 { margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line);
  color: var(--accent); font-size: 19px; }
h3 { margin: 16px 0 6px; font-size: 15px; }
p { margin: 6px 0; }
.note { color: var(--muted); font-size: 13px; }
table { width: 100%; margin: 6px 0 10px; border-collapse: collapse; font-size: 14px; }
th { padding: 6px 8px; border-bottom: 2px solid var(--line); color: var(--muted);
  font-size: 12.5px; font-weight: 600; text-align: left; vertical-align: bottom; }
td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th.r, td.r { text-align: right; white-space: nowrap; }
td.nw { white-space: nowrap; }
td a { white-space: nowrap; }
.sub { display: block; color: var(--muted); font-size: 12.5px; }
.badge { display: inline-block; padding: 1px 8px; border: 1px solid; border-radius: 10px;
  font-size: 12px; font-weight: 700; white-space: nowrap; }
.badge.ok { color: #1b5e20; background: #e8f5e9; border-color: #9ccc9f; }
.badge.warn { color: #6d4600; background: #fff3dc; border-color: #e9b75a; }
.badge.unknown { color: #37474f; background: #eceff1; border-color: #a7b4bb; }
.badge.crit { color: #8e1b1b; background: #fdecea; border-color: #e59a95; }
.badge.big { padding: 3px 14px; font-size: 16px; }
ul.problems { margin: 0; padding: 0; list-style: none; }
ul.problems li { margin: 0 0 8px; padding: 9px 12px; border: 1px solid var(--line);
  border-left: 5px solid #a7b4bb; border-radius: 4px; }
ul.problems li.warn { border-left-color: #c77c00; }
ul.problems li.crit { border-left-color: #b3261e; }
ul.problems .badge { margin-right: 8px; }
ul.plain { margin: 4px 0; padding-left: 20px; }
.meter { display: inline-block; width: 70px; height: 9px; margin-right: 8px; vertical-align: middle;
  border: 1px solid #7d8a96; border-radius: 2px; background: #fff; }
.meter span { display: block; height: 100%; background: var(--accent); }
figure { margin: 8px 0 14px; }
figcaption { margin-bottom: 4px; color: var(--muted); font-size: 13px; }
svg.chart { display: block; width: 100%; height: auto; }
a { color: var(--accent); }
footer { margin-top: 30px; color: var(--muted); font-size: 13px; }
footer h2 { font-size: 16px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  table { font-size: 9pt; }
  th { font-size: 8pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table, figure, .summary, ul.problems li { break-inside: avoid; page-break-inside: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

fn page(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"regie\">\n<title>{}</title>\n<style>{CSS}</style>\n\
         </head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        lang.code(),
        esc(title)
    )
}

fn section(id: &str, title: &str, inner: &str) -> String {
    format!(
        "<section id=\"{id}\">\n<h2>{}</h2>\n{inner}</section>\n",
        esc(title)
    )
}

fn para(class: &str, text: &str) -> String {
    if class.is_empty() {
        format!("<p>{}</p>\n", esc(text))
    } else {
        format!("<p class=\"{class}\">{}</p>\n", esc(text))
    }
}

/// A table; `align` has one letter per column (`l` left, `r` right, `n`
/// left without wrapping); cells are HTML.
fn table(cols: &[&str], align: &str, rows: &[Vec<String>]) -> String {
    let class = |i: usize| match align.as_bytes().get(i) {
        Some(b'r') => " class=\"r\"",
        Some(b'n') => " class=\"nw\"",
        _ => "",
    };
    let mut h = String::from("<table>\n<thead><tr>");
    for (i, c) in cols.iter().enumerate() {
        h.push_str(&format!("<th{}>{}</th>", class(i), esc(c)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        h.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            h.push_str(&format!("<td{}>{cell}</td>", class(i)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
    h
}

fn badge(class: &str, label: &str) -> String {
    format!("<span class=\"badge {class}\">{}</span>", esc(label))
}

/// A value with a smaller second line.
fn with_sub(main: &str, sub: &str) -> String {
    if sub.is_empty() {
        esc(main)
    } else {
        format!("{}<span class=\"sub\">{}</span>", esc(main), esc(sub))
    }
}

fn dash() -> String {
    "—".to_string()
}

// ---------------------------------------------------------------- judging

/// The overall state shown to the manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ok,
    Attention,
    Problem,
}

impl State {
    fn of(level: Level) -> State {
        match level {
            Level::Ok => State::Ok,
            Level::Warning | Level::Unknown => State::Attention,
            Level::Critical => State::Problem,
        }
    }

    fn class(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Attention => "warn",
            State::Problem => "crit",
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        let t = lang.t();
        match self {
            State::Ok => t.state_ok,
            State::Attention => t.state_attention,
            State::Problem => t.state_problem,
        }
    }

    fn sentence(self, lang: Lang) -> &'static str {
        let t = lang.t();
        match self {
            State::Ok => t.sentence_ok,
            State::Attention => t.sentence_attention,
            State::Problem => t.sentence_problem,
        }
    }
}

fn worst_level(findings: &[Finding]) -> Level {
    crate::check::worst(findings)
}

fn level_class(level: Level) -> &'static str {
    match level {
        Level::Ok => "ok",
        Level::Warning => "warn",
        Level::Unknown => "unknown",
        Level::Critical => "crit",
    }
}

fn level_badge(lang: Lang, level: Level) -> String {
    let t = lang.t();
    let label = match level {
        Level::Ok => t.level_ok,
        Level::Warning => t.level_warning,
        Level::Unknown => t.level_unknown,
        Level::Critical => t.level_critical,
    };
    badge(level_class(level), label)
}

/// The judgement `regie check` made about one thing (`disk`, `srv1:/`),
/// as a badge; the check's thresholds are not repeated here.
fn finding_badge(lang: Lang, findings: &[Finding], kind: &str, subject: &str) -> String {
    findings_badge(lang, findings, kind, &[subject])
}

fn findings_badge(lang: Lang, findings: &[Finding], kind: &str, subjects: &[&str]) -> String {
    let level = findings
        .iter()
        .filter(|f| f.kind == kind && subjects.contains(&f.subject.as_str()))
        .map(|f| f.level)
        .max()
        .unwrap_or(Level::Ok);
    level_badge(lang, level)
}

/// Open findings (not OK), worst first.
fn open_findings(findings: &[Finding]) -> Vec<&Finding> {
    let mut open: Vec<&Finding> = findings.iter().filter(|f| f.level != Level::Ok).collect();
    open.sort_by_key(|f| std::cmp::Reverse(f.level));
    open
}

fn display_name(status: &SiteStatus) -> &str {
    if status.display_name.trim().is_empty() {
        &status.site
    } else {
        &status.display_name
    }
}

fn in_period(input: &ReportInput, time: u64) -> bool {
    time >= input.from && time <= input.to
}

/// Start (unix time) of each UTC day of the period, at most [`MAX_DAYS`].
fn period_days(from: u64, to: u64) -> Vec<u64> {
    let first = from / DAY;
    let last = (to.saturating_sub(1).max(from)) / DAY;
    let first = first.max(last.saturating_sub(MAX_DAYS as u64 - 1));
    (first..=last).map(|d| d * DAY).collect()
}

// ---------------------------------------------------------------- site page

/// The report page of one site.
pub fn site_html(input: &ReportInput) -> String {
    let lang = Lang::of(&input.status.locale);
    let t = lang.t();
    let body = [
        header(input, lang),
        problems_section(input, lang),
        services_section(input, lang),
        availability_section(input, lang),
        backups_section(input, lang),
        drills_section(input, lang),
        updates_section(input, lang),
        disks_section(input, lang),
        certificates_section(input, lang),
        footer(input, lang),
    ]
    .concat();
    let title = format!(
        "{} — {} — {}",
        display_name(&input.status),
        t.doc_title,
        lang.date(input.to)
    );
    page(lang, &title, &body)
}

fn header(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let st = &input.status;
    let state = State::of(worst_level(&input.findings));
    let days = period_days(input.from, input.to);
    let period = fill(
        t.period,
        &[
            &lang.date(days[0]),
            &lang.date(days[days.len() - 1]),
            &lang.count(days.len(), t.days),
        ],
    );
    let read = if st.time == 0 {
        dash()
    } else {
        format!("{} UTC", lang.date_time(st.time))
    };
    let mut h = String::from("<header>\n");
    h.push_str(&para("kicker", t.doc_title));
    h.push_str(&format!("<h1>{}</h1>\n", esc(display_name(st))));
    h.push_str(&para("domain", &input.domain));
    h.push_str("<div class=\"summary\">\n");
    h.push_str(&format!(
        "<div class=\"state {}\"><div class=\"state-label\">{}</div>{}<p>{}</p></div>\n",
        state.class(),
        esc(t.label_state),
        badge(&format!("{} big", state.class()), state.label(lang)),
        esc(state.sentence(lang))
    ));
    h.push_str("<dl class=\"facts\">\n");
    for (label, value) in [
        (t.label_period, period),
        (t.label_generated, lang.date(input.to)),
        (t.label_read, read),
    ] {
        h.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            esc(label),
            esc(&value)
        ));
    }
    h.push_str("</dl>\n</div>\n</header>\n");
    h
}

/// The finding in plain words in the page's language, from its kind and
/// subject (the check's message is English and technical).
fn headline(lang: Lang, f: &Finding) -> Option<String> {
    let (_, template) = lang
        .t()
        .headlines
        .iter()
        .find(|(kind, _)| *kind == f.kind)?;
    Some(fill(template, &[&f.subject]))
}

fn problems_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let open = open_findings(&input.findings);
    if open.is_empty() {
        return section("problems", t.h_problems, &para("", t.no_problems));
    }
    let mut h = String::from("<ul class=\"problems\">\n");
    for f in open {
        let (title, detail) = match headline(lang, f) {
            Some(title) => (title, f.message.as_str()),
            None => (f.message.clone(), f.subject.as_str()),
        };
        h.push_str(&format!(
            "<li class=\"{}\">{}<strong>{}</strong><span class=\"sub\">{}</span></li>\n",
            level_class(f.level),
            level_badge(lang, f.level),
            esc(&title),
            esc(detail)
        ));
    }
    h.push_str("</ul>\n");
    section("problems", t.h_problems, &h)
}

// ---------------------------------------------------------------- services

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SvcState {
    Up,
    Degraded,
    Down,
}

fn service_state(s: &ServiceStatus) -> SvcState {
    let up = s.containers.iter().filter(|c| c.is_up()).count();
    let total = s.containers.len() + s.missing.len();
    if total > 0 && up == total {
        SvcState::Up
    } else if up == 0 {
        SvcState::Down
    } else {
        SvcState::Degraded
    }
}

fn service_state_cell(lang: Lang, s: &ServiceStatus) -> String {
    let t = lang.t();
    let up = s.containers.iter().filter(|c| c.is_up()).count();
    let total = s.containers.len() + s.missing.len();
    let count = fill(t.containers, &[&up.to_string(), &total.to_string()]);
    match service_state(s) {
        SvcState::Up => badge("ok", t.svc_up),
        SvcState::Degraded => format!(
            "{}<span class=\"sub\">{}</span>",
            badge("warn", t.svc_degraded),
            esc(&count)
        ),
        SvcState::Down => format!(
            "{}<span class=\"sub\">{}</span>",
            badge("crit", t.svc_down),
            esc(&count)
        ),
    }
}

fn version_cells(lang: Lang, s: &ServiceStatus) -> (String, String) {
    let t = lang.t();
    let Some(v) = &s.version else {
        return (dash(), dash());
    };
    let running = v.running.clone().unwrap_or_else(dash);
    let newest = match (&v.newest_allowed, &v.error) {
        (Some(n), _) if Some(n) != v.running.as_ref() => n.clone(),
        (_, Some(_)) => t.unknown.to_string(),
        _ => t.up_to_date.to_string(),
    };
    let major = match v.newer.last() {
        Some(m) => fill(t.major_available, &[m]),
        None => String::new(),
    };
    (esc(&running), with_sub(&newest, &major))
}

fn service_link(s: &ServiceStatus) -> String {
    match &s.hostname {
        Some(h) if !h.is_empty() => format!("<a href=\"https://{0}\">{0}</a>", esc(h)),
        _ => dash(),
    }
}

/// Since the service's most recent (re)start: the youngest running container.
fn service_uptime(lang: Lang, s: &ServiceStatus) -> String {
    match s.containers.iter().filter_map(|c| c.uptime_secs).min() {
        Some(secs) => esc(&lang.age(secs as f64 / 3600.0)),
        None => dash(),
    }
}

fn services_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    if input.status.services.is_empty() {
        return section("services", t.h_services, &para("", t.no_services));
    }
    let rows: Vec<Vec<String>> = input
        .status
        .services
        .iter()
        .map(|s| {
            let (running, newest) = version_cells(lang, s);
            vec![
                format!("<strong>{}</strong>", esc(&s.service)),
                service_link(s),
                esc(&s.host),
                running,
                newest,
                service_state_cell(lang, s),
                service_uptime(lang, s),
            ]
        })
        .collect();
    let cols = [
        t.col_service,
        t.col_address,
        t.col_host,
        t.col_version,
        t.col_newest,
        t.col_state,
        t.col_uptime,
    ];
    section("services", t.h_services, &table(&cols, "lllllll", &rows))
}

// ---------------------------------------------------------------- availability

/// Availability of one service over the samples.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Availability {
    service: String,
    /// Samples where the service appears / where it was up.
    readings: usize,
    up: usize,
    /// Sum of the increases of the restart counter between consecutive
    /// readings (a decrease means the containers were recreated: ignored).
    restarts: u64,
}

impl Availability {
    fn pct(&self) -> Option<f64> {
        (self.readings > 0).then(|| 100.0 * self.up as f64 / self.readings as f64)
    }
}

/// Per service, in `order` first, then any other service seen in the samples.
fn availability(samples: &[&Sample], order: &[String]) -> Vec<Availability> {
    let mut names: Vec<String> = Vec::new();
    let seen = samples
        .iter()
        .flat_map(|s| s.services.iter().map(|x| &x.service));
    for name in order.iter().chain(seen.collect::<BTreeSet<_>>()) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let mut sorted: Vec<&Sample> = samples.to_vec();
    sorted.sort_by_key(|s| s.time);
    names
        .into_iter()
        .map(|name| {
            let mut a = Availability {
                service: name,
                readings: 0,
                up: 0,
                restarts: 0,
            };
            let mut last: Option<u64> = None;
            for s in sorted
                .iter()
                .flat_map(|s| s.services.iter().filter(|x| x.service == a.service))
            {
                a.readings += 1;
                a.up += usize::from(s.up);
                if let Some(prev) = last {
                    a.restarts += s.restarts.saturating_sub(prev);
                }
                last = Some(s.restarts);
            }
            a
        })
        .collect()
}

/// Rounded down, so that 99.96 % never shows as 100 %.
fn availability_text(lang: Lang, pct: f64) -> String {
    lang.pct((pct * 10.0).floor() / 10.0, 1)
}

/// Per host: readings where it answered, readings in all.
fn host_reachability(samples: &[&Sample]) -> Vec<(String, usize, usize)> {
    let mut hosts: Vec<(String, usize, usize)> = Vec::new();
    for s in samples {
        let all = s
            .hosts_up
            .iter()
            .map(|h| (h, true))
            .chain(s.hosts_down.iter().map(|h| (h, false)));
        for (host, up) in all {
            let i = match hosts.iter().position(|(h, _, _)| h == host) {
                Some(i) => i,
                None => {
                    hosts.push((host.clone(), 0, 0));
                    hosts.len() - 1
                }
            };
            hosts[i].1 += usize::from(up);
            hosts[i].2 += 1;
        }
    }
    hosts.sort();
    hosts
}

fn reachability_table(lang: Lang, samples: &[&Sample]) -> String {
    let t = lang.t();
    let rows: Vec<Vec<String>> = host_reachability(samples)
        .into_iter()
        .map(|(host, up, all)| {
            vec![
                format!("<strong>{}</strong>", esc(&host)),
                esc(&availability_text(
                    lang,
                    100.0 * up as f64 / all.max(1) as f64,
                )),
                esc(&lang.count(all, t.readings)),
            ]
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    table(&[t.col_host, t.col_reachable, t.col_readings], "lrr", &rows)
}

fn availability_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let samples: Vec<&Sample> = input
        .samples
        .iter()
        .filter(|s| in_period(input, s.time))
        .collect();
    if samples.is_empty() {
        return section("availability", t.h_availability, &para("", t.no_samples));
    }
    let order: Vec<String> = input
        .status
        .services
        .iter()
        .map(|s| s.service.clone())
        .collect();
    let rows: Vec<Vec<String>> = availability(&samples, &order)
        .iter()
        .map(|a| {
            let pct = match a.pct() {
                Some(p) => format!("<strong>{}</strong>", esc(&availability_text(lang, p))),
                None => esc(t.not_measured),
            };
            vec![
                format!("<strong>{}</strong>", esc(&a.service)),
                pct,
                esc(&lang.count(a.readings, t.readings)),
                a.restarts.to_string(),
            ]
        })
        .collect();
    let cols = [
        t.col_service,
        t.col_availability,
        t.col_readings,
        t.col_restarts,
    ];
    let inner = para("note", t.availability_intro)
        + &table(&cols, "lrrr", &rows)
        + &reachability_table(lang, &samples);
    section("availability", t.h_availability, &inner)
}

// ---------------------------------------------------------------- backups

/// The daily backups of one UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct BackupDay {
    /// Unix time of the day's start.
    start: u64,
    /// Bytes added by the successful runs.
    bytes: u64,
    ok: usize,
    failed: usize,
}

fn backup_days(input: &ReportInput) -> Vec<BackupDay> {
    let mut days: Vec<BackupDay> = period_days(input.from, input.to)
        .into_iter()
        .map(|start| BackupDay {
            start,
            ..Default::default()
        })
        .collect();
    let first = days[0].start;
    for run in input
        .backup_runs
        .iter()
        .filter(|r| DAILY_KINDS.contains(&r.kind.as_str()))
    {
        if !in_period(input, run.time) || run.time < first {
            continue;
        }
        let Some(day) = days.get_mut(((run.time - first) / DAY) as usize) else {
            continue;
        };
        if run.ok {
            day.ok += 1;
            day.bytes += run.bytes_added;
        } else {
            day.failed += 1;
        }
    }
    days
}

/// The smallest 1, 2, 4, 5 × 10^k at or above `v` (its half is round too).
fn nice_ceil(v: u64) -> u64 {
    if v == 0 {
        return 0;
    }
    let mut p: u64 = 1;
    while p.saturating_mul(10) <= v {
        p *= 10;
    }
    [1, 2, 4, 5, 10]
        .iter()
        .map(|m| p.saturating_mul(*m))
        .find(|c| *c >= v)
        .unwrap_or(u64::MAX)
}

const CHART_W: f64 = 720.0;
const INK: &str = "#333";
const ACCENT: &str = "#1f4e79";
const FAIL: &str = "#b3261e";

fn svg_text(x: f64, y: f64, anchor: &str, size: u32, text: &str) -> String {
    format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" font-size=\"{size}\" fill=\"{INK}\">{}</text>",
        esc(text)
    )
}

fn cross(cx: f64, cy: f64, r: f64) -> String {
    format!(
        "<path d=\"M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}\" stroke=\"{FAIL}\" stroke-width=\"2\"/>",
        cx - r,
        cy - r,
        cx + r,
        cy + r,
        cx - r,
        cy + r,
        cx + r,
        cy - r
    )
}

fn hollow_circle(cx: f64, cy: f64) -> String {
    format!("<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"4\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"1.5\"/>")
}

/// Daily backups as an SVG bar chart: one bar per day (height: bytes
/// added), a hatched column and a cross for a day with a failed run, a
/// hollow circle for a day without backup. Readable in black and white.
fn backup_chart(days: &[BackupDay], lang: Lang) -> String {
    let t = lang.t();
    let (left, right, top, plot_h) = (64.0, 10.0, 26.0, 170.0);
    let base = top + plot_h;
    let height = base + 54.0;
    let n = days.len().max(1);
    let slot = (CHART_W - left - right) / n as f64;
    let bar_w = (slot * 0.68).max(1.0);
    let scale = nice_ceil(days.iter().map(|d| d.bytes).max().unwrap_or(0)).max(1);
    let label = fill(
        t.backup_caption,
        &[&lang.date(days[0].start), &lang.date(days[n - 1].start)],
    );
    let mut s = format!(
        "<svg class=\"chart backups\" viewBox=\"0 0 {CHART_W} {height}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">\n",
        esc(&label)
    );
    s.push_str(&format!(
        "<defs><pattern id=\"bk-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"6\" height=\"6\" fill=\"#fdf1ef\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"{FAIL}\" stroke-width=\"1.4\"/></pattern></defs>\n"
    ));
    s.push_str(&svg_text(4.0, 12.0, "start", 11, t.chart_added));
    s.push('\n');
    for tick in [0, scale / 2, scale] {
        let y = base - plot_h * tick as f64 / scale as f64;
        s.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#d7dde3\" stroke-width=\"1\"/>",
            CHART_W - right
        ));
        s.push_str(&svg_text(
            left - 6.0,
            y + 4.0,
            "end",
            11,
            &if tick == 0 {
                "0".to_string()
            } else {
                lang.size(tick)
            },
        ));
        s.push('\n');
    }
    let label_every = n.div_ceil(31);
    for (i, d) in days.iter().enumerate() {
        let x = left + slot * i as f64;
        let cx = x + slot / 2.0;
        s.push_str(&backup_day(
            lang,
            d,
            (x, cx),
            slot,
            bar_w,
            (top, base),
            scale,
        ));
        if i % label_every == 0 {
            s.push_str(&svg_text(
                cx,
                base + 14.0,
                "middle",
                10,
                &format!("{:02}", civil(d.start).day),
            ));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{base}\" x2=\"{:.1}\" y2=\"{base}\" stroke=\"{INK}\" stroke-width=\"1\"/>\n",
        CHART_W - right
    ));
    s.push_str(&backup_legend(lang, base + 40.0));
    s.push_str("</svg>\n");
    s
}

fn backup_day(
    lang: Lang,
    d: &BackupDay,
    (x, cx): (f64, f64),
    slot: f64,
    bar_w: f64,
    (top, base): (f64, f64),
    scale: u64,
) -> String {
    let t = lang.t();
    let date = lang.date(d.start);
    let size = lang.size(d.bytes);
    let (class, title) = if d.failed > 0 {
        let (failed, ok) = (
            lang.count(d.failed, t.failed_n),
            lang.count(d.ok, t.succeeded_n),
        );
        ("failed", fill(t.day_failed, &[&date, &failed, &ok, &size]))
    } else if d.ok > 0 {
        (
            "ok",
            fill(t.day_ok, &[&date, &size, &lang.count(d.ok, t.succeeded_n)]),
        )
    } else {
        ("none", fill(t.day_none, &[&date]))
    };
    let mut g = format!("<g class=\"day {class}\"><title>{}</title>", esc(&title));
    if d.failed > 0 {
        g.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"url(#bk-hatch)\"/>",
            x + 1.0,
            slot - 2.0,
            base - top
        ));
        g.push_str(&cross(cx, top - 10.0, 4.0));
    }
    if d.ok > 0 {
        let h = ((base - top) * d.bytes as f64 / scale as f64).max(2.0);
        g.push_str(&format!(
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{ACCENT}\"/>",
            cx - bar_w / 2.0,
            base - h
        ));
    } else if d.failed == 0 {
        g.push_str(&hollow_circle(cx, top - 10.0));
    }
    g.push_str("</g>");
    g
}

fn backup_legend(lang: Lang, y: f64) -> String {
    let t = lang.t();
    let mut x = 64.0;
    let mut s = String::from("<g class=\"legend\">");
    s.push_str(&format!(
        "<rect x=\"{x}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{ACCENT}\"/>",
        y - 10.0
    ));
    s.push_str(&svg_text(x + 18.0, y, "start", 11, t.legend_ok));
    x += 18.0 + text_width(t.legend_ok, 11.0) + 22.0;
    s.push_str(&format!(
        "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"url(#bk-hatch)\" stroke=\"{FAIL}\"/>",
        y - 10.0
    ));
    s.push_str(&cross(x + 24.0, y - 4.0, 4.0));
    s.push_str(&svg_text(x + 34.0, y, "start", 11, t.legend_failed));
    x += 34.0 + text_width(t.legend_failed, 11.0) + 22.0;
    s.push_str(&hollow_circle(x + 6.0, y - 4.0));
    s.push_str(&svg_text(x + 16.0, y, "start", 11, t.legend_none));
    s.push_str("</g>\n");
    s
}

/// A rough width of a text in a sans-serif font, to lay out legends.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.55
}

/// Backup runs of the period that back up a service.
fn service_backup_runs(input: &ReportInput) -> Vec<&BackupRun> {
    let mut runs: Vec<&BackupRun> = input
        .backup_runs
        .iter()
        .filter(|r| BACKUP_KINDS.contains(&r.kind.as_str()) && in_period(input, r.time))
        .collect();
    runs.sort_by_key(|r| r.time);
    runs
}

fn backup_services(input: &ReportInput, runs: &[&BackupRun]) -> Vec<String> {
    let mut names: Vec<String> = input
        .status
        .backups
        .iter()
        .map(|b| b.service.clone())
        .collect();
    let seen: BTreeSet<&String> = runs.iter().filter_map(|r| r.service.as_ref()).collect();
    for s in seen {
        if !names.contains(s) {
            names.push(s.clone());
        }
    }
    names
}

fn result_badge(lang: Lang, ok: bool) -> String {
    let t = lang.t();
    if ok {
        badge("ok", t.succeeded)
    } else {
        badge("crit", t.failed)
    }
}

fn backup_row(lang: Lang, input: &ReportInput, runs: &[&BackupRun], service: &str) -> Vec<String> {
    let t = lang.t();
    let mine: Vec<&&BackupRun> = runs
        .iter()
        .filter(|r| r.service.as_deref() == Some(service))
        .collect();
    let ok = mine.iter().filter(|r| r.ok).count();
    let summary = format!(
        "{}, {}",
        lang.count(ok, t.succeeded_n),
        lang.count(mine.len() - ok, t.failed_n)
    );
    let status = input.status.backups.iter().find(|b| b.service == service);
    let last_success = match status {
        Some(b) => match (b.last_success, b.age_hours) {
            (Some(_), Some(h)) => lang.ago(h),
            (Some(ts), None) => lang.date_time(ts),
            (None, _) => t.never.to_string(),
        },
        None => dash(),
    };
    let last_success = format!(
        "{} {}",
        esc(&last_success),
        finding_badge(lang, &input.findings, "backup", service)
    );
    let mut row = vec![format!("<strong>{}</strong>", esc(service))];
    match mine.last() {
        Some(r) => row.extend([
            esc(&lang.date_time(r.time)),
            result_badge(lang, r.ok),
            esc(&lang.size(r.bytes_added)),
            esc(&duration(r.seconds)),
        ]),
        None => row.extend([dash(), dash(), dash(), dash()]),
    }
    row.extend([esc(&summary), last_success]);
    row
}

fn failures_list(lang: Lang, runs: &[&BackupRun]) -> String {
    let failed: Vec<&&BackupRun> = runs.iter().filter(|r| !r.ok).collect();
    if failed.is_empty() {
        return String::new();
    }
    let mut h = format!(
        "<h3>{}</h3>\n<ul class=\"plain\">\n",
        esc(lang.t().h_failures)
    );
    for r in failed.iter().rev().take(MAX_FAILURES_LISTED) {
        let what = format!(
            "{} UTC — {} ({}){}{}",
            lang.date_time(r.time),
            r.service.as_deref().unwrap_or("—"),
            r.host,
            lang.colon(),
            r.error
        );
        h.push_str(&format!("<li>{}</li>\n", esc(&what)));
    }
    h.push_str("</ul>\n");
    h
}

fn repository_sizes(lang: Lang, input: &ReportInput) -> String {
    if input.repository_bytes.is_empty() {
        return String::new();
    }
    let sizes: Vec<String> = input
        .repository_bytes
        .iter()
        .map(|(host, bytes)| format!("{} ({host})", lang.size(*bytes)))
        .collect();
    format!(
        "<p><strong>{}</strong>{}{}</p>\n",
        esc(lang.t().repo_sizes),
        lang.colon(),
        esc(&sizes.join(" · "))
    )
}

fn backups_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let runs = service_backup_runs(input);
    let days = backup_days(input);
    let mut h = String::new();
    if days.iter().all(|d| d.ok == 0 && d.failed == 0) {
        h.push_str(&para("", t.no_backups));
    } else {
        let caption = fill(
            t.backup_caption,
            &[
                &lang.date(days[0].start),
                &lang.date(days[days.len() - 1].start),
            ],
        );
        h.push_str(&format!(
            "<figure>\n<figcaption>{}</figcaption>\n{}</figure>\n",
            esc(&caption),
            backup_chart(&days, lang)
        ));
    }
    let services = backup_services(input, &runs);
    if !services.is_empty() {
        let rows: Vec<Vec<String>> = services
            .iter()
            .map(|s| backup_row(lang, input, &runs, s))
            .collect();
        let cols = [
            t.col_service,
            t.col_last_backup,
            t.col_result,
            t.col_added,
            t.col_duration,
            t.col_in_period,
            t.col_last_success,
        ];
        h.push_str(&table(&cols, "lnlrrll", &rows));
    }
    h.push_str(&repository_sizes(lang, input));
    h.push_str(&failures_list(lang, &runs));
    section("backups", t.h_backups, &h)
}

// ---------------------------------------------------------------- drills

fn drills_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let mut drills: Vec<&BackupRun> = input
        .backup_runs
        .iter()
        .filter(|r| r.kind == "drill" && in_period(input, r.time))
        .collect();
    drills.sort_by_key(|r| r.time);
    let mut h = para("note", t.drills_intro);
    if drills.is_empty() {
        h.push_str(&para("", t.no_drills));
    } else {
        let rows: Vec<Vec<String>> = drills
            .iter()
            .map(|r| {
                vec![
                    esc(&lang.date_time(r.time)),
                    format!(
                        "<strong>{}</strong>",
                        esc(r.service.as_deref().unwrap_or("—"))
                    ),
                    esc(&r.host),
                    result_badge(lang, r.ok),
                    esc(&duration(r.seconds)),
                    if r.error.is_empty() {
                        dash()
                    } else {
                        esc(&r.error)
                    },
                ]
            })
            .collect();
        let cols = [
            t.col_time,
            t.col_service,
            t.col_host,
            t.col_result,
            t.col_duration,
            t.col_error,
        ];
        h.push_str(&table(&cols, "nlllrl", &rows));
    }
    let last: Vec<Vec<String>> = input
        .status
        .backups
        .iter()
        .map(|b| {
            let when = b
                .last_drill
                .map(|ts| esc(&lang.date_time(ts)))
                .unwrap_or_else(|| esc(t.never));
            let result = b
                .last_drill_ok
                .map(|ok| result_badge(lang, ok))
                .unwrap_or_else(dash);
            vec![
                format!("<strong>{}</strong>", esc(&b.service)),
                when,
                result,
            ]
        })
        .collect();
    if !last.is_empty() {
        h.push_str(&table(
            &[t.col_service, t.col_last_drill, t.col_result],
            "lnl",
            &last,
        ));
    }
    section("drills", t.h_drills, &h)
}

// ---------------------------------------------------------------- updates

fn action_label(lang: Lang, action: &str) -> String {
    let t = lang.t();
    match action {
        "update" => t.act_update,
        "rollback" => t.act_rollback,
        "deploy" => t.act_deploy,
        "postgres-upgrade" => t.act_postgres,
        other => other,
    }
    .to_string()
}

fn os_pending(lang: Lang, input: &ReportInput) -> String {
    let t = lang.t();
    let items: Vec<String> = input
        .status
        .hosts
        .iter()
        .filter(|h| {
            h.os_security_updates.unwrap_or(0) + h.os_other_updates.unwrap_or(0) > 0
                || h.reboot_required == Some(true)
        })
        .map(|h| {
            let sec = h.os_security_updates.unwrap_or(0);
            let all = (sec + h.os_other_updates.unwrap_or(0)).to_string();
            let mut s = fill(t.os_counts, &[&h.host, &all, &sec.to_string()]);
            if h.reboot_required == Some(true) {
                s.push_str(&format!(" ({})", t.reboot_needed));
            }
            format!("<li>{}</li>\n", esc(&s))
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    format!(
        "<h3>{}</h3>\n<ul class=\"plain\">\n{}</ul>\n",
        esc(t.os_pending),
        items.concat()
    )
}

fn updates_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let mut entries: Vec<_> = input
        .journal
        .iter()
        .filter(|j| in_period(input, j.time))
        .collect();
    entries.sort_by_key(|j| j.time);
    let mut h = if entries.is_empty() {
        para("", t.no_updates)
    } else {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|j| {
                vec![
                    esc(&lang.date_time(j.time)),
                    esc(&action_label(lang, &j.action)),
                    format!(
                        "<strong>{}</strong>",
                        esc(j.service.as_deref().unwrap_or("—"))
                    ),
                    esc(&j.detail),
                    result_badge(lang, j.ok),
                ]
            })
            .collect();
        let cols = [
            t.col_time,
            t.col_action,
            t.col_service,
            t.col_detail,
            t.col_result,
        ];
        table(&cols, "nllll", &rows)
    };
    h.push_str(&os_pending(lang, input));
    section("updates", t.h_updates, &h)
}

// ---------------------------------------------------------------- disks

/// The readings of one file system over the period.
#[derive(Debug, Clone, PartialEq)]
struct DiskSeries {
    id: String,
    points: Vec<(u64, f64)>,
}

fn disk_series(samples: &[&Sample]) -> Vec<DiskSeries> {
    let mut sorted: Vec<&Sample> = samples.to_vec();
    sorted.sort_by_key(|s| s.time);
    let ids: BTreeSet<&String> = sorted
        .iter()
        .flat_map(|s| s.disks.iter().map(|d| &d.id))
        .collect();
    ids.into_iter()
        .map(|id| DiskSeries {
            id: id.clone(),
            points: sorted
                .iter()
                .flat_map(|s| {
                    s.disks
                        .iter()
                        .filter(|d| &d.id == id)
                        .map(|d| (s.time, d.used_pct))
                })
                .collect(),
        })
        .collect()
}

/// Line styles of the disk chart: dash pattern and marker shape tell the
/// lines apart without colour.
const LINE_STYLES: [(&str, &str, Marker); 5] = [
    ("#1f4e79", "", Marker::Circle),
    ("#a14d00", "7 4", Marker::Square),
    ("#2e6b30", "2 3", Marker::Triangle),
    ("#6a1b9a", "9 3 2 3", Marker::Diamond),
    ("#444444", "4 2", Marker::Cross),
];

#[derive(Debug, Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}

fn marker(shape: Marker, x: f64, y: f64, color: &str) -> String {
    let common = format!("fill=\"{color}\" stroke=\"{color}\"");
    match shape {
        Marker::Circle => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" {common}/>"),
        Marker::Square => format!("<rect x=\"{:.1}\" y=\"{:.1}\" width=\"7\" height=\"7\" {common}/>", x - 3.5, y - 3.5),
        Marker::Triangle => format!(
            "<path d=\"M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z\" {common}/>",
            y - 4.5,
            x + 4.5,
            y + 3.5,
            x - 4.5,
            y + 3.5
        ),
        Marker::Diamond => format!(
            "<path d=\"M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z\" {common}/>",
            y - 4.5,
            x + 4.5,
            y + 4.5,
            x - 4.5
        ),
        Marker::Cross => format!(
            "<path d=\"M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}\" stroke=\"{color}\" stroke-width=\"2\"/>",
            x - 4.0,
            y - 4.0,
            x + 4.0,
            y + 4.0,
            x - 4.0,
            y + 4.0,
            x + 4.0,
            y - 4.0
        ),
    }
}

/// Split a series where readings are missing for long, so no line is drawn
/// over a gap.
fn segments(points: &[(u64, f64)]) -> Vec<&[(u64, f64)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        if points[i].0.saturating_sub(points[i - 1].0) > DISK_GAP_SECS {
            out.push(&points[start..i]);
            start = i;
        }
    }
    if start < points.len() {
        out.push(&points[start..]);
    }
    out
}

/// Disk use over the period as an SVG line chart: one line per disk, told
/// apart by dash pattern and marker shape (legend below), y from 0 to 100 %.
fn disk_chart(series: &[DiskSeries], from: u64, to: u64, lang: Lang) -> String {
    let (left, right, top, plot_h) = (48.0, 14.0, 10.0, 180.0);
    let base = top + plot_h;
    let plot_w = CHART_W - left - right;
    let rows = series.len().div_ceil(2);
    let height = base + 34.0 + 20.0 * rows as f64;
    let span = to.saturating_sub(from).max(1) as f64;
    let x = |t: u64| left + plot_w * (t.saturating_sub(from) as f64 / span).min(1.0);
    let y = |p: f64| base - plot_h * p.clamp(0.0, 100.0) / 100.0;
    let days = period_days(from, to);
    let caption = fill(
        lang.t().disk_caption,
        &[&lang.date(days[0]), &lang.date(days[days.len() - 1])],
    );
    let mut s = format!(
        "<svg class=\"chart disks\" viewBox=\"0 0 {CHART_W} {height}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">\n",
        esc(&caption)
    );
    for p in [0.0, 25.0, 50.0, 75.0, 100.0] {
        s.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"{2}\" stroke-width=\"1\"/>",
            y(p),
            CHART_W - right,
            if p == 0.0 { INK } else { "#d7dde3" }
        ));
        s.push_str(&svg_text(
            left - 6.0,
            y(p) + 4.0,
            "end",
            11,
            &lang.pct(p, 0),
        ));
        s.push('\n');
    }
    let every = days.len().div_ceil(6).max(1);
    for d in days.iter().filter(|d| **d >= from).step_by(every) {
        s.push_str(&format!(
            "<line x1=\"{0:.1}\" y1=\"{base}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"{INK}\" stroke-width=\"1\"/>",
            x(*d),
            base + 4.0
        ));
        s.push_str(&svg_text(
            x(*d),
            base + 16.0,
            "middle",
            11,
            &lang.day_month(*d),
        ));
        s.push('\n');
    }
    for (i, serie) in series.iter().enumerate() {
        s.push_str(&disk_line(
            serie,
            LINE_STYLES[i % LINE_STYLES.len()],
            &x,
            &y,
        ));
    }
    for (i, serie) in series.iter().enumerate() {
        let lx = left + (i % 2) as f64 * plot_w / 2.0;
        let ly = base + 38.0 + 20.0 * (i / 2) as f64;
        s.push_str(&disk_legend(
            lang,
            serie,
            LINE_STYLES[i % LINE_STYLES.len()],
            lx,
            ly,
        ));
    }
    s.push_str("</svg>\n");
    s
}

fn disk_line(
    serie: &DiskSeries,
    (color, dash, shape): (&str, &str, Marker),
    x: &dyn Fn(u64) -> f64,
    y: &dyn Fn(f64) -> f64,
) -> String {
    let mut s = format!("<g class=\"disk-line\"><title>{}</title>", esc(&serie.id));
    let dash_attr = if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    };
    for seg in segments(&serie.points) {
        let pts: Vec<String> = seg
            .iter()
            .map(|(t, p)| format!("{:.1},{:.1}", x(*t), y(*p)))
            .collect();
        s.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash_attr}/>",
            pts.join(" ")
        ));
    }
    let n = serie.points.len();
    let step = (n / 6).max(1);
    for (i, (t, p)) in serie.points.iter().enumerate() {
        if i % step == step / 2 || i + 1 == n {
            s.push_str(&marker(shape, x(*t), y(*p), color));
        }
    }
    s.push_str("</g>\n");
    s
}

fn disk_legend(
    lang: Lang,
    serie: &DiskSeries,
    (color, dash, shape): (&str, &str, Marker),
    x: f64,
    y: f64,
) -> String {
    let dash_attr = if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    };
    let now = serie
        .points
        .last()
        .map(|(_, p)| format!(" ({})", lang.pct(*p, 0)))
        .unwrap_or_default();
    format!(
        "<g class=\"legend\"><line x1=\"{x:.1}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"{color}\" stroke-width=\"2\"{dash_attr}/>{2}{3}</g>\n",
        y - 4.0,
        x + 36.0,
        marker(shape, x + 18.0, y - 4.0, color),
        svg_text(x + 44.0, y, "start", 11, &format!("{}{now}", serie.id))
    )
}

/// One file system now, from the status (hosts and NAS).
struct DiskNow<'a> {
    /// As in the samples ([`crate::history::sample_of`]): `host:mount` for
    /// a host, `nas:path` for the NAS.
    id: String,
    /// The other spelling, `host:path` or `nas:mount` (findings use the
    /// mount point).
    alt: String,
    disk: &'a crate::status::Disk,
}

fn disks_now(status: &SiteStatus) -> Vec<DiskNow<'_>> {
    let or_path = |d: &crate::status::Disk| {
        if d.mount.is_empty() {
            d.path.clone()
        } else {
            d.mount.clone()
        }
    };
    let mut out: Vec<DiskNow> = Vec::new();
    for h in &status.hosts {
        for disk in &h.disks {
            let (id, alt) = (
                format!("{}:{}", h.host, or_path(disk)),
                format!("{}:{}", h.host, disk.path),
            );
            if !out.iter().any(|d| d.id == id) {
                out.push(DiskNow { id, alt, disk });
            }
        }
    }
    if let Some((nas, disk)) = status
        .nas
        .as_ref()
        .and_then(|n| Some((n, n.disk.as_ref()?)))
    {
        let (id, alt) = (
            format!("{}:{}", nas.host, disk.path),
            format!("{}:{}", nas.host, or_path(disk)),
        );
        if !out.iter().any(|d| d.id == id) {
            out.push(DiskNow { id, alt, disk });
        }
    }
    out
}

fn trend_text(lang: Lang, serie: Option<&DiskSeries>) -> String {
    let t = lang.t();
    let Some((first, last)) = serie.and_then(|s| Some((s.points.first()?, s.points.last()?)))
    else {
        return dash();
    };
    let delta = last.1 - first.1;
    if delta.abs() < 0.5 {
        return t.stable.to_string();
    }
    let sign = if delta > 0.0 { "+" } else { "−" };
    fill(
        t.trend_points,
        &[&format!("{sign}{}", lang.decimal(delta.abs(), 1))],
    )
}

fn disk_row(lang: Lang, input: &ReportInput, d: &DiskNow, series: &[DiskSeries]) -> Vec<String> {
    let t = lang.t();
    let pct = d.disk.used_pct.clamp(0.0, 100.0);
    let meter = format!("<span class=\"meter\"><span style=\"width:{pct:.0}%\"></span></span>");
    let amounts = fill(
        t.used_of,
        &[
            &lang.size(d.disk.used_kib * 1024),
            &lang.size(d.disk.size_kib * 1024),
        ],
    );
    vec![
        esc(&d.id),
        format!(
            "{meter}<strong>{}</strong>",
            esc(&lang.pct(d.disk.used_pct, 0))
        ),
        esc(&amounts),
        esc(&trend_text(lang, series.iter().find(|s| s.id == d.id))),
        findings_badge(lang, &input.findings, "disk", &[&d.id, &d.alt]),
    ]
}

fn disks_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let samples: Vec<&Sample> = input
        .samples
        .iter()
        .filter(|s| in_period(input, s.time))
        .collect();
    let series = disk_series(&samples);
    let now = disks_now(&input.status);
    let mut h = String::new();
    if series.is_empty() {
        h.push_str(&para("", t.no_disk_history));
    } else {
        let days = period_days(input.from, input.to);
        let caption = fill(
            t.disk_caption,
            &[&lang.date(days[0]), &lang.date(days[days.len() - 1])],
        );
        h.push_str(&format!(
            "<figure>\n<figcaption>{}</figcaption>\n{}</figure>\n",
            esc(&caption),
            disk_chart(&series, input.from, input.to, lang)
        ));
    }
    if now.is_empty() {
        h.push_str(&para("", t.no_disks));
    } else {
        let rows: Vec<Vec<String>> = now
            .iter()
            .map(|d| disk_row(lang, input, d, &series))
            .collect();
        let cols = [t.col_disk, t.col_used, "", t.col_trend, t.col_state];
        h.push_str(&table(&cols, "lnrrl", &rows));
    }
    section("disks", t.h_disks, &h)
}

// ---------------------------------------------------------------- certificates

fn certificates_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let certs = &input.status.certificates;
    if certs.is_empty() {
        return section("certificates", t.h_certs, &para("", t.no_certs));
    }
    let rows: Vec<Vec<String>> = certs
        .iter()
        .map(|c| {
            let expires = c
                .not_after
                .and_then(|n| u64::try_from(n).ok())
                .map(|n| lang.date(n))
                .unwrap_or_else(dash);
            let days = c
                .days_left
                .map(|d| format!("{}", d.floor()))
                .unwrap_or_else(dash);
            let trusted = match c.trusted {
                Some(true) => t.yes,
                Some(false) => t.no,
                None => "—",
            };
            vec![
                with_sub(&c.hostname, c.error.as_deref().unwrap_or("")),
                esc(&expires),
                esc(&days),
                esc(trusted),
                finding_badge(lang, &input.findings, "certificate", &c.hostname),
            ]
        })
        .collect();
    let cols = [
        t.col_address,
        t.col_expires,
        t.col_days_left,
        t.col_trusted,
        t.col_state,
    ];
    section("certificates", t.h_certs, &table(&cols, "lnrll", &rows))
}

// ---------------------------------------------------------------- footer

fn footer(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let n = input
        .samples
        .iter()
        .filter(|s| in_period(input, s.time))
        .count();
    let mut h = format!("<footer>\n<h2>{}</h2>\n", esc(t.h_about));
    h.push_str(&para("", &fill(t.about, &[&lang.count(n, t.readings)])));
    if !input.status.errors.is_empty() {
        let list = input
            .status
            .errors
            .join(if lang == Lang::Fr { " ; " } else { "; " });
        h.push_str(&para("", &format!("{}{}{list}", t.not_read, lang.colon())));
    }
    if !input.contact.is_empty() {
        h.push_str(&format!(
            "<p><strong>{}</strong>{}{}</p>\n",
            esc(t.contact),
            lang.colon(),
            esc(&input.contact)
        ));
    }
    h.push_str("</footer>\n");
    h
}

// ---------------------------------------------------------------- fleet page

/// One site on the fleet page.
struct FleetRow<'a> {
    input: &'a ReportInput,
    level: Level,
    problems: usize,
    warnings: usize,
}

impl<'a> FleetRow<'a> {
    fn new(input: &'a ReportInput) -> FleetRow<'a> {
        let count =
            |pred: fn(Level) -> bool| input.findings.iter().filter(|f| pred(f.level)).count();
        FleetRow {
            input,
            level: worst_level(&input.findings),
            problems: count(|l| l == Level::Critical),
            warnings: count(|l| matches!(l, Level::Warning | Level::Unknown)),
        }
    }
}

/// Worst first: level, then problems, then warnings, then name.
fn fleet_rows(inputs: &[ReportInput]) -> Vec<FleetRow<'_>> {
    let mut rows: Vec<FleetRow> = inputs.iter().map(FleetRow::new).collect();
    rows.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(b.problems.cmp(&a.problems))
            .then(b.warnings.cmp(&a.warnings))
            .then(a.input.status.site.cmp(&b.input.status.site))
    });
    rows
}

fn fleet_lang(inputs: &[ReportInput]) -> Lang {
    if !inputs.is_empty()
        && inputs
            .iter()
            .all(|i| Lang::of(&i.status.locale) == Lang::Fr)
    {
        Lang::Fr
    } else {
        Lang::En
    }
}

/// The oldest "last backup" of the site's services: `never` wins.
fn oldest_backup(lang: Lang, status: &SiteStatus) -> String {
    if status.backups.is_empty() {
        return dash();
    }
    if status.backups.iter().any(|b| b.last_success.is_none()) {
        return lang.t().never.to_string();
    }
    match status
        .backups
        .iter()
        .filter_map(|b| b.age_hours)
        .reduce(f64::max)
    {
        Some(h) => lang.ago(h),
        None => dash(),
    }
}

fn fullest_disk(lang: Lang, status: &SiteStatus) -> String {
    let fullest = disks_now(status)
        .into_iter()
        .max_by(|a, b| a.disk.used_pct.total_cmp(&b.disk.used_pct));
    match fullest {
        Some(d) => with_sub(&lang.pct(d.disk.used_pct, 0), &d.id),
        None => dash(),
    }
}

fn fleet_row_cells(lang: Lang, row: &FleetRow) -> Vec<String> {
    let st = &row.input.status;
    let up = st
        .services
        .iter()
        .filter(|s| service_state(s) == SvcState::Up)
        .count();
    let cert = st
        .certificates
        .iter()
        .filter_map(|c| c.days_left)
        .reduce(f64::min)
        .map(|d| format!("{}", d.floor()))
        .unwrap_or_else(dash);
    let state = State::of(row.level);
    vec![
        format!(
            "<a href=\"{}.html\"><strong>{}</strong></a><span class=\"sub\">{}</span>",
            esc(&st.site),
            esc(display_name(st)),
            esc(&row.input.domain)
        ),
        badge(state.class(), state.label(lang)),
        row.problems.to_string(),
        row.warnings.to_string(),
        esc(&oldest_backup(lang, st)),
        fullest_disk(lang, st),
        format!("{up}/{}", st.services.len()),
        esc(&cert),
    ]
}

/// The fleet overview: one row per site, worst first, linking to the
/// sites' pages. French when every site is French, else English.
pub fn fleet_html(inputs: &[ReportInput]) -> String {
    let lang = fleet_lang(inputs);
    let t = lang.t();
    let date = inputs
        .iter()
        .map(|i| i.to)
        .max()
        .map(|to| lang.date(to))
        .unwrap_or_else(dash);
    let mut h = String::from("<header>\n");
    h.push_str(&para("kicker", "regie"));
    h.push_str(&format!("<h1>{}</h1>\n", esc(t.fleet_title)));
    let sites = lang.count(inputs.len(), ("{0} site", "{0} sites"));
    h.push_str(&para("domain", &fill(t.fleet_intro, &[&date, &sites])));
    h.push_str("</header>\n");
    if inputs.is_empty() {
        h.push_str(&para("", t.no_sites));
    } else {
        let rows: Vec<Vec<String>> = fleet_rows(inputs)
            .iter()
            .map(|r| fleet_row_cells(lang, r))
            .collect();
        let cols = [
            t.col_site,
            t.col_state,
            t.col_problems,
            t.col_warnings,
            t.col_oldest_backup,
            t.col_fullest_disk,
            t.col_services_up,
            t.col_cert_days,
        ];
        h.push_str(&format!(
            "<section id=\"sites\">\n{}</section>\n",
            table(&cols, "llrrlrrr", &rows)
        ));
    }
    h.push_str(&format!("<footer>\n{}</footer>\n", para("", t.fleet_about)));
    page(lang, &format!("{} — {date}", t.fleet_title), &h)
}

// ---------------------------------------------------------------- tests

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{DiskSample, ServiceSample};

    fn finding(level: Level, kind: &str, subject: &str, message: &str) -> Finding {
        Finding {
            level,
            kind: kind.into(),
            subject: subject.into(),
            message: message.into(),
        }
    }

    fn run(time: u64, kind: &str, ok: bool, bytes: u64) -> BackupRun {
        BackupRun {
            host: "srv1".into(),
            time,
            kind: kind.into(),
            service: Some("files".into()),
            ok,
            bytes_added: bytes,
            seconds: 30,
            error: if ok { String::new() } else { "boom".into() },
        }
    }

    const TO: u64 = 1_796_083_200; // 2026-12-01T00:00Z

    fn input(locale: &str) -> ReportInput {
        let mut i = ReportInput {
            from: TO - 30 * DAY,
            to: TO,
            ..Default::default()
        };
        i.status.site = "demo".into();
        i.status.display_name = "Demo".into();
        i.status.locale = locale.into();
        i
    }

    fn sample(time: u64, up: bool, restarts: u64) -> Sample {
        Sample {
            time,
            services: vec![ServiceSample {
                service: "files".into(),
                up,
                restarts,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        let mut i = input("fr");
        i.status.display_name = r#"<script>alert("pwn")</script> O'Neil & "Fils""#.into();
        i.domain = "<b>x</b>".into();
        i.contact = "\"><img src=x onerror=alert(1)>".into();
        i.findings = vec![finding(
            Level::Critical,
            "disk",
            "<i>",
            "<script>bad()</script>",
        )];
        let html = site_html(&i);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>x"), "{html}");
        assert!(html.contains(
            "&lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt; O&#39;Neil &amp; &quot;Fils&quot;"
        ));
        let fleet = fleet_html(&[i]);
        assert!(!fleet.contains("<script"), "{fleet}");
    }

    #[test]
    fn fill_is_one_pass() {
        assert_eq!(fill("{0} and {1}", &["{1}", "b"]), "{1} and b");
        assert_eq!(fill("{x} {2}", &["a"]), "{x} {2}");
    }

    #[test]
    fn sizes_dates_and_numbers_follow_the_language() {
        assert_eq!(Lang::Fr.size(1_500_000_000), "1,5\u{a0}Go");
        assert_eq!(Lang::En.size(1_500_000_000), "1.5\u{a0}GB");
        assert_eq!(Lang::Fr.size(999), "999\u{a0}o");
        assert_eq!(Lang::Fr.size(12_340), "12,3\u{a0}Ko");
        assert_eq!(Lang::En.size(250_000_000_000), "250\u{a0}GB");
        assert_eq!(Lang::En.size(999_999), "1\u{a0}MB");
        assert_eq!(Lang::Fr.size(2_000_000_000), "2\u{a0}Go");
        assert_eq!(Lang::Fr.date(TO), "01/12/2026");
        assert_eq!(Lang::En.date(TO), "2026-12-01");
        assert_eq!(Lang::Fr.date_time(TO + 5400), "01/12/2026 01:30");
        assert_eq!(Lang::Fr.pct(87.26, 1), "87,3\u{a0}%");
        assert_eq!(Lang::En.pct(87.26, 1), "87.3%");
        assert_eq!(Lang::Fr.count(0, FR.readings), "0 relevé");
        assert_eq!(Lang::En.count(0, EN.readings), "0 readings");
        assert_eq!(Lang::of("fr"), Lang::Fr);
        assert_eq!(Lang::of("FR-ca"), Lang::Fr);
        assert_eq!(Lang::of("de"), Lang::En);
        assert_eq!(duration(42), "42\u{a0}s");
        assert_eq!(duration(245), "4\u{a0}min 05\u{a0}s");
        assert_eq!(duration(3720), "1\u{a0}h 02\u{a0}min");
        assert_eq!(Lang::Fr.age(22.5), "22\u{a0}h");
        assert_eq!(Lang::Fr.age(80.0), "3 jours");
    }

    #[test]
    fn overall_state_comes_from_the_worst_finding() {
        let f = |l| finding(l, "disk", "a", "m");
        assert_eq!(State::of(worst_level(&[])), State::Ok);
        assert_eq!(
            State::of(worst_level(&[f(Level::Ok), f(Level::Warning)])),
            State::Attention
        );
        assert_eq!(
            State::of(worst_level(&[f(Level::Unknown)])),
            State::Attention
        );
        assert_eq!(
            State::of(worst_level(&[f(Level::Warning), f(Level::Critical)])),
            State::Problem
        );
        let all = [
            f(Level::Ok),
            f(Level::Warning),
            f(Level::Critical),
            f(Level::Unknown),
        ];
        let open = open_findings(&all);
        let levels: Vec<Level> = open.iter().map(|f| f.level).collect();
        assert_eq!(levels, [Level::Critical, Level::Unknown, Level::Warning]);
    }

    #[test]
    fn availability_counts_readings_and_restart_increases() {
        let s = [
            sample(TO - 40, true, 5),
            sample(TO - 10, true, 1), // recreated: the counter went down
            sample(TO - 50, true, 3),
            sample(TO - 30, false, 7),
            sample(TO - 20, true, 7),
        ];
        let refs: Vec<&Sample> = s.iter().collect();
        let a = availability(&refs, &["files".into(), "mail".into()]);
        assert_eq!(a[0].readings, 5);
        assert_eq!(a[0].up, 4);
        assert_eq!(a[0].restarts, 4); // 3 -> 5 -> 7 -> 7, then 1 ignored
        assert_eq!(a[0].pct(), Some(80.0));
        assert_eq!(a[1].readings, 0);
        assert_eq!(a[1].pct(), None);
        assert_eq!(availability_text(Lang::En, 99.96), "99.9%");
    }

    #[test]
    fn no_samples_is_said_not_counted_as_full_availability() {
        let mut i = input("en");
        i.status.services = vec![ServiceStatus {
            service: "files".into(),
            ..Default::default()
        }];
        let html = site_html(&i);
        assert!(html.contains("No readings yet"));
        assert!(!html.contains("100.0%"));
    }

    #[test]
    fn backup_chart_has_one_bar_per_day_and_marks_failed_and_missing_days() {
        let mut i = input("fr");
        for d in 0..30 {
            let t = i.from + d * DAY + 5400;
            match d {
                10 => {
                    i.backup_runs.push(run(t, "scheduled", false, 0));
                    i.backup_runs.push(run(t + 3600, "manual", true, 2_000));
                }
                20 => {}
                _ => i.backup_runs.push(run(t, "scheduled", true, 1_000_000 * d)),
            }
        }
        i.backup_runs
            .push(run(i.from + 21 * DAY, "drill", false, 0)); // not a backup
        let days = backup_days(&i);
        assert_eq!(days.len(), 30);
        assert_eq!(
            (days[10].ok, days[10].failed, days[10].bytes),
            (1, 1, 2_000)
        );
        assert_eq!((days[20].ok, days[20].failed), (0, 0));
        assert_eq!(days[21].failed, 0);
        let svg = backup_chart(&days, Lang::Fr);
        assert_eq!(svg.matches("<g class=\"day ").count(), 30);
        assert_eq!(svg.matches("<g class=\"day failed\">").count(), 1);
        assert_eq!(svg.matches("<g class=\"day none\">").count(), 1);
        assert!(svg.contains("<title>11/11/2026 : 1 échec, 1 réussie, 2\u{a0}Ko ajoutés</title>"));
        assert!(svg.contains("<title>21/11/2026 : aucune sauvegarde</title>"));
        // Axis labels: sizes and every day of the month.
        assert!(svg.contains(">0</text>"));
        assert!(svg.contains(">40\u{a0}Mo</text>"), "{svg}");
        assert!(svg.contains(">30</text>"));
        // A period that does not start at midnight covers one more day.
        i.from += 3600;
        i.to += 3600;
        assert_eq!(backup_days(&i).len(), 31);
    }

    #[test]
    fn nice_scale() {
        assert_eq!(nice_ceil(0), 0);
        assert_eq!(nice_ceil(7), 10);
        assert_eq!(nice_ceil(1_900), 2_000);
        assert_eq!(nice_ceil(3_100_000_000), 4_000_000_000);
        assert_eq!(nice_ceil(4_500), 5_000);
    }

    #[test]
    fn disk_chart_draws_one_line_per_disk_with_a_legend() {
        let disk = |id: &str, pct| DiskSample {
            id: id.into(),
            used_pct: pct,
            ..Default::default()
        };
        let samples: Vec<Sample> = (0..20)
            .filter(|k| k % 10 != 5) // one gap
            .map(|k| Sample {
                time: TO - 30 * DAY + k * 3 * 3600 + if k > 5 { 20 * 3600 } else { 0 },
                disks: vec![disk("srv1:/", 50.0 + k as f64), disk("nas1:/volume1", 60.0)],
                ..Default::default()
            })
            .collect();
        let refs: Vec<&Sample> = samples.iter().collect();
        let series = disk_series(&refs);
        assert_eq!(series.len(), 2);
        assert_eq!(series[1].id, "srv1:/");
        let svg = disk_chart(&series, TO - 30 * DAY, TO, Lang::En);
        assert_eq!(svg.matches("<g class=\"disk-line\">").count(), 2);
        assert_eq!(
            svg.matches("<polyline").count(),
            4,
            "the gap splits each line"
        );
        assert!(svg.contains("stroke-dasharray=\"7 4\""));
        assert!(svg.contains(">srv1:/ (69%)</text>"));
        assert!(svg.contains(">nas1:/volume1 (60%)</text>"));
        assert_eq!(trend_text(Lang::Fr, Some(&series[1])), "+19,0 points");
        assert_eq!(trend_text(Lang::Fr, Some(&series[0])), "stable");
    }

    #[test]
    fn fleet_is_worst_first_and_french_only_when_all_sites_are() {
        let mut a = input("fr");
        a.status.site = "a".into();
        let mut b = input("fr");
        b.status.site = "b".into();
        b.findings = vec![finding(Level::Critical, "disk", "x", "full")];
        let mut c = input("fr");
        c.status.site = "c".into();
        c.findings = vec![
            finding(Level::Warning, "disk", "x", "m"),
            finding(Level::Warning, "disk", "y", "m"),
        ];
        let inputs = [a, b, c];
        let order: Vec<&str> = fleet_rows(&inputs)
            .iter()
            .map(|r| r.input.status.site.as_str())
            .collect();
        assert_eq!(order, ["b", "c", "a"]);
        assert_eq!(fleet_lang(&inputs), Lang::Fr);
        assert!(fleet_html(&inputs).contains("<html lang=\"fr\">"));
        let mut mixed = inputs.to_vec();
        mixed[0].status.locale = "en".into();
        assert_eq!(fleet_lang(&mixed), Lang::En);
        assert_eq!(fleet_lang(&[]), Lang::En);
        let html = fleet_html(&inputs);
        assert!(html.find("href=\"b.html\"").unwrap() < html.find("href=\"a.html\"").unwrap());
    }

    #[test]
    fn site_names_must_be_safe_file_names() {
        for bad in ["", "../x", ".hidden", "a/b", "index", "a b"] {
            let mut i = input("fr");
            i.status.site = bad.into();
            assert!(check_site_names(&[i]).is_err(), "{bad:?} accepted");
        }
        let i = input("fr");
        assert!(
            check_site_names(&[i.clone(), i]).is_err(),
            "duplicate accepted"
        );
        assert!(check_site_names(&[input("fr")]).is_ok());
    }

    #[test]
    fn write_puts_pages_and_json_and_index_last() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out/2026-12");
        let i = input("fr");
        let written = write(&dir, std::slice::from_ref(&i)).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["demo.html", "demo.json", "index.html"]);
        let back: ReportInput =
            serde_json::from_slice(&std::fs::read(dir.join("demo.json")).unwrap()).unwrap();
        assert_eq!(back, i);
        assert_eq!(
            std::fs::read_to_string(dir.join("demo.html")).unwrap(),
            site_html(&i)
        );
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 3, "no temporary file left");
    }
}
