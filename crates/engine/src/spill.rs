//! Where accesses wait for [`crate::Engine::finish`]: in memory up to a bound, then in an
//! unnamed temporary file, as fixed-size records ([`RECORD_BYTES`] each).
//!
//! Accesses outnumber everything else in the input (a month of a large tenant is hundreds of
//! millions of them), and no access can be judged before every sign-in has arrived: exports come
//! newest-first, files in any order. So they are kept, but not in memory: the engine's memory
//! holds what grows with tokens, sessions, users and clients (sign-ins, interned ids, per-client
//! inventory, finding groups), and accesses beyond [`crate::EngineConfig::accesses_in_memory`]
//! go to disk. `finish` reads them back in partitions of about that size. The partition of an
//! access is a hash of its (log, record id), so the copies of one record (the same export read
//! twice, overlapping exports) meet in one partition and are deduplicated there.
//!
//! A temporary file that cannot be created or written is not fatal: the accesses then stay in
//! memory. Records that cannot be read back (a disk failing under the run) are counted in
//! [`Partitions::lost`], and the run says so.

use std::fs::File;
use std::hash::{BuildHasher, Hash, Hasher};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use tokentrail_model::{AccessSource, Actor, ClientAuthMethod, Timestamp, Workload};

use crate::store::{AccessRec, Sym};

/// Bytes of one access on disk.
pub const RECORD_BYTES: usize = 104;

/// Most partitions `finish` reads accesses back in.
const MAX_PARTITIONS: usize = 256;

/// Accesses held in memory when no bound is configured: about 64 MiB of records.
pub const DEFAULT_IN_MEMORY: usize = (64 << 20) / RECORD_BYTES;

fn sym(v: Option<Sym>) -> u32 {
    v.map_or(0, Sym::raw)
}

fn log_code(l: AccessSource) -> u8 {
    match l {
        AccessSource::GraphActivity => 0,
        AccessSource::ExchangeAudit => 1,
        AccessSource::SharePointAudit => 2,
        AccessSource::OneDriveAudit => 3,
        AccessSource::TeamsAudit => 4,
        AccessSource::DirectoryAudit => 5,
    }
}

