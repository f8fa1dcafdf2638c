//! The page's language (French or English, from the site's locale) and how
//! it writes dates, numbers, sizes and durations; `fill` puts values into texts.

use super::text::{self, Text};

const NBSP: char = '\u{a0}';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    Fr,
    En,
}

/// Calendar fields of a unix time, in UTC.
pub(super) struct Civil {
    year: i16,
    month: i8,
    pub(super) day: i8,
    hour: i8,
    minute: i8,
}

pub(super) fn civil(t: u64) -> Civil {
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
    pub(super) fn of(locale: &str) -> Lang {
        if locale.trim().to_ascii_lowercase().starts_with("fr") {
            Lang::Fr
        } else {
            Lang::En
        }
    }

    pub(super) fn t(self) -> &'static Text {
        match self {
            Lang::Fr => text::fr(),
            Lang::En => text::en(),
        }
    }

    pub(super) fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// `01/12/2026` or `2026-12-01`.
    pub(super) fn date(self, t: u64) -> String {
        let c = civil(t);
        match self {
            Lang::Fr => format!("{:02}/{:02}/{:04}", c.day, c.month, c.year),
            Lang::En => format!("{:04}-{:02}-{:02}", c.year, c.month, c.day),
        }
    }

    pub(super) fn date_time(self, t: u64) -> String {
        let c = civil(t);
        format!("{} {:02}:{:02}", self.date(t), c.hour, c.minute)
    }

    /// Short axis label: `12/11` or `11-12`.
    pub(super) fn day_month(self, t: u64) -> String {
        let c = civil(t);
        match self {
            Lang::Fr => format!("{:02}/{:02}", c.day, c.month),
            Lang::En => format!("{:02}-{:02}", c.month, c.day),
        }
    }

    pub(super) fn decimal(self, x: f64, places: usize) -> String {
        let s = format!("{x:.places$}");
        match self {
            Lang::Fr => s.replace('.', ","),
            Lang::En => s,
        }
    }

    /// A value of a finding's detail as the language writes it: decimal
    /// comma and French binary units (`121,9 Gio`) in French.
    pub(super) fn value(self, v: &str) -> String {
        match self {
            Lang::En => v.to_string(),
            Lang::Fr => {
                let b = v.as_bytes();
                let mut out = String::with_capacity(v.len());
                for (i, ch) in v.char_indices() {
                    let digit =
                        |j: Option<usize>| j.and_then(|j| b.get(j)).is_some_and(u8::is_ascii_digit);
                    if ch == '.' && digit(i.checked_sub(1)) && digit(Some(i + 1)) {
                        out.push(',');
                    } else {
                        out.push(ch);
                    }
                }
                ["KiB", "MiB", "GiB", "TiB"]
                    .iter()
                    .zip(["Kio", "Mio", "Gio", "Tio"])
                    .fold(out, |s, (en, fr)| {
                        s.replace(&format!(" {en}"), &format!("\u{a0}{fr}"))
                    })
            }
        }
    }

    pub(super) fn pct(self, x: f64, places: usize) -> String {
        match self {
            Lang::Fr => format!("{}{NBSP}%", self.decimal(x, places)),
            Lang::En => format!("{}%", self.decimal(x, places)),
        }
    }

    /// SI units: `1,5 Go` / `1.5 GB`.
    pub(super) fn size(self, bytes: u64) -> String {
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
    pub(super) fn count<S: AsRef<str>>(self, n: usize, forms: &(S, S)) -> String {
        let one = match self {
            Lang::Fr => n <= 1,
            Lang::En => n == 1,
        };
        let form = if one { &forms.0 } else { &forms.1 };
        fill(form.as_ref(), &[&n.to_string()])
    }

    /// An age in hours, for a person: `moins d'une heure`, `22 h`, `3 jours`.
    pub(super) fn age(self, hours: f64) -> String {
        if hours < 1.0 {
            match self {
                Lang::Fr => "moins d'une heure".into(),
                Lang::En => "under an hour".into(),
            }
        } else if hours < 48.0 {
            format!("{}{NBSP}h", hours.floor())
        } else {
            self.count((hours / 24.0).floor() as usize, &self.t().days)
        }
    }

    /// `" : "` in French, `": "` in English.
    pub(super) fn colon(self) -> &'static str {
        match self {
            Lang::Fr => " : ",
            Lang::En => ": ",
        }
    }

    pub(super) fn ago(self, hours: f64) -> String {
        fill(&self.t().ago, &[&self.age(hours)])
    }
}

/// `4 min 05 s`, `1 h 02 min`, `42 s`.
pub(super) fn duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}{NBSP}s"),
        60..=3599 => format!("{}{NBSP}min {:02}{NBSP}s", secs / 60, secs % 60),
        _ => format!("{}{NBSP}h {:02}{NBSP}min", secs / 3600, secs % 3600 / 60),
    }
}

/// Replace `{0}`, `{1}`, ... in `template` by `args` (one pass: an argument
/// containing `{1}` stays as it is).
pub(super) fn fill(template: &str, args: &[&str]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::TO;

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
        assert_eq!(Lang::Fr.count(0, &text::fr().readings), "0 relevé");
        assert_eq!(Lang::En.count(0, &text::en().readings), "0 readings");
        assert_eq!(Lang::of("fr"), Lang::Fr);
        assert_eq!(Lang::of("FR-ca"), Lang::Fr);
        assert_eq!(Lang::of("de"), Lang::En);
        assert_eq!(duration(42), "42\u{a0}s");
        assert_eq!(duration(245), "4\u{a0}min 05\u{a0}s");
        assert_eq!(duration(3720), "1\u{a0}h 02\u{a0}min");
        assert_eq!(Lang::Fr.age(22.5), "22\u{a0}h");
        assert_eq!(Lang::Fr.age(80.0), "3 jours");
    }
}
