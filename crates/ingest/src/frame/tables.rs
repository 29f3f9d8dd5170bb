//! The answers of the Kusto query APIs: tables of columns and rows, each row a record.
//!
//! - Log Analytics Query API (`api.loganalytics.io/v1/workspaces/{id}/query`, `az rest`,
//!   `Invoke-RestMethod`): `{"tables":[{"name","columns":[{"name","type"}],"rows":[[...]]}]}`.
//!   Dynamic columns come as JSON text, as in the portal's CSV export.
//! - Azure Data Explorer v1 REST (`/v1/rest/query`): `{"Tables":[{"TableName","Columns":
//!   [{"ColumnName","DataType","ColumnType"}],"Rows":[[...]]}]}`; after the query's tables ADX
//!   appends tables about the query itself (extended properties, the query status, a table of
//!   contents), which hold no records. v2 frames (`{"FrameType":"DataTable","TableKind",...}`)
//!   are tables of the same layout, one per array element.
//!
//! A row becomes the JSON object the same record is in Log Analytics JSON lines: each column's
//! name (its JSON string as the answer spells it) and the row's value, verbatim, so the
//! decoders read it exactly as they read that line. Only the row's own grammar is checked here
//! (an array of as many values as there are columns); the values are the decoder's.

use tokentrail_model::Position;

use super::scan::value_end;
use super::stream::{is_json_space, Recorded};
use super::{FrameError, Framed, Framer};
use crate::Payload;

