//! Building the evidence a finding carries, and its deterministic id.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use tokentrail_model::{AccessEvidence, IssueEvidence, NetworkId, RuleId, SourceRecord, Timestamp};

use crate::correlate::Context;
use crate::store::{src_key, AccessRec, Src, SrcKey, Sym};

/// The finding id: the rule code, `-`, and the first 16 hex digits (64 bits) of the SHA-256 of
/// `CODE:GROUP_KEY` (UTF-8). The same id on every run and machine, whatever the input order;
/// and the same id the rules' Spark SQL (`sha2(..., 256)`) and KQL (`hash_sha256`) forms
/// compute, so a finding found on a cluster is the finding `detect` gives. (Until issue 16 ids
/// were FNV-1a 64 of `CODE\0GROUP_KEY`, which neither engine computes natively.)
pub(crate) fn finding_id(rule: RuleId, group_key: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let digest = Sha256::new()
        .chain_update(rule.code())
        .chain_update(":")
        .chain_update(group_key)
        .finalize();
    let mut id = format!("{}-", rule.code());
    for b in digest.iter().take(8) {
        let _ = write!(id, "{b:02x}");
    }
    id
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

/// How two accesses are ordered everywhere a finding says "first": by time, then log and
/// record id, then content, and only then where they were read (file name, position) and the
/// order they were added: renaming or merging files never changes what a finding cites first.
pub(crate) fn access_cmp(cx: &Context<'_>, a: &AccessRec, b: &AccessRec) -> Ordering {
    let ranks = &cx.file_ranks;
    a.time
        .cmp(&b.time)
        .then_with(|| {
            (a.log, cx.store.record_id(a.record_id()))
                .cmp(&(b.log, cx.store.record_id(b.record_id())))
        })
        .then_with(|| {
            cx.store
                .access_fingerprint(a)
                .cmp(&cx.store.access_fingerprint(b))
        })
        .then_with(|| src_key(ranks, a.src()).cmp(&src_key(ranks, b.src())))
        .then(a.seq.cmp(&b.seq))
}

/// The first record of a group that logged an address, as a finding's `src_ip`: by time, a
/// sign-in before an access at the same time.
#[derive(Clone, Debug)]
enum FirstIp {
    SignIn(Timestamp, usize),
    Access(AccessRec),
}

/// The records one finding covers, gathered as they are judged (in any order) into exactly
/// what its evidence and allowlist scope need: counts, first and last time, addresses, clients,
/// operations, the earliest samples and the first access. A group of a million records costs
/// its distinct values, not its records.
#[derive(Clone, Debug, Default)]
pub(crate) struct Gathered {
    sign_ins: u64,
    accesses: u64,
    operations: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    ips: BTreeSet<Sym>,
    apps: BTreeSet<Sym>,
    service_principals: BTreeSet<Sym>,
    ops: BTreeMap<Sym, u64>,
    sign_in_ops: BTreeMap<&'static str, u64>,
    /// The earliest records by (time, record id, source), at most `max_samples`, in order.
    samples: Vec<(Timestamp, Option<String>, SrcKey, SourceRecord)>,
    first_ip: Option<(FirstIp, Sym)>,
    first_access: Option<AccessRec>,
    sign_in_with_device: bool,
}

impl Gathered {
    fn saw(&mut self, time: Timestamp, ip: Option<Sym>, app: Option<Sym>, sp: Option<Sym>) {
        self.first = Some(self.first.map_or(time, |f| f.min(time)));
        self.last = Some(self.last.map_or(time, |l| l.max(time)));
        self.ips.extend(ip);
        self.apps.extend(app);
        self.service_principals.extend(sp);
    }

    /// Keep a sample when it is among the earliest `max_samples`; its record id (text) is only
    /// worked out when the time and source could place it there.
    fn sample(
        &mut self,
        cx: &Context<'_>,
        time: Timestamp,
        src: Src,
        record_id: impl FnOnce() -> Option<String>,
        build: impl FnOnce(Option<String>) -> SourceRecord,
    ) {
        let max = cx.thresholds.max_samples;
        if max == 0 {
            return;
        }
        let key = src_key(&cx.file_ranks, src);
        if self.samples.len() >= max && self.samples.last().is_some_and(|w| w.0 < time) {
            return;
        }
        let rid = record_id();
        let at = self
            .samples
            .partition_point(|s| (s.0, &s.1, s.2) <= (time, &rid, key));
        if at >= max {
            return;
        }
        let record = build(rid.clone());
        self.samples.insert(at, (time, rid, key, record));
        self.samples.truncate(max);
    }

    /// A sign-in the finding covers.
    pub fn sign_in(&mut self, cx: &Context<'_>, i: usize) {
        let Some(s) = cx.sign_ins.get(i) else {
            return;
        };
        self.sign_ins += 1;
        self.operations += 1;
        *self.sign_in_ops.entry(s.kind.as_str()).or_default() += 1;
        self.sign_in_with_device |= s.device_id.is_some();
        self.saw(s.time, s.ip, s.app_id, s.service_principal_id);
        if let Some(ip) = s.ip {
            let earlier = match &self.first_ip {
                None => true,
                Some((FirstIp::SignIn(t, j), _)) => (s.time, i) < (*t, *j),
                Some((FirstIp::Access(a), _)) => s.time <= a.time,
            };
            if earlier {
                self.first_ip = Some((FirstIp::SignIn(s.time, i), ip));
            }
        }
        self.sample(
            cx,
            s.time,
            s.src(),
            || s.id().map(|g| g.guid().to_string()),
            |record_id| SourceRecord {
                source: cx.store.source(s.src()),
                record_id,
                time: s.time,
                operation: format!("sign-in:{}", s.kind.as_str()),
                ip: cx.ip(s.ip),
            },
        );
    }

    /// An access the finding covers.
    pub fn access(&mut self, cx: &Context<'_>, a: &AccessRec) {
        self.accesses += 1;
        let count = a.count.max(1);
        self.operations += count;
        if let Some(op) = a.operation {
            *self.ops.entry(op).or_default() += count;
        }
        self.saw(a.time, a.ip, a.app_id, a.service_principal_id);
        if let Some(ip) = a.ip {
            let earlier = match &self.first_ip {
                None => true,
                Some((FirstIp::SignIn(t, _), _)) => a.time < *t,
                Some((FirstIp::Access(b), _)) => access_cmp(cx, a, b).is_lt(),
            };
            if earlier {
                self.first_ip = Some((FirstIp::Access(a.clone()), ip));
            }
        }
        if self
            .first_access
            .as_ref()
            .is_none_or(|b| access_cmp(cx, a, b).is_lt())
        {
            self.first_access = Some(a.clone());
        }
        self.sample(
            cx,
            a.time,
            a.src(),
            || cx.store.record_id(a.record_id()),
            |record_id| SourceRecord {
                source: cx.store.source(a.src()),
                record_id,
                time: a.time,
                operation: cx.owned(a.operation).unwrap_or_default(),
                ip: cx.ip(a.ip),
            },
        );
    }

    /// Records gathered.
    pub fn len(&self) -> u64 {
        self.sign_ins + self.accesses
    }

    /// Sign-ins gathered.
    pub fn sign_ins(&self) -> u64 {
        self.sign_ins
    }

    /// Accesses gathered.
    pub fn accesses(&self) -> u64 {
        self.accesses
    }

    /// True when some gathered sign-in logged a device id.
    pub fn sign_in_with_device(&self) -> bool {
        self.sign_in_with_device
    }

    /// The first access (see [`access_cmp`]).
    pub fn first_access(&self) -> Option<&AccessRec> {
        self.first_access.as_ref()
    }

    /// The address of the first record that logged one.
    pub fn first_ip(&self, cx: &Context<'_>) -> Option<std::net::IpAddr> {
        cx.ip(self.first_ip.as_ref().map(|f| f.1))
    }

    /// Address handles seen.
    pub fn ip_handles(&self) -> impl Iterator<Item = Sym> + '_ {
        self.ips.iter().copied()
    }

    /// Client id handles seen.
    pub fn app_handles(&self) -> impl Iterator<Item = Sym> + '_ {
        self.apps.iter().copied()
    }

    /// Service principal handles seen.
    pub fn service_principal_handles(&self) -> impl Iterator<Item = Sym> + '_ {
        self.service_principals.iter().copied()
    }

    /// The evidence of the gathered records.
    pub fn evidence(&self, cx: &Context<'_>, network: Option<NetworkId>) -> Option<AccessEvidence> {
        let ips: BTreeSet<std::net::IpAddr> =
            self.ips.iter().filter_map(|s| cx.ip(Some(*s))).collect();
        let app_ids: BTreeSet<String> = self
            .apps
            .iter()
            .filter_map(|s| cx.owned(Some(*s)))
            .collect();
        let mut merged: BTreeMap<String, u64> = BTreeMap::new();
        for (op, n) in &self.ops {
            *merged
                .entry(cx.owned(Some(*op)).unwrap_or_default())
                .or_default() += n;
        }
        for (kind, n) in &self.sign_in_ops {
            *merged.entry(format!("sign-in:{kind}")).or_default() += n;
        }
        let mut operation_counts: Vec<(String, u64)> = merged.into_iter().collect();
        operation_counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Some(AccessEvidence {
            network,
            ips: ips.into_iter().take(cx.thresholds.max_ips).collect(),
            first_seen: self.first?,
            last_seen: self.last?,
            records: self.len(),
            operations: self.operations,
            operation_counts,
            app_ids: app_ids.into_iter().collect(),
            samples: self.samples.iter().map(|s| s.3.clone()).collect(),
        })
    }
}

