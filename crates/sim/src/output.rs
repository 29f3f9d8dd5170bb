//! Files on disk: each export's container (JSON lines, `{"records":[...]}` envelopes, JSON
//! arrays, Graph `{"value":[...]}` pages, Purview CSV) written as records arrive, and the
//! per-file counts that become `summary.json`.
//!
//! Memory stays flat: JSON lines files stream; daily envelope and array files stream between
//! their opening and closing brackets; a Graph page holds at most [`GRAPH_PAGE`] records; the
//! Purview CSV, which the portal writes newest-first, is written one file per (day, group of
//! users) so only that group's records are held and reversed, never the whole tenant.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::answers::{self, Answers, Dialect};
use crate::json::Obj;
use crate::record::{Batch, GraphRec, SignInRec, UalRec};
use crate::{defender, portal, powershell, render};
use crate::{FileSummary, Formats, GraphFormat, SignInFormat, SimError, UalFormat};

/// Records per Graph `signIns` page (Graph's own maximum `$top` is 1000).
pub(crate) const GRAPH_PAGE: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Container {
    Lines,
    Envelope,
    Array,
    PurviewCsv,
    /// `Search-UnifiedAuditLog | Export-Csv`: its header, then rows ending in CRLF.
    SearchCsv,
    /// Lines under a header line, each pushed whole (the Entra admin center's CSV).
    HeaderedCsv,
    /// An advanced hunting API answer: `{"Schema":[...],"Results":[` records `]}`.
    Hunting,
    /// `ConvertTo-Json` of a collection: `[`, each record indented four, CRLF line ends.
    PowerShellArray,
    /// An Elasticsearch search answer: `{...,"hits":{...,"hits":[` hits `]}}`.
    ElasticSearch,
}

