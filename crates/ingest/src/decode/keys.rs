//! Which slot an object key names, found with a perfect hash built at compile time.
//!
//! A record has eighty-odd keys and a slot struct answers to up to a hundred spellings:
//! lowering each key into a buffer and trying the spellings one by one (what a `match` on
//! byte strings compiles to, grouped by length) cost more than crossing the kilobytes of
//! text nobody reads. Here a key is read in place as at most five eight-byte words: the
//! first and the last, folded to one case, pick the only table entry it can be, and one
//! compare per word (with the entry's letter bits set, so either case of a letter matches)
//! confirms it.

/// Longest key a table holds: longer keys are never fields anybody needs.
pub(crate) const KEY_CAP: usize = 40;

/// Words of a key of at most [`KEY_CAP`] bytes.
const WORDS: usize = KEY_CAP.div_ceil(8);

/// Each byte's `0x20` bit: or-ed into an ASCII letter it gives the lower case.
const CASE_BITS: u64 = 0x2020_2020_2020_2020;

/// One key of a table: its words (lower case) at the offsets [`word_at`] gives, and in
/// `letters` the case bit of every byte that is a letter.
#[derive(Clone, Copy)]
struct Entry<F> {
    words: [u64; WORDS],
    letters: [u64; WORDS],
    len: usize,
    field: F,
}

/// Keys (lower-cased, ASCII) mapped to fields `F`: `N` keys, an index of `M` buckets (a
/// power of two), each bucket holding at most one key.
pub(crate) struct KeyTable<F: Copy + 'static, const N: usize, const M: usize> {
    seed: u64,
    /// Entry number plus one per bucket; zero for an empty bucket.
    index: [u8; M],
    entries: [Entry<F>; N],
}

/// Buckets for `n` keys: enough that a random seed is collision-free often enough for the
/// compile-time search to end quickly (about one seed in ten for a hundred keys).
pub(crate) const fn buckets(n: usize) -> usize {
    let want = n * n / 4;
    let mut m = 16;
    while m < want {
        m *= 2;
    }
    m
}

/// Words of a key of `len` bytes (one for a key shorter than a word).
#[inline(always)]
const fn word_count(len: usize) -> usize {
    if len < 8 {
        1
    } else {
        len.div_ceil(8)
    }
}

/// Where word `j` of a key of `len` bytes starts: every eight bytes, except that the last
/// word ends with the key (overlapping the one before), so no word but a short key's only
/// one needs masking.
#[inline(always)]
const fn word_at(len: usize, j: usize) -> usize {
    if len < 8 {
        0
    } else if j + 1 == word_count(len) {
        len - 8
    } else {
        8 * j
    }
}

/// The low `n` bytes (at most eight) of `w`.
#[inline(always)]
const fn low_bytes(w: u64, n: usize) -> u64 {
    if n >= 8 {
        w
    } else {
        w & ((1u64 << (8 * n)) - 1)
    }
}

/// The bucket of a key of `len` bytes whose first and last words, case bits set over its
/// `len` bytes, are `first` and `last`.
#[inline(always)]
const fn bucket(first: u64, last: u64, len: usize, seed: u64, buckets: usize) -> usize {
    let x = first.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ last.rotate_left(29) ^ len as u64;
    (x.wrapping_mul(seed) >> (64 - buckets.trailing_zeros())) as usize
}

/// The word of `key` (compile time) at `at`, `n` bytes long, little-endian.
const fn const_word(key: &[u8], at: usize, n: usize) -> u64 {
    let mut w = 0u64;
    let mut i = 0;
    while i < n && i < 8 {
        w |= (key[at + i] as u64) << (8 * i);
        i += 1;
    }
    w
}

/// The case bit of every letter among the `n` bytes of `key` at `at`.
const fn const_letters(key: &[u8], at: usize, n: usize) -> u64 {
    let mut w = 0u64;
    let mut i = 0;
    while i < n && i < 8 {
        if key[at + i].is_ascii_lowercase() {
            w |= 0x20 << (8 * i);
        }
        i += 1;
    }
    w
}

