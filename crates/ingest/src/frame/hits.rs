//! An Elasticsearch search answer (`{"took",...,"hits":{"total",...,"hits":[...]}}`): its
//! hits are streamed as the records; the decoder reads each hit's `_source`.

use super::{FrameError, Framer};

impl Framer<'_, '_, '_> {
    /// Positioned on the `{` of the answer's `hits`: its `hits` array streamed, its other
    /// members skipped.
    pub(super) fn search_hits(&mut self) -> Result<(), FrameError> {
        self.s.consume(1);
        loop {
            match self.skip_ws()? {
                None => return Err(self.truncated("the hits of a search answer")),
                Some(b'}') => {
                    self.s.consume(1);
                    return Ok(());
                }
                Some(b'"') => {}
                Some(_) => return Err(self.syntax("expected an object key")),
            }
            let key = self.read_key()?;
            if self.skip_ws()? != Some(b':') {
                return Err(self.syntax("expected ':' after an object key"));
            }
            self.s.consume(1);
            match self.skip_ws()? {
                None => return Err(self.truncated("the hits of a search answer")),
                Some(b'[') if key == b"\"hits\"" => self.array_elements()?,
                Some(_) => self.scan_value("the hits of a search answer")?,
            }
            match self.skip_ws()? {
                Some(b',') => self.s.consume(1),
                Some(b'}') => {}
                None => return Err(self.truncated("the hits of a search answer")),
                Some(_) => return Err(self.syntax("expected ',' or '}' in an object")),
            }
        }
    }
}
