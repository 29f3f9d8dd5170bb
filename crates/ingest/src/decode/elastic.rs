//! Elastic's copies of the logs: Elasticsearch search hits (`{"_index","_id","_source"}`, from a
//! search answer, Kibana or `elasticdump`) and the ECS documents of Elastic's Azure and
//! Microsoft 365 integrations. With `preserve_original_event` the integrations keep the record
//! as it arrived in `event.original` (field names from elastic/integrations,
//! `packages/azure/data_stream/signinlogs/_dev/test/pipeline/*-expected.json`): that text is
//! read as the record it is, as a forwarder's `_raw` is. Without it only ECS fields are left
//! (`azure.signinlogs.properties.*` in snake case, `source.ip`, `@timestamp`), which this
//! reader does not map: such a document is named, with what to export instead.

use super::collect::Rec;

/// The kind of an ECS document that does not keep its original record.
pub(crate) const WITHOUT_ORIGINAL: &str = "elastic-ecs-without-event.original";

/// What to do about records of `kind`, when there is something to do.
pub fn advice(kind: &str) -> Option<&'static str> {
    (kind == WITHOUT_ORIGINAL).then_some(
        "Elastic documents without event.original: re-export with the integration's \
         preserve_original_event on, or export the raw logs",
    )
}

/// The raw record an Elastic hit or ECS document keeps (`_source.event.original`, or
/// `event.original` of a document saved without its hit), `Err` with the kind of a hit that
/// keeps none, `None` for a record that is neither.
pub(super) fn original<'r>(rec: &'r Rec<'_>) -> Option<Result<&'r str, &'static str>> {
    let document = rec.elastic_source.as_deref();
    let event = document.unwrap_or(rec).elastic_event.as_deref();
    match event
        .and_then(|e| e.original.as_ref())
        .and_then(|v| v.str())
    {
        Some(raw) => Some(Ok(raw)),
        None if document.is_some() => Some(Err(WITHOUT_ORIGINAL)),
        None => None,
    }
}
