//! Notifications of a site: failure reports by email (SMTP) and webhook.
//!
//! [`send`] delivers one [`Message`] to every channel of the inventory's
//! `notify:` section and returns one [`Delivery`] per channel: one email to
//! all the `notify.email` addresses together, one POST to `notify.webhook`.
//! It never fails as a whole and never blocks for long (10 s per network
//! step). Errors never show the SMTP password nor a webhook URL beyond its
//! scheme and host: the URL of an incoming webhook is a secret.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::{json, Value};

use crate::site::inventory::{Locale, Notify, Resolved, Site, Smtp, SmtpSecurity};
use crate::site::secrets::Secret;

/// Connection, read and write timeout of each channel.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Name of the site secret holding the password of `notify.smtp.user`.
pub const SMTP_PASSWORD: &str = "notify.smtp_password";

/// One notification. Email sends `subject` and `text`; the webhook posts
/// `text` (without the subject, so `text` must stand on its own) and
/// `json` as machine-readable details.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub json: Value,
}

impl Message {
    /// The message of `regie notify test`, in the site's locale.
    pub fn test(site: &Site) -> Message {
        Message::test_at(site, jiff::Timestamp::now())
    }

    fn test_at(site: &Site, now: jiff::Timestamp) -> Message {
        let display = site.display();
        let tz = jiff::tz::TimeZone::get(&site.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let when = now.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string();
        let (subject, text) = match site.locale {
            Locale::Fr => (
                format!("[regie] Test de notification — {display}"),
                format!(
                    "Message de test de regie pour {display} ({}) : ce canal de notification fonctionne.\n\
                     Les rapports de maintenance (échecs, actions à faire) arriveront ici.\n\
                     Envoyé le {when}.\n",
                    site.name
                ),
            ),
            Locale::En => (
                format!("[regie] Notification test — {display}"),
                format!(
                    "Test message from regie for {display} ({}): this notification channel works.\n\
                     Maintenance reports (failures, things to do) will arrive here.\n\
                     Sent {when}.\n",
                    site.name
                ),
            ),
        };
        Message {
            subject,
            text,
            json: json!({ "kind": "test", "site": site.name, "sent_at": now.to_string() }),
        }
    }
}

/// The outcome of one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// `email` or `webhook`.
    pub channel: String,
    /// The recipients (comma-separated), or the webhook as `scheme://host/…`.
    pub target: String,
    pub ok: bool,
    pub error: Option<String>,
}

impl Delivery {
    fn new(channel: &str, target: String, result: Result<(), String>) -> Delivery {
        Delivery {
            channel: channel.to_string(),
            target,
            ok: result.is_ok(),
            error: result.err(),
        }
    }
}

/// Send `msg` to every channel of `notify`. `smtp_password` is the site
/// secret [`SMTP_PASSWORD`], needed when `notify.smtp.user` is set (see
/// [`smtp_password`]).
pub fn send(notify: &Notify, smtp_password: Option<&str>, msg: &Message) -> Vec<Delivery> {
    send_with(notify, Ok(smtp_password), msg)
}

/// As [`send`]; `password` is an error when it could not be read, which
/// fails the email channel only.
pub fn send_with(
    notify: &Notify,
    password: Result<Option<&str>, String>,
    msg: &Message,
) -> Vec<Delivery> {
    let mut out = Vec::new();
    if !notify.email.is_empty() {
        let result = match (&notify.smtp, password) {
            (None, _) => Err("no mail server: `notify.smtp` is not set in the inventory".into()),
            (Some(_), Err(e)) => Err(e),
            (Some(smtp), Ok(pw)) => send_email(smtp, &notify.email, pw, msg),
        };
        out.push(Delivery::new("email", notify.email.join(", "), result));
    }
    if let Some(url) = &notify.webhook {
        let result = post_webhook(url, &webhook_payload(msg), TIMEOUT);
        out.push(Delivery::new("webhook", redact_url(url), result));
    }
    out
}

