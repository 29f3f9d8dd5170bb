//! An Elasticsearch search answer (`{"took",...,"hits":{"total",...,"hits":[...]}}`): its
//! hits are streamed as the records; the decoder reads each hit's `_source`.

use super::{FrameError, Framer};

impl Framer<'_, '_, '_> {
    /// Positioned on the `{` of the answer's `hits`: its `hits` array streamed, its other
    /// members skipped.
    pub(super) fn search_hits(&mut self) -> Result<(), FrameError> {
        self.s.consume(1);
        while let Some(key) = self.next_key("the hits of a search answer")? {
            match self.skip_ws()? {
                Some(b'[') if key == b"\"hits\"" => self.array_elements()?,
                _ => self.scan_value("the hits of a search answer")?,
            }
            self.after_value("the hits of a search answer")?;
        }
        Ok(())
    }
}
