//! Where accesses wait for [`crate::Engine::finish`]: in memory up to a bound, then in an
//! unnamed temporary file, as fixed-size records ([`RECORD_BYTES`] each).
//!
//! Accesses outnumber everything else in the input (a month of a large tenant is hundreds of
//! millions of them), and no access can be judged before every sign-in has arrived: exports come
//! newest-first, files in any order. So they are kept, but not in memory: the engine's memory
//! holds what grows with tokens, sessions, users and clients (sign-ins, interned ids, per-client
//! inventory, finding groups), and accesses beyond [`crate::EngineConfig::accesses_in_memory`]
//! go to disk. `finish` reads them back in partitions of at most about that size, each joined
//! by its share of the accesses still in memory (those are never written). The partition of an
//! access is a hash of its (log, record id), so the copies of one record (the same export read
//! twice, overlapping exports) meet in one partition and are deduplicated there.
//!
//! A temporary file that cannot be created or written is not fatal: the accesses then stay in
//! memory. Records that cannot be read back (a disk failing under the run) are counted in
//! [`Partitions::lost`], and the run says so.

use std::hash::{BuildHasher, Hash, Hasher};
use std::io;
use std::path::PathBuf;

use tokentrail_model::{AccessSource, Actor, ClientAuthMethod, Timestamp, Workload};

use crate::spill_file::SpillFile;
use crate::store::{AccessRec, Sym};

/// Bytes of one access on disk.
pub const RECORD_BYTES: usize = 104;

/// Accesses held in memory when no bound is configured: about 64 MiB of records.
pub const DEFAULT_IN_MEMORY: usize = (64 << 20) / RECORD_BYTES;

fn sym(v: Option<Sym>) -> u32 {
    v.map_or(0, Sym::raw)
}

pub(crate) fn log_code(l: AccessSource) -> u8 {
    match l {
        AccessSource::GraphActivity => 0,
        AccessSource::ExchangeAudit => 1,
        AccessSource::SharePointAudit => 2,
        AccessSource::OneDriveAudit => 3,
        AccessSource::TeamsAudit => 4,
        AccessSource::DirectoryAudit => 5,
    }
}

pub(crate) fn log_of(c: u8) -> Option<AccessSource> {
    Some(match c {
        0 => AccessSource::GraphActivity,
        1 => AccessSource::ExchangeAudit,
        2 => AccessSource::SharePointAudit,
        3 => AccessSource::OneDriveAudit,
        4 => AccessSource::TeamsAudit,
        5 => AccessSource::DirectoryAudit,
        _ => return None,
    })
}

pub(crate) fn workload_code(w: Workload) -> u8 {
    match w {
        Workload::Mail => 0,
        Workload::Files => 1,
        Workload::Teams => 2,
        Workload::Other => 3,
    }
}

pub(crate) fn workload_of(c: u8) -> Option<Workload> {
    Some(match c {
        0 => Workload::Mail,
        1 => Workload::Files,
        2 => Workload::Teams,
        3 => Workload::Other,
        _ => return None,
    })
}

pub(crate) fn actor_code(a: Actor) -> u8 {
    match a {
        Actor::Delegated => 0,
        Actor::AppOnly => 1,
        Actor::Unknown => 2,
    }
}

pub(crate) fn actor_of(c: u8) -> Option<Actor> {
    Some(match c {
        0 => Actor::Delegated,
        1 => Actor::AppOnly,
        2 => Actor::Unknown,
        _ => return None,
    })
}

pub(crate) fn auth_code(m: Option<ClientAuthMethod>) -> u8 {
    match m {
        None => 0,
        Some(ClientAuthMethod::PublicClient) => 1,
        Some(ClientAuthMethod::Secret) => 2,
        Some(ClientAuthMethod::Certificate) => 3,
    }
}