/// A SplitMix64 step: the seeds the compile-time search tries.
const fn seed_for(attempt: u64) -> u64 {
    let mut z = attempt.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) | 1
}

impl<F: Copy + 'static, const N: usize, const M: usize> KeyTable<F, N, M> {
    /// The table of `keys`: lower-case ASCII, 1 to [`KEY_CAP`] bytes, no two alike (checked
    /// at compile time, as is finding a seed that puts every key in its own bucket).
    pub(crate) const fn new(keys: [(&'static [u8], F); N]) -> Self {
        assert!(N > 0 && N < 255, "a table holds 1 to 254 keys");
        assert!(
            M.is_power_of_two() && M <= 1 << 16,
            "buckets: a power of two"
        );
        let mut entries = [Entry {
            words: [0; WORDS],
            letters: [0; WORDS],
            len: 0,
            field: keys[0].1,
        }; N];
        let mut i = 0;
        while i < N {
            let key = keys[i].0;
            let len = key.len();
            assert!(len > 0 && len <= KEY_CAP, "keys are 1 to KEY_CAP bytes");
            let mut b = 0;
            while b < len {
                assert!(
                    key[b].is_ascii() && !key[b].is_ascii_uppercase(),
                    "keys are lower-case ASCII"
                );
                b += 1;
            }
            let n = if len < 8 { len } else { 8 };
            let mut j = 0;
            while j < word_count(len) {
                entries[i].words[j] = const_word(key, word_at(len, j), n);
                entries[i].letters[j] = const_letters(key, word_at(len, j), n);
                j += 1;
            }
            entries[i].len = len;
            entries[i].field = keys[i].1;
            let mut k = 0;
            while k < i {
                let same = entries[k].len == len && {
                    let mut eq = true;
                    let mut j = 0;
                    while j < WORDS {
                        eq = eq && entries[k].words[j] == entries[i].words[j];
                        j += 1;
                    }
                    eq
                };
                assert!(!same, "a key is listed twice");
                k += 1;
            }
            i += 1;
        }
        let mut attempt = 0;
        loop {
            assert!(
                attempt < 1 << 16,
                "no collision-free seed: use more buckets"
            );
            let seed = seed_for(attempt);
            let mut index = [0u8; M];
            let mut ok = true;
            let mut i = 0;
            while ok && i < N {
                let e = &entries[i];
                let n = if e.len < 8 { e.len } else { 8 };
                let first = e.words[0] | (CASE_BITS & low_bytes(u64::MAX, n));
                let last = e.words[word_count(e.len) - 1] | (CASE_BITS & low_bytes(u64::MAX, n));
                let h = bucket(first, last, e.len, seed, M);
                if index[h] != 0 {
                    ok = false;
                }
                index[h] = i as u8 + 1;
                i += 1;
            }
            if ok {
                return KeyTable {
                    seed,
                    index,
                    entries,
                };
            }
            attempt += 1;
        }
    }

    /// The field of the `len`-byte key at `start` in `text`, compared case-insensitively
    /// (ASCII); `None` for keys not in the table.
    #[inline(always)]
    pub(crate) fn find(&self, text: &[u8], start: usize, len: usize) -> Option<F> {
        if len == 0 || len > KEY_CAP {
            return None;
        }
        if len < 8 {
            let w = short_word(text, start, len);
            let folded = w | (CASE_BITS & low_bytes(u64::MAX, len));
            let e = self.entry(folded, folded, len)?;
            return (e.len == len && w | e.letters[0] == e.words[0]).then_some(e.field);
        }
        let first = word(text, start)?;
        let last = word(text, start + len - 8)?;
        let e = self.entry(first | CASE_BITS, last | CASE_BITS, len)?;
        if e.len != len || first | e.letters[0] != e.words[0] {
            return None;
        }
        let n = word_count(len);
        let (Some(&last_word), Some(&last_letters)) = (e.words.get(n - 1), e.letters.get(n - 1))
        else {
            return None;
        };
        if last | last_letters != last_word {
            return None;
        }
        // The middle words of a key longer than sixteen bytes.
        for j in 1..n - 1 {
            let w = word(text, start + 8 * j)?;
            if w | e.letters.get(j)? != *e.words.get(j)? {
                return None;
            }
        }
        Some(e.field)
    }

    /// The only entry a key with these folded first and last words can be.
    #[inline(always)]
    fn entry(&self, first: u64, last: u64, len: usize) -> Option<&Entry<F>> {
        let h = bucket(first, last, len, self.seed, M);
        let slot = usize::from(*self.index.get(h)?);
        self.entries.get(slot.wrapping_sub(1))
    }
}

/// The eight bytes of `text` at `at`, little-endian.
#[inline(always)]
fn word(text: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = text.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// The `n` (1 to 7) bytes of `text` at `at`, little-endian, zero above: one load when the
/// text goes on for a word (a key is followed by its quote and colon), else byte by byte.
#[inline(always)]
fn short_word(text: &[u8], at: usize, n: usize) -> u64 {
    match word(text, at) {
        Some(w) => low_bytes(w, n),
        None => text
            .get(at..)
            .unwrap_or(&[])
            .iter()
            .take(n)
            .enumerate()
            .fold(0, |w, (i, &b)| w | u64::from(b) << (8 * i)),
    }
}

/// Room for a remembered key with its closing quote and colon.
const PATTERN_CAP: usize = KEY_CAP + 2;

/// Words of a remembered key's pattern.
const PATTERN_WORDS: usize = PATTERN_CAP.div_ceil(8);

/// Most keys remembered per kind of object before the memory starts over: a file's records
/// share a few dozen keys; more means shapes keep changing and remembering does not pay.
const MAX_KNOWN: usize = 256;

/// No key: the end of a chain, or a key that is not remembered.
pub(crate) const NO_KEY: u16 = u16::MAX;

/// One remembered key: its text with the closing quote and colon as whole words, the bits
/// of those words that belong to it, the field it named and the key that followed it last
/// time.
#[derive(Clone, Copy)]
struct Known<F> {
    words: [u64; PATTERN_WORDS],
    masks: [u64; PATTERN_WORDS],
    count: usize,
    len: usize,
    field: Option<F>,
    next: u16,
}

/// Where the next key will be linked from when it is learned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Link {
    /// The object's first key.
    Start,
    /// The key after the remembered key with this number.
    After(u16),
    /// Nowhere: the key before it is not remembered.
    Detached,
}

/// The keys one kind of object had, in the order they came, remembered from object to object
/// (the records of an export repeat the same keys in the same order).
///
/// Matching a key in a table costs crossing its text, a hash and a compare; a key that is
/// byte for byte the one that followed the previous key last time (quote and colon included)
/// is settled by comparing one to six words. Only plain keys are remembered, so a key that
/// matches one is read exactly as the table would read it: the same bytes name the same
/// field. A key that does not match is read the general way and learned.
pub(crate) struct KeyOrder<F> {
    known: Vec<Known<F>>,
    first: u16,
    /// The remembered keys by a hash of their first word and length ([`INDEX_SLOTS`]
    /// slots, open addressing; empty until the first key is learned): objects of a few
    /// shapes (audit records of several operations) find the keys they share again
    /// instead of learning them once more.
    index: Vec<u16>,
}

/// Slots of [`KeyOrder`]'s index: twice the keys it holds, so that probes stay short.
const INDEX_SLOTS: usize = 2 * MAX_KNOWN;

/// The index slot a pattern starting with `first` and `len` bytes long is looked for from.
#[inline]
fn index_slot(first: u64, len: usize) -> usize {
    ((first ^ len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        >> (64 - INDEX_SLOTS.trailing_zeros())) as usize
}

impl<F> Default for KeyOrder<F> {
    fn default() -> Self {
        KeyOrder {
            known: Vec::new(),
            first: NO_KEY,
            index: Vec::new(),
        }
    }
}

impl<F: Copy> KeyOrder<F> {
    /// The remembered key expected first in an object.
    #[inline(always)]
    pub(crate) fn first(&self) -> u16 {
        self.first
    }

    /// The remembered key expected after remembered key `i`.
    #[inline(always)]
    pub(crate) fn next(&self, i: u16) -> u16 {
        self.known.get(usize::from(i)).map_or(NO_KEY, |k| k.next)
    }

    /// When the text at `at` (just past a key's opening quote) is remembered key `i` with
    /// its closing quote and colon: the key's field (`None` for a key no field answers to)
    /// and where its pattern ends. Whole words are compared, without a branch per word; a
    /// key too close to the end of the text for that is read the general way.
    #[inline(always)]
    pub(crate) fn matches(&self, i: u16, text: &[u8], at: usize) -> Option<(Option<F>, usize)> {
        let k = self.known.get(usize::from(i))?;
        let t = text.get(at..at.checked_add(8 * k.count)?)?;
        let mut diff = 0u64;
        for (chunk, (w, m)) in t.chunks_exact(8).zip(k.words.iter().zip(&k.masks)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            diff |= (u64::from_le_bytes(b) ^ w) & m;
        }
        (diff == 0).then_some((k.field, at + k.len))
    }

    /// Remember that `key` (plain text, without quotes) naming `field` came after `link`,
    /// as a new key or one remembered before; returns where the key after it will be
    /// linked from.
    pub(crate) fn learn(&mut self, link: Link, key: &[u8], field: Option<F>) -> Link {
        let n = key.len() + 2;
        if key.is_empty() || n > PATTERN_CAP {
            return Link::Detached;
        }
        let mut pattern = [0u8; PATTERN_WORDS * 8];
        if let Some(dst) = pattern.get_mut(..key.len()) {
            dst.copy_from_slice(key);
        }
        if let Some(end) = pattern.get_mut(key.len()..n) {
            end.copy_from_slice(b"\":");
        }
        let mut words = [0u64; PATTERN_WORDS];
        let mut masks = [0u64; PATTERN_WORDS];
        for (j, (w, m)) in words.iter_mut().zip(&mut masks).enumerate() {
            *w = word(&pattern, 8 * j).unwrap_or(0);
            *m = low_bytes(u64::MAX, n.saturating_sub(8 * j));
        }
        if self.index.len() != INDEX_SLOTS {
            self.index = vec![NO_KEY; INDEX_SLOTS];
        }
        let mut slot = index_slot(words[0], n);
        // At most half the slots are taken: the probe ends at an empty one.
        while let Some(&i) = self.index.get(slot) {
            if i == NO_KEY {
                break;
            }
            if let Some(k) = self.known.get(usize::from(i)) {
                if k.len == n && k.words == words {
                    self.relink(link, i);
                    return Link::After(i);
                }
            }
            slot = (slot + 1) % INDEX_SLOTS;
        }
        let mut link = link;
        if self.known.len() >= MAX_KNOWN {
            self.known.clear();
            self.index.fill(NO_KEY);
            self.first = NO_KEY;
            if link != Link::Start {
                link = Link::Detached;
            }
            slot = index_slot(words[0], n);
        }
        let i = self.known.len() as u16;
        if let Some(s) = self.index.get_mut(slot) {
            *s = i;
        }
        self.known.push(Known {
            words,
            masks,
            count: n.div_ceil(8),
            len: n,
            field,
            next: NO_KEY,
        });
        self.relink(link, i);
        Link::After(i)
    }

    /// Remember that remembered key `i` came after `link` (the shape changed since).
    #[inline(always)]
    pub(crate) fn relink(&mut self, link: Link, i: u16) {
        match link {
            Link::Start => self.first = i,
            Link::After(p) => {
                if let Some(k) = self.known.get_mut(usize::from(p)) {
                    k.next = i;
                }
            }
            Link::Detached => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum F {
        A,
        B,
        C,
        D,
        E,
        G,
    }

    static TABLE: KeyTable<F, 6, { buckets(6) }> = KeyTable::new([
        (b"id", F::A),
        (b"c_sid", F::B),
        (b"userid", F::C),
        (b"useridx", F::D),
        (b"uniquetokenidentifier", F::E),
        (b"authenticationcontextclassreferences", F::G),
    ]);

    fn find(key: &str) -> Option<F> {
        TABLE.find(key.as_bytes(), 0, key.len())
    }

    #[test]
    fn keys_match_in_any_case_and_nothing_else() {
        assert_eq!(find("id"), Some(F::A));
        assert_eq!(find("ID"), Some(F::A));
        assert_eq!(find("C_SID"), Some(F::B));
        assert_eq!(find("c_Sid"), Some(F::B));
        assert_eq!(find("UserId"), Some(F::C));
        assert_eq!(find("userIDx"), Some(F::D));
        assert_eq!(find("UniqueTokenIdentifier"), Some(F::E));
        assert_eq!(find("AuthenticationContextClassReferences"), Some(F::G));
        // A case bit set on a byte that is not a letter is not a match.
        assert_eq!(find("c\u{7f}sid"), None);
        assert_eq!(find("userid\u{7f}"), None);
        assert_eq!(find("i"), None);
        assert_eq!(find(""), None);
        assert_eq!(find("useri"), None);
        assert_eq!(find("uniquetokenidentifiex"), None);
        assert_eq!(find("uniquetokenXdentifier"), None);
        assert_eq!(find("authenticationcontextclassreferencez"), None);
        assert_eq!(find("authenticationcontextclasXreferences"), None);
        assert_eq!(find(&"a".repeat(41)), None);
    }

    #[test]
    fn keys_are_read_in_place_up_to_the_end_of_the_text() {
        // A short key at the very end of the text is read byte by byte.
        let text = b"xxUserID";
        assert_eq!(TABLE.find(text, 2, 6), Some(F::C));
        assert_eq!(TABLE.find(text, 6, 2), Some(F::A));
        // The bytes after a key are not part of it.
        let text = b"\"id\":1,\"userid\":2";
        assert_eq!(TABLE.find(text, 1, 2), Some(F::A));
        assert_eq!(TABLE.find(text, 8, 6), Some(F::C));
        assert_eq!(TABLE.find(text, 8, 5), None);
    }

    #[test]
    fn remembered_keys_match_their_exact_bytes_with_quote_and_colon() {
        let mut order = KeyOrder::<F>::default();
        assert_eq!(order.first(), NO_KEY);
        let after_id = order.learn(Link::Start, b"Id", Some(F::A));
        assert_eq!(after_id, Link::After(0));
        let after_user = order.learn(after_id, b"UserId", None);
        assert_eq!(after_user, Link::After(1));
        let long = b"AuthenticationContextClassReferences";
        assert_eq!(order.learn(after_user, long, Some(F::G)), Link::After(2));
        assert_eq!((order.first(), order.next(0), order.next(1)), (0, 1, 2));
        assert_eq!(order.next(2), NO_KEY);
        let text = br#"{"Id":1,"UserId":"u","AuthenticationContextClassReferences":[]}"#;
        // At the byte after each key's opening quote: the field and the end of the colon.
        assert_eq!(order.matches(0, text, 2), Some((Some(F::A), 6)));
        assert_eq!(order.matches(1, text, 9), Some((None, 17)));
        assert_eq!(order.matches(2, text, 22), Some((Some(F::G), 60)));
        // Another key, another case, no colon, a key cut short, a longer key: no match.
        assert_eq!(order.matches(1, text, 2), None);
        assert_eq!(order.matches(0, br#""ID":1,"UserId":2}"#, 1), None);
        assert_eq!(order.matches(0, br#""Id" :1,"UserId":2}"#, 1), None);
        assert_eq!(order.matches(0, br#""Idx":1,"UserId":2}"#, 1), None);
        assert_eq!(order.matches(1, br#""UserI":1,"UserId":2}"#, 1), None);
        // Too close to the end of the text for whole words: read the general way.
        assert_eq!(order.matches(0, br#""Id":1}"#, 1), None);
        assert_eq!(order.matches(NO_KEY, text, 2), None);
        // Keys that cannot be remembered: empty, or longer than any field's.
        assert_eq!(order.learn(Link::Start, b"", None), Link::Detached);
        assert_eq!(order.learn(Link::Start, &[b'k'; 41], None), Link::Detached);
        assert_eq!(order.first(), 0);
    }

    #[test]
    fn a_key_seen_before_is_found_again_and_relinked() {
        let mut order = KeyOrder::<F>::default();
        // Two shapes: a, b, c and a, x, c.
        let a = order.learn(Link::Start, b"a", None);
        let b = order.learn(a, b"b", Some(F::B));
        let c = order.learn(b, b"c", Some(F::C));
        assert_eq!((a, b, c), (Link::After(0), Link::After(1), Link::After(2)));
        let x = order.learn(a, b"x", None);
        assert_eq!(x, Link::After(3));
        assert_eq!(order.next(0), 3);
        // `c` again, after `x`: the same key, now expected after `x` too.
        assert_eq!(order.learn(x, b"c", Some(F::C)), Link::After(2));
        assert_eq!(order.next(3), 2);
        // `b` again after `a`: found, and `a` leads to it again.
        assert_eq!(
            order.learn(Link::After(0), b"b", Some(F::B)),
            Link::After(1)
        );
        assert_eq!(order.next(0), 1);
        // Same first bytes, other lengths: other keys.
        assert_eq!(order.learn(c, b"cc", None), Link::After(4));
        assert_eq!(order.learn(Link::Detached, b"c\"", None), Link::After(5));
    }

    #[test]
    fn remembering_starts_over_when_shapes_keep_changing() {
        let mut order = KeyOrder::<F>::default();
        let mut link = Link::Start;
        for i in 0..MAX_KNOWN {
            link = order.learn(link, format!("k{i}").as_bytes(), None);
        }
        assert_eq!(link, Link::After(MAX_KNOWN as u16 - 1));
        // The next key is the first of a new memory, linked from nowhere.
        assert_eq!(order.learn(link, b"again", Some(F::B)), Link::After(0));
        assert_eq!(order.first(), NO_KEY);
        assert_eq!(
            order.matches(0, br#"again":1,"x":2}"#, 0),
            Some((Some(F::B), 7))
        );
        order.relink(Link::Start, 0);
        assert_eq!(order.first(), 0);
    }

    proptest::proptest! {
        #[test]
        fn finding_agrees_with_comparing_lowered_text(
            key in "[a-zA-Z_\u{7f}]{0,3}|(?i)(id|c_sid|userid|useridx|uniquetokenidentifier)[a-z_]{0,2}",
            pad in 0usize..12,
        ) {
            let text = format!("{}{key}\":", "~".repeat(pad));
            let keys: [&[u8]; 6] = [
                b"id",
                b"c_sid",
                b"userid",
                b"useridx",
                b"uniquetokenidentifier",
                b"authenticationcontextclassreferences",
            ];
            let want = keys
                .iter()
                .position(|k| key.as_bytes().eq_ignore_ascii_case(k))
                .map(|i| [F::A, F::B, F::C, F::D, F::E, F::G][i]);
            proptest::prop_assert_eq!(TABLE.find(text.as_bytes(), pad, key.len()), want);
        }
    }
}
