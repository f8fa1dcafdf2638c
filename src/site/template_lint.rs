//! The rule that every value a template prints goes through an escaping
//! filter, checked when the catalog loads and by `tests/templates_lint.rs`.

/// Names of the escaping filters; a test checks every template uses one on
/// every printed expression.
pub const ESCAPERS: [&str; 5] = ["yaml", "env", "caddy", "token", "php"];

/// Expressions of a template that print a value without going through an
/// escaping filter (macro calls `m::...` are checked in the macro itself).
pub fn unescaped_expressions(src: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            bad.push("unclosed {{".to_string());
            break;
        };
        let expr = after[..j].trim_matches(|c: char| c == '-' || c.is_whitespace());
        let last = expr.rsplit('|').next().unwrap_or("").trim();
        if !((expr.contains('|') && ESCAPERS.contains(&last)) || expr.starts_with("m::")) {
            bad.push(format!("{{{{ {expr} }}}}"));
        }
        rest = &after[j + 2..];
    }
    bad
}
