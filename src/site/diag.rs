//! Diagnostics for bad input: where (file, line, column, YAML path), what is
//! wrong, what was expected, and a "did you mean" hint.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about an input file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted YAML path, e.g. `services.chat.host`.
    pub path: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: PathBuf::new(),
            line: None,
            column: None,
            path: path.into(),
            message: message.into(),
            expected: None,
            hint: None,
        }
    }
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, message)
        }
    }
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }
    pub fn hint(mut self, h: Option<String>) -> Self {
        self.hint = h;
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Longest value quoted back whole in a message; longer ones are cut.
pub const QUOTE_CAP: usize = 80;

/// Whether a character must not reach a terminal as is: control characters
/// (newline, ESC, ...) and the invisible ones that reorder or hide text.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Write `s` with every unsafe character shown as an escape (`\n`, `\u{1b}`),
/// cut after `cap` characters with the full size in bytes.
fn write_clean(f: &mut fmt::Formatter<'_>, s: &str, cap: usize) -> fmt::Result {
    for (n, c) in s.chars().enumerate() {
        if n == cap {
            return write!(f, "… ({} bytes)", s.len());
        }
        if unsafe_char(c) {
            write!(f, "{}", c.escape_default())?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

/// A user-supplied value as it is quoted back in a message: control
/// characters escaped, cut after [`QUOTE_CAP`] characters. The one way
/// messages show inventory values (`format!("unknown host `{}`", h.shown())`).
pub struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_clean(f, self.0, QUOTE_CAP)
    }
}

/// `.shown()` on any string: see [`Shown`].
pub trait Show {
    fn shown(&self) -> Shown<'_>;
}

impl<T: AsRef<str> + ?Sized> Show for T {
    fn shown(&self) -> Shown<'_> {
        Shown(self.as_ref())
    }
}

/// Text of a whole message field, cleaned the same way with a wider cap:
/// the last line of defence for values a message quotes without `shown`.
struct Clean<'a>(&'a str, usize);

impl fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_clean(f, self.0, self.1)
    }
}

/// A free-form error text (one that is not a [`Diagnostic`]) made safe for
/// a terminal: control characters other than newline and tab escaped.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if unsafe_char(c) && c != '\n' && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        if !self.path.is_empty() {
            write!(f, ": {}", Clean(&self.path, 200))?;
        }
        write!(f, ": {}", Clean(&self.message, 400))?;
        if let Some(e) = &self.expected {
            write!(f, "; expected {}", Clean(e, 400))?;
        }
        if let Some(h) = &self.hint {
            write!(f, " ({})", Clean(h, 200))?;
        }
        Ok(())
    }
}

/// A set of diagnostics that stops the command (at least one error).
#[derive(Debug, thiserror::Error)]
#[error("{} error(s) in {}", .diagnostics.iter().filter(|d| d.is_error()).count(), .file.display())]
pub struct InvalidInput {
    pub file: PathBuf,
    pub diagnostics: Vec<Diagnostic>,
}

/// Suggest the closest candidate to a misspelt word.
pub fn did_you_mean<'a, I: IntoIterator<Item = &'a str>>(
    word: &str,
    candidates: I,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase());
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Maps each YAML path of a document to the line and column where its value
/// (or, for mapping entries, its key) starts. Paths use `.` between mapping
/// keys and `[i]` for sequence items.
#[derive(Debug, Default, Clone)]
pub struct PositionIndex {
    keys: BTreeMap<String, (usize, usize)>,
    values: BTreeMap<String, (usize, usize)>,
    /// Keys that appear twice in one mapping: (path, line, column of the second).
    pub duplicates: Vec<(String, usize, usize)>,
    /// Where a second YAML document starts, if any.
    pub second_document: Option<(usize, usize)>,
    documents: usize,
}

