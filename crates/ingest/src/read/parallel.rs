//! Decoding on several threads while the calling thread keeps framing.
//!
//! The framer cuts records out of the stream on the calling thread (it is sequential by
//! nature: gzip, JSON containers and CSV quoting all need the bytes in order). Framed records
//! are collected into batches of about [`BATCH_BYTES`]: a JSON line or a CSV row as a range of
//! the read block it lies in (the batch holds the block; the record is not copied, and a CSV
//! row is split into fields on the decoding thread), any other JSON record as a copy (a JSON
//! array's elements are already cut out into a buffer of their own). A batch holds the records
//! of one file, and shares its column layout when the file is CSV. Each batch goes to a pool of
//! decoding threads, and the decoded batches come back to the calling thread *in the order they
//! were framed*, so the sink sees exactly the sequence a single-threaded run produces and
//! results cannot depend on the number of threads.
//!
//! At most [`IN_FLIGHT_PER_THREAD`] batches per thread are outstanding, which bounds the memory
//! the pipeline holds whatever the input size: each holds its copies and the read blocks its
//! lines lie in (one or two read blocks of a megabyte; a block grows only to hold a line longer
//! than itself), and blocks no batch holds any more go back to the framer.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use tokentrail_model::{Position, SourceRef};

use crate::decode::{decode_all, DecodeOptions};
use crate::frame::{Block, Recycler, RowFields};
use crate::{CsvLayout, DecodeError, DecodedRecord, Payload};

/// Bytes of framed JSON collected before a batch is handed to a decoding thread: large enough
/// that channel traffic is negligible, small enough that two threads share a 10 MB file.
pub(super) const BATCH_BYTES: usize = 512 * 1024;

/// Records per batch at most (many tiny records would otherwise make one huge batch).
const BATCH_RECORDS: usize = 4096;

/// Outstanding batches per decoding thread.
const IN_FLIGHT_PER_THREAD: usize = 3;

/// One framed item, in input order.
enum Item {
    /// A JSON record whose bytes are `range` of the batch buffer.
    Json {
        position: Position,
        range: Range<usize>,
    },
    /// A JSON record whose bytes are `range` of the batch's read block number `block`.
    Shared {
        position: Position,
        block: usize,
        range: Range<usize>,
    },
    /// A CSV row laid out by the batch's layout, as it is in the file: `range` of the batch's
    /// read block number `block`.
    Csv {
        position: Position,
        block: usize,
        range: Range<usize>,
    },
    /// A record already decoded: what it held, or why it failed.
    Decoded {
        position: Position,
        results: Vec<Result<DecodedRecord, DecodeError>>,
    },
    /// A record the framer could not cut out.
    Unreadable { position: Position, reason: String },
}

/// What the calling thread does with one item, in input order.
pub(super) enum Outcome {
    /// Decoded.
    Record(DecodedRecord),
    /// Not readable, and why.
    Unreadable { position: Position, reason: String },
}

/// Framed records waiting to be decoded.
struct Batch {
    file: Arc<str>,
    /// Copies of the `Item::Json` records: empty, with no room, until the first one arrives.
    bytes: Vec<u8>,
    /// The layout of the file's CSV rows.
    layout: Option<Arc<CsvLayout>>,
    /// The read blocks that `Item::Shared` and `Item::Csv` records lie in, each once.
    blocks: Vec<Block>,
    /// Bytes of the `Item::Shared` and `Item::Csv` records.
    shared_bytes: usize,
    items: Vec<Item>,
}

impl Batch {
    fn new(file: Arc<str>) -> Batch {
        Batch {
            file,
            // Taken when a record is copied ([`Batch::append`]): a batch of JSON lines only
            // references its read blocks and would hold a buffer it never writes.
            bytes: Vec::new(),
            layout: None,
            blocks: Vec::new(),
            shared_bytes: 0,
            items: Vec::with_capacity(1024),
        }
    }