pub(crate) fn auth_of(c: u8) -> Option<Option<ClientAuthMethod>> {
    Some(match c {
        0 => None,
        1 => Some(ClientAuthMethod::PublicClient),
        2 => Some(ClientAuthMethod::Secret),
        3 => Some(ClientAuthMethod::Certificate),
        _ => return None,
    })
}

/// Append the fixed-size form of `a` to `out`.
pub(crate) fn encode(a: &AccessRec, out: &mut Vec<u8>) {
    out.extend_from_slice(&a.time.0.to_le_bytes());
    out.extend_from_slice(&a.src_n.to_le_bytes());
    out.extend_from_slice(&a.rid[0].to_le_bytes());
    out.extend_from_slice(&a.rid[1].to_le_bytes());
    out.extend_from_slice(&a.token_issued_at.0.to_le_bytes());
    out.extend_from_slice(&a.count.to_le_bytes());
    for v in [
        a.src_file,
        a.seq,
        sym(a.user_id),
        sym(a.upn),
        sym(a.service_principal_id),
        sym(a.app_id),
        sym(a.app_name),
        sym(a.resource_id),
        sym(a.operation),
        sym(a.ip),
        sym(a.token),
        sym(a.session),
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&[
        log_code(a.log),
        workload_code(a.workload),
        actor_code(a.actor),
        auth_code(a.client_auth_method),
        match a.is_managed_device {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        },
        a.src_kind,
        a.rid_kind,
        u8::from(a.has_issued_at),
    ]);
}

/// The access `encode` wrote into `b` (`None` when `b` is not one).
pub(crate) fn decode(b: &[u8]) -> Option<AccessRec> {
    let u64_at = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
    };
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let sym_at = |at: usize| u32_at(at).map(Sym::from_raw);
    let flags = b.get(96..104)?;
    let byte = |i: usize| flags.get(i).copied();
    Some(AccessRec {
        time: Timestamp(u64_at(0)? as i64),
        src_n: u64_at(8)?,
        rid: [u64_at(16)?, u64_at(24)?],
        token_issued_at: Timestamp(u64_at(32)? as i64),
        count: u64_at(40)?,
        src_file: u32_at(48)?,
        seq: u32_at(52)?,
        user_id: sym_at(56)?,
        upn: sym_at(60)?,
        service_principal_id: sym_at(64)?,
        app_id: sym_at(68)?,
        app_name: sym_at(72)?,
        resource_id: sym_at(76)?,
        operation: sym_at(80)?,
        ip: sym_at(84)?,
        token: sym_at(88)?,
        session: sym_at(92)?,
        log: log_of(byte(0)?)?,
        workload: workload_of(byte(1)?)?,
        actor: actor_of(byte(2)?)?,
        client_auth_method: auth_of(byte(3)?)?,
        is_managed_device: match byte(4)? {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => return None,
        },
        src_kind: byte(5)?,
        rid_kind: byte(6)?,
        has_issued_at: byte(7)? != 0,
    })
}

/// The accesses added so far.
#[derive(Debug)]
pub(crate) struct AccessLog {
    mem: Vec<AccessRec>,
    /// Accesses held in memory before they go to disk (at least 1).
    bound: usize,
    dir: Option<PathBuf>,
    file: Option<SpillFile>,
    on_disk: u64,
    /// What each spill wrote, in file order.
    runs: Vec<Run>,
    /// Writing to disk failed once: everything stays in memory from then on.
    disk_failed: bool,
    buf: Vec<u8>,
}

/// Buckets of the key hash. A spill writes its records bucket by bucket, so that any range of
/// buckets is one stretch of each spill's bytes: a partition is a range of buckets, read back
/// with one seek per spill, and no second pass over the file is needed to split it.
const BUCKETS: usize = 4096;

/// The records one spill wrote: from record `start` of the file, bucket by bucket.
#[derive(Debug)]
struct Run {
    start: u64,
    /// Records before each bucket, within the run (`BUCKETS + 1` entries).
    before: Box<[u32]>,
}

