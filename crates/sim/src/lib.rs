//! A labelled synthetic Microsoft 365 tenant.
//!
//! [`simulate`] writes a tenant's Entra ID sign-in logs (interactive, non-interactive, service
//! principal, managed identity), Microsoft Graph activity logs and Unified Audit Log records in
//! the export shapes real tools produce, plus `labels.jsonl` (one [`Label`] per injected
//! attack) and `summary.json` (counts per family, kind and file).
//!
//! Output is deterministic: the same [`SimConfig`] gives byte-identical files. Every random
//! choice comes from a SplitMix64 stream derived from the seed and the (user, day) it belongs
//! to; nothing reads the clock or iterates a hash map.
//!
//! Two profiles ([`Profile`]): `default`, the busy tenant described below, and `small-office`
//! (5 to 50 people with office hours, quiet nights and weekends, laptops carrying long-lived
//! tokens between home and the office, personal devices, and attackers on Azure, on the first
//! day, at night and at weekends, plus one attack labelled `expected_miss`; see `office.rs`).
//!
//! Labelled attacks (default profile): with `--attacks`, each kind is injected `ceil(users / 100)` times, on
//! distinct victims and spread over the days. With two days or more the first day stays benign:
//! a detector's lookbacks (24 h to find a session's interactive root) would otherwise reach before
//! the logs begin, where "absent" cannot be concluded. With `--days 1` every attack lands on the
//! only day; there the default engine answers "unknown" (not a finding) for the
//! `no-interactive-root` attacks, and cannot yet tell the delegated automation account's client
//! from a new one (steady use needs more than a day), so use two days or more to measure.
//!
//! Generation streams: users are processed day by day in groups of [`USERS_PER_BATCH`]; one
//! group's records are held, put in time order and written before the next group starts, so
//! memory depends on the group size, not on the number of users or days.

mod answers;
mod attack;
mod catalog;
mod defender;
mod elastic;
mod json;
mod life;
mod office;
mod output;
mod portal;
mod powershell;
mod record;
mod render;
mod rng;
mod tenant;
mod timefmt;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokentrail_model::{AttackKind, Label, Timestamp};

use crate::life::Day;
use crate::record::Batch;

/// Users generated (and written) together; bounds memory.
pub const USERS_PER_BATCH: usize = 256;

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// An argument is unusable.
    #[error("{0}")]
    Invalid(String),
    /// Writing an output file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A bug: an invariant of the writer broke.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// How sign-in logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignInFormat {
    /// Log Analytics JSON lines, one file per table (`SigninLogs`, ...).
    LaJsonl,
    /// Diagnostic-settings `{"records":[...]}` files, one per category and day.
    Diagnostic,
    /// Microsoft Graph `{"value":[...]}` pages of `signIn` objects.
    Graph,
    /// The Entra admin center's "Download CSV": one file per tab (`InteractiveSignIns_...`,
    /// `NonInteractiveSignIns_...`, `ApplicationSignIns_...`, `MSISignIns_...`), display-name
    /// columns, every cell quoted, a byte-order mark.
    EntraPortalCsv,
    /// Defender XDR advanced hunting API answers (`{"Stats":...,"Schema":[...],"Results":[...]}`)
    /// of `EntraIdSignInEvents` and `EntraIdSpnSignInEvents`, one file per table and day.
    DefenderHunting,
    /// Defender XDR Streaming API records (`category` `AdvancedHunting-EntraIdSignInEvents`,
    /// the row in `properties`) as a storage account holds them: JSON lines, one file per table
    /// and day.
    DefenderStream,
    /// The Microsoft Graph PowerShell SDK's objects (`Get-MgBetaAuditLogSignIn -All |
    /// ConvertTo-Json -Depth 10`): one pretty-printed JSON array per day, PascalCase members,
    /// `\/Date(ms)\/` times, newer properties in `AdditionalProperties`.
    GraphSdk,
    /// Log Analytics Query API answers (`{"tables":[...]}`), one per table and day.
    LaApi,
    /// Azure Data Explorer v1 REST answers (`{"Tables":[...]}`, with the tables ADX writes
    /// about the query), one per table and day.
    KustoV1,
    /// Elasticsearch hits of Elastic's Azure integration, the diagnostic-settings record in
    /// `_source.event.original`, one hit per line (`elasticdump`), one file per day.
    Elastic,
}