/// The SMTP password of the site, read from its secrets when
/// `notify.smtp.user` is set and there are addresses to email; `None`
/// when no password is needed.
pub fn smtp_password(site: &Resolved, identity: Option<&Path>) -> Result<Option<Secret>> {
    let n = &site.inv.notify;
    if n.email.is_empty() || n.smtp.as_ref().is_none_or(|s| s.user.is_none()) {
        return Ok(None);
    }
    let (store, _) = crate::site::site_files::open_secrets(site, identity)?;
    match store.get(SMTP_PASSWORD) {
        Some(s) => Ok(Some(s.clone())),
        None => bail!(
            "no secret `{SMTP_PASSWORD}` in {}: `notify.smtp.user` is set, so the SMTP password must be kept there",
            crate::site::site_files::secrets_path(site).display()
        ),
    }
}

// ---------------------------------------------------------------------------
// Email

/// One line: no CR, LF or other control character (header injection).
fn one_line(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The email of `msg` from `from` to all of `to`: plain text, UTF-8,
/// quoted-printable (accepted by every relay, 8BITMIME or not).
pub fn email_message(from: &str, to: &[String], msg: &Message) -> Result<lettre::Message, String> {
    use lettre::message::header::{ContentTransferEncoding, ContentType};
    use lettre::message::{Mailbox, SinglePart};

    let addr = |a: &str| {
        a.parse::<lettre::Address>()
            .map_err(|e| format!("invalid address `{}`: {e}", a.escape_debug()))
    };
    let mut b = lettre::Message::builder()
        .from(Mailbox::new(Some("regie".into()), addr(from)?))
        .subject(one_line(&msg.subject))
        .user_agent(format!("regie {}", env!("CARGO_PKG_VERSION")))
        .message_id(None);
    for t in to {
        b = b.to(Mailbox::new(None, addr(t)?));
    }
    let mut text = msg.text.clone();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .header(ContentTransferEncoding::QuotedPrintable)
        .body(text);
    b.singlepart(part)
        .map_err(|e| format!("cannot build the email: {e}"))
}

fn send_email(
    smtp: &Smtp,
    to: &[String],
    password: Option<&str>,
    msg: &Message,
) -> Result<(), String> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::Transport;

    let email = email_message(&smtp.from, to, msg)?;
    let server = format!("{}:{} ({})", smtp.host, smtp.port, smtp.security.as_str());
    let mut b = lettre::SmtpTransport::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .timeout(Some(TIMEOUT));
    if smtp.security != SmtpSecurity::None {
        let params = TlsParameters::new(smtp.host.clone())
            .map_err(|e| format!("TLS set-up for {server} failed: {e}"))?;
        b = b.tls(match smtp.security {
            SmtpSecurity::Tls => Tls::Wrapper(params),
            _ => Tls::Required(params),
        });
    }
    match (&smtp.user, password) {
        (Some(user), Some(pw)) => {
            b = b.credentials(Credentials::new(user.clone(), pw.to_string()));
        }
        (Some(_), None) => {
            return Err(format!(
                "`notify.smtp.user` is set but the site secret `{SMTP_PASSWORD}` was not given"
            ))
        }
        (None, _) => {}
    }
    b.build().send(&email).map(|_| ()).map_err(|e| {
        let text = format!("cannot send through {server}: {}", error_chain(&e));
        match password {
            Some(pw) if !pw.is_empty() => text.replace(pw, "********"),
            _ => text,
        }
    })
}

/// An error and its sources, without repeating a source already in the text.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        src = s.source();
    }
    text
}

// ---------------------------------------------------------------------------
// Webhook

/// The JSON posted to the webhook: `text` is what Mattermost and Slack
/// incoming webhooks display; `regie` carries the details.
pub fn webhook_payload(msg: &Message) -> Value {
    json!({ "text": msg.text, "username": "regie", "regie": msg.json })
}

/// A webhook URL as it may be shown: `scheme://host[:port]/…`, without
/// credentials, path, query or fragment.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(invalid URL)".into();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if end == rest.len() {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}/…")
    }
}