/// The revoke step, with the user's object id when known.
pub(crate) fn revoke_step(user_id: Option<&str>) -> String {
    format!(
        "Revoke the user's refresh tokens and session cookies: POST /users/{}/revokeSignInSessions \
         (access tokens already issued stay valid until they expire, about an hour).",
        user_path(user_id)
    )
}

/// The user's id as one Graph URL path segment (`{user-id}` when unknown). The id comes from
/// the logs and may be any text: percent-encoded, it cannot add a path or a query.
pub(crate) fn user_path(user_id: Option<&str>) -> String {
    user_id.map_or_else(
        || "{user-id}".to_string(),
        tokentrail_model::escape::url_path_segment,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable() {
        assert_eq!(
            finding_id(crate::rules::tt001::ID, "a|b"),
            finding_id(crate::rules::tt001::ID, "a|b")
        );
        assert_ne!(
            finding_id(crate::rules::tt001::ID, "a|b"),
            finding_id(crate::rules::tt002::ID, "a|b")
        );
        // Pinned (`printf 'TT001:tok|AS64501' | sha256sum`): a change here changes every stored
        // finding id, and the Spark SQL and KQL forms compute it too.
        assert_eq!(
            finding_id(crate::rules::tt001::ID, "tok|AS64501"),
            "TT001-10d00a44d366428f"
        );
    }
}
