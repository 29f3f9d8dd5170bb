//! The optional ASN database (`--asn-db`): a second source of autonomous system numbers for
//! addresses no sign-in row names.
//!
//! Two kinds of file are read, the ones responders can get for free:
//! - **MaxMind DB** (`.mmdb`) with `autonomous_system_number` records: MaxMind's GeoLite2-ASN,
//!   and the MMDB builds of other providers in the same layout.
//! - **Address-range CSV**: one range per line, `start,end,asn[,organization]`, with the two
//!   ends as addresses (`1.0.0.0,1.0.0.255,13335,...`) or as numbers (`16777216,16777471,...`).
//!   This is the layout of the `@ip-location-db/asn` npm package (RouteViews, NRO and DB-IP
//!   data, CC BY 4.0; files `asn-ipv4.csv`, `asn-ipv6.csv` and their `-num` variants, no
//!   header, the organization quoted when it holds a comma). Tab-separated files with the same
//!   first three columns (iptoasn.com's `ip2asn-v4.tsv`) and MaxMind's CSV edition
//!   (`network,autonomous_system_number,...`, a CIDR network in the first column) are read too.
//!   ASN 0 means "not routed" in these files and gives no ASN.
//!
//! A directory is read as every such file in it (`.mmdb`, `.csv`, `.tsv`), so the folder an npm
//! install leaves (`node_modules/@ip-location-db/asn/`) can be named as it is. Where several
//! files know an address, the first in name order answers, `.mmdb` files before range files.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use maxminddb::geoip2;
use tokentrail_model::Timestamp;

/// Why an ASN database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum AsnDbError {
    /// The file could not be read or is not a MaxMind database.
    #[error("cannot open ASN database {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        source: maxminddb::MaxMindDBError,
    },
    /// Bytes given directly are not a MaxMind database.
    #[error("not a MaxMind database: {0}")]
    Invalid(maxminddb::MaxMindDBError),
    /// A file or directory could not be read.
    #[error("cannot read ASN database {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A range file in which no line is a range.
    #[error("{path}: not an ASN range file ({reason})")]
    NotRanges {
        /// The file.
        path: PathBuf,
        /// What the first data line looked like.
        reason: String,
    },
    /// A directory that holds no ASN database.
    #[error("{path} holds no ASN database (.mmdb, or .csv/.tsv address ranges)")]
    Empty {
        /// The directory.
        path: PathBuf,
    },
}

/// What kind of file a source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsnFileKind {
    /// A MaxMind DB file.
    MaxMind,
    /// Address ranges in CSV or TSV.
    Ranges,
}

/// One file of an ASN database, as reported to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsnSource {
    /// The file.
    pub path: PathBuf,
    /// Its kind.
    pub kind: AsnFileKind,
    /// What it says it is: the MaxMind `database_type` (`GeoLite2-ASN`), or `address ranges`.
    pub description: String,
    /// When its data was made: the MaxMind build time; for a range file, the date in the
    /// version of the npm package it came in, else the file's modification time (unless that is
    /// npm's fixed 1985-10-26 stamp, which says nothing).
    pub built: Option<Timestamp>,
    /// Where [`AsnSource::built`] comes from: `built`, `package version` or `file modified`.
    pub dated_by: &'static str,
    /// Ranges read (range files only).
    pub ranges: u64,
    /// Lines of a range file that are not ranges (a header line aside).
    pub unreadable: u64,
    /// The first unreadable line, with its number.
    pub first_unreadable: Option<(u64, String)>,
}

/// IPv4 and IPv6 address ranges with their ASN, sorted by start.
#[derive(Default)]
struct Ranges {
    v4: Vec<(u32, u32, u32)>,
    v6: Vec<(u128, u128, u32)>,
}

impl Ranges {
    fn lookup(&self, ip: IpAddr) -> Option<u32> {
        fn find<T: Ord + Copy>(table: &[(T, T, u32)], v: T) -> Option<u32> {
            let i = table.partition_point(|&(start, _, _)| start <= v);
            let &(start, end, asn) = table.get(i.checked_sub(1)?)?;
            (start <= v && v <= end).then_some(asn)
        }
        match ip {
            IpAddr::V4(v4) => find(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => find(&self.v4, u32::from(v4)),
                None => find(&self.v6, u128::from(v6)),
            },
        }
    }
}

