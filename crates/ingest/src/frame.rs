//! Sniffing a stream's container from its first bytes and cutting it into records, streaming.
//!
//! Memory does not grow with the size of the input: only one record (and a read buffer) is held
//! at a time, whether the stream is a 2 GB JSON array, a 2 GB CSV, or a 2 GB OData page on a
//! single line. One record may be at most [`FrameOptions::max_record_bytes`] long; a longer one is
//! reported as unreadable and skipped, and the rest of the stream is still read.
//!
//! Containers, told apart by content (a UTF-8 byte-order mark and leading whitespace are
//! skipped first):
//!
//! | first byte | container | records | position |
//! |---|---|---|---|
//! | `{`, first line a complete value and more lines follow | [`Container::JsonLines`] | each non-blank line | [`Position::Line`] |
//! | `{` with a top-level `value` array | [`Container::OdataPage`] | the array's elements | [`Position::Index`] |
//! | `{` with a top-level `records` array | [`Container::DiagnosticRecords`] | the array's elements | [`Position::Index`] |
//! | `{` with a top-level `Results` array | [`Container::HuntingResults`] | the array's elements | [`Position::Index`] |
//! | `{` with a top-level `tables` array | [`Container::LogAnalyticsQuery`] | each table's rows, as objects of its columns | [`Position::Index`], numbered on across tables |
//! | `{` with a top-level `hits` object holding a `hits` array | [`Container::ElasticHits`] | the hits | [`Position::Index`] |
//! | `{` with a top-level `Tables` array | [`Container::KustoQuery`] | the same; a table ADX writes about the query is one record | [`Position::Index`] |
//! | `{` otherwise | [`Container::JsonObject`] | the object | [`Position::Line`] of its `{` |
//! | `[` | [`Container::JsonArray`] | the elements | [`Position::Index`] |
//! | text whose first line is a prefix (a syslog header) then a complete JSON object | [`Container::PrefixedJsonLines`] | each line's JSON, the prefix dropped | [`Position::Line`] |
//! | text whose first line has a comma | [`Container::Csv`] | each row after the header | [`Position::Line`] where the row starts |
//! | YAML with a `Tests` list (only with [`FrameOptions::yaml_test_cases`]) | [`Container::YamlTestCases`] | each test's `Log` as JSON | [`Position::Index`] |
//!
//! A JSON-lines file whose first line is malformed is still recognized when its second line
//! starts with `{`. The envelope keys may come in any order: the scanner walks the top-level
//! object's keys, skips the other values without keeping them, and streams the array.

mod csv_rows;
mod hits;
mod scan;
mod stream;
pub(crate) mod tables;

use std::fmt;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;
use tokentrail_model::Position;

use crate::{CsvLayout, Payload};
pub(crate) use csv_rows::RowFields;
use scan::{value_end, Feed, ValueScan};
use stream::{is_json_space, Recorded, Stream};
pub(crate) use stream::{Block, Recycler};

/// Default bound on one record's size: 128 MiB. Real records are kilobytes (a sign-in with
/// every policy listed is tens of kilobytes) and a 100 MB record is still read; the bound is
/// what one hostile line or element can make the reader hold (its buffer grows to about twice
/// the bound before the record is reported and skipped).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 128 * 1024 * 1024;

/// How far ahead the sniffer looks for the end of the first line.
const SNIFF_BYTES: usize = 1024 * 1024;

/// How a stream's records are packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Container {
    /// One JSON value per line.
    JsonLines,
    /// One JSON object per line behind a prefix a forwarder wrote (a syslog header:
    /// `2025-02-02T00:27:59+08:00 HOST {...}`).
    PrefixedJsonLines,
    /// A JSON array of records.
    JsonArray,
    /// A Graph OData page `{"value":[...]}`.
    OdataPage,
    /// A diagnostic-settings envelope `{"records":[...]}`.
    DiagnosticRecords,
    /// A Defender XDR advanced hunting answer `{"Schema":[...],"Results":[...]}` (Graph's
    /// `runHuntingQuery` writes `schema` and `results`).
    HuntingResults,
    /// A Log Analytics Query API answer `{"tables":[{"name","columns","rows"}]}`: each row a
    /// record.
    LogAnalyticsQuery,
    /// An Azure Data Explorer v1 REST answer `{"Tables":[{"TableName","Columns","Rows"}]}`:
    /// each row of the query's tables a record, each table about the query one record.
    KustoQuery,
    /// An Elasticsearch search answer `{"hits":{"hits":[...]}}`: each hit a record.
    ElasticHits,
    /// One JSON object that is itself the record.
    JsonObject,
    /// CSV with a header row.
    Csv,
    /// A Panther rule YAML file whose `Tests[].Log` mappings are the records.
    YamlTestCases,
    /// No content (zero bytes, or only whitespace and a byte-order mark).
    Empty,
    /// Not a container tokentrail reads.
    Unrecognized,
}

impl Container {
    /// The stable name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Container::JsonLines => "json-lines",
            Container::PrefixedJsonLines => "prefixed-json-lines",
            Container::JsonArray => "json-array",
            Container::OdataPage => "odata-page",
            Container::DiagnosticRecords => "diagnostic-records",
            Container::HuntingResults => "hunting-results",
            Container::LogAnalyticsQuery => "log-analytics-query",
            Container::KustoQuery => "kusto-query",
            Container::ElasticHits => "elastic-hits",
            Container::JsonObject => "json-object",
            Container::Csv => "csv",
            Container::YamlTestCases => "yaml-test-cases",
            Container::Empty => "empty",
            Container::Unrecognized => "unrecognized",
        }
    }
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Options for framing.
#[derive(Clone, Debug)]
pub struct FrameOptions {
    /// Longest record kept; longer ones are reported as unreadable and skipped.
    pub max_record_bytes: usize,
    /// Also read Panther rule YAML files, taking each `Tests[].Log` as a record.
    pub yaml_test_cases: bool,
}

impl Default for FrameOptions {
    fn default() -> Self {
        FrameOptions {
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            yaml_test_cases: false,
        }
    }
}

/// One item cut from a stream.
#[derive(Debug)]
pub enum Framed<'a> {
    /// A record, ready to decode.
    Record {
        /// Where it starts.
        position: Position,
        /// Its bytes or CSV row.
        payload: Payload<'a>,
    },
    /// A record that could not be cut out (too large, cut off, unclosed CSV quote, ...).
    Unreadable {
        /// Where it starts.
        position: Position,
        /// Why it cannot be read.
        reason: String,
    },
}