    /// Copies a JSON record into the batch's buffer, taking one first if it has none.
    fn copy(&mut self, position: Position, record: &[u8], spare: &Spare) {
        if self.bytes.capacity() == 0 {
            // Reusing buffers keeps the allocator from returning them to the system and the
            // kernel from zeroing fresh pages for every batch.
            let recycled = spare.lock().ok().and_then(|mut s| s.pop());
            self.bytes =
                recycled.unwrap_or_else(|| Vec::with_capacity(BATCH_BYTES + BATCH_BYTES / 4));
        }
        let start = self.bytes.len();
        self.bytes.extend_from_slice(record);
        let range = start..self.bytes.len();
        self.items.push(Item::Json { position, range });
    }

    /// Holds `block` for a record of `len` bytes in it; its number in the batch.
    fn hold(&mut self, block: &Block, len: usize) -> usize {
        if !self.blocks.last().is_some_and(|b| Arc::ptr_eq(b, block)) {
            self.blocks.push(Arc::clone(block));
        }
        self.shared_bytes += len;
        self.blocks.len() - 1
    }

    fn is_full(&self) -> bool {
        self.bytes.len() + self.shared_bytes >= BATCH_BYTES || self.items.len() >= BATCH_RECORDS
    }

    fn decode(self, opts: &DecodeOptions, spare: &Spare, recycler: &Recycler) -> Vec<Outcome> {
        let Batch {
            file,
            mut bytes,
            layout,
            blocks,
            items,
            ..
        } = self;
        let outcome = |position: Position, result: Result<DecodedRecord, DecodeError>| match result
        {
            Ok(record) => Outcome::Record(record),
            Err(e) => Outcome::Unreadable {
                position,
                reason: e.to_string(),
            },
        };
        let mut outcomes = Vec::with_capacity(items.len());
        // The fields of the CSV row being decoded, their room reused from row to row.
        let mut fields = RowFields::default();
        for item in items {
            // A JSON record's bytes (copied into the batch, or a range of a read block), or a
            // CSV row's fields.
            let (position, payload) = match item {
                Item::Json { position, range } => (
                    position,
                    Payload::Json(bytes.get(range).unwrap_or_default()),
                ),
                Item::Shared {
                    position,
                    block,
                    range,
                } => {
                    let line = blocks.get(block).and_then(|b| b.get(range));
                    (position, Payload::Json(line.unwrap_or_default()))
                }
                Item::Csv {
                    position,
                    block,
                    range,
                } => {
                    let row = blocks.get(block).and_then(|b| b.get(range));
                    let row = fields.split(row.unwrap_or_default());
                    match layout.as_deref() {
                        Some(layout) => (position, Payload::Csv { layout, row }),
                        // Never: a batch with a CSV row holds its file's layout.
                        None => {
                            outcomes.push(Outcome::Unreadable {
                                position,
                                reason: "a CSV row came without its header".into(),
                            });
                            continue;
                        }
                    }
                }
                Item::Decoded { position, results } => {
                    outcomes.extend(results.into_iter().map(|r| outcome(position, r)));
                    continue;
                }
                Item::Unreadable { position, reason } => {
                    outcomes.push(Outcome::Unreadable { position, reason });
                    continue;
                }
            };
            let source = SourceRef {
                file: file.clone(),
                position,
            };
            decode_all(payload, source, opts, &mut |r| {
                outcomes.push(outcome(position, r))
            });
        }
        bytes.clear();
        // A buffer grown to hold one long record (up to the record limit) is not kept.
        if bytes.capacity() > 0 && bytes.capacity() <= 2 * BATCH_BYTES {
            if let Ok(mut s) = spare.lock() {
                if s.len() < MAX_SPARE {
                    s.push(bytes);
                }
            }
        }
        for block in blocks {
            recycler.give(block);
        }
        outcomes
    }
}

/// Emptied batch buffers, shared by the reading thread and the decoding threads.
type Spare = Mutex<Vec<Vec<u8>>>;

/// Buffers kept for reuse: enough for every batch in flight with up to five decoding threads
/// (3 per thread, plus the one being filled); beyond that, batches allocate afresh.
const MAX_SPARE: usize = 16;

struct Job {
    batch: Batch,
    reply: SyncSender<Vec<Outcome>>,
}