enum Table {
    MaxMind(maxminddb::Reader<Vec<u8>>),
    Ranges(Ranges),
}

impl Table {
    fn lookup(&self, ip: IpAddr) -> Option<u32> {
        match self {
            Table::MaxMind(reader) => reader
                .lookup::<geoip2::Asn>(ip)
                .ok()
                .and_then(|r| r.autonomous_system_number),
            Table::Ranges(ranges) => ranges.lookup(ip),
        }
        .filter(|&asn| asn != 0)
    }
}

/// An ASN database: one or more files, consulted in order.
pub struct AsnDb {
    tables: Vec<Table>,
    sources: Vec<AsnSource>,
}

impl std::fmt::Debug for AsnDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsnDb")
            .field("sources", &self.sources)
            .finish()
    }
}

impl AsnDb {
    /// Open a `.mmdb` file, a range file, or a directory of them.
    pub fn open(path: impl AsRef<Path>) -> Result<AsnDb, AsnDbError> {
        let path = path.as_ref();
        if path.is_dir() {
            return AsnDb::find_in(path)?.ok_or_else(|| AsnDbError::Empty {
                path: path.to_path_buf(),
            });
        }
        let (table, source) = open_file(path)?;
        Ok(AsnDb {
            tables: vec![table],
            sources: vec![source],
        })
    }

    /// Every ASN database file in `dir`, `.mmdb` files first, each kind in name order; `None`
    /// when it holds none.
    pub fn find_in(dir: &Path) -> Result<Option<AsnDb>, AsnDbError> {
        let read_err = |source| AsnDbError::Read {
            path: dir.to_path_buf(),
            source,
        };
        let mut files: Vec<(AsnFileKind, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let path = entry.map_err(read_err)?.path();
            if let Some(kind) = kind_by_name(&path).filter(|_| path.is_file()) {
                files.push((kind, path));
            }
        }
        if files.is_empty() {
            return Ok(None);
        }
        files.sort_by(|a, b| {
            (a.0 == AsnFileKind::Ranges, &a.1).cmp(&(b.0 == AsnFileKind::Ranges, &b.1))
        });
        let mut db = AsnDb {
            tables: Vec::new(),
            sources: Vec::new(),
        };
        for (_, path) in files {
            let (table, source) = open_file(&path)?;
            db.tables.push(table);
            db.sources.push(source);
        }
        Ok(Some(db))
    }

    /// Use a MaxMind database already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<AsnDb, AsnDbError> {
        let reader = maxminddb::Reader::from_source(bytes).map_err(AsnDbError::Invalid)?;
        let source = maxmind_source(PathBuf::new(), &reader);
        Ok(AsnDb {
            tables: vec![Table::MaxMind(reader)],
            sources: vec![source],
        })
    }

    /// The files this database was read from, in the order they are consulted.
    pub fn sources(&self) -> &[AsnSource] {
        &self.sources
    }

    /// The ASN of `ip`, when a file has a record for it that carries one (not 0). An IPv6
    /// address in an IPv4-only database, or an address the database lacks, gives `None`.
    pub fn lookup(&self, ip: IpAddr) -> Option<u32> {
        self.tables.iter().find_map(|t| t.lookup(ip))
    }
}

/// The kind a file's name says it is.
fn kind_by_name(path: &Path) -> Option<AsnFileKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "mmdb" => Some(AsnFileKind::MaxMind),
        "csv" | "tsv" => Some(AsnFileKind::Ranges),
        _ => None,
    }
}

/// MaxMind DB files end in a metadata section that starts with this marker.
const MAXMIND_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";