/// Why framing a stream stopped early or could not start. Every record framed before the
/// error has already been handed out.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The underlying stream failed (I/O error, truncated or corrupt gzip, ...).
    #[error("read error at byte {offset} (line {line}): {source}")]
    Io {
        /// Bytes (decompressed) read before the error.
        offset: u64,
        /// Line reached.
        line: u64,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The stream ended inside a JSON value.
    #[error("the input ends at byte {offset} (line {line}) inside {what}")]
    Truncated {
        /// What was still open.
        what: &'static str,
        /// Bytes read.
        offset: u64,
        /// Line reached.
        line: u64,
    },
    /// The JSON container itself (not one record) is malformed; reading stopped there.
    #[error("malformed JSON at byte {offset} (line {line}): {expected}")]
    Syntax {
        /// What the scanner expected.
        expected: &'static str,
        /// Where.
        offset: u64,
        /// Line.
        line: u64,
    },
    /// Content after the end of the top-level JSON value; it is not read.
    #[error("content after the end of the {what} at line {line} is ignored")]
    TrailingContent {
        /// The value that ended.
        what: &'static str,
        /// Line of the first ignored byte.
        line: u64,
    },
    /// A query answer that says it is incomplete (the Log Analytics Query API's non-fatal
    /// `error`: the query failed part way, or hit the API's limits); its rows were read.
    #[error("the query answer is incomplete: {0}")]
    PartialAnswer(String),
    /// The stream holds nothing but whitespace.
    #[error("the file is empty")]
    Empty,
    /// Not a container tokentrail reads.
    #[error("not a format tokentrail reads: {0}")]
    Unrecognized(String),
    /// A YAML file that cannot be read as Panther test cases.
    #[error("YAML test cases: {0}")]
    Yaml(String),
}

/// What framing a stream found.
#[derive(Debug)]
pub struct Framing {
    /// The container recognized.
    pub container: Container,
    /// Why framing stopped early, if it did.
    pub error: Option<FrameError>,
}