impl AccessLog {
    pub fn new(bound: usize, dir: Option<PathBuf>) -> AccessLog {
        AccessLog {
            mem: Vec::new(),
            bound: bound.max(1),
            dir,
            file: None,
            on_disk: 0,
            runs: Vec::new(),
            disk_failed: false,
            buf: Vec::new(),
        }
    }

    pub fn push(&mut self, a: AccessRec) {
        if self.mem.capacity() == 0 {
            // The whole bound at once: growing by doubling would copy the records and have
            // the kernel zero each larger buffer's pages; pages never filled are never touched.
            self.mem.reserve_exact(self.bound);
        }
        self.mem.push(a);
        if self.mem.len() >= self.bound && !self.disk_failed && self.spill().is_err() {
            // Keep going in memory rather than lose records: the run is slower to fail, not
            // wrong.
            self.disk_failed = true;
        }
    }

    /// Accesses added.
    pub fn len(&self) -> u64 {
        self.on_disk + self.mem.len() as u64
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.mem.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(SpillFile::create(self.dir.as_deref())?);
        }
        let Some(w) = self.file.as_mut() else {
            return Ok(());
        };
        // Put in bucket order where they are: a counting sort of the records themselves
        // through 2 bytes per record would move each once; writing them out through a
        // permutation (4 bytes more per record) reads them in random order instead.
        let before = sort_by_bucket(&mut self.mem);
        // A few thousand records at a time: a buffer the size of the whole bound would double
        // what the bound allows.
        for chunk in self.mem.chunks(4096) {
            self.buf.clear();
            for a in chunk {
                encode(a, &mut self.buf);
            }
            w.append(&self.buf)?;
        }
        self.runs.push(Run {
            start: self.on_disk,
            before,
        });
        self.on_disk += self.mem.len() as u64;
        self.mem.clear();
        Ok(())
    }

    /// Every access, in partitions of at most about the in-memory bound; the copies of one
    /// record (same log and record id) are always in the same partition. `at_once`: how many
    /// partitions the caller holds at a time (the partitions are cut smaller when more are).
    pub fn into_partitions(mut self, at_once: usize) -> Partitions {
        // The records still in memory wait there for their partitions, beside the `at_once`
        // partitions held at a time (with a second thread, the one judged and the next). Cut
        // partitions so that these take no more than if every access were read back from
        // disk: the bound (the block's buffer, which would hold one partition) and
        // `at_once - 1` more partitions of `total / ceil(total / bound)`. The block is given
        // back as its ranges are taken, half at a time (see `Partitions::take_mem`), so what
        // it holds at first is what counts.
        let bound = self.bound as u64;
        let held = at_once.max(1);
        let at_once = held as u64;
        let in_mem = self.mem.len() as u64;
        let total = self.on_disk + in_mem;
        let plain = total.div_ceil(bound).clamp(2, BUCKETS as u64);
        let resident = if in_mem <= self.mem.capacity() as u64 / 2 {
            in_mem
        } else {
            (self.mem.capacity() as u64).max(in_mem)
        };
        let mut room = (bound + (at_once - 1) * (total / plain)).saturating_sub(resident);
        let mut spare = Vec::new();
        if self.on_disk > 0 && !self.disk_failed && room < bound / 4 {
            // A block that leaves too little room (more than half the bound, with one
            // partition at a time): written out like the spills before it, its buffer holds
            // the first partition read.
            if self.spill().is_ok() {
                spare = std::mem::take(&mut self.mem);
                room = bound + (at_once - 1) * (total / plain);
            } else {
                self.disk_failed = true;
            }
        }
        // What reached the disk and cannot be read back (its last write failing when it is
        // read) is counted lost by the partition that reads it; the records in memory are not.
        let file = self.file.take();
        // Nothing on disk, or the disk failed before the end: whatever reached it is read back
        // as one partition, the records in memory as another (after a failure, two copies of
        // one record, one on each side, both count).
        let file = match file {
            Some(f) if self.on_disk > 0 && !self.disk_failed => f,
            file => {
                let mut out = Partitions::default();
                if let (Some(f), true) = (file, self.on_disk > 0) {
                    out.file = Some(f);
                    out.pending.push(Pending::Buckets {
                        ranges: vec![(0, self.on_disk)],
                        mem_from: None,
                    });
                }
                out.pending
                    .push(Pending::Mem(std::mem::take(&mut self.mem)));
                return out;
            }
        };
        // The records still in memory are not written out: put in bucket order where they
        // are, each partition takes its range of them beside its ranges of the file.
        let mem_before = sort_by_bucket(&mut self.mem);
        if self.mem.len() <= self.mem.capacity() / 2 {
            self.mem.shrink_to_fit();
        }
        let in_bucket = |b: usize| -> u64 {
            self.runs
                .iter()
                .map(|r| &r.before)
                .chain(std::iter::once(&mem_before))
                .map(|before| {
                    let at = |i: usize| u64::from(before.get(i).copied().unwrap_or(0));
                    at(b + 1) - at(b)
                })
                .sum()
        };
        let parts = (at_once * total)
            .div_ceil(room.max(1))
            .clamp(plain, BUCKETS as u64);
        let target = total.div_ceil(parts);
        let mut cuts = vec![0usize];
        let mut acc = 0u64;
        for b in 0..BUCKETS {
            acc += in_bucket(b);
            if acc >= target && b + 1 < BUCKETS {
                cuts.push(b + 1);
                acc = 0;
            }
        }
        cuts.push(BUCKETS);
        let mem_at = |i: usize| mem_before.get(i).copied().map_or(0, |n| n as usize);
        // `next` takes from the end of `pending`: the last buckets first is the first
        // buckets read last, so each partition's range of the memory block is its tail.
        let mut largest = 0;
        let pending: Vec<Pending> = cuts
            .windows(2)
            .filter_map(|w| {
                let (&from, &to) = (w.first()?, w.get(1)?);
                let ranges: Vec<(u64, u64)> = self
                    .runs
                    .iter()
                    .filter_map(|r| {
                        let at = |i: usize| u64::from(r.before.get(i).copied().unwrap_or(0));
                        let n = at(to) - at(from);
                        (n > 0).then(|| (r.start + at(from), n))
                    })
                    .collect();
                let mem_from = (mem_at(to) > mem_at(from)).then(|| mem_at(from));
                let n =
                    ranges.iter().map(|r| r.1).sum::<u64>() + (mem_at(to) - mem_at(from)) as u64;
                largest = largest.max(usize::try_from(n).unwrap_or(0));
                (!ranges.is_empty() || mem_from.is_some())
                    .then_some(Pending::Buckets { ranges, mem_from })
            })
            .collect();
        Partitions {
            pending,
            file: Some(file),
            lost: 0,
            largest,
            spare,
            mem: std::mem::take(&mut self.mem),
            buf: std::mem::take(&mut self.buf),
        }
    }
}

