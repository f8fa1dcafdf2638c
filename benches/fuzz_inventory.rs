//! Mutation fuzzing of the inventory parser and validator (run on demand,
//! not in CI: `cargo bench --bench fuzz_inventory -- [SECONDS]`, default 60).
//!
//! Seeds are every `tests/bad/*.yml` and `inventories/*.yml`. Each round
//! takes a seed and applies a few mutations (flipped or deleted bytes,
//! lines spliced from another seed, hostile fragments: control characters,
//! escape sequences, `$`, braces, anchors and aliases, documents, deep
//! nesting, huge numbers and long values), then runs `load_str` on it.
//! Fails on:
//! - a panic;
//! - one input taking more than two seconds;
//! - a message (any field as printed) holding a control character, a
//!   line of its own or more than 2,000 bytes, whatever the input.
//!
//! Prints the run time, the number of inputs, how many were valid, and the
//! first failures with the input written under `target/fuzz-inventory/`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regie::site::inventory::load_str;

/// xorshift64*: reproducible without a dependency; the seed is printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "\n",
    "\r\n",
    "\u{1b}[2J",
    "\u{1b}]0;title\u{7}",
    "\u{0}",
    "\u{202e}",
    "\nerror: forged:1:1: x",
    "$HOME",
    "${X}",
    "`id`",
    " #",
    "{",
    "}",
    "{{ x }}",
    "&a ",
    "*a",
    "*nosuch",
    "<<: *a",
    "\n---\n",
    "\n...\n",
    "[",
    "]",
    ": ",
    "- ",
    "\"",
    "'",
    "\\",
    "!!binary ",
    "!tag ",
    "99999999999999999999999999",
    "-1",
    "70000",
    "0",
    "1e999",
    ".nan",
    "~",
    "null",
    "yes",
    "--privileged",
    "user@host:99999",
    "Europe/Nowhere",
    "10.0.0.0/33",
    "é",
    "\t",
];

fn seeds() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for dir in ["tests/bad", "inventories"] {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yml"))
            .collect();
        files.sort();
        for f in files {
            let s = std::fs::read_to_string(&f).unwrap();
            out.push((f, s));
        }
    }
    out
}

fn char_floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(rng: &mut Rng, src: &str, seeds: &[(PathBuf, String)]) -> String {
    let mut s = src.to_string();
    for _ in 0..1 + rng.below(4) {
        let at = char_floor(&s, rng.below(s.len() + 1));
        match rng.below(8) {
            0 | 1 => s.insert_str(at, FRAGMENTS[rng.below(FRAGMENTS.len())]),
            2 => {
                let end = char_floor(&s, at + rng.below(16));
                s.replace_range(at..end, "");
            }
            3 => {
                // Flip one ASCII byte to another printable or control one.
                if let Some(c) = s[at..].chars().next().filter(char::is_ascii) {
                    let b = (c as u8) ^ (1 << rng.below(7));
                    s.replace_range(at..at + 1, &(b as char).to_string());
                }
            }
            4 => {
                // A line of another seed.
                let other = &seeds[rng.below(seeds.len())].1;
                let lines: Vec<&str> = other.lines().collect();
                if !lines.is_empty() {
                    let l = lines[rng.below(lines.len())];
                    s.insert_str(at, &format!("{l}\n"));
                }
            }
            5 => {
                let depth = 1 + rng.below(300);
                let open = if rng.below(2) == 0 { "[" } else { "{a: " };
                let close = if open == "[" { "]" } else { "}" };
                s.insert_str(
                    at,
                    &format!("{}1{}", open.repeat(depth), close.repeat(depth)),
                );
            }
            6 => s.insert_str(at, &"x".repeat(1 + rng.below(20_000))),
            _ => {
                // Duplicate a line (duplicate keys, repeated entries).
                let lines: Vec<&str> = s.lines().collect();
                if !lines.is_empty() {
                    let l = lines[rng.below(lines.len())].to_string();
                    s.insert_str(at, &format!("\n{l}\n"));
                }
            }
        }
    }
    s
}

fn check_messages(
    result: &Result<regie::site::inventory::Resolved, regie::site::diag::InvalidInput>,
) -> Option<String> {
    let diags = match result {
        Ok(r) => &r.warnings,
        Err(e) => &e.diagnostics,
    };
    for d in diags {
        let text = d.to_string();
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Some(format!("control character {c:?} in message: {text:?}"));
        }
        if text.len() > 2000 {
            return Some(format!("message of {} bytes", text.len()));
        }
    }
    None
}

fn main() {
    let secs: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(60);
    let seed = std::env::var("REGIE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let seeds = seeds();
    let mut rng = Rng(seed);
    let out_dir = Path::new("target/fuzz-inventory");
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let (mut runs, mut valid, mut failures) = (0u64, 0u64, Vec::new());
    let mut slowest = Duration::ZERO;
    // Every seed as is, then mutations until the time is up.
    while start.elapsed() < Duration::from_secs(secs) || runs < seeds.len() as u64 {
        let (path, src) = &seeds[runs as usize % seeds.len()];
        let input = if runs < seeds.len() as u64 {
            src.clone()
        } else {
            mutate(&mut rng, src, &seeds)
        };
        let t = Instant::now();
        let r = std::panic::catch_unwind(|| load_str(Path::new("fuzz.yml"), &input));
        let took = t.elapsed();
        slowest = slowest.max(took);
        let problem = match &r {
            Err(p) => Some(format!(
                "panic: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
            Ok(res) => {
                if res.is_ok() {
                    valid += 1;
                }
                if took > Duration::from_secs(2) {
                    Some(format!("took {took:?}"))
                } else {
                    check_messages(res)
                }
            }
        };
        if let Some(p) = problem {
            std::fs::create_dir_all(out_dir).unwrap();
            let f = out_dir.join(format!("failure-{}.yml", failures.len()));
            std::fs::write(&f, &input).unwrap();
            failures.push(format!("{} (from {}): {p}", f.display(), path.display()));
        }
        runs += 1;
    }
    println!(
        "fuzz_inventory: seed {seed}, {} seeds, {runs} inputs in {:.1} s ({:.0}/s), {valid} valid, slowest {:.1} ms, {} failure(s)",
        seeds.len(),
        start.elapsed().as_secs_f64(),
        runs as f64 / start.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1000.0,
        failures.len()
    );
    for f in failures.iter().take(10) {
        println!("  {f}");
    }
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