/// How Graph activity logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GraphFormat {
    /// Log Analytics `MicrosoftGraphActivityLogs` JSON lines.
    LaJsonl,
    /// Diagnostic-settings `{"records":[...]}` files, one per day.
    Diagnostic,
    /// Defender XDR advanced hunting API answers of `GraphApiAuditEvents`, one file per day.
    DefenderHunting,
    /// Log Analytics Query API answers of `MicrosoftGraphActivityLogs`, one per day.
    LaApi,
    /// Azure Data Explorer v1 REST answers of `MicrosoftGraphActivityLogs`, one per day.
    KustoV1,
    /// Elasticsearch search answers of Elastic's Azure integration (`{"hits":{"hits":[...]}}`),
    /// the diagnostic-settings record in `_source.event.original`, one per day.
    Elastic,
}

/// How Unified Audit Log records are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UalFormat {
    /// Management Activity API content: JSON arrays, one per content type and day.
    MgmtApi,
    /// JSON lines of `AuditData` records.
    Jsonl,
    /// Purview portal CSV export (BOM, locale dates, newest first).
    PurviewCsv,
    /// `Search-UnifiedAuditLog | Export-Csv -NoTypeInformation` from Exchange Online PowerShell
    /// (every value quoted, record types by name, `UserIds` and `Operations`, newest first).
    SearchCsv,
    /// Defender XDR Streaming API records of `CloudAppEvents` (`RawEventData`, the UAL record,
    /// nested in `properties`), JSON lines, one file per day.
    DefenderStream,
    /// Elasticsearch hits of Elastic's Microsoft 365 integration, the record in
    /// `_source.event.original`, one hit per line (`elasticdump`), one file per day.
    Elastic,
}

/// The text encoding log files are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextEncoding {
    /// UTF-8 (the CSV exports with a byte order mark, as the portals write them).
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// UTF-16, little-endian, with a byte order mark: Windows PowerShell 5.1's `Out-File`,
    /// `>` and `Export-Csv -Encoding Unicode`.
    #[serde(rename = "utf-16le")]
    Utf16Le,
    /// UTF-16, big-endian, with a byte order mark.
    #[serde(rename = "utf-16be")]
    Utf16Be,
    /// UTF-16, little-endian, without a byte order mark (.NET's `UnicodeEncoding(false,
    /// false)`, or a file whose mark was cut off).
    #[serde(rename = "utf-16le-nobom")]
    Utf16LeNoBom,
    /// UTF-16, big-endian, without a byte order mark.
    #[serde(rename = "utf-16be-nobom")]
    Utf16BeNoBom,
    /// UTF-32, little-endian, with a byte order mark (`Out-File -Encoding UTF32`).
    #[serde(rename = "utf-32le")]
    Utf32Le,
    /// UTF-32, big-endian, with a byte order mark.
    #[serde(rename = "utf-32be")]
    Utf32Be,
}