struct Sink {
    rel: String,
    path: PathBuf,
    family: &'static str,
    format: &'static str,
    container: Container,
    w: BufWriter<File>,
    records: u64,
    kinds: BTreeMap<String, u64>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Sink {
    fn open(
        root: &Path,
        rel: String,
        family: &'static str,
        format: &'static str,
        container: Container,
    ) -> Result<Sink, SimError> {
        Sink::open_with_head(root, rel, family, format, container, "")
    }

    /// [`Sink::open`], writing `head` first for containers whose head depends on the file
    /// (a CSV header, an advanced hunting answer's schema).
    fn open_with_head(
        root: &Path,
        rel: String,
        family: &'static str,
        format: &'static str,
        container: Container,
        head: &str,
    ) -> Result<Sink, SimError> {
        let path = root.join(&rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let file = File::create(&path).map_err(io_err(&path))?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        let head: &[u8] = match container {
            Container::Lines => b"",
            Container::Envelope => b"{\"records\":[",
            Container::Array => b"[",
            Container::PurviewCsv => b"\xef\xbb\xbfRecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n",
            Container::SearchCsv => b"\"RunspaceId\",\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"ResultIndex\",\"ResultCount\",\"Identity\",\"IsValid\",\"ObjectState\"\r\n",
            Container::HeaderedCsv | Container::Hunting => head.as_bytes(),
            Container::PowerShellArray => b"[\r\n",
            Container::ElasticSearch => crate::elastic::SEARCH_HEAD.as_bytes(),
        };
        w.write_all(head).map_err(io_err(&path))?;
        Ok(Sink {
            rel,
            path,
            family,
            format,
            container,
            w,
            records: 0,
            kinds: BTreeMap::new(),
        })
    }

    /// Write one record (JSON text, or a whole CSV row) and count it under `kind`.
    fn push(&mut self, text: &str, kind: &str) -> Result<(), SimError> {
        // Records are indented one space, as pretty-printers do; a line starting with `{`
        // right after an unfinished first line would read as JSON lines to a sniffer.
        let sep: &[u8] = match (self.container, self.records) {
            (Container::Envelope | Container::Array | Container::Hunting, 0) => b"\n ",
            (Container::Envelope | Container::Array | Container::Hunting, _) => b",\n ",
            (Container::PowerShellArray, 0) => b"    ",
            (Container::PowerShellArray, _) => b",\r\n    ",
            (Container::ElasticSearch, 0) => b"\n ",
            (Container::ElasticSearch, _) => b",\n ",
            _ => b"",
        };
        let tail: &[u8] = match self.container {
            Container::Lines => b"\n",
            Container::PurviewCsv | Container::SearchCsv => b"\r\n",
            _ => b"",
        };
        self.w
            .write_all(sep)
            .and_then(|()| self.w.write_all(text.as_bytes()))
            .and_then(|()| self.w.write_all(tail))
            .map_err(io_err(&self.path))?;
        self.records += 1;
        match self.kinds.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                self.kinds.insert(kind.to_string(), 1);
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<FileSummary, SimError> {
        let tail: &[u8] = match self.container {
            Container::Envelope | Container::Hunting => b"\n]}\n",
            Container::Array => b"\n]\n",
            Container::PowerShellArray => b"\r\n]\r\n",
            Container::ElasticSearch => b"\n]}}\n",
            _ => b"",
        };
        self.w
            .write_all(tail)
            .and_then(|()| self.w.flush())
            .map_err(io_err(&self.path))?;
        Ok(FileSummary {
            path: self.rel,
            family: self.family.to_string(),
            format: self.format.to_string(),
            records: self.records,
            kinds: self.kinds,
        })
    }
}

/// A Graph `signIns` page being filled.
struct Pager {
    records: Vec<(String, &'static str)>,
    pages: u32,
}

/// Every output file of one run.
pub(crate) struct Output {
    root: PathBuf,
    formats: Formats,
    /// First and last day of the run (`YYYY-MM-DD`), for file names that carry the range.
    range: (String, String),
    /// Files kept open for the whole run or the current day, by relative path.
    open: BTreeMap<String, Sink>,
    /// Relative paths to close at the end of the day.
    daily: Vec<String>,
    pager: Pager,
    done: Vec<FileSummary>,
    date: String,
    buf: String,
    /// Query API answers being filled.
    answers: Answers,
}

const SIGN_INS: &str = "sign-ins";
const GRAPH: &str = "graph-activity";
const UAL: &str = "unified-audit";

impl Output {
    pub(crate) fn new(root: &Path, formats: Formats, range: (String, String)) -> Output {
        Output {
            root: root.to_path_buf(),
            formats,
            range,
            open: BTreeMap::new(),
            daily: Vec::new(),
            pager: Pager {
                records: Vec::with_capacity(GRAPH_PAGE),
                pages: 0,
            },
            done: Vec::new(),
            date: String::new(),
            buf: String::with_capacity(4096),
            answers: Answers::default(),
        }
    }

    pub(crate) fn begin_day(&mut self, date: String) {
        self.date = date;
    }

    fn sink(
        &mut self,
        rel: String,
        family: &'static str,
        format: &'static str,
        container: Container,
        daily: bool,
    ) -> Result<&mut Sink, SimError> {
        self.sink_with_head(rel, family, format, container, daily, &|| String::new())
    }

    /// [`Output::sink`] for a container whose head `head` writes when the file is opened.
    fn sink_with_head(
        &mut self,
        rel: String,
        family: &'static str,
        format: &'static str,
        container: Container,
        daily: bool,
        head: &dyn Fn() -> String,
    ) -> Result<&mut Sink, SimError> {
        if !self.open.contains_key(&rel) {
            let s =
                Sink::open_with_head(&self.root, rel.clone(), family, format, container, &head())?;
            if daily {
                self.daily.push(rel.clone());
            }
            self.open.insert(rel.clone(), s);
        }
        self.open
            .get_mut(&rel)
            .ok_or(SimError::Internal("sink vanished"))
    }

    fn sign_in(&mut self, r: &SignInRec<'_>) -> Result<(), SimError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let kind = r.kind_name();
        let rows = if r.duplicate { 2 } else { 1 };
        let result = match self.formats.sign_ins {
            SignInFormat::LaJsonl => {
                render::sign_in_la(&mut buf, r);
                let rel = format!("signins/la/{}.jsonl", render::la_table(r.kind));
                let s = self.sink(rel, SIGN_INS, "la-jsonl", Container::Lines, false)?;
                (0..rows).try_for_each(|_| s.push(&buf, kind))
            }
            SignInFormat::Diagnostic => {
                render::sign_in_diagnostic(&mut buf, r);
                let rel = format!(
                    "signins/diagnostic/{}/{}.json",
                    render::diagnostic_category(r.kind),
                    self.date
                );
                let s = self.sink(rel, SIGN_INS, "diagnostic", Container::Envelope, true)?;
                (0..rows).try_for_each(|_| s.push(&buf, kind))
            }
            SignInFormat::Graph => {
                render::sign_in_graph(&mut buf, r);
                (0..rows).try_for_each(|_| self.page_push(buf.clone(), kind))
            }
            SignInFormat::EntraPortalCsv => {
                portal::row(&mut buf, r);
                let (from, to) = &self.range;
                let rel = format!(
                    "signins/entra-portal/{}_{from}_{to}.csv",
                    portal::tab(r.kind)
                );
                let head = || portal::header(r.kind);
                let s = self.sink_with_head(
                    rel,
                    SIGN_INS,
                    "entra-portal-csv",
                    Container::HeaderedCsv,
                    false,
                    &head,
                )?;
                (0..rows).try_for_each(|_| s.push(&buf, kind))
            }
            SignInFormat::DefenderHunting => {
                let table = defender::sign_in_table(r.kind);
                let mut o = Obj::new(&mut buf);
                defender::sign_in_row(&mut o, r);
                o.end();
                let rel = format!("signins/defender-hunting/{table}/{}.json", self.date);
                let head = || defender::hunting_head(table);
                let s = self.sink_with_head(
                    rel,
                    SIGN_INS,
                    "defender-hunting",
                    Container::Hunting,
                    true,
                    &head,
                )?;
                (0..rows).try_for_each(|_| s.push(&buf, kind))
            }
            SignInFormat::GraphSdk => {
                powershell::sign_in_sdk(&mut buf, r);
                let rel = format!("signins/graph-sdk/SignIns-{}.json", self.date);
                let s = self.sink(rel, SIGN_INS, "graph-sdk", Container::PowerShellArray, true)?;
                (0..rows).try_for_each(|_| s.push(&buf, kind))
            }
            SignInFormat::LaApi | SignInFormat::KustoV1 => {
                render::sign_in_la(&mut buf, r);
                let format = self.formats.sign_ins.as_str();
                let base = format!(
                    "signins/{format}/{}/{}",
                    render::la_table(r.kind),
                    self.date
                );
                self.answer(SIGN_INS, format, base, &buf, kind, rows)
            }
            SignInFormat::Elastic => {
                let mut original = String::new();
                render::sign_in_diagnostic(&mut original, r);
                crate::elastic::hit(&mut buf, "azure.signinlogs", r.time, &original);
                let rel = format!("signins/elastic/logs-azure.signinlogs-{}.ndjson", self.date);
                let s = self.sink(rel, SIGN_INS, "elastic", Container::Lines, true)?;
                (0..rows).try_for_each(|_| s.push(&buf, kind))
            }
            SignInFormat::DefenderStream => {
                let table = defender::sign_in_table(r.kind);
                defender::stream_record(&mut buf, table, r.time, |p| defender::sign_in_row(p, r));
                let rel = format!("signins/defender-stream/{table}/{}.json", self.date);
                let s = self.sink(rel, SIGN_INS, "defender-stream", Container::Lines, true)?;
                (0..rows).try_for_each(|_| s.push(&buf, kind))
            }
        };
        self.buf = buf;
        result
    }

    /// Add a Log Analytics `record` to the query API answer at `base` (see [`answers`]).
    fn answer(
        &mut self,
        family: &'static str,
        format: &'static str,
        base: String,
        record: &str,
        kind: &str,
        copies: usize,
    ) -> Result<(), SimError> {
        let dialect = match format {
            "kusto-v1" => Dialect::KustoV1,
            _ => Dialect::LogAnalytics,
        };
        let to = answers::Target {
            base,
            family,
            format,
            dialect,
        };
        let written = self.answers.push(&self.root, to, record, kind, copies)?;
        self.done.extend(written);
        Ok(())
    }

    fn page_push(&mut self, record: String, kind: &'static str) -> Result<(), SimError> {
        if self.pager.records.len() >= GRAPH_PAGE {
            self.flush_page(true)?;
        }
        self.pager.records.push((record, kind));
        Ok(())
    }

    fn flush_page(&mut self, more: bool) -> Result<(), SimError> {
        if self.pager.records.is_empty() {
            return Ok(());
        }
        self.pager.pages += 1;
        let n = self.pager.pages;
        let rel = format!("signins/graph/signIns-page-{n:05}.json");
        let path = self.root.join(&rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let file = File::create(&path).map_err(io_err(&path))?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        let mut head = String::from(
            "{\"@odata.context\":\"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns\"",
        );
        if more {
            head.push_str(&format!(
                ",\"@odata.nextLink\":\"https://graph.microsoft.com/beta/auditLogs/signIns?$top={GRAPH_PAGE}&$skiptoken=page{:05}\"",
                n + 1
            ));
        }
        head.push_str(",\"value\":[\n");
        let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
        let mut write = |w: &mut BufWriter<File>| -> std::io::Result<()> {
            w.write_all(head.as_bytes())?;
            for (i, (rec, kind)) in self.pager.records.iter().enumerate() {
                w.write_all(if i > 0 { b",\n " } else { b" " })?;
                w.write_all(rec.as_bytes())?;
                *kinds.entry((*kind).to_string()).or_insert(0) += 1;
            }
            w.write_all(b"\n]}\n")?;
            w.flush()
        };
        write(&mut w).map_err(io_err(&path))?;
        self.done.push(FileSummary {
            path: rel,
            family: SIGN_INS.to_string(),
            format: "graph".to_string(),
            records: self.pager.records.len() as u64,
            kinds,
        });
        self.pager.records.clear();
        Ok(())
    }

    fn graph(&mut self, r: &GraphRec<'_>) -> Result<(), SimError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let kind = tokentrail_model::AccessSource::GraphActivity.as_str();
        let result = match self.formats.graph {
            GraphFormat::LaJsonl => {
                render::graph_la(&mut buf, r);
                let rel = "graph/la/MicrosoftGraphActivityLogs.jsonl".to_string();
                self.sink(rel, GRAPH, "la-jsonl", Container::Lines, false)?
                    .push(&buf, kind)
            }
            GraphFormat::LaApi | GraphFormat::KustoV1 => {
                render::graph_la(&mut buf, r);
                let format = self.formats.graph.as_str();
                let base = format!("graph/{format}/MicrosoftGraphActivityLogs/{}", self.date);
                self.answer(GRAPH, format, base, &buf, kind, 1)
            }
            GraphFormat::Elastic => {
                let mut original = String::new();
                render::graph_diagnostic(&mut original, r);
                crate::elastic::hit(&mut buf, "azure.graphactivitylogs", r.time, &original);
                let rel = format!("graph/elastic/search-{}.json", self.date);
                self.sink(rel, GRAPH, "elastic", Container::ElasticSearch, true)?
                    .push(&buf, kind)
            }
            GraphFormat::Diagnostic => {
                render::graph_diagnostic(&mut buf, r);
                let rel = format!("graph/diagnostic/{}.json", self.date);
                self.sink(rel, GRAPH, "diagnostic", Container::Envelope, true)?
                    .push(&buf, kind)
            }
            GraphFormat::DefenderHunting => {
                let mut o = Obj::new(&mut buf);
                defender::graph_row(&mut o, r);
                o.end();
                let rel = format!("graph/defender-hunting/{}.json", self.date);
                let head = || defender::hunting_head("GraphApiAuditEvents");
                self.sink_with_head(
                    rel,
                    GRAPH,
                    "defender-hunting",
                    Container::Hunting,
                    true,
                    &head,
                )?
                .push(&buf, kind)
            }
        };
        self.buf = buf;
        result
    }

    fn ual_json(&mut self, r: &UalRec<'_>) -> Result<(), SimError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let kind = r.kind_name();
        if self.formats.ual == UalFormat::DefenderStream {
            defender::stream_record(&mut buf, "CloudAppEvents", r.time, |p| {
                defender::cloud_app_event(p, r)
            });
            let rel = format!("ual/defender-stream/{}.json", self.date);
            let result = self
                .sink(rel, UAL, "defender-stream", Container::Lines, true)
                .and_then(|s| s.push(&buf, kind));
            self.buf = buf;
            return result;
        }
        render::audit_data(&mut buf, r);
        if self.formats.ual == UalFormat::Elastic {
            let original = std::mem::take(&mut buf);
            crate::elastic::hit(&mut buf, "o365.audit", r.time, &original);
            let rel = format!("ual/elastic/logs-o365.audit-{}.ndjson", self.date);
            let result = self
                .sink(rel, UAL, "elastic", Container::Lines, true)
                .and_then(|s| s.push(&buf, kind));
            self.buf = buf;
            return result;
        }
        let result = match self.formats.ual {
            UalFormat::MgmtApi => {
                let rel = format!(
                    "ual/mgmt-api/{}/{}.json",
                    render::content_type(&r.op),
                    self.date
                );
                self.sink(rel, UAL, "mgmt-api", Container::Array, true)?
                    .push(&buf, kind)
            }
            _ => {
                let rel = "ual/jsonl/AuditData.jsonl".to_string();
                self.sink(rel, UAL, "jsonl", Container::Lines, false)?
                    .push(&buf, kind)
            }
        };
        self.buf = buf;
        result
    }

    /// One Purview CSV file holding `records`, newest first.
    fn purview(&mut self, records: &mut Vec<&UalRec<'_>>, part: usize) -> Result<(), SimError> {
        let rel = format!("ual/purview/{}-part{:04}.csv", self.date, part);
        self.audit_csv(
            records,
            rel,
            "purview-csv",
            Container::PurviewCsv,
            |row, r, json, _| {
                row.push_str(&r.id.to_string());
                row.push(',');
                row.push_str(&crate::timefmt::us_locale(r.time));
                row.push(',');
                row.push_str(&render::record_type(&r.op).to_string());
                row.push(',');
                row.push_str(render::operation(&r.op));
                row.push(',');
                row.push_str(&r.user.upn);
                row.push_str(",\"");
                row.push_str(&json.replace('"', "\"\""));
                row.push_str("\",,");
            },
        )
    }

    /// One `Search-UnifiedAuditLog | Export-Csv` file holding `records`, newest first, as the
    /// cmdlet returns them (its result index counting from 1).
    fn search_csv(&mut self, records: &mut Vec<&UalRec<'_>>, part: usize) -> Result<(), SimError> {
        let rel = format!("ual/search/{}-part{:04}.csv", self.date, part);
        let total = records.len();
        let runspace = crate::rng::Rng::stream(0x5ea4c4, &[part as u64])
            .guid()
            .to_string();
        self.audit_csv(
            records,
            rel,
            "search-csv",
            Container::SearchCsv,
            |row, r, json, i| {
                let cells = [
                    runspace.clone(),
                    render::record_type_name(&r.op),
                    crate::timefmt::us_locale(r.time),
                    r.user.upn.to_string(),
                    render::operation(&r.op).to_string(),
                    json.to_string(),
                    (i + 1).to_string(),
                    total.to_string(),
                    r.id.to_string(),
                    "True".to_string(),
                    "Unchanged".to_string(),
                ];
                for (n, cell) in cells.iter().enumerate() {
                    if n > 0 {
                        row.push(',');
                    }
                    row.push('"');
                    row.push_str(&cell.replace('"', "\"\""));
                    row.push('"');
                }
            },
        )
    }

    /// One audit CSV file at `rel` holding `records`, newest first, each row made by `row_of`
    /// (the row, the record, its `AuditData` JSON, its index in the file).
    fn audit_csv(
        &mut self,
        records: &mut Vec<&UalRec<'_>>,
        rel: String,
        format: &'static str,
        container: Container,
        row_of: impl Fn(&mut String, &UalRec<'_>, &str, usize),
    ) -> Result<(), SimError> {
        if records.is_empty() {
            return Ok(());
        }
        // Newest first, as the portal and the cmdlet export; ties keep a stable, reproducible
        // order.
        records.sort_by(|a, b| b.time.cmp(&a.time).then(a.id.cmp(&b.id)));
        let mut sink = Sink::open(&self.root, rel, UAL, format, container)?;
        let mut json = String::with_capacity(4096);
        let mut row = String::with_capacity(4096);
        for (i, r) in records.iter().enumerate() {
            json.clear();
            row.clear();
            render::audit_data(&mut json, r);
            row_of(&mut row, r, &json, i);
            sink.push(&row, r.kind_name())?;
        }
        self.done.push(sink.finish()?);
        Ok(())
    }

    /// Write one batch: each family in time order, then the records delivered late.
    pub(crate) fn write_batch(&mut self, batch: &Batch<'_>, part: usize) -> Result<(), SimError> {
        for r in &batch.sign_ins {
            self.sign_in(r)?;
        }
        for r in batch.graph.iter().chain(&batch.late_graph) {
            self.graph(r)?;
        }
        if matches!(
            self.formats.ual,
            UalFormat::PurviewCsv | UalFormat::SearchCsv
        ) {
            let mut all: Vec<&UalRec<'_>> = batch.ual.iter().chain(&batch.late_ual).collect();
            if self.formats.ual == UalFormat::PurviewCsv {
                self.purview(&mut all, part)?;
            } else {
                self.search_csv(&mut all, part)?;
            }
        } else {
            for r in batch.ual.iter().chain(&batch.late_ual) {
                self.ual_json(r)?;
            }
        }
        Ok(())
    }

    /// Close the files that hold one day.
    pub(crate) fn end_day(&mut self) -> Result<(), SimError> {
        let answered = self.answers.flush(&self.root)?;
        self.done.extend(answered);
        for rel in std::mem::take(&mut self.daily) {
            if let Some(s) = self.open.remove(&rel) {
                self.done.push(s.finish()?);
            }
        }
        Ok(())
    }

    /// Close everything; the per-file summaries in path order.
    pub(crate) fn finish(mut self) -> Result<Vec<FileSummary>, SimError> {
        self.end_day()?;
        self.flush_page(false)?;
        for (_, s) in std::mem::take(&mut self.open) {
            self.done.push(s.finish()?);
        }
        let mut done = self.done;
        done.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(done)
    }
}

/// Rewrite the UTF-8 log file at `path` in `encoding`, line by line, its UTF-8 byte order mark
/// (if any) replaced by the encoding's own (none for the unmarked encodings).
pub(crate) fn encode(path: &Path, encoding: crate::TextEncoding) -> Result<(), SimError> {
    use std::io::BufRead;
    let Some(wide) = powershell::wide(encoding) else {
        return Ok(());
    };
    let tmp = path.with_extension("wide.tmp");
    let result = (|| -> std::io::Result<()> {
        let mut lines = std::io::BufReader::new(File::open(path)?);
        let mut w = BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
        w.write_all(wide.mark)?;
        let mut line = String::new();
        let mut bytes = Vec::new();
        let mut first = true;
        while lines.read_line(&mut line)? > 0 {
            let text = if first {
                line.trim_start_matches('\u{feff}')
            } else {
                &line
            };
            first = false;
            bytes.clear();
            wide.encode(text, &mut bytes);
            w.write_all(&bytes)?;
            line.clear();
        }
        w.flush()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(io_err(path))
}