impl Framer<'_, '_, '_> {
    /// Positioned on the `[` of an answer's tables: each table's rows, numbered on from one
    /// table to the next, and one record for each table about the query.
    pub(super) fn query_tables(&mut self, kusto: bool) -> Result<(), FrameError> {
        self.s.consume(1);
        let mut next = 0u64;
        loop {
            match self.skip_ws()? {
                None => return Err(self.truncated("the tables of a query answer")),
                Some(b']') => {
                    self.s.consume(1);
                    return Ok(());
                }
                Some(b'{') => self.query_table(kusto, &mut next)?,
                Some(_) => return Err(self.syntax("expected a table object")),
            }
            match self.skip_ws()? {
                Some(b',') => self.s.consume(1),
                Some(b']') => {
                    self.s.consume(1);
                    return Ok(());
                }
                None => return Err(self.truncated("the tables of a query answer")),
                Some(_) => return Err(self.syntax("expected ',' or ']' after a table")),
            }
        }
    }

    /// After the tables: the rest of the answer up to its closing `}`; an `error` member (the
    /// Log Analytics Query API's "non-fatal error": the tables hold what the query returned
    /// before it failed, or up to the API's limits) makes the answer partial, reported once
    /// every row is handed out.
    pub(super) fn rest_of_answer(&mut self) -> Result<(), FrameError> {
        let mut partial = None;
        loop {
            self.after_value("the query answer")?;
            let Some(key) = self.next_key("the query answer")? else {
                break;
            };
            match self.recorded_value("the query answer")? {
                Recorded::Bytes(value) if key_is(&key, b"error") => {
                    partial = Some(error_text(&value));
                }
                Recorded::TooLarge if key_is(&key, b"error") => {
                    partial = Some("an error larger than the record limit".to_string());
                }
                _ => {}
            }
        }
        self.expect_end("query answer")?;
        match partial {
            Some(error) => Err(FrameError::PartialAnswer(error)),
            None => Ok(()),
        }
    }

    /// Positioned on a table's `{`: its rows streamed once its columns are known (rows that
    /// come first are held, up to the record limit, until they are).
    fn query_table(&mut self, kusto: bool, next: &mut u64) -> Result<(), FrameError> {
        self.s.consume(1);
        let mut columns: Option<Result<Columns, String>> = None;
        let mut kept: Vec<(&'static str, Vec<u8>)> = Vec::new();
        let mut held_rows: Option<Recorded> = None;
        let mut table_kind = None;
        while let Some(key) = self.next_key("a table")? {
            let name = ["name", "tablename", "tablekind", "columns"]
                .into_iter()
                .find(|k| key_is(&key, k.as_bytes()));
            if key_is(&key, b"rows") {
                match &columns {
                    Some(c) => self.query_rows(c, next)?,
                    None => held_rows = Some(self.recorded_value("a table's rows")?),
                }
                self.after_value("a table")?;
                continue;
            }
            match name {
                Some(name) => match self.recorded_value("a table")? {
                    Recorded::Bytes(value) => {
                        if name == "columns" {
                            let kind = table_kind.as_deref();
                            columns = Some(Columns::read(&value, kusto, kind));
                        } else if name == "tablekind" {
                            table_kind = Some(value.clone());
                        }
                        kept.push((name, value));
                    }
                    Recorded::TooLarge if name == "columns" => {
                        columns = Some(Err("the columns are larger than the record limit".into()))
                    }
                    Recorded::TooLarge => {}
                },
                None => self.scan_value("a table")?,
            }
            self.after_value("a table")?;
        }
        let columns = columns.unwrap_or_else(|| Err("the table has no columns".to_string()));
        // A table ADX wrote about the query: one record, its rows dropped.
        if let Ok(Columns {
            kind: TableKind::QueryInfo(_),
            ..
        }) = &columns
        {
            let mut table = b"{".to_vec();
            for (i, (name, value)) in kept.iter().enumerate() {
                if i > 0 {
                    table.push(b',');
                }
                table.extend_from_slice(format!("\"{name}\":").as_bytes());
                table.extend_from_slice(value);
            }
            table.extend_from_slice(b",\"rows\":[]}");
            let position = Position::Index(*next);
            *next += 1;
            self.emit.item(Framed::Record {
                position,
                payload: Payload::Json(&table),
            });
            return Ok(());
        }
        match held_rows {
            None => Ok(()),
            Some(Recorded::TooLarge) => {
                self.unreadable_row(next, format!(
                    "the rows of a table whose columns come after them, larger than the limit of {} bytes",
                    self.opts.max_record_bytes
                ));
                Ok(())
            }
            Some(Recorded::Bytes(rows)) => {
                match array_values(&rows) {
                    Ok(rows) => {
                        let mut object = Vec::new();
                        for row in rows {
                            self.table_row(&columns, row, next, &mut object);
                        }
                    }
                    Err(e) => self.unreadable_row(next, format!("the rows of a table: {e}")),
                }
                Ok(())
            }
        }
    }

    /// Positioned on a table's rows: each row's record, in order.
    fn query_rows(
        &mut self,
        columns: &Result<Columns, String>,
        next: &mut u64,
    ) -> Result<(), FrameError> {
        if let Ok(Columns {
            kind: TableKind::QueryInfo(_),
            ..
        }) = columns
        {
            return self.scan_value("a table's rows");
        }
        if self.skip_ws()? != Some(b'[') {
            // Text where the rows should be: PowerShell's `ConvertTo-Json` below the depth of
            // the rows writes each level it cuts as text.
            self.scan_value("a table's rows")?;
            let reason = match columns {
                Err(reason) => reason.clone(),
                Ok(_) => NOT_ARRAYS.to_string(),
            };
            self.unreadable_row(next, reason);
            return Ok(());
        }
        self.s.consume(1);
        let mut object = Vec::new();
        loop {
            match self.skip_ws()? {
                None => return Err(self.truncated("a table's rows")),
                Some(b']') => {
                    self.s.consume(1);
                    return Ok(());
                }
                Some(_) => {}
            }
            self.s.start_recording(self.opts.max_record_bytes);
            let scanned = self.scan_value("a table's rows");
            let recorded = self.s.stop_recording();
            if let Err(err) = scanned {
                if matches!(err, FrameError::Truncated { .. }) {
                    self.unreadable_row(next, "record cut off by the end of the input".into());
                }
                return Err(err);
            }
            match recorded {
                Recorded::Bytes(row) => self.table_row(columns, &row, next, &mut object),
                Recorded::TooLarge => self.unreadable_row(
                    next,
                    format!(
                        "record larger than the limit of {} bytes",
                        self.opts.max_record_bytes
                    ),
                ),
            }
            match self.skip_ws()? {
                Some(b',') => self.s.consume(1),
                Some(b']') => {
                    self.s.consume(1);
                    return Ok(());
                }
                None => return Err(self.truncated("a table's rows")),
                Some(_) => return Err(self.syntax("expected ',' or ']' after a row")),
            }
        }
    }

    /// One row: its record, or why it cannot be read.
    fn table_row(
        &mut self,
        columns: &Result<Columns, String>,
        row: &[u8],
        next: &mut u64,
        object: &mut Vec<u8>,
    ) {
        match columns.as_ref().map(|c| c.record(row, object)) {
            Ok(Ok(())) => {
                let position = Position::Index(*next);
                *next += 1;
                self.emit.item(Framed::Record {
                    position,
                    payload: Payload::Json(object),
                });
            }
            Ok(Err(reason)) => self.unreadable_row(next, reason),
            Err(reason) => self.unreadable_row(next, reason.clone()),
        }
    }

    fn unreadable_row(&mut self, next: &mut u64, reason: String) {
        let position = Position::Index(*next);
        *next += 1;
        self.emit.item(Framed::Unreadable { position, reason });
    }

    /// One value, recorded up to the record limit.
    fn recorded_value(&mut self, what: &'static str) -> Result<Recorded, FrameError> {
        self.s.start_recording(self.opts.max_record_bytes);
        let scanned = self.scan_value(what);
        let recorded = self.s.stop_recording();
        scanned.map(|()| recorded)
    }
}