macro_rules! names {
    ($ty:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $ty {
            /// The name used on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$v => $s),* }
            }
            /// Every variant.
            pub const ALL: &'static [$ty] = &[$(<$ty>::$v),*];
            fn parse(text: &str) -> Option<$ty> {
                match text { $($s => Some(<$ty>::$v),)* _ => None }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names!(SignInFormat {
    LaJsonl => "la-jsonl",
    Diagnostic => "diagnostic",
    Graph => "graph",
    EntraPortalCsv => "entra-portal-csv",
    DefenderHunting => "defender-hunting",
    DefenderStream => "defender-stream",
    GraphSdk => "graph-sdk",
    LaApi => "la-api",
    KustoV1 => "kusto-v1",
    Elastic => "elastic",
});
names!(GraphFormat {
    LaJsonl => "la-jsonl",
    Diagnostic => "diagnostic",
    DefenderHunting => "defender-hunting",
    LaApi => "la-api",
    KustoV1 => "kusto-v1",
    Elastic => "elastic",
});
names!(UalFormat {
    MgmtApi => "mgmt-api",
    Jsonl => "jsonl",
    PurviewCsv => "purview-csv",
    SearchCsv => "search-csv",
    DefenderStream => "defender-stream",
    Elastic => "elastic",
});

/// The export shape of each family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Formats {
    /// Sign-in logs.
    pub sign_ins: SignInFormat,
    /// Graph activity logs.
    pub graph: GraphFormat,
    /// Unified Audit Log.
    pub ual: UalFormat,
    /// The text encoding of every log file (UTF-16: as Windows PowerShell 5.1 saves exports).
    #[serde(default, skip_serializing_if = "TextEncoding::is_utf8")]
    pub text: TextEncoding,
}

names!(TextEncoding {
    Utf8 => "utf-8",
    Utf16Le => "utf-16le",
    Utf16Be => "utf-16be",
    Utf16LeNoBom => "utf-16le-nobom",
    Utf16BeNoBom => "utf-16be-nobom",
    Utf32Le => "utf-32le",
    Utf32Be => "utf-32be",
});

impl TextEncoding {
    fn is_utf8(&self) -> bool {
        *self == TextEncoding::Utf8
    }
}

impl Default for Formats {
    /// Log Analytics JSON lines for sign-ins and Graph, Management API arrays for the UAL.
    fn default() -> Formats {
        Formats {
            sign_ins: SignInFormat::LaJsonl,
            graph: GraphFormat::LaJsonl,
            ual: UalFormat::MgmtApi,
            text: TextEncoding::Utf8,
        }
    }
}

impl Formats {
    /// Parse `signins=la-jsonl,graph=diagnostic,ual=purview-csv` (and `text=utf-16le` for the
    /// encoding); families not named keep their default.
    pub fn parse(text: &str) -> Result<Formats, SimError> {
        let mut f = Formats::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (family, format) = part.split_once('=').ok_or_else(|| {
                SimError::Invalid(format!("--formats: expected FAMILY=FORMAT, got {part:?}"))
            })?;
            let bad = |all: String| {
                SimError::Invalid(format!(
                    "--formats: unknown {family} format {format:?} (one of {all})"
                ))
            };
            match family.trim() {
                "signins" | "sign-ins" => {
                    f.sign_ins = SignInFormat::parse(format.trim())
                        .ok_or_else(|| bad(join(SignInFormat::ALL)))?
                }
                "graph" => {
                    f.graph = GraphFormat::parse(format.trim())
                        .ok_or_else(|| bad(join(GraphFormat::ALL)))?
                }
                "ual" => {
                    f.ual =
                        UalFormat::parse(format.trim()).ok_or_else(|| bad(join(UalFormat::ALL)))?
                }
                "text" => {
                    f.text = TextEncoding::parse(format.trim())
                        .ok_or_else(|| bad(join(TextEncoding::ALL)))?
                }
                other => {
                    return Err(SimError::Invalid(format!(
                        "--formats: unknown family {other:?} (signins, graph, ual, or text for the encoding)"
                    )))
                }
            }
        }
        Ok(f)
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse `--attacks`: `all`, `none`, or a comma list of kinds (`session-replay,orphan-token`).
pub fn parse_attacks(text: &str) -> Result<Vec<AttackKind>, SimError> {
    match text.trim() {
        "all" => Ok(AttackKind::ALL.to_vec()),
        "none" | "" => Ok(Vec::new()),
        list => {
            let mut kinds = Vec::new();
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let kind = AttackKind::parse(name).ok_or_else(|| {
                    SimError::Invalid(format!(
                        "--attacks: unknown kind {name:?} (all, none, or {})",
                        AttackKind::ALL.map(AttackKind::as_str).join(", ")
                    ))
                })?;
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            Ok(kinds)
        }
    }
}

/// Parse a `YYYY-MM-DD` start date to midnight UTC.
pub fn parse_start(text: &str) -> Result<Timestamp, SimError> {
    let bad = || SimError::Invalid(format!("--start: expected YYYY-MM-DD, got {text:?}"));
    let t = text.trim();
    if t.len() != 10 {
        return Err(bad());
    }
    let ts = Timestamp::parse(t).ok_or_else(bad)?;
    if ts.secs().rem_euclid(86_400) != 0 {
        return Err(bad());
    }
    Ok(ts)
}

/// What kind of tenant to simulate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// The round-1 tenant: busy around the clock, managed devices, sessions signed in daily,
    /// attackers on hosting networks after the first day.
    #[default]
    Default,
    /// A small office (5 to 50 people) with a weekly and daily rhythm, laptops carrying
    /// long-lived tokens between home and the office, unmanaged personal devices, and attackers
    /// on Azure, on the first day, at night and at weekends, plus one expected miss (see
    /// `office.rs`).
    SmallOffice,
}

names!(Profile { Default => "default", SmallOffice => "small-office" });

/// Parse `--profile`.
pub fn parse_profile(text: &str) -> Result<Profile, SimError> {
    Profile::parse(text.trim()).ok_or_else(|| {
        SimError::Invalid(format!(
            "--profile: unknown profile {text:?} (one of {})",
            join(Profile::ALL)
        ))
    })
}

/// Everything a simulation needs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// People in the tenant (one delegated automation account is added).
    pub users: u32,
    /// Days to simulate.
    pub days: u32,
    /// Seed of every random choice.
    pub seed: u64,
    /// Midnight UTC of the first day.
    pub start: Timestamp,
    /// Output directory (created if missing).
    pub out: PathBuf,
    /// Attack kinds to inject.
    pub attacks: Vec<AttackKind>,
    /// Export shape per family.
    pub formats: Formats,
    /// What kind of tenant.
    pub profile: Profile,
}

impl SimConfig {
    /// The default start date, 2024-03-04 (a Monday).
    pub fn default_start() -> Timestamp {
        Timestamp::from_secs(1_709_510_400)
    }
}

/// Counts for one output file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Path relative to the output directory, `/`-separated.
    pub path: String,
    /// `sign-ins`, `graph-activity` or `unified-audit`: the family the file was written as.
    pub family: String,
    /// The format name (`la-jsonl`, `diagnostic`, `graph`, `mgmt-api`, `jsonl`, `purview-csv`).
    pub format: String,
    /// Records (rows) written, duplicates included.
    pub records: u64,
    /// Records per normalized kind: sign-in kinds (`interactive`, `non-interactive`,
    /// `service-principal`, `managed-identity`, `ual-logon`) and access sources
    /// (`graph-activity`, `exchange-audit`, `sharepoint-audit`, `onedrive-audit`).
    pub kinds: BTreeMap<String, u64>,
}