/// Sniff the stream's container and hand each record to `emit`, in order.
pub fn frame(
    reader: &mut dyn Read,
    opts: &FrameOptions,
    emit: &mut dyn FnMut(Framed<'_>),
) -> Framing {
    frame_into(reader, opts, &mut Calls(emit), None)
}

/// Where framed items go, in order.
pub(crate) trait Sink {
    /// One item, borrowed for the call.
    fn item(&mut self, item: Framed<'_>);

    /// A JSON record that is `range` of a read block. A sink that keeps records beyond the
    /// call may keep the block instead of a copy; the block is never written again once
    /// another holder has it.
    fn shared(&mut self, position: Position, block: &Block, range: Range<usize>) {
        let bytes = block.get(range).unwrap_or_default();
        self.item(Framed::Record {
            position,
            payload: Payload::Json(bytes),
        });
    }

    /// A CSV row of the file laid out by `layout`: `range` of a read block, as the row's
    /// bytes are in the file (quotes and all, without its line end). A sink that keeps rows
    /// beyond the call may keep the block and the layout rather than copy them, and split the
    /// row into fields later ([`RowFields`]); `fields` is room to split it now.
    fn csv(
        &mut self,
        position: Position,
        layout: &Arc<CsvLayout>,
        block: &Block,
        range: Range<usize>,
        fields: &mut RowFields,
    ) {
        let row = fields.split(block.get(range).unwrap_or_default());
        self.item(Framed::Record {
            position,
            payload: Payload::Csv { layout, row },
        });
    }
}

/// A callback as a [`Sink`].
struct Calls<'e>(&'e mut dyn FnMut(Framed<'_>));

impl Sink for Calls<'_> {
    fn item(&mut self, item: Framed<'_>) {
        (self.0)(item)
    }
}

/// [`frame`] into a [`Sink`]: JSON lines are handed out as ranges of read blocks, and blocks
/// come from and go back to `recycler`.
pub(crate) fn frame_into(
    reader: &mut dyn Read,
    opts: &FrameOptions,
    sink: &mut dyn Sink,
    recycler: Option<&Recycler>,
) -> Framing {
    let mut framer = Framer {
        s: Stream::new(reader, recycler),
        opts,
        emit: sink,
        container: Container::Empty,
    };
    let error = framer.run().err();
    Framing {
        container: framer.container,
        error,
    }
}

struct Framer<'o, 'r, 'e> {
    s: Stream<'r>,
    opts: &'o FrameOptions,
    emit: &'e mut dyn Sink,
    container: Container,
}

impl Framer<'_, '_, '_> {
    fn io(&self, source: io::Error) -> FrameError {
        FrameError::Io {
            offset: self.s.offset(),
            line: self.s.line(),
            source,
        }
    }

    fn truncated(&self, what: &'static str) -> FrameError {
        FrameError::Truncated {
            what,
            offset: self.s.offset(),
            line: self.s.line(),
        }
    }

    fn syntax(&self, expected: &'static str) -> FrameError {
        FrameError::Syntax {
            expected,
            offset: self.s.offset(),
            line: self.s.line(),
        }
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, FrameError> {
        self.s.skip_whitespace().map_err(|e| self.io(e))
    }

    fn fill_to(&mut self, n: usize) -> Result<(), FrameError> {
        self.s.fill_to(n).map_err(|e| self.io(e))
    }

    fn fill_more(&mut self) -> Result<bool, FrameError> {
        self.s.fill_more().map_err(|e| self.io(e))
    }

    fn run(&mut self) -> Result<(), FrameError> {
        self.fill_to(4)?;
        let head = self.s.available();
        if head.starts_with(b"\xEF\xBB\xBF") {
            self.s.consume(3);
        } else if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
            self.container = Container::Unrecognized;
            return Err(FrameError::Unrecognized(
                "UTF-16 text; save the file as UTF-8".to_string(),
            ));
        }
        match self.skip_ws()? {
            None => {
                self.container = Container::Empty;
                Err(FrameError::Empty)
            }
            Some(b'{') => self.object_or_lines(),
            Some(b'[') => {
                self.container = Container::JsonArray;
                let mut next = 0;
                loop {
                    next = self.array_elements_from(next)?;
                    // Arrays one after another: PowerShell's `ConvertTo-Json | Out-File
                    // -Append` writes one per call into the same file (collectors that save
                    // each page of results as it comes). Their elements are numbered on.
                    if self.skip_ws()? != Some(b'[') {
                        return self.expect_end("JSON array");
                    }
                }
            }
            Some(_) => self.text(),
        }
    }

    /// Look ahead (without consuming) until the first newline, the sniff limit or the end.
    fn sniff_first_line(&mut self) -> Result<Option<usize>, FrameError> {
        loop {
            let avail = self.s.available();
            if let Some(nl) = memchr::memchr(b'\n', avail) {
                return Ok(Some(nl));
            }
            if avail.len() >= SNIFF_BYTES || !self.fill_more()? {
                return Ok(None);
            }
        }
    }

    fn object_or_lines(&mut self) -> Result<(), FrameError> {
        if let Some(nl) = self.sniff_first_line()? {
            self.fill_to(nl + 1 + 4096)?;
            let avail = self.s.available();
            let first = avail.get(..nl).unwrap_or_default();
            let after = avail.get(nl + 1..).unwrap_or_default();
            let complete = value_end(first).is_some_and(|end| {
                first
                    .get(end..)
                    .unwrap_or_default()
                    .iter()
                    .all(|b| is_json_space(*b))
            });
            let more_follows = after.iter().any(|b| !is_json_space(*b));
            // A first line that stops right after an opening bracket is the head of a document
            // spread over lines (`{"records":[` with its records at column 0), not a damaged
            // JSON line; a line cut after a comma stays ambiguous and is read as lines.
            let opens_document = matches!(
                first.iter().rev().find(|b| !is_json_space(**b)),
                Some(b'[' | b'{')
            );
            let broken_line = !complete && !opens_document && after.first() == Some(&b'{');
            if (complete && more_follows) || broken_line {
                self.container = Container::JsonLines;
                return self.lines(false);
            }
        }
        self.object()
    }

    /// Every non-blank line is a record; with `prefixed`, from its first `{` on.
    fn lines(&mut self, prefixed: bool) -> Result<(), FrameError> {
        let limit = self.opts.max_record_bytes;
        loop {
            let line_no = self.s.line();
            let mut searched = 0;
            let end = loop {
                let avail = self.s.available();
                if let Some(p) = avail.get(searched..).and_then(|r| memchr::memchr(b'\n', r)) {
                    break LineEnd::Newline(searched + p);
                }
                searched = avail.len();
                if searched > limit {
                    break LineEnd::TooLong;
                }
                if !self.fill_more()? {
                    break LineEnd::Eof(searched);
                }
            };
            let len = match end {
                LineEnd::Newline(len) | LineEnd::Eof(len) if len <= limit => len,
                LineEnd::Newline(len) => {
                    self.s.consume(len + 1);
                    self.emit.item(Framed::Unreadable {
                        position: Position::Line(line_no),
                        reason: format!("line longer than the limit of {limit} bytes"),
                    });
                    continue;
                }
                LineEnd::Eof(len) => {
                    self.s.consume(len);
                    self.emit.item(Framed::Unreadable {
                        position: Position::Line(line_no),
                        reason: format!("line longer than the limit of {limit} bytes"),
                    });
                    return Ok(());
                }
                LineEnd::TooLong => {
                    self.skip_long_line()?;
                    self.emit.item(Framed::Unreadable {
                        position: Position::Line(line_no),
                        reason: format!("line longer than the limit of {limit} bytes"),
                    });
                    continue;
                }
            };
            let avail = self.s.available();
            let line = trimmed(avail.get(..len).unwrap_or_default());
            let json = match prefixed {
                false => Some(line.clone()),
                true => avail
                    .get(line.clone())
                    .and_then(|l| memchr::memchr(b'{', l))
                    .map(|at| line.start + at..line.end),
            };
            match json {
                Some(json) if !json.is_empty() => {
                    let (block, range) = self.s.shared(json);
                    self.emit.shared(Position::Line(line_no), block, range);
                }
                None if !line.is_empty() => self.emit.item(Framed::Unreadable {
                    position: Position::Line(line_no),
                    reason: "no JSON object after the line's prefix".to_string(),
                }),
                _ => {}
            }
            match end {
                LineEnd::Newline(len) => self.s.consume_line(len + 1),
                _ => {
                    self.s.consume(len);
                    return Ok(());
                }
            }
        }
    }

    /// Consume up to and including the next newline, keeping nothing.
    fn skip_long_line(&mut self) -> Result<(), FrameError> {
        loop {
            let avail = self.s.available();
            if let Some(p) = memchr::memchr(b'\n', avail) {
                self.s.consume(p + 1);
                return Ok(());
            }
            let n = avail.len();
            self.s.consume(n);
            if !self.fill_more()? {
                return Ok(());
            }
        }
    }

    /// Consume one JSON value (positioned on its first byte).
    fn scan_value(&mut self, what: &'static str) -> Result<(), FrameError> {
        let mut scan = ValueScan::new();
        loop {
            let avail = self.s.available();
            if avail.is_empty() {
                if self.fill_more()? {
                    continue;
                }
                if scan.may_end_at_eof() {
                    return Ok(());
                }
                return Err(self.truncated(what));
            }
            match scan.feed(avail) {
                Feed::Done(n) => {
                    self.s.consume(n);
                    return Ok(());
                }
                Feed::NeedMore => {
                    let n = avail.len();
                    self.s.consume(n);
                }
            }
        }
    }

    /// Consume one object key (positioned on its `"`) and return its first bytes, quotes
    /// included.
    fn read_key(&mut self) -> Result<Vec<u8>, FrameError> {
        const KEPT: usize = 64;
        let mut key = Vec::new();
        let mut scan = ValueScan::new();
        loop {
            let avail = self.s.available();
            if avail.is_empty() {
                if self.fill_more()? {
                    continue;
                }
                return Err(self.truncated("an object key"));
            }
            let (n, done) = match scan.feed(avail) {
                Feed::Done(n) => (n, true),
                Feed::NeedMore => (avail.len(), false),
            };
            let room = KEPT.saturating_sub(key.len());
            key.extend_from_slice(avail.get(..n.min(room)).unwrap_or_default());
            self.s.consume(n);
            if done {
                return Ok(key);
            }
        }
    }

    /// Positioned on `{`: a single record, or an envelope whose array is streamed.
    fn object(&mut self) -> Result<(), FrameError> {
        let start_line = self.s.line();
        self.s.start_recording(self.opts.max_record_bytes);
        self.s.consume(1);
        while let Some(key) = self.next_key("a JSON object")? {
            let value_start = self.skip_ws()?;
            let envelope = match key.as_slice() {
                b"\"value\"" => Some(Container::OdataPage),
                b"\"records\"" => Some(Container::DiagnosticRecords),
                b"\"Results\"" | b"\"results\"" => Some(Container::HuntingResults),
                _ => None,
            };
            let answer = match key.as_slice() {
                b"\"tables\"" => Some(false),
                b"\"Tables\"" => Some(true),
                _ => None,
            };
            if let (Some(kusto), Some(b'[')) = (answer, value_start) {
                let _ = self.s.stop_recording();
                self.container = match kusto {
                    true => Container::KustoQuery,
                    false => Container::LogAnalyticsQuery,
                };
                self.query_tables(kusto)?;
                return self.rest_of_answer();
            }
            if let (b"\"hits\"", Some(b'{')) = (key.as_slice(), value_start) {
                let _ = self.s.stop_recording();
                self.container = Container::ElasticHits;
                self.search_hits()?;
                self.skip_rest_of_object()?;
                return self.expect_end("search answer");
            }
            if let (Some(container), Some(b'[')) = (envelope, value_start) {
                let _ = self.s.stop_recording();
                self.container = container;
                self.array_elements()?;
                self.skip_rest_of_object()?;
                return self.expect_end("envelope object");
            }
            self.scan_value("a JSON object")?;
            self.after_value("a JSON object")?;
        }
        let recorded = self.s.stop_recording();
        let more = self.skip_ws()?.is_some();
        self.container = if more {
            Container::JsonLines
        } else {
            Container::JsonObject
        };
        self.emit_recorded(Position::Line(start_line), recorded);
        if more {
            self.lines(false)
        } else {
            Ok(())
        }
    }

    /// After an envelope's array: skip the remaining members up to the closing `}`.
    fn skip_rest_of_object(&mut self) -> Result<(), FrameError> {
        loop {
            self.after_value("the envelope object")?;
            if self.next_key("the envelope object")?.is_none() {
                return Ok(());
            }
            self.scan_value("the envelope object")?;
        }
    }

    /// Inside an object (of `what`), before a member or its end: the next member's key, its
    /// value next, or `None` at the closing `}` (consumed).
    fn next_key(&mut self, what: &'static str) -> Result<Option<Vec<u8>>, FrameError> {
        match self.skip_ws()? {
            None => return Err(self.truncated(what)),
            Some(b'}') => {
                self.s.consume(1);
                return Ok(None);
            }
            Some(b'"') => {}
            Some(_) => return Err(self.syntax("expected an object key")),
        }
        let key = self.read_key()?;
        if self.skip_ws()? != Some(b':') {
            return Err(self.syntax("expected ':' after an object key"));
        }
        self.s.consume(1);
        if self.skip_ws()?.is_none() {
            return Err(self.truncated(what));
        }
        Ok(Some(key))
    }

    /// After a member's value in an object (of `what`): its `,` (consumed), or the closing
    /// `}` (left for [`Framer::next_key`]).
    fn after_value(&mut self, what: &'static str) -> Result<(), FrameError> {
        match self.skip_ws()? {
            Some(b',') => {
                self.s.consume(1);
                Ok(())
            }
            Some(b'}') => Ok(()),
            None => Err(self.truncated(what)),
            Some(_) => Err(self.syntax("expected ',' or '}' in an object")),
        }
    }

    /// Positioned on `[`: hand out each element with its index.
    fn array_elements(&mut self) -> Result<(), FrameError> {
        self.array_elements_from(0).map(|_| ())
    }

    /// [`Framer::array_elements`], numbering from `index`; returns the next number.
    fn array_elements_from(&mut self, mut index: u64) -> Result<u64, FrameError> {
        self.s.consume(1);
        loop {
            match self.skip_ws()? {
                None => return Err(self.truncated("a JSON array")),
                Some(b']') => {
                    self.s.consume(1);
                    return Ok(index);
                }
                Some(_) => {}
            }
            self.s.start_recording(self.opts.max_record_bytes);
            let scanned = self.scan_value("a JSON array");
            let recorded = self.s.stop_recording();
            if let Err(err) = scanned {
                if matches!(err, FrameError::Truncated { .. }) {
                    self.emit.item(Framed::Unreadable {
                        position: Position::Index(index),
                        reason: "record cut off by the end of the input".to_string(),
                    });
                }
                return Err(err);
            }
            self.emit_recorded(Position::Index(index), recorded);
            index += 1;
            match self.skip_ws()? {
                Some(b',') => self.s.consume(1),
                Some(b']') => {
                    self.s.consume(1);
                    return Ok(index);
                }
                None => return Err(self.truncated("a JSON array")),
                Some(_) => return Err(self.syntax("expected ',' or ']' after an array element")),
            }
        }
    }

    fn emit_recorded(&mut self, position: Position, recorded: Recorded) {
        match recorded {
            Recorded::Bytes(bytes) => self.emit.item(Framed::Record {
                position,
                payload: Payload::Json(&bytes),
            }),
            Recorded::TooLarge => self.emit.item(Framed::Unreadable {
                position,
                reason: format!(
                    "record larger than the limit of {} bytes",
                    self.opts.max_record_bytes
                ),
            }),
        }
    }

    fn expect_end(&mut self, what: &'static str) -> Result<(), FrameError> {
        match self.skip_ws()? {
            None => Ok(()),
            Some(_) => Err(FrameError::TrailingContent {
                what,
                line: self.s.line(),
            }),
        }
    }

    /// Neither `{` nor `[`: CSV, YAML test cases, or something unreadable.
    fn text(&mut self) -> Result<(), FrameError> {
        let mut nl = self.sniff_first_line()?;
        // Windows PowerShell 5.1's `Export-Csv` (without `-NoTypeInformation`) writes the
        // objects' type first: `#TYPE Microsoft.Graph.PowerShell.Models.MicrosoftGraphSignIn`.
        while let Some(n) = nl.filter(|_| self.s.available().starts_with(b"#TYPE ")) {
            self.s.consume_line(n + 1);
            nl = self.sniff_first_line()?;
        }
        let avail = self.s.available();
        let first_line = match nl {
            Some(nl) => avail.get(..nl).unwrap_or_default(),
            None => avail,
        };
        let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
        if let Some(reason) = binary_reason(first_line) {
            self.container = Container::Unrecognized;
            return Err(FrameError::Unrecognized(reason));
        }
        if json_behind_prefix(first_line) {
            self.container = Container::PrefixedJsonLines;
            return self.lines(true);
        }
        let yaml = looks_like_yaml(first_line);
        if yaml && self.opts.yaml_test_cases {
            self.container = Container::YamlTestCases;
            return self.yaml();
        }
        if memchr::memchr(b',', first_line).is_some() && !yaml {
            self.container = Container::Csv;
            return self.csv();
        }
        self.container = Container::Unrecognized;
        let shown =
            String::from_utf8_lossy(first_line.get(..60).unwrap_or(first_line)).into_owned();
        Err(FrameError::Unrecognized(if yaml {
            format!(
                "YAML (first line {shown:?}); Panther rule test cases are read with --test-cases"
            )
        } else {
            format!("first line {shown:?} is neither JSON nor a CSV header")
        }))
    }

    /// Each row after the header, cut where it ends and handed out as a range of the read
    /// block (the decoding thread splits it into fields), as the `csv` crate's reader read
    /// them (see [`csv_rows`]).
    fn csv(&mut self) -> Result<(), FrameError> {
        // Errors carry the line the `csv` crate's reader gave its I/O errors here before
        // (which have no position of their own): the lines before the CSV's first.
        let line_offset = self.s.line().saturating_sub(1);
        let failed = |source: io::Error| FrameError::Io {
            offset: 0,
            line: line_offset,
            source,
        };
        let limit = self.opts.max_record_bytes;
        let too_large = || {
            failed(io::Error::other(format!(
                "a CSV record is larger than the limit of {limit} bytes"
            )))
        };
        let mut layout: Option<Arc<CsvLayout>> = None;
        let mut fields = RowFields::default();
        loop {
            if self.s.available().is_empty() && !self.s.fill_more().map_err(failed)? {
                return Ok(());
            }
            // Empty lines, and the `\n` of a CRLF.
            loop {
                let avail = self.s.available();
                match avail.iter().position(|b| !matches!(b, b'\n' | b'\r')) {
                    Some(n) => {
                        self.s.consume(n);
                        break;
                    }
                    None => {
                        let n = avail.len();
                        self.s.consume(n);
                        if !self.s.fill_more().map_err(failed)? {
                            return Ok(());
                        }
                    }
                }
            }
            // The row's own line: that of its first byte, past any empty lines before it.
            let line = self.s.line();
            let mut row_end = csv_rows::RowEnd::new();
            let mut searched = 0;
            let end = loop {
                let avail = self.s.available();
                if let Some(p) = avail.get(searched..).and_then(|r| row_end.find(r)) {
                    break Some(searched + p);
                }
                searched = avail.len();
                if searched > limit {
                    return Err(too_large());
                }
                if !self.s.fill_more().map_err(failed)? {
                    break None;
                }
            };
            let len = end.unwrap_or(searched);
            if len > limit {
                return Err(too_large());
            }
            match &layout {
                None => {
                    let header = fields.split(self.s.available().get(..len).unwrap_or_default());
                    // Shared with the batches that carry this file's rows to the decoding
                    // threads.
                    layout = Some(Arc::new(CsvLayout::new(header)));
                }
                // Only the last row can end inside quotes: a line end inside them is part of
                // the field.
                Some(_) if end.is_none() && row_end.in_quotes() => {
                    self.emit.item(Framed::Unreadable {
                        position: Position::Line(line),
                        reason: "unclosed quote: a quoted field runs from this row to the end of the file"
                            .to_string(),
                    });
                }
                Some(layout) => {
                    let (block, range) = self.s.shared(0..len);
                    self.emit
                        .csv(Position::Line(line), layout, block, range, &mut fields);
                }
            }
            match end {
                Some(len) => self.s.consume(len + 1),
                None => {
                    self.s.consume(len);
                    return Ok(());
                }
            }
        }
    }

    fn yaml(&mut self) -> Result<(), FrameError> {
        let limit = self.opts.max_record_bytes;
        // The size is checked before each read, so a file already read whole by the sniffer
        // is held to the limit too (found by fuzzing: the outcome depended on read sizes).
        loop {
            if self.s.available().len() > limit {
                return Err(FrameError::Yaml(format!(
                    "file larger than the limit of {limit} bytes"
                )));
            }
            if !self.fill_more()? {
                break;
            }
        }
        let doc: serde_yaml::Value = serde_yaml::from_slice(self.s.available())
            .map_err(|e| FrameError::Yaml(e.to_string()))?;
        let Some(tests) = doc.get("Tests").and_then(|t| t.as_sequence()) else {
            return Err(FrameError::Yaml("no `Tests` list".to_string()));
        };
        for (i, test) in tests.iter().enumerate() {
            let position = Position::Index(i as u64);
            let json = match test.get("Log") {
                Some(serde_yaml::Value::String(text)) => Ok(text.clone().into_bytes()),
                Some(log) => serde_json::to_vec(log).map_err(|e| format!("test case Log: {e}")),
                None => Err("test case has no `Log`".to_string()),
            };
            match json {
                Ok(bytes) => self.emit.item(Framed::Record {
                    position,
                    payload: Payload::Json(&bytes),
                }),
                Err(reason) => self.emit.item(Framed::Unreadable { position, reason }),
            }
        }
        let n = self.s.available().len();
        self.s.consume(n);
        Ok(())
    }
}