/// Remove from `text` anything of `url` that is secret: the URL itself,
/// its path and query, and their longer parts (tokens).
fn scrub_url(text: &str, url: &str) -> String {
    let mut out = text.replace(url, &redact_url(url));
    if let Some((_, rest)) = url.split_once("://") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let tail = &rest[end..];
        if tail.len() > 1 {
            out = out.replace(tail, "/…");
        }
        let mut parts: Vec<&str> = tail
            .split(['/', '?', '#', '&', '='])
            .filter(|p| p.len() >= 8)
            .collect();
        if let Some((userinfo, _)) = rest[..end].rsplit_once('@') {
            // The password; a short one would match ordinary words.
            parts.extend(
                userinfo
                    .split_once(':')
                    .map(|x| x.1)
                    .filter(|p| p.len() >= 4),
            );
        }
        parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in parts {
            out = out.replace(p, "…");
        }
    }
    out
}

fn post_webhook(url: &str, payload: &Value, timeout: Duration) -> Result<(), String> {
    // No redirects: a redirected POST would lose its body or be turned
    // into a GET, and be reported as delivered.
    let agent = ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .user_agent(&format!("regie/{}", env!("CARGO_PKG_VERSION")))
        .build();
    let result = match agent.post(url).send_json(payload) {
        Ok(resp) if (200..300).contains(&resp.status()) => Ok(()),
        Ok(resp) => Err(status_error(resp.status(), resp)),
        Err(ureq::Error::Status(code, resp)) => Err(status_error(code, resp)),
        Err(ureq::Error::Transport(t)) => {
            let mut text = t.kind().to_string();
            if let Some(m) = t.message() {
                text.push_str(": ");
                text.push_str(m);
            }
            if let Some(s) = std::error::Error::source(&t) {
                text.push_str(": ");
                text.push_str(&error_chain(s));
            }
            Err(format!("cannot reach the webhook: {text}"))
        }
    };
    result.map_err(|e| scrub_url(&e, url))
}