fn log_of(c: u8) -> Option<AccessSource> {
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

fn workload_code(w: Workload) -> u8 {
    match w {
        Workload::Mail => 0,
        Workload::Files => 1,
        Workload::Teams => 2,
        Workload::Other => 3,
    }
}

fn workload_of(c: u8) -> Option<Workload> {
    Some(match c {
        0 => Workload::Mail,
        1 => Workload::Files,
        2 => Workload::Teams,
        3 => Workload::Other,
        _ => return None,
    })
}

fn actor_code(a: Actor) -> u8 {
    match a {
        Actor::Delegated => 0,
        Actor::AppOnly => 1,
        Actor::Unknown => 2,
    }
}

fn actor_of(c: u8) -> Option<Actor> {
    Some(match c {
        0 => Actor::Delegated,
        1 => Actor::AppOnly,
        2 => Actor::Unknown,
        _ => return None,
    })
}

fn auth_code(m: Option<ClientAuthMethod>) -> u8 {
    match m {
        None => 0,
        Some(ClientAuthMethod::PublicClient) => 1,
        Some(ClientAuthMethod::Secret) => 2,
        Some(ClientAuthMethod::Certificate) => 3,
    }
}

fn auth_of(c: u8) -> Option<Option<ClientAuthMethod>> {
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
    file: Option<BufWriter<File>>,
    on_disk: u64,
    /// Writing to disk failed once: everything stays in memory from then on.
    disk_failed: bool,
    buf: Vec<u8>,
}

impl AccessLog {
    pub fn new(bound: usize, dir: Option<PathBuf>) -> AccessLog {
        AccessLog {
            mem: Vec::new(),
            bound: bound.max(1),
            dir,
            file: None,
            on_disk: 0,
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

    fn temp_file(&self) -> io::Result<File> {
        match &self.dir {
            Some(d) => tempfile::tempfile_in(d),
            None => tempfile::tempfile(),
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(BufWriter::with_capacity(1 << 20, self.temp_file()?));
        }
        let Some(w) = self.file.as_mut() else {
            return Ok(());
        };
        // A few thousand records at a time: a buffer the size of the whole bound would double
        // what the bound allows.
        for chunk in self.mem.chunks(4096) {
            self.buf.clear();
            for a in chunk {
                encode(a, &mut self.buf);
            }
            w.write_all(&self.buf)?;
        }
        self.on_disk += self.mem.len() as u64;
        self.mem.clear();
        Ok(())
    }

    /// Every access, in partitions of about the in-memory bound; the copies of one record
    /// (same log and record id) are always in the same partition.
    pub fn into_partitions(mut self) -> Partitions {
        let total = self.len();
        // Nothing on disk, or the disk failed (now, writing the last records, or before):
        // whatever reached it is read back as one partition, the records in memory as another
        // (after a failure, two copies of one record, one on each side, both count).
        if self.on_disk == 0 || self.disk_failed || self.spill().is_err() {
            let mut out = Partitions::default();
            if let Some(w) = self.file.take() {
                out.pending.push(Pending::Disk(w, self.on_disk));
            }
            out.pending
                .push(Pending::Mem(std::mem::take(&mut self.mem)));
            return out;
        }
        let Some(w) = self.file.take() else {
            return Partitions::default();
        };
        // Every partition file is open at once while the spill file is split: at most
        // MAX_PARTITIONS of them, so a run stays well inside the usual limit of 1,024 open
        // files. Past MAX_PARTITIONS times the bound, partitions grow beyond the bound.
        let parts = usize::try_from(total.div_ceil(self.bound as u64))
            .unwrap_or(usize::MAX)
            .clamp(2, MAX_PARTITIONS);
        match distribute(w, self.on_disk, parts, &self) {
            Ok((files, lost)) => Partitions {
                pending: files
                    .into_iter()
                    .map(|(f, n)| Pending::Disk(f, n))
                    .collect(),
                lost,
                // Empty after the last spill: the first partition read fills it.
                spare: std::mem::take(&mut self.mem),
            },
            Err((w, on_disk)) => Partitions {
                // Partition files could not be made: read the one file back whole.
                pending: vec![Pending::Disk(w, on_disk)],
                lost: 0,
                spare: std::mem::take(&mut self.mem),
            },
        }
    }
}

/// The partition of an access: by its (log, record id), or by its content when it has no id
/// (copies of an id-less record are one record too, and must meet).
fn partition_of(a: &AccessRec, parts: usize) -> usize {
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    if a.rid_kind == 0 {
        a.content().hash(&mut h);
    } else {
        (log_code(a.log), a.rid_kind, a.rid).hash(&mut h);
    }
    // The high bits: FxHasher's low bits are weak.
    ((h.finish() >> 32) as usize) % parts.max(1)
}

type Distributed = (Vec<(BufWriter<File>, u64)>, u64);

/// Split the one spill file into `parts` partition files.
fn distribute(
    w: BufWriter<File>,
    records: u64,
    parts: usize,
    log: &AccessLog,
) -> Result<Distributed, (BufWriter<File>, u64)> {
    let mut outs = Vec::with_capacity(parts);
    for _ in 0..parts {
        match log.temp_file() {
            Ok(f) => outs.push((BufWriter::with_capacity(1 << 16, f), 0u64)),
            Err(_) => return Err((w, records)),
        }
    }
    let mut reader = match rewind(w) {
        Ok(r) => r,
        Err(_) => {
            // The spill file is gone with its writer: everything on it is lost.
            return Ok((Vec::new(), records));
        }
    };
    let mut lost = 0u64;
    let mut rec = [0u8; RECORD_BYTES];
    for _ in 0..records {
        if reader.read_exact(&mut rec).is_err() {
            lost += 1;
            continue;
        }
        let Some(a) = decode(&rec) else {
            lost += 1;
            continue;
        };
        let p = partition_of(&a, parts);
        if let Some((out, n)) = outs.get_mut(p) {
            if out.write_all(&rec).is_ok() {
                *n += 1;
            } else {
                lost += 1;
            }
        }
    }
    Ok((outs, lost))
}

fn rewind(w: BufWriter<File>) -> io::Result<BufReader<File>> {
    let mut f = w.into_inner().map_err(|e| e.into_error())?;
    f.seek(SeekFrom::Start(0))?;
    Ok(BufReader::with_capacity(1 << 20, f))
}

#[derive(Debug)]
enum Pending {
    Mem(Vec<AccessRec>),
    Disk(BufWriter<File>, u64),
}

/// The partitions of an [`AccessLog`], read one at a time.
#[derive(Debug, Default)]
pub(crate) struct Partitions {
    pending: Vec<Pending>,
    /// Records that could not be read back from disk.
    pub lost: u64,
    /// A partition the caller is done with: the next one read from disk fills it.
    spare: Vec<AccessRec>,
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
}

impl Iterator for Partitions {
    type Item = Vec<AccessRec>;

    fn next(&mut self) -> Option<Vec<AccessRec>> {
        loop {
            let p = self.pending.pop()?;
            match p {
                Pending::Mem(v) => return Some(v),
                Pending::Disk(w, n) => {
                    let mut reader = match rewind(w) {
                        Ok(r) => r,
                        Err(_) => {
                            self.lost += n;
                            continue;
                        }
                    };
                    let mut out = std::mem::take(&mut self.spare);
                    out.reserve(usize::try_from(n).unwrap_or(0));
                    let mut rec = [0u8; RECORD_BYTES];
                    for _ in 0..n {
                        match reader.read_exact(&mut rec).ok().and_then(|()| decode(&rec)) {
                            Some(a) => out.push(a),
                            None => self.lost += 1,
                        }
                    }
                    return Some(out);
                }
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
            let mut parts = log.into_partitions();
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
            seen.sort_unstable();
            assert_eq!(seen, (0..50).collect::<Vec<_>>(), "bound {bound}");
        }
    }

    #[test]
    fn an_unwritable_directory_keeps_records_in_memory() {
        let mut log = AccessLog::new(2, Some(PathBuf::from("/nonexistent/tokentrail-spill")));
        for seq in 0..5 {
            log.push(rec(seq, u64::from(seq) + 1));
        }
        let parts: Vec<_> = log.into_partitions().collect();
        assert_eq!(parts.len(), 1);
        assert_eq!(
            parts[0].iter().map(|a| a.seq).collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4]
        );
    }
}