/// How the search for the end of a line ended.
enum LineEnd {
    /// A newline after this many bytes.
    Newline(usize),
    /// The end of the input after this many bytes.
    Eof(usize),
    /// No newline within the record limit.
    TooLong,
}

/// Where `b` is once JSON whitespace is trimmed from both ends.
fn trimmed(b: &[u8]) -> Range<usize> {
    let start = b.iter().position(|c| !is_json_space(*c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_json_space(*c))
        .map_or(start, |i| i + 1);
    start..end
}

/// Why a first line looks like binary data rather than text, if it does.
fn binary_reason(first_line: &[u8]) -> Option<String> {
    let head = first_line.get(..1024).unwrap_or(first_line);
    let control = head
        .iter()
        .any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7f);
    let bad_utf8 = match std::str::from_utf8(head) {
        Ok(_) => false,
        // A multi-byte character cut by the 1 KiB window is not evidence of binary data.
        Err(e) => e.error_len().is_some(),
    };
    if !(control || bad_utf8) {
        return None;
    }
    let shown: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Some(format!("binary data (starts with {})", shown.join(" ")))
}

/// A line that is a prefix without quotes or commas (a syslog header, a timestamp and a
/// host) and then one complete JSON object running to the end of the line.
fn json_behind_prefix(line: &[u8]) -> bool {
    let Some(brace) = memchr::memchr(b'{', line) else {
        return false;
    };
    let (prefix, json) = line.split_at(brace);
    let plain = !prefix.is_empty() && !prefix.iter().any(|b| matches!(b, b'"' | b',' | b'['));
    plain
        && value_end(json).is_some_and(|end| {
            json.get(end..)
                .unwrap_or_default()
                .iter()
                .all(|b| is_json_space(*b))
        })
}

