//! A small seeded generator (SplitMix64) so the same arguments give the same bytes on every
//! platform and every version of the dependencies.

use tokentrail_model::Guid;

/// SplitMix64: tiny, fast and statistically good enough for synthetic logs.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator seeded from `seed`.
    #[cfg(test)]
    pub(crate) fn new(seed: u64) -> Rng {
        Rng { state: mix(seed) }
    }

    /// An independent stream for one purpose (user, day, ...): the output for a user-day does
    /// not depend on how many users or days were generated before it.
    pub(crate) fn stream(seed: u64, parts: &[u64]) -> Rng {
        let mut s = mix(seed ^ 0x5349_4d55_4c41_5445);
        for &p in parts {
            s = mix(s ^ mix(p.wrapping_add(GOLDEN)));
        }
        Rng { state: s }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice; `None` for an empty one.
    pub(crate) fn pick<'s, T>(&mut self, items: &'s [T]) -> Option<&'s T> {
        items.get(self.below(items.len() as u64) as usize)
    }

    /// A random version-4 GUID, the kind Entra uses for ids.
    pub(crate) fn guid(&mut self) -> Guid {
        let hi = u128::from(self.next_u64());
        let lo = u128::from(self.next_u64());
        let v = (hi << 64) | lo;
        let v = (v & !(0xf_u128 << 76)) | (0x4_u128 << 76);
        let v = (v & !(0x3_u128 << 62)) | (0x2_u128 << 62);
        Guid(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::stream(7, &[1, 2]).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::stream(7, &[1, 2]).next_u64(),
            Rng::stream(7, &[2, 1]).next_u64()
        );
    }

    #[test]
    fn guids_are_version_4() {
        let mut r = Rng::new(1);
        for _ in 0..100 {
            let text = r.guid().to_string();
            assert_eq!(&text[14..15], "4");
            assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"));
        }
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::new(3);
        assert!((0..1000).all(|_| r.below(7) < 7));
        assert_eq!(r.below(0), 0);
        assert!((0..1000).all(|_| (3..=5).contains(&r.range(3, 5))));
    }
}
