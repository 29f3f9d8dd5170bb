//! A Kusto query answer saved as one record (a JSON line, an array element, a forwarder's
//! `_raw`), or one of its tables on its own (an Azure Data Explorer v2 `DataTable` frame, and
//! the table the framer hands on for each table ADX writes about the query). A whole answer in
//! its own file is streamed by the framer instead ([`crate::frame`]); both read a row through
//! the same [`Columns::record`], so a row decodes as its Log Analytics JSON line does.

use tokentrail_model::SourceRef;

use super::collect::Rec;
use super::{in_envelope, json_record, other_record, DecodeOptions};
use crate::frame::tables::{array_values, key_is, object_members, Columns, TableKind, NOT_ARRAYS};
use crate::{DecodeError, DecodedRecord, Disposition};

/// The record is an answer (`tables`) or a table (`columns` and `rows`).
pub(super) fn is_answer(rec: &Rec<'_>) -> bool {
    let array = |v: Option<&str>| v.is_some_and(|t| t.starts_with('['));
    let ext = rec.ext();
    array(ext.tables) || (array(ext.columns) && array(ext.rows))
}

/// What an ADX v2 frame that is not a whole table is: the answer's head and tail hold no
/// records; the frames of a progressive answer (a table's head, fragments of its rows, its
/// end) are not read.
pub(super) fn other_frame(rec: &Rec<'_>) -> Option<(Disposition, &'static str)> {
    let frame = rec.ext().frame_type.as_ref()?.str()?;
    Some(match frame {
        "TableHeader" | "TableFragment" | "TableProgress" | "TableCompletion" => {
            (Disposition::NotSupported, "kusto-progressive-frame")
        }
        _ => (Disposition::NotRelevant, "kusto-frame"),
    })
}

/// Every row of every table of the answer (or table) `text`, numbered on across tables; a
/// table about the query is one record of its kind.
pub(super) fn answer(
    text: &str,
    source: SourceRef,
    opts: &DecodeOptions,
    depth: u32,
    out: &mut dyn FnMut(Result<DecodedRecord, DecodeError>),
) {
    let mut index = 0u64;
    let fail = |index: u64, error: DecodeError| Err(in_envelope(index, error));
    let members = match object_members(text.as_bytes()) {
        Ok(m) => m,
        Err(e) => return out(fail(0, DecodeError::Json(e))),
    };
    let tables = match members.iter().find(|(k, _)| key_is(k, b"tables")) {
        Some((_, tables)) => match array_values(tables) {
            Ok(tables) => tables,
            Err(e) => return out(fail(0, DecodeError::Json(format!("the tables: {e}")))),
        },
        None => vec![text.as_bytes()],
    };
    let mut object = Vec::new();
    for table in tables {
        let members = match object_members(table) {
            Ok(m) => m,
            Err(e) => {
                out(fail(index, DecodeError::Json(format!("a table: {e}"))));
                index += 1;
                continue;
            }
        };
        let get = |name: &[u8]| members.iter().find(|(k, _)| key_is(k, name)).map(|m| m.1);
        let kusto = get(b"tablename").is_some() || get(b"tablekind").is_some();
        let columns = get(b"columns")
            .ok_or_else(|| "the table has no columns".to_string())
            .and_then(|c| Columns::read(c, kusto, get(b"tablekind")));
        if let Ok(Columns {
            kind: TableKind::QueryInfo(kind),
            ..
        }) = &columns
        {
            out(Ok(other_record(Disposition::NotRelevant, kind, None, None)));
            index += 1;
            continue;
        }
        let rows = match get(b"rows").map(array_values) {
            Some(Ok(rows)) => rows,
            Some(Err(_)) if get(b"rows").is_some_and(|r| r.first() == Some(&b'"')) => {
                out(fail(index, DecodeError::QueryRow(NOT_ARRAYS.into())));
                index += 1;
                continue;
            }
            Some(Err(e)) => {
                out(fail(
                    index,
                    DecodeError::Json(format!("a table's rows: {e}")),
                ));
                index += 1;
                continue;
            }
            None => Vec::new(),
        };
        for row in rows {
            let at = index;
            index += 1;
            match columns.as_ref().map(|c| c.record(row, &mut object)) {
                Ok(Ok(())) => json_record(&object, source.clone(), opts, depth + 1, &mut |r| {
                    out(r.map_err(|e| in_envelope(at, e)))
                }),
                Ok(Err(reason)) => out(fail(at, DecodeError::QueryRow(reason))),
                Err(reason) => out(fail(at, DecodeError::QueryRow(reason.clone()))),
            }
        }
    }
}
