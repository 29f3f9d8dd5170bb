//! Records the consumer has finished with, refilled by the decoders.
//!
//! Decoding threads build sign-ins and accesses and the consumer (`detect`'s engine) frees them
//! on its own thread once it has taken what it needs: every record's box and text would be
//! allocated on one thread and freed on another, which the allocator pays for twice (the free,
//! then the owning thread collecting it). A consumer that hands records back through a
//! [`RecordRecycler`] lets the decoders refill them: the box is reused, and each text is built in
//! the buffer the same field held.
//!
//! A refilled record is made new first ([`SignIn::renew`], [`Access::renew`] replace it whole
//! and hand back what it was, the spare): no value of the earlier record can reach the next
//! one. Decoders take only buffers from the spare, and empty each before writing.

use std::fmt;

use crossbeam_queue::ArrayQueue;
use tokentrail_model::{Access, SignIn};

use crate::Decoded;

/// Records handed back once the consumer has taken what it needs, for the decoders to
/// refill. Shared by the consumer and every decoding thread (through
/// [`crate::DecodeOptions::recycler`]); bounded, and a record handed back to a full one is
/// dropped.
pub struct RecordRecycler {
    sign_ins: ArrayQueue<Box<SignIn>>,
    accesses: ArrayQueue<Box<Access>>,
}

impl RecordRecycler {
    /// Keeps up to `capacity` sign-ins and as many accesses: about the records in flight
    /// between the decoders and the consumer is enough, as the decoders refill them as fast as
    /// they come back.
    pub fn new(capacity: usize) -> RecordRecycler {
        let capacity = capacity.max(1);
        RecordRecycler {
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

    /// A handed-back sign-in, if there is one: to be renewed before it is filled.
    pub(super) fn sign_in(&self) -> Option<Box<SignIn>> {
        self.sign_ins.pop()
    }

    /// A handed-back access, if there is one: to be renewed before it is filled.
    pub(super) fn access(&self) -> Option<Box<Access>> {
        self.accesses.pop()
    }
}

impl fmt::Debug for RecordRecycler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordRecycler")
            .field("sign_ins", &self.sign_ins.len())
            .field("accesses", &self.accesses.len())
            .field("capacity", &self.sign_ins.capacity())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokentrail_model::{Position, SignInKind, SourceRef, Timestamp};

    use super::*;

    fn source() -> SourceRef {
        SourceRef {
            file: Arc::from("f"),
            position: Position::Line(1),
        }
    }

    #[test]
    fn a_full_recycler_drops_what_is_handed_back() {
        let recycler = RecordRecycler::new(1);
        let time = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let mut s = SignIn::new(source(), SignInKind::Interactive, time);
        s.upn = Some("user@example.com".to_owned());
        recycler.give_back(Decoded::SignIn(Box::new(s.clone())));
        recycler.give_back(Decoded::SignIn(Box::new(s)));
        assert_eq!(recycler.sign_ins.len(), 1);
        assert_eq!(
            recycler.sign_in().unwrap().upn.as_deref(),
            Some("user@example.com")
        );
        assert!(recycler.sign_in().is_none());
    }
}
