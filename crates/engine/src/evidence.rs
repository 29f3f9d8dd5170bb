//! Building the evidence a finding carries, and its deterministic id.

use std::collections::{BTreeMap, BTreeSet};

use tokentrail_model::{AccessEvidence, IssueEvidence, NetworkId, RuleId, SourceRecord, Timestamp};

use crate::correlate::Context;
use crate::store::{src_key, SrcKey};

/// The finding id: the rule code and a 64-bit FNV-1a hash of the group key, in hex. FNV with its
/// fixed offset basis gives the same id on every run and every machine, whatever the input order.
pub(crate) fn finding_id(rule: RuleId, group_key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule.code().bytes().chain([0u8]).chain(group_key.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{}-{h:016x}", rule.code())
}

/// A record a finding covers: a sign-in or an access, by index into the context's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rec {
    SignIn(usize),
    Access(usize),
}

/// The issuing (or root) sign-in as evidence.
pub(crate) fn issue_evidence(cx: &Context<'_>, idx: usize) -> Option<IssueEvidence> {
    let s = cx.sign_ins.get(idx)?;
    Some(IssueEvidence {
        source: cx.store.source(s.src()),
        sign_in_id: s.id().map(|g| g.guid().to_string()),
        kind: s.kind,
        time: s.time,
        ip: cx.ip(s.ip),
        network: cx.sign_in_net(idx).map(|n| n.id),
        app_id: cx.owned(s.app_id),
        app_name: cx.owned(s.app_name).or_else(|| {
            cx.text(s.app_id)
                .and_then(|a| cx.catalog.app_name(a))
                .map(String::from)
        }),
        device_id: cx.owned(s.device_id),
    })
}

/// Group records (already in time order or not) into one [`AccessEvidence`].
pub(crate) fn access_evidence(
    cx: &Context<'_>,
    network: Option<NetworkId>,
    recs: &[Rec],
) -> Option<AccessEvidence> {
    // Samples are sorted by (time, source, record id) and cut to `max_samples`: only the
    // keys are sorted, and only the kept samples are built.
    let ranks = &cx.file_ranks;
    let mut keyed: Vec<(Timestamp, SrcKey, Option<String>, Rec)> = Vec::with_capacity(recs.len());
    let mut ips = BTreeSet::new();
    let mut app_ids = BTreeSet::new();
    let mut ops: BTreeMap<crate::store::Sym, (Option<String>, u64)> = BTreeMap::new();
    let mut sign_in_ops: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut operations = 0u64;
    let mut first: Option<Timestamp> = None;
    let mut last: Option<Timestamp> = None;
    for r in recs {
        let (time, src, record_id, ip, app, count) = match *r {
            Rec::SignIn(i) => {
                let s = cx.sign_ins.get(i)?;
                *sign_in_ops.entry(s.kind.as_str()).or_default() += 1;
                (
                    s.time,
                    s.src(),
                    s.id().map(|g| g.guid().to_string()),
                    s.ip,
                    s.app_id,
                    1,
                )
            }
            Rec::Access(i) => {
                let a = cx.accesses.get(i)?;
                let count = a.count.max(1);
                if let Some(op) = a.operation {
                    ops.entry(op).or_insert_with(|| (cx.owned(Some(op)), 0)).1 += count;
                }
                (
                    a.time,
                    a.src(),
                    cx.store.record_id(a.record_id()),
                    a.ip,
                    a.app_id,
                    count,
                )
            }
        };
        first = Some(first.map_or(time, |f| f.min(time)));
        last = Some(last.map_or(time, |l| l.max(time)));
        if let Some(ip) = cx.ip(ip) {
            ips.insert(ip);
        }
        if let Some(app) = cx.owned(app) {
            app_ids.insert(app);
        }
        operations += count;
        keyed.push((time, src_key(ranks, src), record_id, *r));
    }
    keyed.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    keyed.truncate(cx.thresholds.max_samples);
    let mut samples = Vec::with_capacity(keyed.len());
    for (time, _, record_id, r) in keyed {
        let (src, operation, ip) = match r {
            Rec::SignIn(i) => {
                let s = cx.sign_ins.get(i)?;
                (s.src(), format!("sign-in:{}", s.kind.as_str()), s.ip)
            }
            Rec::Access(i) => {
                let a = cx.accesses.get(i)?;
                (a.src(), cx.owned(a.operation).unwrap_or_default(), a.ip)
            }
        };
        samples.push(SourceRecord {
            source: cx.store.source(src),
            record_id,
            time,
            operation,
            ip: cx.ip(ip),
        });
    }
    let mut merged: BTreeMap<String, u64> = BTreeMap::new();
    for (text, n) in ops.into_values() {
        *merged.entry(text.unwrap_or_default()).or_default() += n;
    }
    for (kind, n) in sign_in_ops {
        *merged.entry(format!("sign-in:{kind}")).or_default() += n;
    }
    let ops = merged;
    let mut operation_counts: Vec<(String, u64)> = ops.into_iter().collect();
    operation_counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Some(AccessEvidence {
        network,
        ips: ips.into_iter().take(cx.thresholds.max_ips).collect(),
        first_seen: first?,
        last_seen: last?,
        records: recs.len() as u64,
        operations,
        operation_counts,
        app_ids: app_ids.into_iter().collect(),
        samples,
    })
}

/// The revoke step, with the user's object id when known.
pub(crate) fn revoke_step(user_id: Option<&str>) -> String {
    format!(
        "Revoke the user's refresh tokens and session cookies: POST /users/{}/revokeSignInSessions \
         (access tokens already issued stay valid until they expire, about an hour).",
        user_id.unwrap_or("{user-id}")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable() {
        assert_eq!(
            finding_id(RuleId::Tt001, "a|b"),
            finding_id(RuleId::Tt001, "a|b")
        );
        assert_ne!(
            finding_id(RuleId::Tt001, "a|b"),
            finding_id(RuleId::Tt002, "a|b")
        );
        // Pinned (computed independently): a change here changes every stored finding id.
        assert_eq!(
            finding_id(RuleId::Tt001, "tok|AS64501"),
            "TT001-81d03f51a2b37c08"
        );
    }
}
