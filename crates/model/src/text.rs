//! Small text helpers every reader of logged values needs.

use std::borrow::Cow;

/// `text.trim()`, settled by two byte compares when neither end can be white space (an
/// ASCII byte above the space never is): the general trim decodes characters from both ends,
/// and nearly every logged value has plain ends.
#[inline]
pub fn trim(text: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
    let bytes = text.as_bytes();
    if plain(bytes.first()) && plain(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

/// Trimmed ([`trim`]) and in ASCII lower case: how users, clients and principals are compared.
/// Borrowed when the text already is so (the decoders lower-case ids), so that looking up a
/// record's id costs no allocation.
pub fn folded(text: &str) -> Cow<'_, str> {
    let t = trim(text);
    if t.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(t.to_ascii_lowercase())
    } else {
        Cow::Borrowed(t)
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #[test]
        fn trims_like_std(s in "[ \t\r\n\u{a0}\u{2003}a-z0-9{}\u{e9}]{0,12}") {
            proptest::prop_assert_eq!(super::trim(&s), s.trim());
        }

        #[test]
        fn folds_like_std(s in "[ \t\u{a0}a-zA-Z0-9@.\u{e9}\u{c9}]{0,12}") {
            proptest::prop_assert_eq!(super::folded(&s), s.trim().to_ascii_lowercase());
        }
    }
}