/// The bucket of an access: by its (log, record id), or by its content when it has no id
/// (copies of an id-less record are one record too, and must meet).
fn bucket_of(a: &AccessRec) -> u16 {
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    if a.rid_kind == 0 {
        a.content().hash(&mut h);
    } else {
        (log_code(a.log), a.rid_kind, a.rid).hash(&mut h);
    }
    // The high bits: FxHasher's low bits are weak.
    (h.finish() >> (64 - BUCKETS.trailing_zeros())) as u16
}

/// Put `recs` in bucket order, in place (each record moved at most once, to its final place:
/// 2 bytes per record beside them while it runs); returns the records before each bucket
/// (`BUCKETS + 1` entries).
fn sort_by_bucket(recs: &mut [AccessRec]) -> Box<[u32]> {
    let mut buckets: Vec<u16> = recs.iter().map(bucket_of).collect();
    let mut before = vec![0u32; BUCKETS + 1];
    for &b in &buckets {
        if let Some(n) = before.get_mut(usize::from(b) + 1) {
            *n += 1;
        }
    }
    for i in 1..before.len() {
        let prev = before.get(i - 1).copied().unwrap_or(0);
        if let Some(n) = before.get_mut(i) {
            *n += prev;
        }
    }
    // The next unsettled place of each bucket: a record found there in the wrong bucket is
    // swapped to its own bucket's next place, where it stays.
    let mut next = before.clone();
    for b in 0..BUCKETS {
        let end = before.get(b + 1).copied().unwrap_or(0) as usize;
        loop {
            let i = next.get(b).copied().unwrap_or(u32::MAX) as usize;
            if i >= end {
                break;
            }
            let Some(&want) = buckets.get(i) else { break };
            let want = usize::from(want);
            let j = next.get(want).copied().unwrap_or(u32::MAX) as usize;
            if want != b {
                if j >= recs.len() {
                    break;
                }
                recs.swap(i, j);
                buckets.swap(i, j);
            }
            if let Some(n) = next.get_mut(want) {
                *n += 1;
            }
        }
    }
    before.into_boxed_slice()
}

