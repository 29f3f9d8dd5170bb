//! The rules in the query languages of the engines a SOC already runs: Spark SQL over the
//! tables `tokentrail normalize` writes ([`spark_sql`]), and KQL over the Sentinel and Log
//! Analytics tables ([`kql`]).
//!
//! Each rule writes its own form beside its judgement (`rules/ttNNN/spark.sql`,
//! `rules/ttNNN/query.kql`); this module adds the shared part every rule reads (the records
//! merged and deduplicated, the networks, the token index, session chains, coverage), fills in
//! the reference data built into this tokentrail (Microsoft's ranges, hosting ASNs, the client
//! catalog) and the thresholds, and assembles the script or the queries from the registry
//! ([`crate::rules::RULES`]).
//!
//! Templates hold `${name}` for a value and `${name(arg, ...)}` for an expression built from
//! its arguments (see [`Template`]); a name the export does not know is an error, so a typo in
//! a rule's form fails its tests rather than a run on a cluster.

pub mod kql;
pub mod spark;

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Why a form could not be assembled: a template names something the export does not know.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    /// `${name}` or `${name(...)}` with an unknown name, or with the wrong number of arguments.
    #[error("{form}: {message}")]
    Template {
        /// Which template (`TT001 Spark SQL`).
        form: String,
        /// What is wrong.
        message: String,
    },
}

/// An expression built from arguments, for `${name(arg, ...)}`.
pub(crate) type Expander = fn(&[&str]) -> Option<String>;

/// The values and expressions one language's templates may name.
pub(crate) struct Template {
    values: BTreeMap<&'static str, String>,
    expressions: BTreeMap<&'static str, (usize, Expander)>,
}

impl Template {
    pub fn new() -> Template {
        Template {
            values: BTreeMap::new(),
            expressions: BTreeMap::new(),
        }
    }

    pub fn value(&mut self, name: &'static str, value: impl ToString) -> &mut Self {
        self.values.insert(name, value.to_string());
        self
    }

    pub fn expression(&mut self, name: &'static str, args: usize, f: Expander) -> &mut Self {
        self.expressions.insert(name, (args, f));
        self
    }

    /// `text` with every `${...}` filled in (expressions may hold values and expressions).
    pub fn fill(&self, form: &str, text: &str) -> Result<String, ExportError> {
        let bad = |message: String| ExportError::Template {
            form: form.to_string(),
            message,
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let end =
                closing(after).ok_or_else(|| bad(format!("unclosed ${{ at {:?}", head(after))))?;
            let inner = &after[..end];
            rest = &after[end + 1..];
            let filled = match inner.split_once('(') {
                None => self
                    .values
                    .get(inner.trim())
                    .cloned()
                    .ok_or_else(|| bad(format!("unknown value ${{{inner}}}")))?,
                Some((name, args)) => {
                    let args = args
                        .strip_suffix(')')
                        .ok_or_else(|| bad(format!("${{{inner}}}: arguments must end with ')'")))?;
                    let args: Vec<&str> = split_args(args);
                    let (n, f) = self
                        .expressions
                        .get(name.trim())
                        .ok_or_else(|| bad(format!("unknown expression ${{{name}(...)}}")))?;
                    if args.len() != *n {
                        return Err(bad(format!(
                            "${{{name}(...)}} takes {n} argument(s), not {}",
                            args.len()
                        )));
                    }
                    let expanded = f(&args).ok_or_else(|| bad(format!("${{{inner}}}")))?;
                    self.fill(form, &expanded)?
                }
            };
            out.push_str(&filled);
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// The index of the `}` that closes a `${`, skipping nested parentheses.
fn closing(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '}' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Arguments split at top-level commas, trimmed.
fn split_args(args: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in args.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(args[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = args[start..].trim();
    if !last.is_empty() || !out.is_empty() {
        out.push(last);
    }
    out
}

fn head(text: &str) -> &str {
    text.get(..text.len().min(30)).unwrap_or(text)
}

/// Bytes as lower-case hex digits, two per byte.
pub(crate) fn hex_bytes(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// 128 bits as 32 lower-case hex digits.
pub(crate) fn hex128(v: u128) -> String {
    let mut s = String::with_capacity(32);
    let _ = write!(s, "{v:032x}");
    s
}

/// Text as a single-quoted SQL or KQL string literal (quotes and backslashes escaped).
pub(crate) fn quoted(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('\'');
    for c in text.chars() {
        match c {
            '\'' => s.push_str("\\'"),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c => s.push(c),
        }
    }
    s.push('\'');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_values_and_nested_expressions_and_refuse_unknown_names() {
        let mut t = Template::new();
        t.value("n", 5)
            .expression("twice", 1, |a| Some(format!("({0} + {0})", a[0])))
            .expression("pair", 2, |a| {
                Some(format!("${{twice({})}} * {}", a[0], a[1]))
            });
        assert_eq!(t.fill("t", "x = ${n};").unwrap(), "x = 5;");
        assert_eq!(
            t.fill("t", "${pair(f(a, b), ${n})}").unwrap(),
            "(f(a, b) + f(a, b)) * 5"
        );
        assert!(t.fill("t", "${nope}").is_err());
        assert!(t.fill("t", "${twice(a, b)}").is_err());
        assert!(t.fill("t", "${n").is_err());
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(quoted("it's a\\b"), "'it\\'s a\\\\b'");
        assert_eq!(hex128(0xffff_0a00_0001), "00000000000000000000ffff0a000001");
    }
}