/// What a simulation wrote; also saved as `summary.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// People simulated (plus one automation account).
    pub users: u32,
    /// Days simulated.
    pub days: u32,
    /// The seed.
    pub seed: u64,
    /// First day.
    pub start: Timestamp,
    /// Formats used.
    pub formats: Formats,
    /// The profile (absent in summaries of the default profile, so they read as before).
    #[serde(default, skip_serializing_if = "is_default_profile")]
    pub profile: Profile,
    /// Labels written to `labels.jsonl`.
    pub labels: u64,
    /// Labels per attack kind.
    pub labels_by_kind: BTreeMap<String, u64>,
    /// Records per family.
    pub families: BTreeMap<String, u64>,
    /// Records per normalized kind, all files together.
    pub kinds: BTreeMap<String, u64>,
    /// Every data file, in path order.
    pub files: Vec<FileSummary>,
}

fn is_default_profile(p: &Profile) -> bool {
    *p == Profile::Default
}

impl Summary {
    /// Total records written.
    pub fn records(&self) -> u64 {
        self.files.iter().map(|f| f.records).sum()
    }
}

/// Write the simulated tenant to `cfg.out`.
pub fn simulate(cfg: &SimConfig) -> Result<Summary, SimError> {
    if cfg.users == 0 {
        return Err(SimError::Invalid("--users must be at least 1".into()));
    }
    if cfg.days == 0 {
        return Err(SimError::Invalid("--days must be at least 1".into()));
    }
    std::fs::create_dir_all(&cfg.out).map_err(|source| SimError::Io {
        path: cfg.out.clone(),
        source,
    })?;
    if cfg.profile == Profile::SmallOffice
        && !(office::MIN_PEOPLE..=office::MAX_PEOPLE).contains(&cfg.users)
    {
        return Err(SimError::Invalid(format!(
            "--users: a small office has {} to {} people, not {}",
            office::MIN_PEOPLE,
            office::MAX_PEOPLE,
            cfg.users
        )));
    }
    let tenant = tenant::Tenant::build(cfg.seed, cfg.users);
    let last_day = cfg.start.plus_secs(i64::from(cfg.days.max(1) - 1) * 86_400);
    let range = (timefmt::date(cfg.start), timefmt::date(last_day));
    let mut out = output::Output::new(&cfg.out, cfg.formats, range);
    let labels_path = cfg.out.join("labels.jsonl");
    let mut labels_file =
        std::io::BufWriter::new(std::fs::File::create(&labels_path).map_err(|source| {
            SimError::Io {
                path: labels_path.clone(),
                source,
            }
        })?);
    let mut labels_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut seq = 0u32;
    let mut batch = Batch::default();
    let mut label = |label: Label| -> Result<(), SimError> {
        write_label(&mut labels_file, &labels_path, &label)?;
        *labels_by_kind
            .entry(label.kind.as_str().to_string())
            .or_insert(0) += 1;
        Ok(())
    };
    match cfg.profile {
        Profile::Default => {
            let plan = attack::plan(cfg.seed, cfg.users, cfg.days, &cfg.attacks);
            for d in 0..cfg.days {
                let midnight = cfg.start.plus_secs(i64::from(d) * 86_400);
                out.begin_day(timefmt::date(midnight));
                for (part, group) in tenant.users.chunks(USERS_PER_BATCH).enumerate() {
                    for user in group {
                        let attacks = plan.get(&(d, user.index));
                        let mut day = Day {
                            tenant: &tenant,
                            batch: &mut batch,
                            rng: rng::Rng::stream(
                                cfg.seed,
                                &[0xda7, u64::from(user.index), u64::from(d)],
                            ),
                            midnight,
                        };
                        let ctx = life::user_day(&mut day, user, attacks.is_some());
                        for &kind in attacks.into_iter().flatten() {
                            seq += 1;
                            if let Some(l) = attack::inject(&mut day, user, &ctx, kind, seq) {
                                label(l)?;
                            }
                        }
                    }
                    if part == 0 {
                        let mut day = Day {
                            tenant: &tenant,
                            batch: &mut batch,
                            rng: rng::Rng::stream(cfg.seed, &[0x5e41ce, u64::from(d)]),
                            midnight,
                        };
                        life::principals_day(&mut day);
                    }
                    batch.order();
                    out.write_batch(&batch, part)?;
                    batch.clear();
                }
                out.end_day()?;
            }
        }
        Profile::SmallOffice => {
            let office = office::Office::build(cfg.seed, &tenant);
            let plan = office::plan(cfg.seed, &office, cfg.start, cfg.days, &cfg.attacks);
            let mut states = vec![office::State::default(); tenant.users.len()];
            for d in 0..cfg.days {
                let midnight = office.midnight(cfg.start, d);
                out.begin_day(timefmt::date(cfg.start.plus_secs(i64::from(d) * 86_400)));
                let mut labels = Vec::new();
                office::office_day(
                    cfg.seed,
                    &tenant,
                    &office,
                    &mut states,
                    &plan,
                    d,
                    midnight,
                    &mut batch,
                    &mut seq,
                    &mut |l| labels.push(l),
                );
                for l in labels {
                    label(l)?;
                }
                batch.order();
                out.write_batch(&batch, 0)?;
                batch.clear();
                out.end_day()?;
            }
        }
    }
    labels_file.flush().map_err(|source| SimError::Io {
        path: labels_path.clone(),
        source,
    })?;
    let files = out.finish()?;
    for f in &files {
        output::encode(&cfg.out.join(&f.path), cfg.formats.text)?;
    }
    let mut families: BTreeMap<String, u64> = BTreeMap::new();
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for f in &files {
        *families.entry(f.family.clone()).or_insert(0) += f.records;
        for (k, n) in &f.kinds {
            *kinds.entry(k.clone()).or_insert(0) += n;
        }
    }
    let summary = Summary {
        users: cfg.users,
        days: cfg.days,
        seed: cfg.seed,
        start: cfg.start,
        formats: cfg.formats,
        profile: cfg.profile,
        labels: labels_by_kind.values().sum(),
        labels_by_kind,
        families,
        kinds,
        files,
    };
    let path = cfg.out.join("summary.json");
    let text = serde_json::to_string_pretty(&summary)
        .map_err(|_| SimError::Internal("summary does not serialize"))?;
    std::fs::write(&path, text + "\n").map_err(|source| SimError::Io { path, source })?;
    Ok(summary)
}

