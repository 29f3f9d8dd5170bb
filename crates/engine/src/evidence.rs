//! Building the evidence a finding carries, and its deterministic id.

use std::collections::{BTreeMap, BTreeSet};

use tokentrail_model::{
    AccessEvidence, IssueEvidence, NetworkId, RuleId, SignIn, SourceRecord, Timestamp,
};

use crate::correlate::Context;

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
    let s: &SignIn = cx.sign_ins.get(idx)?;
    Some(IssueEvidence {
        source: s.source.clone(),
        sign_in_id: s.id.map(|g| g.to_string()),
        kind: s.kind,
        time: s.time,
        ip: s.ip,
        network: cx.sign_in_net(idx).map(|n| n.id),
        app_id: s.app_id.clone(),
        app_name: s.app_name.clone().or_else(|| {
            s.app_id
                .as_deref()
                .and_then(|a| cx.catalog.app_name(a))
                .map(String::from)
        }),
        device_id: s.device.id.clone(),
    })
}

/// Group records (already in time order or not) into one [`AccessEvidence`].
pub(crate) fn access_evidence(
    cx: &Context<'_>,
    network: Option<NetworkId>,
    recs: &[Rec],
) -> Option<AccessEvidence> {
    let mut samples: Vec<SourceRecord> = Vec::new();
    let mut ips = BTreeSet::new();
    let mut app_ids = BTreeSet::new();
    let mut ops: BTreeMap<String, u64> = BTreeMap::new();
    let mut operations = 0u64;
    let mut first: Option<Timestamp> = None;
    let mut last: Option<Timestamp> = None;
    for r in recs {
        let (sample, app, count) = match *r {
            Rec::SignIn(i) => {
                let s = cx.sign_ins.get(i)?;
                let op = format!("sign-in:{}", s.kind.as_str());
                (
                    SourceRecord {
                        source: s.source.clone(),
                        record_id: s.id.map(|g| g.to_string()),
                        time: s.time,
                        operation: op,
                        ip: s.ip,
                    },
                    s.app_id.clone(),
                    1,
                )
            }
            Rec::Access(i) => {
                let a = cx.accesses.get(i)?;
                (
                    SourceRecord {
                        source: a.source.clone(),
                        record_id: a.record_id.clone(),
                        time: a.time,
                        operation: a.operation.clone(),
                        ip: a.ip,
                    },
                    a.app_id.clone(),
                    a.count.max(1),
                )
            }
        };
        first = Some(first.map_or(sample.time, |f| f.min(sample.time)));
        last = Some(last.map_or(sample.time, |l| l.max(sample.time)));
        if let Some(ip) = sample.ip {
            ips.insert(ip);
        }
        if let Some(app) = app {
            app_ids.insert(app);
        }
        *ops.entry(sample.operation.clone()).or_default() += count;
        operations += count;
        samples.push(sample);
    }
    samples
        .sort_by(|a, b| (a.time, &a.source, &a.record_id).cmp(&(b.time, &b.source, &b.record_id)));
    samples.truncate(cx.thresholds.max_samples);
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
