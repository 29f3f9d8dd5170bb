//! The timeline: one entry per record, each marked with the findings that cite it, for an
//! investigation's records or for the whole tenant.

use std::collections::{BTreeSet, HashMap};

use tokentrail_engine::Detection;
use tokentrail_model::{Access, Finding, NetworkId, SessionId, SignIn, SourceRef, TokenId};

use crate::chain::Record;
use crate::context::Context;
use crate::{RecordCounts, TimelineEntry};

/// What a finding points at, to mark the records it cites.
pub(crate) struct FindingMarks<'a> {
    pub(crate) finding: &'a Finding,
    sources: BTreeSet<&'a SourceRef>,
}

impl FindingMarks<'_> {
    /// Cited by source, by token, or by session on the finding's network: a session finding is
    /// about the foreign use, not the user's own records in the same session.
    fn cites(
        &self,
        record: &Record<'_>,
        token: Option<&TokenId>,
        network: Option<NetworkId>,
    ) -> bool {
        let f = self.finding;
        self.sources.contains(record.source())
            || (f.token_id.is_some() && f.token_id.as_ref() == token)
            || (f.session_id.is_some()
                && f.session_id.as_ref() == record.session()
                && (f.network.is_none() || f.network == network))
    }
}

/// The findings, indexed by what they cite, so marking a record looks at its candidates only.
pub(crate) struct Marks<'a> {
    pub(crate) marks: Vec<FindingMarks<'a>>,
    by_source: HashMap<&'a SourceRef, Vec<usize>>,
    by_token: HashMap<&'a TokenId, Vec<usize>>,
    by_session: HashMap<&'a SessionId, Vec<usize>>,
}