fn write_label(w: &mut impl std::io::Write, path: &Path, label: &Label) -> Result<(), SimError> {
    let line =
        serde_json::to_string(label).map_err(|_| SimError::Internal("label does not serialize"))?;
    w.write_all(line.as_bytes())
        .and_then(|()| w.write_all(b"\n"))
        .map_err(|source| SimError::Io {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_per_family_and_keep_defaults() {
        let f = Formats::parse("signins=graph, ual=purview-csv").expect("valid");
        assert_eq!(f.sign_ins, SignInFormat::Graph);
        assert_eq!(f.graph, GraphFormat::LaJsonl);
        assert_eq!(f.ual, UalFormat::PurviewCsv);
        assert_eq!(Formats::parse("").expect("empty"), Formats::default());
        assert!(Formats::parse("graph=graph").is_err());
        assert!(Formats::parse("mail=jsonl").is_err());
        assert!(Formats::parse("ual").is_err());
    }

    #[test]
    fn attacks_parse() {
        assert_eq!(parse_attacks("all").expect("all").len(), 6);
        assert!(parse_attacks("none").expect("none").is_empty());
        assert_eq!(
            parse_attacks("orphan-token, orphan-token,session-replay").expect("list"),
            vec![AttackKind::OrphanToken, AttackKind::SessionReplay]
        );
        assert!(parse_attacks("token-theft").is_err());
    }

    #[test]
    fn start_date_is_midnight() {
        assert_eq!(
            parse_start("2024-03-04").expect("date"),
            SimConfig::default_start()
        );
        assert!(parse_start("2024-03-04T10:00:00").is_err());
        assert!(parse_start("yesterday").is_err());
    }
}