/// `HTTP 500 Internal Server Error: <start of the answer>`.
fn status_error(code: u16, resp: ureq::Response) -> String {
    let reason = resp.status_text().to_string();
    let mut body = Vec::new();
    let _ = resp.into_reader().take(4096).read_to_end(&mut body);
    let body = one_line(&String::from_utf8_lossy(&body));
    let mut text = format!("HTTP {code} {}", one_line(&reason));
    if (300..400).contains(&code) {
        text.push_str(" (redirects are not followed: give the final URL in notify.webhook)");
    }
    if !body.is_empty() {
        let excerpt: String = body.chars().take(200).collect();
        text.push_str(": ");
        text.push_str(&excerpt);
        if body.chars().count() > 200 {
            text.push('…');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(locale: Locale) -> Site {
        serde_yaml::from_str::<Site>(&format!(
            "name: mairie-x\ndisplay_name: Mairie de X\ndomain: x.fr\ncontact: dsi@x.fr\nlocale: {}\n",
            match locale {
                Locale::Fr => "fr",
                Locale::En => "en",
            }
        ))
        .unwrap()
    }

    fn msg() -> Message {
        Message {
            subject: "Échec de la sauvegarde\r\nBcc: evil@example.com".into(),
            text: "La sauvegarde de files a échoué.\nVoir le journal.".into(),
            json: json!({ "failed": ["files"] }),
        }
    }

    #[test]
    fn test_message_follows_the_locale() {
        let now: jiff::Timestamp = "2026-03-02T21:05:00Z".parse().unwrap();
        let fr = Message::test_at(&site(Locale::Fr), now);
        assert_eq!(fr.subject, "[regie] Test de notification — Mairie de X");
        assert!(fr.text.contains("Mairie de X (mairie-x)"), "{}", fr.text);
        // Europe/Paris, the default time zone.
        assert!(fr.text.contains("2026-03-02 22:05 CET"), "{}", fr.text);
        assert_eq!(fr.json["kind"], "test");
        assert_eq!(fr.json["site"], "mairie-x");
        let en = Message::test_at(&site(Locale::En), now);
        assert!(en.subject.starts_with("[regie] Notification test"));
        assert!(en.text.starts_with("Test message from regie"));
    }

    #[test]
    fn redacted_urls_keep_only_scheme_and_host() {
        assert_eq!(
            redact_url("https://chat.example.fr/hooks/abcdef123456"),
            "https://chat.example.fr/…"
        );
        assert_eq!(
            redact_url("https://user:pw@hooks.example.fr:8443/x?token=s3cret#f"),
            "https://hooks.example.fr:8443/…"
        );
        assert_eq!(redact_url("http://10.0.0.5?k=v"), "http://10.0.0.5/…");
        assert_eq!(redact_url("http://10.0.0.5"), "http://10.0.0.5");
        assert_eq!(redact_url("not a url"), "(invalid URL)");
    }

    #[test]
    fn errors_lose_the_secret_parts_of_the_url() {
        let url = "https://u:pw12345678@chat.example.fr/hooks/abcdef123456?token=zzzzzzzzzz";
        let e = format!(
            "{url}: Connection Failed; answer mentions abcdef123456 and zzzzzzzzzz and pw12345678"
        );
        let s = scrub_url(&e, url);
        for secret in ["abcdef123456", "zzzzzzzzzz", "pw12345678", "/hooks/"] {
            assert!(!s.contains(secret), "{s}");
        }
        assert!(
            s.starts_with("https://chat.example.fr/…: Connection Failed"),
            "{s}"
        );
    }

    #[test]
    fn webhook_payload_has_text_username_and_details() {
        let p = webhook_payload(&msg());
        assert_eq!(
            p["text"],
            "La sauvegarde de files a échoué.\nVoir le journal."
        );
        assert_eq!(p["username"], "regie");
        assert_eq!(p["regie"]["failed"][0], "files");
    }

    #[test]
    fn email_is_plain_utf8_text_to_all_recipients() {
        let to = vec!["a@x.fr".to_string(), "b@y.example".to_string()];
        let m = email_message("regie@x.fr", &to, &msg()).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        let (headers, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(headers.contains("From: regie <regie@x.fr>"), "{headers}");
        assert!(headers.contains("a@x.fr") && headers.contains("b@y.example"));
        assert!(headers.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(headers.contains("Content-Transfer-Encoding: quoted-printable"));
        assert!(headers.contains("MIME-Version: 1.0"));
        // The subject is encoded (UTF-8) and on one line: no injected header.
        assert!(headers.contains("Subject: =?utf-8?"), "{headers}");
        assert!(!headers.lines().any(|l| l.starts_with("Bcc:")), "{headers}");
        assert!(body.contains("=C3=A9chou=C3=A9"), "{body}");
        let env = m.envelope();
        assert_eq!(env.to().len(), 2);
        assert_eq!(env.from().unwrap().to_string(), "regie@x.fr");
        assert_eq!(
            one_line(&msg().subject),
            "Échec de la sauvegarde Bcc: evil@example.com"
        );
    }

    #[test]
    fn channels_without_what_they_need_fail_without_network() {
        let mut n = Notify {
            email: vec!["a@x.fr".into()],
            ..Default::default()
        };
        let d = send(&n, None, &msg());
        assert_eq!(d.len(), 1);
        assert!(!d[0].ok);
        assert!(d[0]
            .error
            .as_ref()
            .unwrap()
            .contains("`notify.smtp` is not set"));
        n.smtp = Some(
            serde_yaml::from_str("{ host: 127.0.0.1, from: r@x.fr, user: r, security: none }")
                .unwrap(),
        );
        let d = send(&n, None, &msg());
        assert_eq!(d[0].channel, "email");
        assert_eq!(d[0].target, "a@x.fr");
        assert!(
            d[0].error.as_ref().unwrap().contains(SMTP_PASSWORD),
            "{d:?}"
        );
        let d = send_with(&n, Err("cannot decrypt".into()), &msg());
        assert_eq!(d[0].error.as_deref(), Some("cannot decrypt"));
        assert!(send(&Notify::default(), None, &msg()).is_empty());
    }
}
