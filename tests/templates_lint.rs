//! Every expression a template prints goes through an escaping filter for
//! the format it lands in (or is a call of a shared macro, whose own body
//! is checked the same way).

use std::path::Path;

const ESCAPERS: [&str; 5] = ["yaml", "env", "caddy", "token", "php"];

fn templates(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            templates(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn every_printed_expression_is_escaped() {
    let mut files = Vec::new();
    templates(Path::new("templates"), &mut files);
    assert!(files.len() >= 15);
    let mut bad = Vec::new();
    let mut count = 0;
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let mut rest = src.as_str();
        while let Some(i) = rest.find("{{") {
            let after = &rest[i + 2..];
            let j = after.find("}}").expect("unclosed {{");
            let expr = after[..j].trim_matches(|c: char| c == '-' || c.is_whitespace());
            count += 1;
            let last = expr.rsplit('|').next().unwrap().trim();
            let ok = (expr.contains('|') && ESCAPERS.contains(&last)) || expr.starts_with("m::");
            if !ok {
                bad.push(format!("{}: {{{{ {expr} }}}}", f.display()));
            }
            rest = &after[j + 2..];
        }
    }
    assert!(count > 100, "only {count} expressions found");
    assert!(bad.is_empty(), "unescaped expressions:\n{}", bad.join("\n"));
}

#[test]
fn the_list_matches_the_renderer() {
    assert_eq!(ESCAPERS, regie::render::ESCAPERS);
}