/// A OneAPI error as text: its code and message, and the innermost error's, as far as they
/// are given (`{"code":"PartialError","message":...,"details":[{"innererror":...}]}`).
fn error_text(value: &[u8]) -> String {
    let Ok(error) = serde_json::from_slice::<serde_json::Value>(value) else {
        return String::from_utf8_lossy(value).chars().take(300).collect();
    };
    let mut parts = Vec::new();
    let mut at = Some(&error);
    // Nested `innererror`s and the first detail each, at most a few levels.
    for _ in 0..6 {
        let Some(e) = at else { break };
        for field in ["code", "message"] {
            if let Some(text) = e.get(field).and_then(|v| v.as_str()) {
                if !parts.iter().any(|p| p == text) {
                    parts.push(text.to_string());
                }
            }
        }
        at = e
            .get("innererror")
            .or_else(|| e.get("details").and_then(|d| d.get(0)));
    }
    match parts.is_empty() {
        true => String::from_utf8_lossy(value).chars().take(300).collect(),
        false => parts.join(": "),
    }
}

/// Why a table whose rows or columns are not arrays cannot be read.
pub(crate) const NOT_ARRAYS: &str = "the table's rows are not an array (a converter that cut the \
     answer's depth, such as ConvertTo-Json without a -Depth of 10, writes them as text)";

/// What a table of an answer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TableKind {
    /// The query's result: each row is a record.
    Records,
    /// A table ADX writes about the query (not records), named for reports.
    QueryInfo(&'static str),
}

/// The columns of one table: each name as its JSON string (quotes and escapes as written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Columns {
    names: Vec<Box<[u8]>>,
    /// What the table holds.
    pub(crate) kind: TableKind,
}

impl Columns {
    /// Read a table's `columns` array (`[{"name","type"}]` or `[{"ColumnName","DataType"}]`);
    /// `kusto` when the table is an ADX one (it has a `TableName` or `TableKind`), whose
    /// tables about the query are told from their columns; `table_kind` its v2 `TableKind`.
    pub(crate) fn read(
        columns: &[u8],
        kusto: bool,
        table_kind: Option<&[u8]>,
    ) -> Result<Columns, String> {
        let mut names = Vec::new();
        let columns = array_values(columns).map_err(|e| match columns.first() {
            Some(b'"') => NOT_ARRAYS.replace("rows are", "columns are"),
            _ => format!("the columns: {e}"),
        })?;
        for column in columns {
            let name = object_members(column)
                .map_err(|e| format!("column {}: {e}", names.len()))?
                .into_iter()
                .find(|(k, _)| key_is(k, b"name") || key_is(k, b"columnname"))
                .map(|(_, v)| v)
                .filter(|v| v.first() == Some(&b'"'))
                .ok_or_else(|| format!("column {} has no name", names.len()))?;
            names.push(Box::from(name));
        }
        let kind = match table_kind {
            Some(k) if !key_is(k, b"primaryresult") => {
                TableKind::QueryInfo(if key_is(k, b"queryproperties") {
                    "kusto-query-properties"
                } else if key_is(k, b"querycompletioninformation") {
                    "kusto-query-status"
                } else {
                    "kusto-query-info"
                })
            }
            _ if kusto => query_info(&names).map_or(TableKind::Records, TableKind::QueryInfo),
            _ => TableKind::Records,
        };
        Ok(Columns { names, kind })
    }