#[derive(Debug)]
enum Pending {
    Mem(Vec<AccessRec>),
    /// A range of buckets: its stretches of the spill file, (first record, records), and where
    /// its range of the memory block starts (it ends where the block ends by then).
    Buckets {
        ranges: Vec<(u64, u64)>,
        mem_from: Option<usize>,
    },
}

/// The partitions of an [`AccessLog`], read one at a time.
#[derive(Debug, Default)]
pub(crate) struct Partitions {
    pending: Vec<Pending>,
    file: Option<SpillFile>,
    /// Records that could not be read back from disk.
    pub lost: u64,
    /// Records in the largest partition: each buffer is made that size at once, so that
    /// none grows later (growing a buffer holds the old one beside the new while it copies,
    /// and the allocator keeps the old one's pages a while after).
    largest: usize,
    /// A partition the caller is done with: the next one read from disk fills it.
    spare: Vec<AccessRec>,
    /// The records that were still in memory at the end, in bucket order; each partition
    /// takes its tail.
    mem: Vec<AccessRec>,
    buf: Vec<u8>,
}

impl Partitions {
    /// Hand back a partition judged: its buffer holds the next (the kernel need not zero
    /// fresh pages for every partition).
    pub fn recycle(&mut self, mut part: Vec<AccessRec>) {
        part.clear();
        if part.capacity() > self.spare.capacity() {
            self.spare = part;
        }
    }

    /// The buffer of a partition of `n` records whose range of the memory block starts at
    /// `from`, holding that range; the block gives its memory back as it shrinks.
    fn take_mem(&mut self, from: Option<usize>, n: usize) -> Vec<AccessRec> {
        let from = from.unwrap_or(self.mem.len()).min(self.mem.len());
        let size = n.max(self.largest);
        if from == 0 && self.spare.capacity() < n {
            // The last range: the block's own buffer becomes the partition's.
            self.spare = Vec::new();
            let mut out = std::mem::take(&mut self.mem);
            out.reserve(n.saturating_sub(out.len()));
            return out;
        }
        let mut out = std::mem::take(&mut self.spare);
        out.reserve(size);
        out.extend_from_slice(self.mem.get(from..).unwrap_or_default());
        self.mem.truncate(from);
        // Halving the buffer copies the rest once more: at most the block's size in all.
        if self.mem.len() <= self.mem.capacity() / 2 {
            self.mem.shrink_to_fit();
        }
        out
    }

