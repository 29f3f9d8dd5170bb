//! Records the consumer has finished with, refilled by the decoders.
//!
//! Decoding threads build sign-ins and accesses and the consumer (`detect`'s engine) frees them
//! on its own thread once it has taken what it needs: every record's box and text would be
//! allocated on one thread and freed on another, which the allocator pays for twice (the free,
//! then the owning thread collecting it). A consumer that hands records back through a
//! [`Recycler`] lets the decoders refill them: the box is reused, and every text the record
//! held becomes a buffer for the next record's text ([`Spares`]).
//!
//! A refilled record is made whole again first ([`SignIn::reset`], [`Access::reset`] replace
//! it with a new record): no value of the earlier record can reach the next one, only the
//! emptied buffers.

use std::fmt;

use crossbeam_queue::ArrayQueue;
use tokentrail_model::{Access, AccessSource, SignIn, SignInKind, SourceRef, Timestamp};

use crate::Decoded;

/// Records handed back once the consumer has taken what it needs, for the decoders to
/// refill. Shared by the consumer and every decoding thread (through
/// [`crate::DecodeOptions::recycler`]); bounded, and a record handed back to a full one is
/// dropped.
pub struct Recycler {
    sign_ins: ArrayQueue<Box<SignIn>>,
    accesses: ArrayQueue<Box<Access>>,
}

impl Recycler {
    /// Keeps up to `capacity` sign-ins and as many accesses: about the records in flight
    /// between the decoders and the consumer is enough, as the decoders refill them as fast as
    /// they come back.
    pub fn new(capacity: usize) -> Recycler {
        let capacity = capacity.max(1);
        Recycler {
            sign_ins: ArrayQueue::new(capacity),
            accesses: ArrayQueue::new(capacity),
        }
    }

    /// Hand back a record whose contents are no longer needed.
    pub fn give_back(&self, event: Decoded) {
        // A full queue gives the record back: it is then dropped here.
        match event {
            Decoded::SignIn(s) => drop(self.sign_ins.push(s)),
            Decoded::Access(a) => drop(self.accesses.push(a)),
            Decoded::Other(_) => {}
        }
    }

    /// An empty sign-in: a handed-back one made new when there is one, its texts kept in
    /// `spares`.
    pub(super) fn sign_in(
        &self,
        source: SourceRef,
        kind: SignInKind,
        time: Timestamp,
        spares: &mut Spares,
    ) -> Box<SignIn> {
        match self.sign_ins.pop() {
            Some(mut s) => {
                s.reset(source, kind, time, |t| spares.keep(t));
                s
            }
            None => Box::new(SignIn::new(source, kind, time)),
        }
    }

    /// An empty access with an empty operation, as [`Recycler::sign_in`].
    pub(super) fn access(
        &self,
        source: SourceRef,
        log: AccessSource,
        time: Timestamp,
        spares: &mut Spares,
    ) -> Box<Access> {
        match self.accesses.pop() {
            Some(mut a) => {
                a.reset(source, log, time, |t| spares.keep(t));
                a
            }
            None => Box::new(Access::new(source, log, time, String::new())),
        }
    }
}

impl fmt::Debug for Recycler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recycler")
            .field("sign_ins", &self.sign_ins.len())
            .field("accesses", &self.accesses.len())
            .field("capacity", &self.sign_ins.capacity())
            .finish()
    }
}

/// More texts than any record has (a sign-in has 24).
const SPARES: usize = 32;

/// The emptied text buffers of the record being refilled, handed out to its new text in the
/// order the record held them; once they run out, text is allocated as usual. What is left
/// when the record is built is freed.
pub(crate) struct Spares {
    buffers: [String; SPARES],
    kept: usize,
    next: usize,
}

impl Default for Spares {
    fn default() -> Spares {
        Spares {
            buffers: std::array::from_fn(|_| String::new()),
            kept: 0,
            next: 0,
        }
    }
}

impl Spares {
    /// Keep an emptied buffer (beyond [`SPARES`], it is freed).
    fn keep(&mut self, buffer: String) {
        if let Some(slot) = self.buffers.get_mut(self.kept) {
            *slot = buffer;
            self.kept += 1;
        }
    }

    /// `text` in a buffer of its own.
    pub(crate) fn copy(&mut self, text: &str) -> String {
        let mut out = self.buffer(text.len());
        out.push_str(text);
        out
    }

    /// `text` lower-cased (ASCII letters, as `str::to_ascii_lowercase`) in a buffer of its
    /// own.
    pub(crate) fn lower(&mut self, text: &str) -> String {
        let mut out = self.copy(text);
        out.make_ascii_lowercase();
        out
    }

    /// An empty buffer: the next spare one, or a new one of `capacity`.
    pub(crate) fn buffer(&mut self, capacity: usize) -> String {
        match self
            .buffers
            .get_mut(self.next)
            .filter(|_| self.next < self.kept)
        {
            Some(spare) => {
                self.next += 1;
                std::mem::take(spare)
            }
            None => String::with_capacity(capacity),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokentrail_model::Position;

    use super::*;

    fn source() -> SourceRef {
        SourceRef {
            file: Arc::from("f"),
            position: Position::Line(1),
        }
    }

    #[test]
    fn spares_are_handed_out_in_the_order_kept_then_allocated() {
        let mut spares = Spares::default();
        spares.keep(String::with_capacity(40));
        spares.keep(String::with_capacity(80));
        let first = spares.copy("Ab");
        assert_eq!((first.as_str(), first.capacity()), ("Ab", 40));
        let second = spares.lower("AbC-É");
        assert_eq!((second.as_str(), second.capacity()), ("abc-É", 80));
        let third = spares.copy("xyz");
        assert_eq!((third.as_str(), third.capacity()), ("xyz", 3));
    }

    #[test]
    fn spares_beyond_the_limit_are_freed() {
        let mut spares = Spares::default();
        for _ in 0..SPARES + 3 {
            spares.keep(String::with_capacity(10));
        }
        assert_eq!(spares.kept, SPARES);
    }

    #[test]
    fn a_full_recycler_drops_what_is_handed_back() {
        let recycler = Recycler::new(1);
        let time = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let mut s = SignIn::new(source(), SignInKind::Interactive, time);
        s.upn = Some("user@example.com".to_owned());
        recycler.give_back(Decoded::SignIn(Box::new(s.clone())));
        recycler.give_back(Decoded::SignIn(Box::new(s)));
        assert_eq!(recycler.sign_ins.len(), 1);
        let mut spares = Spares::default();
        let again = recycler.sign_in(source(), SignInKind::UalLogon, time, &mut spares);
        assert_eq!(*again, SignIn::new(source(), SignInKind::UalLogon, time));
        assert_eq!((spares.kept, spares.buffers[0].capacity()), (1, 16));
        assert_eq!(recycler.sign_ins.len(), 0);
    }
}
