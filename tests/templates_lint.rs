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
        count += src.matches("{{").count();
        for e in regie::site::catalog::unescaped_expressions(&src) {
            bad.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(count > 100, "only {count} expressions found");
    assert!(bad.is_empty(), "unescaped expressions:\n{}", bad.join("\n"));
}

#[test]
fn the_checker_catches_unescaped_values() {
    assert_eq!(
        regie::site::catalog::unescaped_expressions(
            "a {{ x }} b {{ y | yaml }} {{ m::common(a=1) }} {{ z | upper }}"
        ),
        vec!["{{ x }}", "{{ z | upper }}"]
    );
}

#[test]
fn the_list_matches_the_renderer() {
    assert_eq!(ESCAPERS, regie::site::catalog::ESCAPERS);
}
