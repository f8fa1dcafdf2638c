//! What is asked of a resolver and what it answers: the [`Resolve`]
//! trait between the pure check and the network, its query and answer
//! types, and a fixed set of [`Answers`] that resolves without one.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rtype {
    A,
    Aaaa,
    Mx,
    Txt,
    Ptr,
}

impl Rtype {
    pub fn address(v6: bool) -> Rtype {
        if v6 {
            Rtype::Aaaa
        } else {
            Rtype::A
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Rtype::A => "A",
            Rtype::Aaaa => "AAAA",
            Rtype::Mx => "MX",
            Rtype::Txt => "TXT",
            Rtype::Ptr => "PTR",
        }
    }
}

/// One lookup: a name (lowercase, no final dot; the address for PTR) and
/// a type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Query {
    pub name: String,
    pub rtype: Rtype,
}

impl Query {
    pub fn new(name: &str, rtype: Rtype) -> Query {
        Query {
            name: name.trim_end_matches('.').to_ascii_lowercase(),
            rtype,
        }
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.rtype.word(), self.name)
    }
}

/// What the resolver said. Records are in presentation form: `10 mail.example.fr.`
/// for MX, the joined strings for TXT, the address for A/AAAA, the name
/// with its final dot for PTR.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Records(Vec<String>),
    /// NXDOMAIN or no record of that type.
    Missing,
    /// The resolver answered with an error (SERVFAIL, REFUSED...).
    Failed(String),
}

pub type Answers = BTreeMap<Query, Answer>;

/// The resolver could not be reached at all.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreachable {
    pub resolver: String,
    pub query: Query,
    pub error: String,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "resolver {} did not answer ({}): {}",
            self.resolver, self.query, self.error
        )
    }
}

/// Looks a query up. `Err` (a transport failure: timeout, refused
/// connection) means the resolver cannot be reached.
pub trait Resolve {
    fn resolve(&self, q: &Query) -> Result<Answer, String>;
    /// The resolver, for messages: `127.0.0.1:5353`.
    fn label(&self) -> String;
}

/// A fixed set of answers: what was not given is missing.
impl Resolve for Answers {
    fn resolve(&self, q: &Query) -> Result<Answer, String> {
        Ok(self.get(q).cloned().unwrap_or(Answer::Missing))
    }
    fn label(&self) -> String {
        "(fixed answers)".into()
    }
}