    /// Write the record `row` (a JSON array of one value per column) is, as a JSON object,
    /// into `out` (cleared first).
    pub(crate) fn record(&self, row: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let values = array_values(row).map_err(|e| format!("row: {e}"))?;
        if values.len() != self.names.len() {
            return Err(format!(
                "row has {} values, the table has {} columns",
                values.len(),
                self.names.len()
            ));
        }
        out.clear();
        out.reserve(row.len() + self.names.iter().map(|n| n.len() + 2).sum::<usize>());
        out.push(b'{');
        for (i, (name, value)) in self.names.iter().zip(values).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(name);
            out.push(b':');
            out.extend_from_slice(value);
        }
        out.push(b'}');
        Ok(())
    }
}

/// The tables ADX writes about a query, by their columns (Azure Data Explorer REST API
/// reference, "Query V1 response": the `@ExtendedProperties` table of `Value` (or `TableId`,
/// `Key`, `Value`), the `QueryStatus` table, and the table of contents of `Ordinal`, `Kind`,
/// `Name`, `Id`, `PrettyName`).
fn query_info(names: &[Box<[u8]>]) -> Option<&'static str> {
    let has = |n: &[u8]| names.iter().any(|c| key_is(c, n));
    if has(b"statuscode") && has(b"statusdescription") {
        Some("kusto-query-status")
    } else if has(b"ordinal") && has(b"kind") && has(b"prettyname") {
        Some("kusto-table-of-contents")
    } else if has(b"value") && names.len() == 1
        || names.len() == 3 && has(b"tableid") && has(b"key") && has(b"value")
    {
        Some("kusto-query-properties")
    } else {
        None
    }
}

/// A key (its JSON string, quotes included) equals `lower` ignoring ASCII case.
pub(crate) fn key_is(key: &[u8], lower: &[u8]) -> bool {
    key.strip_prefix(b"\"")
        .and_then(|k| k.strip_suffix(b"\""))
        .is_some_and(|k| k.eq_ignore_ascii_case(lower))
}

/// Skip JSON whitespace from `at`.
fn skip(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| is_json_space(*b)) {
        at += 1;
    }
    at
}

/// The values of a JSON array, each as its bytes; only the array's own grammar is checked.
pub(crate) fn array_values(bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut values = Vec::new();
    items(bytes, (b'[', b']', "a JSON array"), |at| {
        let (value, next) = value_at(bytes, at)?;
        values.push(value);
        Ok(next)
    })?;
    Ok(values)
}

/// One member of a JSON object: its key's JSON string and its value's bytes.
pub(crate) type Member<'a> = (&'a [u8], &'a [u8]);

/// The members of a JSON object.
pub(crate) fn object_members(bytes: &[u8]) -> Result<Vec<Member<'_>>, String> {
    let mut members = Vec::new();
    items(bytes, (b'{', b'}', "a JSON object"), |at| {
        if bytes.get(at) != Some(&b'"') {
            return Err(format!("expected an object key at byte {at}"));
        }
        let (key, next) = value_at(bytes, at)?;
        let at = skip(bytes, next);
        if bytes.get(at) != Some(&b':') {
            return Err(format!("expected ':' at byte {at}"));
        }
        let (value, next) = value_at(bytes, skip(bytes, at + 1))?;
        members.push((key, value));
        Ok(next)
    })?;
    Ok(members)
}

/// Walk the items of the container `bytes` is (its opening and closing bytes, and its name):
/// `item` reads the one at an offset and says where it ends.
fn items(
    bytes: &[u8],
    (open, close, name): (u8, u8, &str),
    mut item: impl FnMut(usize) -> Result<usize, String>,
) -> Result<(), String> {
    let mut at = skip(bytes, 0);
    if bytes.get(at) != Some(&open) {
        return Err(format!("not {name}"));
    }
    at = skip(bytes, at + 1);
    if bytes.get(at) == Some(&close) {
        return end_of(bytes, at + 1);
    }
    loop {
        at = skip(bytes, item(at)?);
        match bytes.get(at) {
            Some(b',') => at = skip(bytes, at + 1),
            Some(&b) if b == close => return end_of(bytes, at + 1),
            _ => return Err(format!("expected ',' or '{}' at byte {at}", close as char)),
        }
    }
}