/// Decoding threads, alive for one run of [`super::read_paths`].
pub(super) struct Pool {
    jobs: SyncSender<Job>,
    threads: usize,
    opts: DecodeOptions,
    spare: Arc<Spare>,
    recycler: Arc<Recycler>,
}

impl Pool {
    /// Start `threads` decoding threads inside `scope`.
    pub(super) fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        threads: usize,
        opts: &'scope DecodeOptions,
    ) -> Pool {
        let (jobs, queue) = mpsc::sync_channel::<Job>(threads * IN_FLIGHT_PER_THREAD);
        let queue = Arc::new(Mutex::new(queue));
        let spare = Arc::new(Spare::default());
        let recycler = Arc::new(Recycler::default());
        for _ in 0..threads {
            let queue = Arc::clone(&queue);
            let spare = Arc::clone(&spare);
            let recycler = Arc::clone(&recycler);
            scope.spawn(move || loop {
                // The lock is held only while taking a job, never while decoding.
                let job = match queue.lock() {
                    Ok(q) => q.recv(),
                    Err(_) => return,
                };
                let Ok(Job { batch, reply }) = job else {
                    return;
                };
                // The receiver is gone only when the reading thread stopped early.
                let _ = reply.send(batch.decode(opts, &spare, &recycler));
            });
        }
        Pool {
            jobs,
            threads,
            opts: opts.clone(),
            spare,
            recycler,
        }
    }

    /// Where the framer takes its read blocks from, and the decoding threads give them back.
    pub(super) fn recycler(&self) -> &Recycler {
        &self.recycler
    }
}

/// The framing side of one input: collects records into batches and hands back decoded ones
/// in order through `apply`.
pub(super) struct Pipeline<'p> {
    pool: &'p Pool,
    file: Arc<str>,
    batch: Batch,
    pending: VecDeque<(Receiver<Vec<Outcome>>, Vec<Position>)>,
}