fn open_file(path: &Path) -> Result<(Table, AsnSource), AsnDbError> {
    let bytes = std::fs::read(path).map_err(|source| AsnDbError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let looks_maxmind = bytes
        .windows(MAXMIND_MARKER.len())
        .rev()
        .take(128 * 1024)
        .any(|w| w == MAXMIND_MARKER);
    if looks_maxmind || kind_by_name(path) == Some(AsnFileKind::MaxMind) {
        let reader = maxminddb::Reader::from_source(bytes).map_err(|source| AsnDbError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let source = maxmind_source(path.to_path_buf(), &reader);
        return Ok((Table::MaxMind(reader), source));
    }
    let text = String::from_utf8_lossy(&bytes);
    let (ranges, mut source) = parse_ranges(path, &text)?;
    if let Some((built, dated_by)) = range_file_date(path) {
        source.built = Some(built);
        source.dated_by = dated_by;
    }
    Ok((Table::Ranges(ranges), source))
}

fn maxmind_source(path: PathBuf, reader: &maxminddb::Reader<Vec<u8>>) -> AsnSource {
    AsnSource {
        path,
        kind: AsnFileKind::MaxMind,
        description: reader.metadata.database_type.clone(),
        built: i64::try_from(reader.metadata.build_epoch)
            .ok()
            .map(Timestamp::from_secs),
        dated_by: "built",
        ranges: 0,
        unreadable: 0,
        first_unreadable: None,
    }
}

/// One end of a range: an address, or an address as a number (IPv4 unless the number is too
/// large, or the file is named as IPv6).
fn range_end(text: &str, ipv6_file: bool) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    let n: u128 = text.parse().ok()?;
    match u32::try_from(n) {
        Ok(v4) if !ipv6_file => Some(IpAddr::V4(v4.into())),
        _ => Some(IpAddr::V6(n.into())),
    }
}

/// The first and last address of `network/len`.
fn cidr_range(text: &str) -> Option<(IpAddr, IpAddr)> {
    let (ip, len) = text.trim().trim_matches('"').split_once('/')?;
    let len: u32 = len.parse().ok()?;
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) if len <= 32 => {
            let host = u32::MAX.checked_shr(len).unwrap_or(0);
            let start = u32::from(v4) & !host;
            Some((IpAddr::V4(start.into()), IpAddr::V4((start | host).into())))
        }
        IpAddr::V6(v6) if len <= 128 => {
            let host = u128::MAX.checked_shr(len).unwrap_or(0);
            let start = u128::from(v6) & !host;
            Some((IpAddr::V6(start.into()), IpAddr::V6((start | host).into())))
        }
        _ => None,
    }
}

/// One line: `start,end,asn,...` or `network/len,asn,...` (commas or tabs).
fn parse_range(line: &str, ipv6_file: bool) -> Option<(IpAddr, IpAddr, u32)> {
    let sep = if line.contains('\t') { '\t' } else { ',' };
    let mut fields = line.splitn(4, sep);
    let first = fields.next()?;
    let (start, end, asn) = if first.contains('/') {
        let (start, end) = cidr_range(first)?;
        (start, end, fields.next()?)
    } else {
        let start = range_end(first, ipv6_file)?;
        let end = range_end(fields.next()?, ipv6_file)?;
        (start, end, fields.next()?)
    };
    let asn = asn.trim().trim_matches('"');
    let asn: u32 = asn
        .strip_prefix("AS")
        .unwrap_or(asn)
        .parse()
        .ok()
        .or_else(|| asn.is_empty().then_some(0))?;
    Some((start, end, asn))
}

fn parse_ranges(path: &Path, text: &str) -> Result<(Ranges, AsnSource), AsnDbError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let ipv6_file = name.contains("ipv6") || name.contains("v6");
    let mut ranges = Ranges::default();
    let mut source = AsnSource {
        path: path.to_path_buf(),
        kind: AsnFileKind::Ranges,
        description: "address ranges".to_string(),
        built: None,
        dated_by: "",
        ranges: 0,
        unreadable: 0,
        first_unreadable: None,
    };
    let mut first_line = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}').trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        first_line.get_or_insert_with(|| (i as u64 + 1, line.chars().take(80).collect::<String>()));
        let Some((start, end, asn)) = parse_range(line, ipv6_file) else {
            // A header names its columns: its first field starts with a letter.
            let header = i == 0 && line.starts_with(|c: char| c.is_ascii_alphabetic());
            if !header {
                source.unreadable += 1;
                source
                    .first_unreadable
                    .get_or_insert_with(|| (i as u64 + 1, line.chars().take(80).collect()));
            }
            continue;
        };
        source.ranges += 1;
        // ASN 0 marks space nobody announces; it is a range known to have no ASN.
        if asn == 0 {
            continue;
        }
        match (start, end) {
            (IpAddr::V4(s), IpAddr::V4(e)) if s <= e => {
                ranges.v4.push((s.into(), e.into(), asn));
            }
            (IpAddr::V6(s), IpAddr::V6(e)) if s <= e => {
                ranges.v6.push((s.into(), e.into(), asn));
            }
            _ => {
                source.ranges -= 1;
                source.unreadable += 1;
                source
                    .first_unreadable
                    .get_or_insert_with(|| (i as u64 + 1, line.chars().take(80).collect()));
            }
        }
    }
    if source.ranges == 0 {
        let reason = match source.first_unreadable.as_ref().or(first_line.as_ref()) {
            Some((line, text)) => {
                format!("no line is start,end,asn or network,asn; line {line}: {text:?}")
            }
            None => "it is empty".to_string(),
        };
        return Err(AsnDbError::NotRanges {
            path: path.to_path_buf(),
            reason,
        });
    }
    ranges.v4.sort_unstable();
    ranges.v6.sort_unstable();
    Ok((ranges, source))
}