/// The value starting at `at` and where it ends.
fn value_at(bytes: &[u8], at: usize) -> Result<(&[u8], usize), String> {
    let rest = bytes.get(at..).unwrap_or_default();
    match rest.first() {
        None => return Err("cut off".into()),
        Some(b',' | b']' | b'}' | b':') => return Err(format!("expected a value at byte {at}")),
        Some(_) => {}
    }
    // A bare scalar runs to the next delimiter; the end of the text is not one here.
    let end = value_end(rest)
        .filter(|&end| end < rest.len() || matches!(rest.get(end - 1), Some(b'"' | b'}' | b']')))
        .ok_or_else(|| "cut off".to_string())?;
    Ok((rest.get(..end).unwrap_or_default(), at + end))
}

/// Nothing but whitespace follows `at`.
fn end_of(bytes: &[u8], at: usize) -> Result<(), String> {
    match skip(bytes, at) == bytes.len() {
        true => Ok(()),
        false => Err(format!("content after the end at byte {at}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn la_columns(names: &[&str]) -> Columns {
        let cols: Vec<String> = names
            .iter()
            .map(|n| format!("{{\"name\":\"{n}\",\"type\":\"string\"}}"))
            .collect();
        Columns::read(format!("[{}]", cols.join(",")).as_bytes(), false, None).unwrap()
    }

    fn record(columns: &Columns, row: &str) -> Result<String, String> {
        let mut out = Vec::new();
        columns
            .record(row.as_bytes(), &mut out)
            .map(|()| String::from_utf8(out).unwrap())
    }

    #[test]
    fn a_row_is_the_object_of_its_columns() {
        let c = la_columns(&["TimeGenerated", "Count", "DeviceDetail", "Ok"]);
        assert_eq!(
            record(&c, r#"[ "2026-11-01T10:00:00Z" , 3, "{\"deviceId\":\"d\"}",null ]"#),
            Ok(r#"{"TimeGenerated":"2026-11-01T10:00:00Z","Count":3,"DeviceDetail":"{\"deviceId\":\"d\"}","Ok":null}"#.into())
        );
    }

    #[test]
    fn rows_that_do_not_fit_are_errors() {
        let c = la_columns(&["A", "B"]);
        assert_eq!(
            record(&c, r#"["a"]"#),
            Err("row has 1 values, the table has 2 columns".into())
        );
        assert_eq!(
            record(&c, r#"["a","b","c"]"#),
            Err("row has 3 values, the table has 2 columns".into())
        );
        assert_eq!(
            record(&c, r#"{"A":1}"#),
            Err("row: not a JSON array".into())
        );
        assert_eq!(
            record(&c, r#"["a",]"#),
            Err("row: expected a value at byte 5".into())
        );
        assert_eq!(
            record(&c, r#"["a" "b"]"#),
            Err("row: expected ',' or ']' at byte 5".into())
        );
        assert_eq!(record(&c, r#"["a",1"#), Err("row: cut off".into()));
    }

    #[test]
    fn adx_tables_about_the_query_are_told_from_their_columns() {
        let kind =
            |cols: &str, kusto: bool| Columns::read(cols.as_bytes(), kusto, None).unwrap().kind;
        let status = r#"[{"ColumnName":"Timestamp","DataType":"DateTime"},{"ColumnName":"Severity","DataType":"Int32"},{"ColumnName":"StatusCode","DataType":"Int32"},{"ColumnName":"StatusDescription","DataType":"String"}]"#;
        assert_eq!(
            kind(status, true),
            TableKind::QueryInfo("kusto-query-status")
        );
        assert_eq!(kind(status, false), TableKind::Records);
        let value = r#"[{"ColumnName":"Value","DataType":"String"}]"#;
        assert_eq!(
            kind(value, true),
            TableKind::QueryInfo("kusto-query-properties")
        );
        let toc = r#"[{"ColumnName":"Ordinal"},{"ColumnName":"Kind"},{"ColumnName":"Name"},{"ColumnName":"Id"},{"ColumnName":"PrettyName"}]"#;
        assert_eq!(
            kind(toc, true),
            TableKind::QueryInfo("kusto-table-of-contents")
        );
        let data = r#"[{"ColumnName":"TimeGenerated"},{"ColumnName":"Value"}]"#;
        assert_eq!(kind(data, true), TableKind::Records);
        let v2 = Columns::read(
            value.as_bytes(),
            true,
            Some(b"\"QueryCompletionInformation\""),
        );
        assert_eq!(v2.unwrap().kind, TableKind::QueryInfo("kusto-query-status"));
        assert_eq!(
            Columns::read(br#"[{"type":"string"}]"#, false, None),
            Err("column 0 has no name".into())
        );
    }
}