/// `key: ...` or a `---` document marker.
fn looks_like_yaml(first_line: &[u8]) -> bool {
    if first_line.starts_with(b"---") || first_line.starts_with(b"%YAML") {
        return true;
    }
    let Some(colon) = memchr::memchr(b':', first_line) else {
        return false;
    };
    let key = first_line.get(..colon).unwrap_or_default();
    let after = first_line.get(colon + 1).copied();
    !key.is_empty()
        && key
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && key
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' ' | b'.'))
        && matches!(after, None | Some(b' ' | b'\t'))
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Arc;

    use proptest::prelude::*;
    use tokentrail_model::Position::Line;

    use super::stream::tests::Pieces;
    use super::*;

    /// One framed item: its position, its text or why it is unreadable, and for a record
    /// handed out as part of a block, which block (numbered in the order they appeared) and
    /// where in it.
    type Seen = (
        Position,
        Result<String, String>,
        Option<(usize, Range<usize>)>,
    );

    /// A sink that keeps blocks the way the decoding pipeline does: the last `hold` records'
    /// blocks are held, older ones are checked (a held block must never be written again)
    /// and given back to the recycler.
    struct Holding<'r> {
        seen: Vec<Seen>,
        blocks: Vec<Block>,
        held: VecDeque<(Block, Range<usize>, String)>,
        hold: usize,
        recycler: &'r Recycler,
    }

    impl Holding<'_> {
        fn release(&mut self, keep: usize) {
            while self.held.len() > keep {
                let Some((block, range, text)) = self.held.pop_front() else {
                    return;
                };
                assert_eq!(String::from_utf8_lossy(&block[range]), text);
                self.recycler.give(block);
            }
        }
    }

    impl Sink for Holding<'_> {
        fn item(&mut self, item: Framed<'_>) {
            self.seen.push(match item {
                Framed::Record {
                    position,
                    payload: Payload::Json(bytes),
                } => (position, Ok(String::from_utf8_lossy(bytes).into()), None),
                Framed::Record { position, .. } => (position, Err("CSV".into()), None),
                Framed::Unreadable { position, reason } => (position, Err(reason), None),
            });
        }

        fn shared(&mut self, position: Position, block: &Block, range: Range<usize>) {
            let (number, text) = self.hold(block, &range);
            self.seen.push((position, Ok(text), Some((number, range))));
        }

        fn csv(
            &mut self,
            position: Position,
            _layout: &Arc<CsvLayout>,
            block: &Block,
            range: Range<usize>,
            fields: &mut RowFields,
        ) {
            let (number, _) = self.hold(block, &range);
            let row = fields.split(&block[range.clone()]);
            self.seen
                .push((position, Ok(show_row(row)), Some((number, range))));
        }
    }

    impl Holding<'_> {
        /// Holds the block a record is `range` of; its number, and the record's text.
        fn hold(&mut self, block: &Block, range: &Range<usize>) -> (usize, String) {
            // Numbering the blocks keeps every one alive (a freed block's address may come
            // back), so only a sink that holds them all numbers them.
            let number = match self.blocks.iter().position(|b| Arc::ptr_eq(b, block)) {
                Some(n) => n,
                None if self.hold == usize::MAX => {
                    self.blocks.push(Arc::clone(block));
                    self.blocks.len() - 1
                }
                None => 0,
            };
            let text: String = String::from_utf8_lossy(&block[range.clone()]).into();
            self.held
                .push_back((Arc::clone(block), range.clone(), text.clone()));
            self.release(self.hold);
            (number, text)
        }
    }

    /// A CSV row's fields, told apart whatever bytes they hold.
    fn show_row<'r>(row: impl IntoIterator<Item = &'r [u8]>) -> String {
        let fields: Vec<_> = row.into_iter().map(String::from_utf8_lossy).collect();
        format!("{fields:?}")
    }

    /// Frame `text` read in pieces of `sizes`, with a sink holding the last `hold` records'
    /// blocks (`usize::MAX`: every block to the end).
    fn frame_shared(
        text: &[u8],
        sizes: &[usize],
        max_record_bytes: usize,
        hold: usize,
    ) -> Vec<Seen> {
        frame_shared_framing(text, sizes, max_record_bytes, hold).0
    }

    /// [`frame_shared`] without where in the blocks each record was.
    fn frame_cuts(text: &[u8], sizes: &[usize], max_record_bytes: usize, hold: usize) -> Vec<Cut> {
        frame_shared(text, sizes, max_record_bytes, hold)
            .into_iter()
            .map(|(position, item, _)| (position, item))
            .collect()
    }

    /// [`frame_shared`], and why framing stopped early if it did.
    fn frame_shared_framing(
        text: &[u8],
        sizes: &[usize],
        max_record_bytes: usize,
        hold: usize,
    ) -> (Vec<Seen>, Option<String>) {
        let recycler = Recycler::default();
        let mut sink = Holding {
            seen: Vec::new(),
            blocks: Vec::new(),
            held: VecDeque::new(),
            hold,
            recycler: &recycler,
        };
        let opts = FrameOptions {
            max_record_bytes,
            ..FrameOptions::default()
        };
        let mut reader = Pieces::new(text, sizes);
        let framing = frame_into(&mut reader, &opts, &mut sink, Some(&recycler));
        sink.release(0);
        (sink.seen, framing.error.map(|e| e.to_string()))
    }

    /// Frame the concatenation of `reads`, one read each, with every block held to the end.
    fn frame_reads<S: AsRef<str>>(reads: &[S], max_record_bytes: usize) -> Vec<Seen> {
        let sizes: Vec<usize> = reads.iter().map(|r| r.as_ref().len()).collect();
        let text: String = reads.iter().map(AsRef::as_ref).collect();
        frame_shared(text.as_bytes(), &sizes, max_record_bytes, usize::MAX)
    }

    fn shared(position: Position, text: &str, block: usize, range: Range<usize>) -> Seen {
        (position, Ok(text.into()), Some((block, range)))
    }

    /// Lines cut by reads: a line cut in two is carried into the next block (and only it),
    /// a line ending exactly where a read ends and one starting exactly where a read starts
    /// are ranges of their blocks, CRLF is trimmed, and the last line needs no newline.
    #[test]
    fn lines_are_ranges_of_the_blocks_they_were_read_into() {
        let pad = format!("{{\"pad\":\"{}\"}}", "x".repeat(4100));
        // The first read holds what the sniffer looks at (the first line and 4 KiB more).
        let reads = [
            format!("{{\"n\":1}}\n{pad}\n{{\"n\":3,\"cut\":"),
            "true}\n{\"n\":4}\n".to_string(),
            "{\"n\":5}\r\n".to_string(),
            "{\"n\":6}".to_string(),
        ];
        assert_eq!(
            frame_reads(&reads, DEFAULT_MAX_RECORD_BYTES),
            vec![
                shared(Line(1), "{\"n\":1}", 0, 0..7),
                shared(Line(2), &pad, 0, 8..4118),
                shared(Line(3), "{\"n\":3,\"cut\":true}", 1, 0..18),
                shared(Line(4), "{\"n\":4}", 1, 19..26),
                shared(Line(5), "{\"n\":5}", 2, 0..7),
                shared(Line(6), "{\"n\":6}", 3, 0..7),
            ]
        );
    }

    /// A line over the record limit that runs across reads is reported at its line and
    /// skipped; the line after it is read from where the skipping left the block.
    #[test]
    fn a_line_over_the_limit_across_blocks_is_skipped() {
        let reads = [
            format!("{{\"n\":1}}\n{}{{\"long\":\"", "\n".repeat(4100)),
            "x".repeat(20),
            "\"}\n{\"n\":3}\n".to_string(),
        ];
        assert_eq!(
            frame_reads(&reads, 16),
            vec![
                shared(Line(1), "{\"n\":1}", 0, 0..7),
                (
                    Line(4102),
                    Err("line longer than the limit of 16 bytes".into()),
                    None
                ),
                shared(Line(4103), "{\"n\":3}", 1, 3..10),
            ]
        );
    }

    /// Lines behind a forwarder's prefix are ranges from their `{` on, in whichever block
    /// the line ended up.
    #[test]
    fn prefixed_lines_are_ranges_after_their_prefix() {
        let reads = [
            "P1 HOST {\"a\":1}\nP2 HOST {\"a\"",
            ":2}\n<134>Feb host: {\"a\":3}\n",
            "P4 -- MARK --\n",
        ];
        assert_eq!(
            frame_reads(&reads, DEFAULT_MAX_RECORD_BYTES),
            vec![
                shared(Line(1), "{\"a\":1}", 0, 8..15),
                shared(Line(2), "{\"a\":2}", 1, 8..15),
                shared(Line(3), "{\"a\":3}", 1, 31..38),
                (
                    Line(4),
                    Err("no JSON object after the line's prefix".into()),
                    None
                ),
            ]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the reads and however long the sink holds blocks (blocks coming back
        /// through the recycler with old bytes in them), JSON lines, plain or behind a
        /// prefix, are framed exactly as when the whole input is read at once and every
        /// record is copied out.
        #[test]
        fn shared_blocks_frame_as_one_read_does(
            lines in proptest::collection::vec((0usize..400, 0u8..6), 1..60),
            last_newline in any::<bool>(),
            sizes in proptest::collection::vec(1usize..900, 1..6),
            max_record_bytes in 40usize..600,
            hold in 0usize..4,
            prefixed in any::<bool>(),
        ) {
            let mut text = String::new();
            for (i, (len, shape)) in lines.iter().enumerate() {
                if prefixed && *shape > 0 {
                    text.push_str("2025-02-02T00:27:59+08:00 HOST ");
                }
                match shape {
                    0 => {}
                    1 => text.push_str("   "),
                    _ => text.push_str(&format!("{{\"i\":{i},\"p\":\"{}\"}}", "y".repeat(*len))),
                }
                text.push_str(if *shape == 3 { "\r\n" } else { "\n" });
            }
            if !last_newline {
                text.pop();
            }
            let opts = FrameOptions { max_record_bytes, ..FrameOptions::default() };
            let mut expected = Vec::new();
            frame(&mut text.as_bytes(), &opts, &mut |item| match item {
                Framed::Record { position, payload: Payload::Json(b) } => {
                    expected.push((position, Ok(String::from_utf8_lossy(b).into_owned())))
                }
                Framed::Record { position, .. } => expected.push((position, Err("CSV".into()))),
                Framed::Unreadable { position, reason } => expected.push((position, Err(reason))),
            });
            let got = frame_cuts(text.as_bytes(), &sizes, max_record_bytes, hold);
            prop_assert_eq!(got, expected);
        }

        /// Whatever the reads, however long the sink holds blocks and whatever the record
        /// limit, a CSV file's rows are those the `csv` crate reads from the whole text, at
        /// the lines the framer gave them when it read through the crate, with an unclosed
        /// quote and a record over the limit reported as it reported them.
        #[test]
        fn query_answers_frame_the_same_whatever_the_reads(
            tables in proptest::collection::vec(
                (
                    1usize..4,
                    proptest::collection::vec(
                        proptest::collection::vec(0usize..VALUES.len(), 0..5),
                        0..6,
                    ),
                ),
                0..4,
            ),
            kusto in any::<bool>(),
            spaced in any::<bool>(),
            sizes in proptest::collection::vec(1usize..40, 1..6),
            hold in 0usize..4,
        ) {
            let (text, expected) = query_answer(&tables, kusto, if spaced { " \n " } else { "" });
            let got = frame_cuts(text.as_bytes(), &sizes, DEFAULT_MAX_RECORD_BYTES, hold);
            prop_assert_eq!(got, expected);
        }

        /// Damaged answers and search answers (bytes deleted, replaced, inserted) frame the
        /// same whatever the reads, and never panic.
        #[test]
        fn damaged_answers_frame_the_same_whatever_the_reads(
            kind in 0usize..3,
            edits in proptest::collection::vec(
                (0usize..400, proptest::sample::select(b"[]{},:\"\\ a1\n".to_vec()), 0u8..3),
                0..6,
            ),
            sizes in proptest::collection::vec(1usize..30, 1..4),
            max_record_bytes in 8usize..200,
        ) {
            let tables = vec![(2, vec![vec![0, 1], vec![5]]), (1, vec![vec![3]])];
            let mut text = match kind {
                0 => query_answer(&tables, false, " ").0,
                1 => query_answer(&tables, true, "").0,
                _ => r#"{"took":1,"hits":{"total":2,"hits":[{"_source":{"a":"]"}},{"_id":"b"}]},"x":[]}"#.to_string(),
            }
            .into_bytes();
            for (at, byte, op) in edits {
                let at = at % (text.len() + 1);
                match op {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 if at < text.len() => text[at] = byte,
                    _ => text.insert(at, byte),
                }
            }
            let whole = frame_shared_framing(&text, &[usize::MAX], max_record_bytes, usize::MAX);
            let pieces = frame_shared_framing(&text, &sizes, max_record_bytes, 1);
            let strip = |(seen, error): (Vec<Seen>, Option<String>)| {
                let seen: Vec<_> = seen.into_iter().map(|(p, item, _)| (p, item)).collect();
                (seen, error)
            };
            prop_assert_eq!(strip(pieces), strip(whole));
        }

        #[test]
        fn csv_rows_are_the_csv_crates(
            lead in proptest::sample::select(vec!["", "\u{feff}", "\n\r\n", " \t"]),
            body in proptest::collection::vec(
                proptest::sample::select(b"xxxyyyy\"\"\"\"\"\",,,,\n\n\r\r".to_vec()),
                0..300,
            ),
            sizes in proptest::collection::vec(1usize..60, 1..6),
            max_record_bytes in 0usize..80,
            hold in 0usize..4,
        ) {
            let mut text = format!("{lead}a,b").into_bytes();
            text.extend_from_slice(&body);
            let (expected, error) = csv_crate_framing(&text, max_record_bytes);
            let (got, got_error) = frame_shared_framing(&text, &sizes, max_record_bytes, hold);
            let got: Vec<_> = got.into_iter().map(|(position, item, _)| (position, item)).collect();
            prop_assert_eq!(got, expected);
            prop_assert_eq!(got_error, error);
        }
    }

    /// Row values, as JSON: escapes, brackets inside strings, nesting, every scalar.
    const VALUES: [&str; 8] = [
        r#""a""#,
        r#""]},\"[""#,
        "-12.5e3",
        "null",
        "true",
        r#"{"x":[1,"]"]}"#,
        r#""{\"deviceId\":\"d\"}""#,
        "[]",
    ];

    /// A query answer of `tables` (each its number of columns and its rows, each row the
    /// indices of its values in [`VALUES`]), with `space` between every token, and what
    /// framing it must give: each row that fits its columns as their object, each other as
    /// unreadable, numbered on across tables.
    fn query_answer(
        tables: &[(usize, Vec<Vec<usize>>)],
        kusto: bool,
        space: &str,
    ) -> (String, Vec<Cut>) {
        let (tables_key, name, columns_key, column, rows_key) = match kusto {
            true => ("Tables", "TableName", "Columns", "ColumnName", "Rows"),
            false => ("tables", "name", "columns", "name", "rows"),
        };
        let mut expected = Vec::new();
        let mut text = format!("{{{space}\"{tables_key}\"{space}:{space}[");
        for (t, (width, rows)) in tables.iter().enumerate() {
            let names: Vec<String> = (0..*width).map(|c| format!("\"c{t}\\\"{c}\"")).collect();
            let columns: Vec<String> = names
                .iter()
                .map(|n| format!("{{\"{column}\":{space}{n},\"type\":\"string\"}}"))
                .collect();
            if t > 0 {
                text.push(',');
            }
            text.push_str(&format!(
                "{space}{{\"{name}\":\"T{t}\",{space}\"{columns_key}\":[{}],{space}\"{rows_key}\":{space}[",
                columns.join(&format!(",{space}"))
            ));
            for (r, row) in rows.iter().enumerate() {
                let values: Vec<&str> = row.iter().map(|v| VALUES[*v]).collect();
                if r > 0 {
                    text.push_str(&format!("{space},"));
                }
                text.push_str(&format!(
                    "{space}[{space}{}{space}]",
                    values.join(&format!("{space},{space}"))
                ));
                let position = Position::Index(expected.len() as u64);
                expected.push((
                    position,
                    if values.len() == *width {
                        let members: Vec<String> = names
                            .iter()
                            .zip(&values)
                            .map(|(n, v)| format!("{n}:{v}"))
                            .collect();
                        Ok(format!("{{{}}}", members.join(",")))
                    } else {
                        Err(format!(
                            "row has {} values, the table has {width} columns",
                            values.len()
                        ))
                    },
                ));
            }
            text.push_str(&format!("]{space}}}"));
        }
        text.push_str(&format!("]{space}}}"));
        (text, expected)
    }

    /// An answer cut into reads at every byte, and in two at every byte: the same rows.
    #[test]
    fn a_query_answer_read_one_byte_at_a_time_or_cut_anywhere_frames_the_same() {
        let tables = vec![
            (2, vec![vec![0, 1], vec![5], vec![6, 2]]),
            (1, vec![vec![3], vec![4, 7]]),
        ];
        for kusto in [false, true] {
            let (text, expected) = query_answer(&tables, kusto, " ");
            for hold in [0, usize::MAX] {
                let got = frame_cuts(text.as_bytes(), &[1], DEFAULT_MAX_RECORD_BYTES, hold);
                assert_eq!(got, expected);
            }
            for cut in 1..text.len() {
                let got = frame_cuts(
                    text.as_bytes(),
                    &[cut, text.len()],
                    DEFAULT_MAX_RECORD_BYTES,
                    1,
                );
                assert_eq!(got, expected, "cut at {cut}");
            }
        }
    }

    /// A search answer cut in two at every byte, and read a byte at a time: its hits, and
    /// nothing of the rest of the answer.
    #[test]
    fn a_search_answer_cut_anywhere_frames_its_hits() {
        let hits = [
            r#"{"_id":"a","_source":{"event":{"original":"{\"hits\":[1]}"}}}"#,
            r#"{"_id":"b","_source":{"hits":{"hits":[]}}}"#,
        ];
        let text = format!(
            r#"{{"took":1,"hits":{{"total":{{"value":2}},"hits":[ {}, {} ],"max_score":1}},"aggregations":{{"hits":[9]}}}}"#,
            hits[0], hits[1]
        );
        let expected = vec![
            (Position::Index(0), Ok(hits[0].to_string())),
            (Position::Index(1), Ok(hits[1].to_string())),
        ];
        for sizes in (1..text.len())
            .map(|cut| vec![cut, text.len()])
            .chain([vec![1]])
        {
            let got = frame_cuts(text.as_bytes(), &sizes, DEFAULT_MAX_RECORD_BYTES, 1);
            assert_eq!(got, expected, "{sizes:?}");
        }
    }

    /// A record's position, and its text or why it is unreadable.
    type Cut = (Position, Result<String, String>);

    /// What framing `text` gives, by the `csv` crate: the rows after the header, each at the
    /// line of its first byte (past the empty lines the crate skips before it), the last
    /// replaced by a report when the text ends inside quotes, and rows up to the first record
    /// (the header included) over the limit, which stops framing.
    fn csv_crate_framing(text: &[u8], limit: usize) -> (Vec<Cut>, Option<String>) {
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        let skipped = text
            .iter()
            .take_while(|b| stream::is_json_space(**b))
            .count();
        let line_offset = text[..skipped].iter().filter(|b| **b == b'\n').count() as u64;
        let text = &text[skipped..];
        let records = csv_rows::tests::csv_crate_records(text, true);
        let (lengths, in_quotes) = csv_rows::tests::records_one_byte_at_a_time(text);
        assert_eq!(lengths.len(), records.len() + 1);
        let mut rows: Vec<_> = records
            .iter()
            .map(|(at, fields)| {
                let start = *at as usize
                    + text[*at as usize..]
                        .iter()
                        .take_while(|b| matches!(b, b'\n' | b'\r'))
                        .count();
                let newlines = text[..start].iter().filter(|b| **b == b'\n').count();
                let line = Line(line_offset + 1 + newlines as u64);
                (line, Ok(show_row(fields.iter().map(Vec::as_slice))))
            })
            .collect();
        if in_quotes {
            if let Some(last) = rows.last_mut() {
                last.1 = Err(
                    "unclosed quote: a quoted field runs from this row to the end of the file"
                        .into(),
                );
            }
        }
        match lengths.iter().position(|&len| len > limit) {
            Some(over) => {
                rows.truncate(over.saturating_sub(1));
                let error = format!(
                    "read error at byte 0 (line {line_offset}): a CSV record is larger than the limit of {limit} bytes"
                );
                (rows, Some(error))
            }
            None => (rows, None),
        }
    }
}