enum Frame {
    Map {
        path: String,
        pending_key: Option<String>,
        seen: std::collections::BTreeSet<String>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

struct Builder {
    stack: Vec<Frame>,
    index: PositionIndex,
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

impl Builder {
    /// The path of the node that starts now, and whether it is a mapping key.
    fn next_node(&mut self, mark: Marker, scalar: Option<&str>) -> Option<String> {
        let pos = (mark.line(), mark.col() + 1);
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                self.index.values.entry(p.clone()).or_insert(pos);
                Some(p)
            }
            Some(Frame::Map {
                path,
                pending_key,
                seen,
            }) => match pending_key.take() {
                None => {
                    // This node is a key.
                    let k = scalar.unwrap_or("?").to_string();
                    let p = join(path, &k);
                    if !seen.insert(k.clone()) {
                        self.index.duplicates.push((p, pos.0, pos.1));
                    } else {
                        self.index.keys.entry(p).or_insert(pos);
                    }
                    *pending_key = Some(k);
                    None
                }
                Some(k) => {
                    let p = join(path, &k);
                    self.index.values.entry(p.clone()).or_insert(pos);
                    Some(p)
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(s, ..) => {
                self.next_node(mark, Some(&s));
            }
            Event::Alias(_) => {
                self.next_node(mark, Some("*alias"));
            }
            Event::MappingStart(..) => {
                let p = self.next_node(mark, None).unwrap_or_default();
                self.stack.push(Frame::Map {
                    path: p,
                    pending_key: None,
                    seen: Default::default(),
                });
            }
            Event::SequenceStart(..) => {
                let p = self.next_node(mark, None).unwrap_or_default();
                self.stack.push(Frame::Seq { path: p, next: 0 });
            }
            Event::DocumentStart => {
                self.index.documents += 1;
                if self.index.documents == 2 {
                    self.index.second_document = Some((mark.line(), mark.col() + 1));
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                // The container was the value of its parent's pending key:
                // nothing else to do, the key was consumed when it started.
            }
            _ => {}
        }
    }
}

/// Line and column, 1-based.
pub type Pos = (usize, usize);

impl PositionIndex {
    pub fn build(src: &str) -> PositionIndex {
        let mut b = Builder {
            stack: Vec::new(),
            index: PositionIndex::default(),
        };
        let mut parser = Parser::new_from_str(src);
        // A syntax error is reported by serde_yaml with its own location; the
        // index then simply holds what was read before it.
        let _ = parser.load(&mut b, true);
        b.index
    }

    /// Position of the value at `path`, else of its key, else of the nearest
    /// ancestor that exists.
    pub fn locate(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path.to_string();
        loop {
            if let Some(v) = self.values.get(&p).or_else(|| self.keys.get(&p)) {
                return Some(*v);
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
        }
    }

    /// Exact positions (line, column; 1-based) of the value and of the key
    /// at `path`, without falling back to an ancestor.
    pub fn exact(&self, path: &str) -> (Option<Pos>, Option<Pos>) {
        (self.values.get(path).copied(), self.keys.get(path).copied())
    }

    /// The path of the last node that starts at or before line `l`,
    /// column `c`: where a path-less error (a nesting too deep) happened.
    pub fn path_at(&self, l: usize, c: usize) -> Option<String> {
        self.values
            .iter()
            .chain(self.keys.iter())
            .filter(|(_, p)| **p <= (l, c))
            .max_by_key(|(path, p)| (**p, path.len()))
            .map(|(path, _)| path.clone())
    }

    /// Position of the key at `path` (for "unknown key" errors).
    pub fn locate_key(&self, path: &str) -> Option<(usize, usize)> {
        self.keys.get(path).copied().or_else(|| self.locate(path))
    }

    /// Fill in file, line and column of diagnostics from their paths.
    pub fn place(&self, file: &Path, diags: &mut [Diagnostic], key_paths: bool) {
        for d in diags {
            d.file = file.to_path_buf();
            if d.line.is_none() {
                let pos = if key_paths {
                    self.locate_key(&d.path)
                } else {
                    self.locate(&d.path)
                };
                if let Some((l, c)) = pos {
                    d.line = Some(l);
                    d.column = Some(c);
                }
            }
        }
    }
}

/// Colour on stderr, unless `NO_COLOR` is set or stderr is not a terminal.
pub fn color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Print a diagnostic on stderr (`error:`/`warning:` coloured on a terminal).
pub fn eprint(d: &Diagnostic) {
    let text = d.to_string();
    if color() {
        let (code, word) = match d.severity {
            Severity::Error => ("31", "error"),
            Severity::Warning => ("33", "warning"),
        };
        let rest = text.split_once(": ").map(|x| x.1).unwrap_or(&text);
        eprintln!("\x1b[1;{code}m{word}\x1b[0m: {rest}");
    } else {
        eprintln!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_paths() {
        let src = "site:\n  name: x\nhosts:\n  srv1: { role: server }\nlist:\n  - a\n  - b: 1\n";
        let idx = PositionIndex::build(src);
        assert_eq!(idx.locate("site.name"), Some((2, 9)));
        assert_eq!(idx.locate_key("site.name"), Some((2, 3)));
        assert_eq!(idx.locate("hosts.srv1.role"), Some((4, 17)));
        assert_eq!(idx.locate("list[1].b"), Some((7, 8)));
        assert_eq!(idx.locate("list[0]"), Some((6, 5)));
        assert!(idx.duplicates.is_empty());
        let dup = PositionIndex::build("a:\n  x: 1\n  x: 2\n");
        assert_eq!(dup.duplicates, vec![("a.x".to_string(), 3, 3)]);
        // Missing leaf falls back to its parent.
        assert_eq!(idx.locate("hosts.srv1.address"), Some((4, 9)));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("chta", ["chat", "mail", "wiki"]).as_deref(),
            Some("did you mean `chat`?")
        );
        assert_eq!(did_you_mean("zzzz", ["chat", "mail"]), None);
    }

    #[test]
    fn quoted_values_are_escaped_and_capped() {
        assert_eq!(
            "a\nerror: b\x1b]0;x\x07".shown().to_string(),
            "a\\nerror: b\\u{1b}]0;x\\u{7}"
        );
        assert_eq!("\u{202e}x".shown().to_string(), "\\u{202e}x");
        let long = "é".repeat(100);
        assert_eq!(
            long.shown().to_string(),
            format!("{}… (200 bytes)", "é".repeat(80))
        );
        let d = Diagnostic::error("services.a\nb", "bad `\x1b[2J`");
        let text = d.to_string();
        assert!(!text.contains('\n') && !text.contains('\x1b'), "{text}");
        assert_eq!(terminal_safe("one\ntwo\x1b[2J"), "one\ntwo\\u{1b}[2J");
    }
}
