//! CPU architectures, named the way image registries name them (`amd64`,
//! `arm64`, `armv7`...). One place reads the spellings people and tools
//! use (`x86_64`, `aarch64`, `armhf`, Docker's `arm64v8`) so the inventory,
//! the upstream facts and `regie bootstrap` compare the same thing.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Arch {
    Amd64,
    Arm64,
    Armv7,
    Armv6,
    Armv5,
    I386,
    Ppc64le,
    Riscv64,
    S390x,
}

/// Every architecture with its canonical name and the other spellings
/// read as it.
const NAMES: &[(Arch, &str, &[&str])] = &[
    (Arch::Amd64, "amd64", &["x86_64", "x86-64", "x64"]),
    (Arch::Arm64, "arm64", &["aarch64", "arm64v8", "armv8"]),
    (
        Arch::Armv7,
        "armv7",
        &["armv7l", "armhf", "arm32v7", "arm/v7", "armv7hf"],
    ),
    (
        Arch::Armv6,
        "armv6",
        &["armv6l", "arm32v6", "arm/v6", "armel"],
    ),
    (Arch::Armv5, "armv5", &["armv5l", "arm32v5", "arm/v5"]),
    (Arch::I386, "i386", &["386", "i686", "x86"]),
    (Arch::Ppc64le, "ppc64le", &[]),
    (Arch::Riscv64, "riscv64", &[]),
    (Arch::S390x, "s390x", &[]),
];

/// The architectures an inventory host may declare.
pub const HOST_ARCHS: [Arch; 3] = [Arch::Amd64, Arch::Arm64, Arch::Armv7];

impl Arch {
    /// The canonical name or any known spelling (case-insensitive,
    /// `linux/` prefix allowed).
    pub fn parse(s: &str) -> Option<Arch> {
        let l = s.trim().to_ascii_lowercase();
        let l = l.strip_prefix("linux/").unwrap_or(&l);
        NAMES
            .iter()
            .find(|(_, name, aliases)| *name == l || aliases.contains(&l))
            .map(|(a, _, _)| *a)
    }

    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(a, _, _)| *a == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("?")
    }

    /// Canonical names and every alias, for "did you mean" hints.
    pub fn all_spellings() -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .flat_map(|(_, n, aliases)| std::iter::once(*n).chain(aliases.iter().copied()))
    }

    /// What a host reports (`dpkg --print-architecture` when it has one,
    /// else `uname -m`). A 64-bit kernel under a 32-bit userland says
    /// `aarch64` in `uname -m` but pulls `armhf` images, hence dpkg first.
    pub fn of_host(dpkg: &str, uname: &str) -> Option<Arch> {
        Arch::parse(dpkg).or_else(|| Arch::parse(uname))
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `amd64, arm64 and armv7`.
pub fn list(archs: &[Arch]) -> String {
    let names: Vec<&str> = archs.iter().map(|a| a.as_str()).collect();
    match names.split_last() {
        None => "none".into(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_common_spellings() {
        for (s, a) in [
            ("x86_64", Arch::Amd64),
            ("AMD64", Arch::Amd64),
            ("aarch64", Arch::Arm64),
            ("arm64v8", Arch::Arm64),
            ("linux/arm64", Arch::Arm64),
            ("armv7l", Arch::Armv7),
            ("armhf", Arch::Armv7),
            ("arm32v7", Arch::Armv7),
        ] {
            assert_eq!(Arch::parse(s), Some(a), "{s}");
        }
        assert_eq!(Arch::parse("arm"), None, "ambiguous: v6 or v7");
        assert_eq!(Arch::parse("sparc"), None);
    }

    #[test]
    fn host_arch_prefers_the_userland() {
        assert_eq!(Arch::of_host("armhf", "aarch64"), Some(Arch::Armv7));
        assert_eq!(Arch::of_host("", "aarch64"), Some(Arch::Arm64));
        assert_eq!(Arch::of_host("", "x86_64"), Some(Arch::Amd64));
        assert_eq!(Arch::of_host("", ""), None);
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(list(&[Arch::Amd64]), "amd64");
        assert_eq!(
            list(&[Arch::Amd64, Arch::Arm64, Arch::Armv7]),
            "amd64, arm64 and armv7"
        );
    }
}