impl<'p> Pipeline<'p> {
    pub(super) fn new(pool: &'p Pool, file: Arc<str>) -> Pipeline<'p> {
        Pipeline {
            pool,
            batch: Batch::new(file.clone()),
            file,
            pending: VecDeque::new(),
        }
    }

    /// A framed JSON record.
    pub(super) fn json(
        &mut self,
        position: Position,
        bytes: &[u8],
        apply: &mut dyn FnMut(Outcome),
    ) {
        self.batch.copy(position, bytes, &self.pool.spare);
        if self.batch.is_full() {
            self.dispatch(apply);
        }
    }

    /// A framed JSON record that is `range` of `block`: the batch holds the block rather than
    /// copy the record.
    pub(super) fn shared(
        &mut self,
        position: Position,
        block: &Block,
        range: Range<usize>,
        apply: &mut dyn FnMut(Outcome),
    ) {
        let batch = &mut self.batch;
        let block = batch.hold(block, range.len());
        batch.items.push(Item::Shared {
            position,
            block,
            range,
        });
        if batch.is_full() {
            self.dispatch(apply);
        }
    }

    /// A framed CSV row of the file laid out by `layout`, `range` of `block`: the batch holds
    /// the block, and the decoding thread splits the row.
    pub(super) fn csv(
        &mut self,
        position: Position,
        layout: &Arc<CsvLayout>,
        block: &Block,
        range: Range<usize>,
        apply: &mut dyn FnMut(Outcome),
    ) {
        // A batch holds one layout: a file has one header.
        if (self.batch.layout.as_ref()).is_some_and(|l| !Arc::ptr_eq(l, layout)) {
            self.dispatch(apply);
        }
        let batch = &mut self.batch;
        batch.layout.get_or_insert_with(|| Arc::clone(layout));
        let block = batch.hold(block, range.len());
        batch.items.push(Item::Csv {
            position,
            block,
            range,
        });
        if batch.is_full() {
            self.dispatch(apply);
        }
    }

    /// A record decoded on the framing thread, and what it held.
    pub(super) fn decoded(
        &mut self,
        position: Position,
        results: Vec<Result<DecodedRecord, DecodeError>>,
        apply: &mut dyn FnMut(Outcome),
    ) {
        self.batch.items.push(Item::Decoded { position, results });
        if self.batch.is_full() {
            self.dispatch(apply);
        }
    }

    /// A record the framer could not cut out.
    pub(super) fn unreadable(&mut self, position: Position, reason: String) {
        self.batch.items.push(Item::Unreadable { position, reason });
    }

    fn dispatch(&mut self, apply: &mut dyn FnMut(Outcome)) {
        let fresh = Batch::new(self.file.clone());
        let batch = std::mem::replace(&mut self.batch, fresh);
        if batch.items.is_empty() {
            return;
        }
        let positions = batch.items.iter().map(Item::position).collect();
        let (reply, answer) = mpsc::sync_channel(1);
        match self.pool.jobs.send(Job { batch, reply }) {
            Ok(()) => self.pending.push_back((answer, positions)),
            Err(mpsc::SendError(job)) => {
                // No decoding thread is left (one panicked): nothing may be lost, so decode
                // here rather than drop the batch.
                let pool = self.pool;
                for outcome in job.batch.decode(&pool.opts, &pool.spare, &pool.recycler) {
                    apply(outcome);
                }
            }
        }
        while self.pending.len() > self.pool.threads * IN_FLIGHT_PER_THREAD {
            self.receive_one(apply);
        }
    }

    fn receive_one(&mut self, apply: &mut dyn FnMut(Outcome)) {
        let Some((answer, positions)) = self.pending.pop_front() else {
            return;
        };
        match answer.recv() {
            Ok(outcomes) => outcomes.into_iter().for_each(&mut *apply),
            Err(_) => {
                for position in positions {
                    apply(Outcome::Unreadable {
                        position,
                        reason: "the decoding thread failed on this batch".into(),
                    });
                }
            }
        }
    }

    /// Decode what is left and hand back every outstanding record.
    pub(super) fn finish(mut self, apply: &mut dyn FnMut(Outcome)) {
        self.dispatch(apply);
        while !self.pending.is_empty() {
            self.receive_one(apply);
        }
    }
}

impl Item {
    fn position(&self) -> Position {
        match self {
            Item::Json { position, .. }
            | Item::Shared { position, .. }
            | Item::Csv { position, .. }
            | Item::Decoded { position, .. }
            | Item::Unreadable { position, .. } => *position,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `lines` records as JSON lines of one read block and `copies` as copied records
    /// through one decoding thread, the spare pool holding `seeded` buffers at the start;
    /// the buffers it holds at the end, and the outcomes handed back.
    fn spare_after(lines: usize, copies: usize, seeded: usize) -> (usize, usize) {
        let opts = DecodeOptions::default();
        let record = br#"{"Id":"1"}"#;
        let block: Block = Arc::new(record.repeat(lines));
        std::thread::scope(|scope| {
            let pool = Pool::start(scope, 1, &opts);
            pool.spare
                .lock()
                .unwrap()
                .extend((0..seeded).map(|_| Vec::with_capacity(64)));
            let mut outcomes = 0;
            let mut apply = |_: Outcome| outcomes += 1;
            let mut pipeline = Pipeline::new(&pool, Arc::from("test.jsonl"));
            for i in 0..lines {
                let at = i * record.len();
                let line = Position::Line(i as u64 + 1);
                pipeline.shared(line, &block, at..at + record.len(), &mut apply);
            }
            for i in 0..copies {
                pipeline.json(Position::Index(i as u64), record, &mut apply);
            }
            pipeline.finish(&mut apply);
            let spare = pool.spare.lock().unwrap().len();
            (spare, outcomes)
        })
    }

    #[test]
    fn a_batch_of_json_lines_takes_no_buffer() {
        assert_eq!(spare_after(3, 0, 0), (0, 3));
        assert_eq!(spare_after(3, 0, 2), (2, 3));
    }

    #[test]
    fn a_batch_with_copied_records_takes_one_buffer_and_gives_it_back() {
        assert_eq!(spare_after(0, 3, 0), (1, 3));
        assert_eq!(spare_after(0, 3, 2), (2, 3));
        assert_eq!(spare_after(2, 1, 2), (2, 3));
    }
}
