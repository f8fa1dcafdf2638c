//! POSIX shell quoting and OpenSSH naming: every value regie puts in a
//! script that runs on a host goes through [`quote`].

/// Quote a value for a POSIX shell: always single quotes, `'` as `'\''`.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A command line of quoted words.
pub fn words(cmd: &[String]) -> String {
    cmd.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// The name a host key is recorded under, as OpenSSH writes it.
pub fn known_hosts_name(addr: &str, port: u16) -> String {
    if port == 22 {
        addr.to_string()
    } else {
        format!("[{addr}]:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_single_quotes_and_words() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(words(&["a b".into(), "$x".into()]), "'a b' '$x'");
        assert_eq!(known_hosts_name("h", 22), "h");
        assert_eq!(known_hosts_name("h", 2222), "[h]:2222");
    }
}
