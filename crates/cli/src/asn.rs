//! Which ASN database a run uses: the one named by `--asn-db`, else the one installed in the
//! user's data folder (`$XDG_DATA_HOME/tokentrail/`, by default `~/.local/share/tokentrail/`),
//! else none. Whichever it is, stderr says so, with the database's age: a stale database names
//! networks that have changed hands.
//!
//! Every command that judges records resolves its database here, once, before reading.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tokentrail_engine::{AsnDb, AsnSource};
use tokentrail_model::Timestamp;

/// Beyond this age a database earns a reminder to refresh it.
const STALE_DAYS: i64 = 90;

/// The folder a database is looked for in when `--asn-db` is absent: `tokentrail/` in
/// `$XDG_DATA_HOME` (when set to an absolute path, as the XDG base directory specification
/// requires), else in `$HOME/.local/share`.
pub fn data_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .map(|home| home.join(".local/share"))
    })?;
    Some(base.join("tokentrail"))
}

/// The ASN database to use: `flag` (a `.mmdb` file, a range CSV, or a folder of them), else
/// whatever [`data_dir`] holds. Says on `err` which files are in use and how old they are, or
/// that there is none and how to get one. A database that is named or installed but cannot be
/// read is an error: the run would otherwise judge networks differently than asked.
pub fn resolve(
    flag: Option<&Path>,
    now: Timestamp,
    err: &mut dyn Write,
) -> anyhow::Result<Option<AsnDb>> {
    if let Some(path) = flag {
        let db = AsnDb::open(path)?;
        describe(err, &db, "--asn-db", now)?;
        return Ok(Some(db));
    }
    let Some(dir) = data_dir() else {
        writeln!(
            err,
            "tokentrail: no ASN database (--asn-db not given, and neither XDG_DATA_HOME nor HOME \
             is set); networks the sign-in logs do not name are /24 or /48 prefixes, at low \
             confidence"
        )?;
        return Ok(None);
    };
    let found = if dir.is_dir() {
        AsnDb::find_in(&dir)
            .with_context(|| format!("reading the installed ASN database in {}", dir.display()))?
    } else {
        None
    };
    match found {
        Some(db) => {
            describe(err, &db, &format!("found in {}", dir.display()), now)?;
            Ok(Some(db))
        }
        None => {
            writeln!(
                err,
                "tokentrail: no ASN database (--asn-db FILE, or put one in {}; see the README, \
                 \"ASN database\"); networks the sign-in logs do not name are /24 or /48 \
                 prefixes, at low confidence",
                dir.display()
            )?;
            Ok(None)
        }
    }
}

/// One line per file: `tokentrail: ASN database (found in DIR): FILE (what, dated, age)`.
fn describe(err: &mut dyn Write, db: &AsnDb, origin: &str, now: Timestamp) -> std::io::Result<()> {
    for source in db.sources() {
        writeln!(
            err,
            "tokentrail: ASN database ({origin}): {} ({})",
            source.path.display(),
            source_text(source, now)
        )?;
        if let Some((line, text)) = &source.first_unreadable {
            writeln!(
                err,
                "tokentrail: {}: {} line(s) are not address ranges and were skipped, the first \
                 at line {line}: {text:?}",
                source.path.display(),
                source.unreadable
            )?;
        }
    }
    Ok(())
}

/// `GeoLite2-ASN, built 2026-11-20, 14 days old`.
fn source_text(source: &AsnSource, now: Timestamp) -> String {
    let mut text = source.description.clone();
    if source.ranges > 0 {
        text.push_str(&format!(", {} ranges", source.ranges));
    }
    match source.built {
        Some(built) => {
            let days = (now.secs() - built.secs()).div_euclid(86_400);
            let date = built.to_rfc3339();
            text.push_str(&format!(
                ", {} {}, {}",
                source.dated_by,
                date.get(..10).unwrap_or(&date),
                match days {
                    d if d < 0 => "dated after the run".to_string(),
                    1 => "1 day old".to_string(),
                    d => format!("{d} days old"),
                }
            ));
            if days > STALE_DAYS {
                text.push_str(&format!(
                    "; older than {STALE_DAYS} days: networks change hands, get a fresh copy"
                ));
            }
        }
        None => text.push_str(", age unknown"),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        let source = AsnSource {
            path: PathBuf::from("GeoLite2-ASN.mmdb"),
            kind: tokentrail_engine::AsnFileKind::MaxMind,
            description: "GeoLite2-ASN".into(),
            built: Timestamp::parse("2026-11-20T06:00:00Z"),
            dated_by: "built",
            ranges: 0,
            unreadable: 0,
            first_unreadable: None,
        };
        let now = |t: &str| Timestamp::parse(t).unwrap();
        assert_eq!(
            source_text(&source, now("2026-12-04T12:00:00Z")),
            "GeoLite2-ASN, built 2026-11-20, 14 days old"
        );
        assert_eq!(
            source_text(&source, now("2027-03-01T12:00:00Z")),
            "GeoLite2-ASN, built 2026-11-20, 101 days old; older than 90 days: networks change \
             hands, get a fresh copy"
        );
        let csv = AsnSource {
            kind: tokentrail_engine::AsnFileKind::Ranges,
            description: "address ranges".into(),
            built: None,
            dated_by: "",
            ranges: 411_960,
            ..source
        };
        assert_eq!(
            source_text(&csv, now("2026-12-04T12:00:00Z")),
            "address ranges, 411960 ranges, age unknown"
        );
    }
}