impl<'a> Marks<'a> {
    pub(crate) fn new(findings: &'a [Finding]) -> Marks<'a> {
        let mut m = Marks {
            marks: Vec::with_capacity(findings.len()),
            by_source: HashMap::new(),
            by_token: HashMap::new(),
            by_session: HashMap::new(),
        };
        for (i, f) in findings.iter().enumerate() {
            let sources: BTreeSet<&SourceRef> = f
                .issue
                .iter()
                .map(|i| &i.source)
                .chain(
                    f.accesses
                        .iter()
                        .flat_map(|e| e.samples.iter().map(|s| &s.source)),
                )
                .collect();
            for s in &sources {
                m.by_source.entry(*s).or_default().push(i);
            }
            if let Some(t) = &f.token_id {
                m.by_token.entry(t).or_default().push(i);
            }
            if let Some(s) = &f.session_id {
                m.by_session.entry(s).or_default().push(i);
            }
            m.marks.push(FindingMarks {
                finding: f,
                sources,
            });
        }
        m
    }

    /// Indices of the findings citing `record`, ascending.
    pub(crate) fn citing(
        &self,
        record: &Record<'_>,
        token: Option<&TokenId>,
        network: Option<NetworkId>,
    ) -> Vec<usize> {
        let mut candidates: Vec<usize> = Vec::new();
        if let Some(v) = self.by_source.get(record.source()) {
            candidates.extend(v);
        }
        if let Some(v) = token.and_then(|t| self.by_token.get(t)) {
            candidates.extend(v);
        }
        if let Some(v) = record.session().and_then(|s| self.by_session.get(s)) {
            candidates.extend(v);
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|i| {
            self.marks
                .get(*i)
                .is_some_and(|m| m.cites(record, token, network))
        });
        candidates
    }
}

/// The timeline of some records and what it found on the way.
pub(crate) struct Marked {
    /// One entry per record, in the records' order.
    pub(crate) timeline: Vec<TimelineEntry>,
    pub(crate) counts: RecordCounts,
    /// Indices of the findings citing one of the records.
    pub(crate) cited: BTreeSet<usize>,
}

/// One timeline entry per record (in the order given), each with the findings citing it.
pub(crate) fn mark(records: &[Record<'_>], context: &Context, marks: &Marks<'_>) -> Marked {
    let mut counts = RecordCounts::default();
    let mut cited = BTreeSet::new();
    let timeline = records
        .iter()
        .map(|r| entry(r, context, marks, &mut counts, &mut cited))
        .collect();
    Marked {
        timeline,
        counts,
        cited,
    }
}

/// The timeline entry of one record, counted in `counts`, the findings citing it added to
/// `cited`.
fn entry(
    r: &Record<'_>,
    context: &Context,
    marks: &Marks<'_>,
    counts: &mut RecordCounts,
    cited: &mut BTreeSet<usize>,
) -> TimelineEntry {
    let dir = &context.dir;
    let token = r.token();
    let network = context.networks.of(r.ip());
    let citing = marks.citing(r, token.as_ref(), network);
    let mut ids: Vec<String> = citing
        .iter()
        .filter_map(|i| marks.marks.get(*i))
        .map(|m| m.finding.id.clone())
        .collect();
    cited.extend(citing);
    ids.sort();
    let (record, kind, operation) = match r {
        Record::SignIn(s) => {
            counts.sign_ins += 1;
            let resource = s.resource_name.as_ref().or(s.resource_id.as_ref());
            (
                "sign-in",
                s.kind.as_str().to_string(),
                resource.map_or_else(|| "sign-in".to_string(), |r| format!("sign-in to {r}")),
            )
        }
        Record::Access(a) => {
            counts.accesses += 1;
            ("access", a.log.as_str().to_string(), a.operation.clone())
        }
    };
    TimelineEntry {
        time: r.time(),
        record: record.to_string(),
        kind,
        operation,
        user: r.user(dir),
        ip: r.ip(),
        network,
        app: r.app(dir),
        session_id: r.session().cloned(),
        token_id: token,
        source: r.source().clone(),
        findings: ids,
    }
}

/// The whole tenant's timeline built record by record, from a reading of the inputs after the
/// one that gave the findings and the context: the entries of [`tenant_timeline`], without
/// holding the records themselves.
pub struct TenantTimeline<'a> {
    context: &'a Context,
    marks: Marks<'a>,
    entries: Vec<TimelineEntry>,
    counts: RecordCounts,
    cited: BTreeSet<usize>,
}

impl<'a> TenantTimeline<'a> {
    /// Ready for the records, with the `context` of all of them and the engine's run over them.
    pub fn new(context: &'a Context, detection: &'a Detection) -> TenantTimeline<'a> {
        TenantTimeline {
            context,
            marks: Marks::new(&detection.findings),
            entries: Vec::new(),
            counts: RecordCounts::default(),
            cited: BTreeSet::new(),
        }
    }

    /// The entry of a sign-in.
    pub fn add_sign_in(&mut self, s: &SignIn) {
        let e = entry(
            &Record::SignIn(s),
            self.context,
            &self.marks,
            &mut self.counts,
            &mut self.cited,
        );
        self.entries.push(e);
    }

    /// The entry of an access.
    pub fn add_access(&mut self, a: &Access) {
        let e = entry(
            &Record::Access(a),
            self.context,
            &self.marks,
            &mut self.counts,
            &mut self.cited,
        );
        self.entries.push(e);
    }

    /// Every entry by time, then source (as [`tenant_timeline`] orders its records).
    pub fn finish(self) -> Vec<TimelineEntry> {
        let mut entries = self.entries;
        entries.sort_by(|a, b| (a.time, &a.source).cmp(&(b.time, &b.source)));
        entries
    }
}

/// The timeline of the whole tenant: every sign-in and access, by time then source, each with
/// the findings of the engine's run over them citing it (and the network the run resolved), as
/// an investigation's timeline lists its own records.
pub fn tenant_timeline(
    sign_ins: &[SignIn],
    accesses: &[Access],
    detection: &Detection,
) -> Vec<TimelineEntry> {
    let context = Context::learn(sign_ins, accesses, detection.networks.clone());
    let mut timeline = TenantTimeline::new(&context, detection);
    sign_ins.iter().for_each(|s| timeline.add_sign_in(s));
    accesses.iter().for_each(|a| timeline.add_access(a));
    timeline.finish()
}
