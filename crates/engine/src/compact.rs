//! The compact binary form of records waiting on disk: values written one after another, little
//! endian, strings length-prefixed, options tagged. Nothing describes the layout but the order
//! of the calls: a record is read back by the same calls, in the same order, that wrote it.

use std::net::IpAddr;
use std::sync::Arc;

use tokentrail_model::{Guid, Ident, Position, SourceRef, Timestamp};

/// Appends values to a record.
pub struct Writer<'b>(pub &'b mut Vec<u8>);

impl Writer<'_> {
    /// A byte.
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    /// A `u32`.
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// A `u64`.
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// An `i64`.
    pub fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// A `u128`.
    pub fn u128(&mut self, v: u128) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// Text, length first.
    pub fn str(&mut self, v: &str) {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.0.extend_from_slice(v.as_bytes());
    }
    /// Text or nothing.
    pub fn opt_str(&mut self, v: Option<&str>) {
        match v {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    /// A yes, a no or nothing.
    pub fn opt_bool(&mut self, v: Option<bool>) {
        self.u8(match v {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
    }
    /// A `u64` or nothing.
    pub fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(n) => {
                self.u8(1);
                self.u64(n);
            }
        }
    }
    /// An `i64` or nothing.
    pub fn opt_i64(&mut self, v: Option<i64>) {
        self.opt_u64(v.map(|n| n as u64));
    }
    /// A time.
    pub fn time(&mut self, t: Timestamp) {
        self.i64(t.0);
    }
    /// A time or nothing.
    pub fn opt_time(&mut self, t: Option<Timestamp>) {
        self.opt_i64(t.map(|t| t.0));
    }
    /// A GUID or nothing.
    pub fn opt_guid(&mut self, g: Option<Guid>) {
        match g {
            None => self.u8(0),
            Some(g) => {
                self.u8(1);
                self.u128(g.0);
            }
        }
    }
    /// An id (GUID or text) or nothing.
    pub fn opt_ident(&mut self, v: Option<&Ident>) {
        match v {
            None => self.u8(0),
            Some(Ident::Guid(g)) => {
                self.u8(1);
                self.u128(g.0);
            }
            Some(Ident::Opaque(s)) => {
                self.u8(2);
                self.str(s);
            }
        }
    }
    /// An address or nothing.
    pub fn opt_ip(&mut self, v: Option<IpAddr>) {
        match v {
            None => self.u8(0),
            Some(IpAddr::V4(a)) => {
                self.u8(4);
                self.0.extend_from_slice(&a.octets());
            }
            Some(IpAddr::V6(a)) => {
                self.u8(6);
                self.0.extend_from_slice(&a.octets());
            }
        }
    }
    /// Where a record was read: the index of its file in a table the reader has too, and its position.
    pub fn source(&mut self, file: u32, p: Position) {
        self.u32(file);
        match p {
            Position::Line(n) => {
                self.u8(0);
                self.u64(n);
            }
            Position::Index(n) => {
                self.u8(1);
                self.u64(n);
            }
        }
    }
}

/// Reads a record's values back in the order written: `None` when the bytes end early or say
/// something impossible.
pub struct Reader<'b>(pub &'b [u8]);

impl<'b> Reader<'b> {
    /// The next `n` bytes as they are.
    pub fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }
    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    /// A byte.
    pub fn u8(&mut self) -> Option<u8> {
        Some(*self.take(1)?.first()?)
    }
    /// A `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }
    /// A `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }
    /// An `i64`.
    pub fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.array()?))
    }
    /// A `u128`.
    pub fn u128(&mut self) -> Option<u128> {
        Some(u128::from_le_bytes(self.array()?))
    }
    /// Text, length first.
    pub fn str(&mut self) -> Option<&'b str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
    /// Text or nothing.
    pub fn opt_str(&mut self) -> Option<Option<String>> {
        Some(match self.u8()? {
            0 => None,
            1 => Some(self.str()?.to_owned()),
            _ => return None,
        })
    }
    /// A yes, a no or nothing.
    pub fn opt_bool(&mut self) -> Option<Option<bool>> {
        Some(match self.u8()? {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => return None,
        })
    }
    /// A `u64` or nothing.
    pub fn opt_u64(&mut self) -> Option<Option<u64>> {
        Some(match self.u8()? {
            0 => None,
            1 => Some(self.u64()?),
            _ => return None,
        })
    }
    /// An `i64` or nothing.
    pub fn opt_i64(&mut self) -> Option<Option<i64>> {
        Some(self.opt_u64()?.map(|n| n as i64))
    }
    /// A time.
    pub fn time(&mut self) -> Option<Timestamp> {
        Some(Timestamp(self.i64()?))
    }
    /// A time or nothing.
    pub fn opt_time(&mut self) -> Option<Option<Timestamp>> {
        Some(self.opt_i64()?.map(Timestamp))
    }
    /// A GUID or nothing.
    pub fn opt_guid(&mut self) -> Option<Option<Guid>> {
        Some(match self.u8()? {
            0 => None,
            1 => Some(Guid(self.u128()?)),
            _ => return None,
        })
    }
    /// An id (GUID or text) or nothing.
    pub fn opt_ident(&mut self) -> Option<Option<Ident>> {
        Some(match self.u8()? {
            0 => None,
            1 => Some(Ident::Guid(Guid(self.u128()?))),
            2 => Some(Ident::Opaque(Arc::from(self.str()?))),
            _ => return None,
        })
    }
    /// An address or nothing.
    pub fn opt_ip(&mut self) -> Option<Option<IpAddr>> {
        Some(match self.u8()? {
            0 => None,
            4 => Some(IpAddr::from(self.array::<4>()?)),
            6 => Some(IpAddr::from(self.array::<16>()?)),
            _ => return None,
        })
    }
    /// Where a record was read, its file named by index in `files`.
    pub fn source(&mut self, files: &[Arc<str>]) -> Option<SourceRef> {
        let file = files.get(self.u32()? as usize)?.clone();
        let position = match self.u8()? {
            0 => Position::Line(self.u64()?),
            1 => Position::Index(self.u64()?),
            _ => return None,
        };
        Some(SourceRef { file, position })
    }

    /// Every byte was read.
    pub fn is_done(&self) -> bool {
        self.0.is_empty()
    }
}
