//! Elastic's copies of the logs, as its Azure and Microsoft 365 integrations index them with
//! `preserve_original_event` on: each record a hit (`_index`, `_id`, `_source`) whose
//! `_source.event.original` is the record as it arrived (a diagnostic-settings record, a
//! Management Activity API record). Data stream names are the integrations' (elastic/
//! integrations, `packages/azure/data_stream/signinlogs`, `graphactivitylogs`,
//! `packages/o365/data_stream/audit`). Sign-ins and the UAL are written as `elasticdump` writes
//! an index (one hit per line), Graph activity as search answers (`{"hits":{"hits":[...]}}`).

use tokentrail_model::Timestamp;

use crate::timefmt;

/// The head of a search answer, up to its first hit (no `total`: the search did not track it).
pub(crate) const SEARCH_HEAD: &str = "{\"took\":7,\"timed_out\":false,\"_shards\":{\"total\":1,\"successful\":1,\"skipped\":0,\"failed\":0},\"hits\":{\"max_score\":1.0,\"hits\":[";

/// Write into `buf` the hit of `original` (a record's JSON text) indexed at `time` in the
/// integration's `dataset` (`azure.signinlogs`, `azure.graphactivitylogs`, `o365.audit`).
pub(crate) fn hit(buf: &mut String, dataset: &str, time: Timestamp, original: &str) {
    let day = timefmt::date(time).replace('-', ".");
    // The document id Elasticsearch would have made up: reproducible, from the record.
    let id = original.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let original = serde_json::Value::String(original.to_owned()).to_string();
    buf.push_str(&format!(
        "{{\"_index\":\".ds-logs-{dataset}-default-{day}-000001\",\"_id\":\"{id:016x}\",\"_score\":1.0,\"_source\":{{\"@timestamp\":\"{}\",\"data_stream\":{{\"dataset\":\"{dataset}\",\"namespace\":\"default\",\"type\":\"logs\"}},\"ecs\":{{\"version\":\"8.11.0\"}},\"event\":{{\"dataset\":\"{dataset}\",\"kind\":\"event\",\"original\":{original}}},\"tags\":[\"preserve_original_event\"]}}}}",
        timefmt::iso_z(time)
    ));
}
