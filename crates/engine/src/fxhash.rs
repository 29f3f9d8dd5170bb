//! A fast, non-cryptographic hash for the engine's internal maps (the multiply-rotate hash
//! rustc uses). Keys are short ids and strings hashed millions of times per run; the standard
//! SipHash costs a large share of adding a record. The input is the tenant's own exported logs,
//! and a crafted collision set could only slow a run down, never change its answer.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The hasher state.
#[derive(Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(rest) {
                *d = *s;
            }
            self.add(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        // The multiply carries every input bit into the high bits only; hash tables pick the
        // bucket from the low bits. Without this rotation, addresses that differ only in their
        // first octets (one /16 of a carrier) would all land in a few buckets.
        self.0.rotate_left(26)
    }
}

/// A hash map with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
/// A hash set with [`FxHasher`].
pub(crate) type FxHashSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    #[test]
    fn equal_keys_hash_equal_and_tails_count() {
        let b = BuildHasherDefault::<FxHasher>::default();
        assert_eq!(b.hash_one("abcdefghij"), b.hash_one("abcdefghij"));
        assert_ne!(b.hash_one("abcdefghij"), b.hash_one("abcdefghik"));
        assert_ne!(b.hash_one(1u128 << 70), b.hash_one(1u128 << 71));
    }

    #[test]
    fn addresses_of_one_slash_16_spread_over_buckets() {
        let b = BuildHasherDefault::<FxHasher>::default();
        let buckets: std::collections::BTreeSet<u64> = (0..=255u8)
            .map(|o| b.hash_one(std::net::IpAddr::from([10, o, 0, 1])) & 0xfff)
            .collect();
        assert!(buckets.len() > 200, "{} buckets", buckets.len());
    }
}
