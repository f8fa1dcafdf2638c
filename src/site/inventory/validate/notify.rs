//! The `notify` section: report addresses, webhook and the SMTP server.

use super::err;
use crate::site::diag::Diagnostic;
use crate::site::diag::Show;
use crate::site::inventory::syntax::{is_address, is_email, is_text};
use crate::site::inventory::{Inventory, SmtpSecurity};

pub(super) fn check(inv: &Inventory, diags: &mut Vec<Diagnostic>) {
    for (i, e) in inv.notify.email.iter().enumerate() {
        if !is_email(e) {
            diags.push(
                err(
                    format!("notify.email[{i}]"),
                    format!("invalid email address `{}`", e.shown()),
                )
                .expected("an email address"),
            );
        }
    }
    if let Some(w) = &inv.notify.webhook {
        let ok = w
            .strip_prefix("https://")
            .or_else(|| w.strip_prefix("http://"))
            .is_some_and(|r| {
                let host = r.split(['/', ':']).next().unwrap_or("");
                is_address(host) && is_text(r) && !r.contains(' ')
            });
        if !ok {
            diags.push(
                err("notify.webhook", format!("invalid URL `{}`", w.shown()))
                    .expected("an http(s) URL such as https://chat.example.fr/hooks/xyz"),
            );
        }
    }
    match &inv.notify.smtp {
        None if !inv.notify.email.is_empty() => diags.push(
            err(
                "notify.email",
                "`notify.smtp` is missing: reports to these addresses cannot be sent without a mail server",
            )
            .expected("a `notify.smtp` section with at least `host` and `from`"),
        ),
        None => {}
        Some(smtp) => {
            if !is_address(&smtp.host) {
                diags.push(
                    err(
                        "notify.smtp.host",
                        format!("invalid SMTP server `{}`", smtp.host.shown()),
                    )
                    .expected("a domain name or IP address such as smtp.example.fr"),
                );
            }
            if smtp.port == 0 {
                diags.push(
                    err("notify.smtp.port", "port 0 is not a valid SMTP port")
                        .expected("1-65535 (usually 587 with starttls, 465 with tls)"),
                );
            }
            if !is_email(&smtp.from) {
                diags.push(
                    err(
                        "notify.smtp.from",
                        format!("invalid sender address `{}`", smtp.from.shown()),
                    )
                    .expected("an email address"),
                );
            }
            if let Some(u) = &smtp.user {
                if u.is_empty() || !is_text(u) {
                    diags.push(
                        err(
                            "notify.smtp.user",
                            format!("invalid SMTP user `{}`", u.shown()),
                        )
                        .expected("a non-empty login without control characters"),
                    );
                }
            }
            if smtp.security == SmtpSecurity::None && !smtp.is_loopback() {
                diags.push(
                    Diagnostic::warning(
                        "notify.smtp.security",
                        format!(
                            "reports{} are sent unencrypted to `{}`",
                            if smtp.user.is_some() {
                                " and the SMTP password"
                            } else {
                                ""
                            },
                            smtp.host.shown()
                        ),
                    )
                    .expected("`starttls` or `tls` unless the server is this machine (localhost, 127.0.0.1, ::1)"),
                );
            }
            if inv.notify.email.is_empty() {
                diags.push(Diagnostic::warning(
                    "notify.smtp",
                    "`notify.smtp` is set but `notify.email` is empty: no report is emailed",
                ));
            }
        }
    }
}