/// npm gives every file of a package this modification time (1985-10-26T08:15:00Z), so it
/// says nothing about the data's age.
const NPM_FIXED_MTIME: i64 = 499_162_500;

/// When a range file's data was made: the date in the version of the npm package beside it
/// (`@ip-location-db` versions end in `YYYYMMDDHH`), else the file's modification time.
fn range_file_date(path: &Path) -> Option<(Timestamp, &'static str)> {
    let from_package = path
        .parent()
        .map(|dir| dir.join("package.json"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| package_version_date(&text));
    if let Some(date) = from_package {
        return Some((date, "package version"));
    }
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let secs = i64::try_from(modified.duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()?;
    (secs != NPM_FIXED_MTIME).then(|| (Timestamp::from_secs(secs), "file modified"))
}

/// The date in a package.json `"version": "2.3.2026061719"` (the last part, `YYYYMMDDHH`).
fn package_version_date(json: &str) -> Option<Timestamp> {
    let after = &json[json.find("\"version\"")? + "\"version\"".len()..];
    let value = after
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let version = &value[..value.find('"')?];
    let stamp = version.rsplit('.').next()?;
    if stamp.len() != 10 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let text = format!(
        "{}-{}-{}T{}:00:00Z",
        &stamp[..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[8..10]
    );
    Timestamp::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_lines() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            parse_range("1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"", false),
            Some((ip("1.0.0.0"), ip("1.0.0.255"), 13335))
        );
        assert_eq!(
            parse_range("16777216,16777471,13335,\"Cloudflare, Inc.\"", false),
            Some((ip("1.0.0.0"), ip("1.0.0.255"), 13335))
        );
        assert_eq!(
            parse_range(
                "42540528726795050063891204319802818560,42540528727329395276160870415022948351,2500,WIDE Project",
                true
            ),
            Some((ip("2001:200::"), ip("2001:200:1b9:ffff:ffff:ffff:ffff:ffff"), 2500))
        );
        assert_eq!(
            parse_range("1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET", false),
            Some((ip("1.0.0.0"), ip("1.0.0.255"), 13335))
        );
        assert_eq!(
            parse_range("3.5.140.0/22,16509,AMAZON-02", false),
            Some((ip("3.5.140.0"), ip("3.5.143.255"), 16509))
        );
        assert_eq!(
            parse_range("2600:1f00::/24,16509,AMAZON-02", false),
            Some((
                ip("2600:1f00::"),
                ip("2600:1fff:ffff:ffff:ffff:ffff:ffff:ffff"),
                16509
            ))
        );
        assert_eq!(parse_range("network,autonomous_system_number", false), None);
        assert_eq!(parse_range("1.0.0.0,1.0.0.255", false), None);
        assert_eq!(
            parse_range("1.0.0.0,1.0.0.255,AS13335", false).unwrap().2,
            13335
        );
    }

    #[test]
    fn package_versions_date_the_data() {
        assert_eq!(
            package_version_date(
                "{\n  \"name\": \"@ip-location-db/asn\",\n  \"version\": \"2.3.2026061719\",\n}"
            ),
            Timestamp::parse("2026-06-17T19:00:00Z")
        );
        assert_eq!(package_version_date("{\"version\": \"1.0.0\"}"), None);
        assert_eq!(package_version_date("{}"), None);
    }
}