    /// Append the `n` records from record `first` of the spill file to `out`; returns the
    /// records that could not be read.
    fn read(&mut self, first: u64, n: u64, out: &mut Vec<AccessRec>) -> u64 {
        let Some(f) = self.file.as_mut() else {
            return n;
        };
        const CHUNK: u64 = 8192;
        let (mut done, mut bad) = (0, 0);
        while done < n {
            let k = (n - done).min(CHUNK);
            self.buf.resize(k as usize * RECORD_BYTES, 0);
            if f.read_at((first + done) * RECORD_BYTES as u64, &mut self.buf)
                .is_err()
            {
                return bad + n - done;
            }
            for rec in self.buf.chunks_exact(RECORD_BYTES) {
                match decode(rec) {
                    Some(a) => out.push(a),
                    None => bad += 1,
                }
            }
            done += k;
        }
        bad
    }
}

impl Iterator for Partitions {
    type Item = Vec<AccessRec>;

    fn next(&mut self) -> Option<Vec<AccessRec>> {
        match self.pending.pop()? {
            Pending::Mem(v) => Some(v),
            Pending::Buckets { ranges, mem_from } => {
                let on_disk: u64 = ranges.iter().map(|r| r.1).sum();
                let in_mem = mem_from.map_or(0, |f| self.mem.len().saturating_sub(f));
                let n = usize::try_from(on_disk).unwrap_or(0) + in_mem;
                let mut out = self.take_mem(mem_from, n);
                for (first, n) in ranges {
                    self.lost += self.read(first, n, &mut out);
                }
                Some(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn rec(seq: u32, rid: u64) -> AccessRec {
        AccessRec {
            time: Timestamp(-5 + i64::from(seq)),
            src_n: u64::MAX - 1,
            rid: [rid, !rid],
            token_issued_at: Timestamp(i64::MIN + 3),
            count: 7,
            src_file: 3,
            seq,
            user_id: Sym::from_raw(1),
            upn: None,
            service_principal_id: Sym::from_raw(u32::MAX),
            app_id: Sym::from_raw(2),
            app_name: None,
            resource_id: Sym::from_raw(9),
            operation: Sym::from_raw(4),
            ip: Sym::from_raw(5),
            token: Sym::from_raw(6),
            session: None,
            log: AccessSource::SharePointAudit,
            workload: Workload::Files,
            actor: Actor::Unknown,
            client_auth_method: Some(ClientAuthMethod::Certificate),
            is_managed_device: Some(false),
            src_kind: 1,
            rid_kind: if rid == 0 { 0 } else { 1 },
            has_issued_at: true,
        }
    }

    fn same(a: &AccessRec, b: &AccessRec) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    #[test]
    fn a_record_survives_the_round_trip() {
        let a = rec(12, 0xdead_beef);
        let mut buf = Vec::new();
        encode(&a, &mut buf);
        assert_eq!(buf.len(), RECORD_BYTES);
        assert!(same(&decode(&buf).unwrap(), &a));
        // Short input and unknown codes are refused, not misread.
        assert!(decode(&buf[..RECORD_BYTES - 1]).is_none());
        let mut bad = buf.clone();
        bad[96] = 9;
        assert!(decode(&bad).is_none());
    }

    #[test]
    fn partitions_hold_every_record_once_and_copies_together() {
        for bound in [1usize, 3, 10, 1000] {
            let mut log = AccessLog::new(bound, None);
            // 50 records, ids repeating every 20 (the copies), some without an id.
            for seq in 0..50u32 {
                let rid = if seq % 7 == 0 {
                    0
                } else {
                    u64::from(seq % 20) + 1
                };
                log.push(rec(seq, rid));
            }
            assert_eq!(log.len(), 50);
            let mut parts = log.into_partitions(2);
            let mut seen = Vec::new();
            let mut part_of_id: BTreeMap<u64, usize> = BTreeMap::new();
            let mut p = 0;
            // Each partition is handed back, so the later ones are read into its buffer.
            while let Some(part) = parts.next() {
                p += 1;
                for a in &part {
                    if a.rid_kind != 0 {
                        assert_eq!(*part_of_id.entry(a.rid[0]).or_insert(p), p, "bound {bound}");
                    }
                    assert!(same(
                        a,
                        &rec(a.seq, if a.rid_kind == 0 { 0 } else { a.rid[0] })
                    ));
                    seen.push(a.seq);
                }
                parts.recycle(part);
            }
            assert_eq!(parts.lost, 0);
            // Spilled: cut into partitions of about the bound (whole buckets each).
            match bound {
                1 | 3 => assert!(p >= 50 / bound / 2, "bound {bound}: {p} partitions"),
                10 => assert!((3..=5).contains(&p), "bound 10: {p} partitions"),
                _ => assert_eq!(p, 1),
            }
            seen.sort_unstable();
            assert_eq!(seen, (0..50).collect::<Vec<_>>(), "bound {bound}");
        }
    }

    /// Every partition of `log`, each checked against `input`: its records are exactly the
    /// input's records of one range of buckets (the ranges in some order, none twice), each
    /// once and unchanged. Returns the partitions' sizes.
    /// The sizes of the partitions, and the bytes the spill file holds once all were read.
    fn check_partitions(log: AccessLog, at_once: usize, input: &[AccessRec]) -> (Vec<usize>, u64) {
        let mut parts = log.into_partitions(at_once);
        let mut sizes = Vec::new();
        let mut ranges: Vec<(u16, u16)> = Vec::new();
        while let Some(part) = parts.next() {
            let lo = part.iter().map(bucket_of).min().unwrap();
            let hi = part.iter().map(bucket_of).max().unwrap();
            let mut got: Vec<u32> = part.iter().map(|a| a.seq).collect();
            got.sort_unstable();
            let want: Vec<u32> = input
                .iter()
                .filter(|a| (lo..=hi).contains(&bucket_of(a)))
                .map(|a| a.seq)
                .collect();
            assert_eq!(got, want, "partition of buckets {lo}..={hi}");
            for a in &part {
                assert!(same(a, &input[a.seq as usize]), "record {}", a.seq);
            }
            ranges.push((lo, hi));
            sizes.push(part.len());
            parts.recycle(part);
        }
        assert_eq!(parts.lost, 0);
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            assert!(w[0].1 < w[1].0, "bucket ranges overlap: {ranges:?}");
        }
        assert_eq!(sizes.iter().sum::<usize>(), input.len());
        // What was written, not the file's size: a direct file is padded to whole blocks.
        let written = parts.file.as_ref().map_or(0, SpillFile::len);
        (sizes, written)
    }

    /// `n` records, ids repeating every 1,000 (the copies), every seventh without an id.
    fn input(n: u32) -> Vec<AccessRec> {
        (0..n)
            .map(|seq| {
                let rid = if seq % 7 == 0 {
                    0
                } else {
                    u64::from(seq % 1_000) + 1
                };
                rec(seq, rid)
            })
            .collect()
    }

    #[test]
    fn the_records_left_in_memory_join_their_partitions_unwritten() {
        // Bound 8: 2,995 records are 374 spills (2,992 on disk) and 3 left in memory; 3,005
        // are 375 spills and 5.
        for (n, on_disk, in_mem) in [(2_995u32, 2_992u64, 3usize), (3_005, 3_000, 5)] {
            let recs = input(n);
            let mut log = AccessLog::new(8, None);
            for a in &recs {
                log.push(a.clone());
            }
            assert_eq!((log.on_disk, log.mem.len()), (on_disk, in_mem));
            // What finish does not write: the file holds the spills and nothing more.
            let (sizes, written) = check_partitions(log, 2, &recs);
            assert_eq!(written, on_disk * RECORD_BYTES as u64);
            // About the bound each (whole buckets), never one partition.
            assert!(sizes.len() >= 3000 / 8 / 2, "{} partitions", sizes.len());
        }
    }

    /// A log of `n` records with a bound of 1,000.
    fn log_of(recs: &[AccessRec]) -> AccessLog {
        let mut log = AccessLog::new(1_000, None);
        for a in recs {
            log.push(a.clone());
        }
        log
    }

    #[test]
    fn a_large_memory_block_and_several_spills_give_each_record_once() {
        // Bound 1,000: 3 spills and 999 records in memory, a block too large to give back
        // (more than half its buffer).
        let recs = input(3_999);
        let log = log_of(&recs);
        assert_eq!((log.on_disk, log.mem.len()), (3_000, 999));
        let (sizes, written) = check_partitions(log, 2, &recs);
        assert_eq!(written, 3_000 * RECORD_BYTES as u64);
        // 4 partitions of about 1,000 if every record were read from disk; the block and
        // two partitions must fit in the bound and one of those: 9 of about 445.
        assert!((8..=10).contains(&sizes.len()), "{sizes:?}");
        assert!(sizes.iter().all(|&n| n < 600), "{sizes:?}");

        // One partition at a time leaves it no room: it is written out, and read back in
        // partitions of about the bound.
        let log = log_of(&recs);
        let (sizes, written) = check_partitions(log, 1, &recs);
        assert_eq!(written, 3_999 * RECORD_BYTES as u64);
        assert!((4..=5).contains(&sizes.len()), "{sizes:?}");
    }

    #[test]
    fn a_small_memory_block_stays_in_memory_with_one_partition_at_a_time() {
        // 300 records in memory, given back at once to 300: the partitions take the other
        // 700 of the bound, 5 of about 660.
        let recs = input(3_300);
        let log = log_of(&recs);
        assert_eq!((log.on_disk, log.mem.len()), (3_000, 300));
        let (sizes, written) = check_partitions(log, 1, &recs);
        assert_eq!(written, 3_000 * RECORD_BYTES as u64);
        assert!((5..=6).contains(&sizes.len()), "{sizes:?}");
        assert!(sizes.iter().all(|&n| n < 800), "{sizes:?}");
    }

    #[test]
    fn a_bound_larger_than_the_input_writes_nothing() {
        let recs = input(50);
        let mut log = AccessLog::new(51, None);
        for a in &recs {
            log.push(a.clone());
        }
        assert!(log.file.is_none());
        assert_eq!(log.on_disk, 0);
        let parts: Vec<_> = log.into_partitions(2).collect();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].len(), 50);
        // In the order added: nothing was moved.
        for (a, b) in parts[0].iter().zip(&recs) {
            assert!(same(a, b));
        }
    }

    #[test]
    fn sorting_by_bucket_keeps_every_record() {
        let recs = input(500);
        let mut sorted = recs.clone();
        let before = sort_by_bucket(&mut sorted);
        assert_eq!(before.len(), BUCKETS + 1);
        assert_eq!(before[BUCKETS], 500);
        for b in 0..BUCKETS {
            for a in &sorted[before[b] as usize..before[b + 1] as usize] {
                assert_eq!(usize::from(bucket_of(a)), b);
            }
        }
        let mut seqs: Vec<u32> = sorted.iter().map(|a| a.seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (0..500).collect::<Vec<_>>());
        for a in &sorted {
            assert!(same(a, &recs[a.seq as usize]));
        }
    }

    #[test]
    fn an_unwritable_directory_keeps_records_in_memory() {
        let mut log = AccessLog::new(2, Some(PathBuf::from("/nonexistent/tokentrail-spill")));
        for seq in 0..5 {
            log.push(rec(seq, u64::from(seq) + 1));
        }
        let parts: Vec<_> = log.into_partitions(2).collect();
        assert_eq!(parts.len(), 1);
        assert_eq!(
            parts[0].iter().map(|a| a.seq).collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4]
        );
    }
}
