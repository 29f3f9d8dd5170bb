//! Query API answers of the Log Analytics tables, as responders save them: the Log Analytics
//! Query API (`{"tables":[{"name","columns":[{"name","type"}],"rows":[[...]]}]}`, Azure Monitor
//! "Log Analytics API response format") and the Azure Data Explorer v1 REST API
//! (`{"Tables":[{"TableName","Columns":[{"ColumnName","DataType","ColumnType"}],"Rows"}]}`,
//! followed by the tables ADX writes about the query: `@ExtendedProperties`, `QueryStatus` and
//! the table of contents).
//!
//! One answer per table and day, of at most [`ANSWER_ROWS`] rows (the API caps an answer too):
//! the rows are held until the file is written, since the columns, which come first, are the
//! union of the rows' fields. A row holds the same values as the table's JSON line; objects and
//! arrays (dynamic columns) are JSON text, as both APIs write them; a field a row lacks is `""`
//! in a string column and `null` in any other.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::{Map, Value};

use crate::{FileSummary, SimError};

/// Rows per answer at most; a day with more is written in several answers.
pub(crate) const ANSWER_ROWS: usize = 20_000;

/// Which API wrote the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// The Log Analytics Query API.
    LogAnalytics,
    /// Azure Data Explorer's v1 REST API.
    KustoV1,
}

/// One answer being filled.
struct Pending {
    family: &'static str,
    format: &'static str,
    dialect: Dialect,
    rows: Vec<Map<String, Value>>,
    kinds: BTreeMap<String, u64>,
    parts: u32,
}

/// The answers being filled, by the path they are written at without its part number.
#[derive(Default)]
pub(crate) struct Answers {
    pending: BTreeMap<String, Pending>,
}

/// Where an answer goes and what it holds.
pub(crate) struct Target {
    /// Path relative to the output directory, without the part number and extension.
    pub(crate) base: String,
    /// The family it was written as.
    pub(crate) family: &'static str,
    /// The format name.
    pub(crate) format: &'static str,
    /// The API.
    pub(crate) dialect: Dialect,
}

impl Answers {
    /// Add the Log Analytics JSON `record` (of `kind`) `copies` times to the answer `to`;
    /// an answer that is full is written.
    pub(crate) fn push(
        &mut self,
        root: &Path,
        to: Target,
        record: &str,
        kind: &str,
        copies: usize,
    ) -> Result<Option<FileSummary>, SimError> {
        let row: Map<String, Value> = serde_json::from_str(record)
            .map_err(|_| SimError::Internal("a Log Analytics record is not a JSON object"))?;
        let answer = self.pending.entry(to.base.clone()).or_insert(Pending {
            family: to.family,
            format: to.format,
            dialect: to.dialect,
            rows: Vec::new(),
            kinds: BTreeMap::new(),
            parts: 0,
        });
        for _ in 0..copies {
            answer.rows.push(row.clone());
            *answer.kinds.entry(kind.to_owned()).or_default() += 1;
        }
        if answer.rows.len() < ANSWER_ROWS {
            return Ok(None);
        }
        write(root, &to.base, answer).map(Some)
    }

    /// Write every answer being filled.
    pub(crate) fn flush(&mut self, root: &Path) -> Result<Vec<FileSummary>, SimError> {
        let mut done = Vec::new();
        for (base, mut answer) in std::mem::take(&mut self.pending) {
            if !answer.rows.is_empty() {
                done.push(write(root, &base, &mut answer)?);
            }
        }
        Ok(done)
    }
}

/// The type of a column, from its first value that is not null: Kusto's name, and the .NET
/// type ADX v1 also writes.
fn column_type(rows: &[Map<String, Value>], column: &str) -> (&'static str, &'static str) {
    let value = rows
        .iter()
        .filter_map(|r| r.get(column))
        .find(|v| !v.is_null());
    match value {
        Some(Value::String(s)) if looks_like_time(s) => ("datetime", "DateTime"),
        Some(Value::Number(n)) if n.is_f64() => ("real", "Double"),
        Some(Value::Number(_)) => ("long", "Int64"),
        Some(Value::Bool(_)) => ("bool", "Boolean"),
        Some(Value::Object(_) | Value::Array(_)) => ("dynamic", "Object"),
        _ => ("string", "String"),
    }
}

/// `2024-03-01T10:00:00...`.
fn looks_like_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && b.iter().take(4).all(u8::is_ascii_digit)
}

/// A row's cell: dynamic values as JSON text, a missing field empty.
fn cell(value: Option<&Value>, kusto_type: &str) -> Value {
    match value {
        Some(v @ (Value::Object(_) | Value::Array(_))) => Value::String(v.to_string()),
        Some(v) => v.clone(),
        None if kusto_type == "string" => Value::String(String::new()),
        None => Value::Null,
    }
}

/// Write `answer`'s rows as its next part; its summary.
fn write(root: &Path, base: &str, answer: &mut Pending) -> Result<FileSummary, SimError> {
    answer.parts += 1;
    let rel = format!("{base}-{:03}.json", answer.parts);
    let path = root.join(&rel);
    let io = |source| SimError::Io {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|source| SimError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let rows = std::mem::take(&mut answer.rows);
    let mut names: Vec<&str> = Vec::new();
    for row in &rows {
        for key in row.keys() {
            if !names.contains(&key.as_str()) {
                names.push(key);
            }
        }
    }
    let types: Vec<_> = names.iter().map(|n| column_type(&rows, n)).collect();
    let kusto = answer.dialect == Dialect::KustoV1;
    let columns: Vec<Value> = names
        .iter()
        .zip(&types)
        .map(|(name, (kql, dotnet))| match kusto {
            true => serde_json::json!({"ColumnName": name, "DataType": dotnet, "ColumnType": kql}),
            false => serde_json::json!({"name": name, "type": kql}),
        })
        .collect();
    let mut w = BufWriter::with_capacity(1 << 16, File::create(&path).map_err(io)?);
    let (tables, name, cols, rows_key) = match kusto {
        true => ("Tables", "\"TableName\":\"Table_0\"", "Columns", "Rows"),
        false => ("tables", "\"name\":\"PrimaryResult\"", "columns", "rows"),
    };
    let head = format!(
        "{{\"{tables}\":[{{{name},\"{cols}\":{},\"{rows_key}\":[",
        Value::Array(columns)
    );
    let write_all = |w: &mut BufWriter<File>| -> std::io::Result<()> {
        w.write_all(head.as_bytes())?;
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<Value> = names
                .iter()
                .zip(&types)
                .map(|(n, (kql, _))| cell(row.get(*n), kql))
                .collect();
            w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *w, &cells)?;
        }
        w.write_all(b"\n]}")?;
        if kusto {
            w.write_all(query_tables(base, rows.len()).as_bytes())?;
        }
        w.write_all(b"]}\n")?;
        w.flush()
    };
    write_all(&mut w).map_err(io)?;
    Ok(FileSummary {
        path: rel,
        family: answer.family.to_owned(),
        format: answer.format.to_owned(),
        records: rows.len() as u64,
        kinds: std::mem::take(&mut answer.kinds),
    })
}

/// The tables ADX v1 appends after the query's: extended properties, the query status and the
/// table of contents (column names and types from Azure Data Explorer's "Query V1 response"),
/// with ids made from the answer's path so that a run is reproducible.
fn query_tables(base: &str, rows: usize) -> String {
    let seed = base.bytes().fold(0xad5u64, |h, b| {
        h.wrapping_mul(0x100_0000_01b3) ^ u64::from(b)
    });
    let mut rng = crate::rng::Rng::stream(seed, &[rows as u64]);
    let ids: Vec<String> = (0..6).map(|_| rng.guid().to_string()).collect();
    let col = |name: &str, dotnet: &str, kql: &str| {
        format!("{{\"ColumnName\":\"{name}\",\"DataType\":\"{dotnet}\",\"ColumnType\":\"{kql}\"}}")
    };
    let properties = format!(
        ",\n{{\"TableName\":\"Table_1\",\"Columns\":[{}],\"Rows\":[[\"{{\\\"Visualization\\\":null,\\\"Title\\\":null}}\"]]}}",
        col("Value", "String", "string")
    );
    let status_columns = [
        col("Timestamp", "DateTime", "datetime"),
        col("Severity", "Int32", "int"),
        col("SeverityName", "String", "string"),
        col("StatusCode", "Int32", "int"),
        col("StatusDescription", "String", "string"),
        col("Count", "Int32", "int"),
        col("RequestId", "Guid", "guid"),
        col("ActivityId", "Guid", "guid"),
        col("SubActivityId", "Guid", "guid"),
        col("ClientActivityId", "String", "string"),
    ];
    let status = format!(
        ",\n{{\"TableName\":\"Table_2\",\"Columns\":[{}],\"Rows\":[[\"2024-03-10T00:00:00.0000000Z\",4,\"Info\",0,\"Query completed successfully\",1,\"{}\",\"{}\",\"{}\",\"KD2RunQuery;{}\"]]}}",
        status_columns.join(","),
        ids[0],
        ids[1],
        ids[2],
        ids[3]
    );
    let toc_columns = [
        col("Ordinal", "Int64", "long"),
        col("Kind", "String", "string"),
        col("Name", "String", "string"),
        col("Id", "String", "string"),
        col("PrettyName", "String", "string"),
    ];
    let toc = format!(
        ",\n{{\"TableName\":\"Table_3\",\"Columns\":[{}],\"Rows\":[[0,\"QueryResult\",\"PrimaryResult\",\"{}\",\"\"],[1,\"QueryProperties\",\"@ExtendedProperties\",\"{}\",\"\"],[2,\"QueryStatus\",\"QueryStatus\",\"{}\",\"\"]]}}\n",
        toc_columns.join(","),
        ids[4],
        ids[5],
        ids[0]
    );
    format!("{properties}{status}{toc}")
}
