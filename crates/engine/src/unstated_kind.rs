//! Sign-ins whose export does not state their kind (the Entra admin center's CSV: the tab a row
//! came from is the file name's business, and tokentrail reads content only).
//!
//! The decoder tells a row's kind from its own values where they tell (a refresh token redeemed,
//! a multifactor challenge answered) and flags the rest as assumed. The admin center writes one
//! tab per file, so the rows whose kind is stated say which tab a file is: a file whose stated
//! rows are all interactive is the interactive tab, and its unstated rows (single sign-on, a
//! challenge satisfied earlier) are interactive too; a file whose stated rows are all
//! non-interactive is the non-interactive tab. A file that states both, or neither, settles
//! nothing: those rows stay assumed, and the rules that need a root say "unknown" for them.

use rustc_hash::FxHashMap;
use tokentrail_model::SignInKind;

use crate::store::{sflag, SignInRec};

/// What the stated rows of one file say.
#[derive(Default, Clone, Copy)]
struct Stated {
    interactive: u64,
    non_interactive: u64,
}

/// Settle the kind of every assumed row whose file's stated rows agree (see the module docs).
/// Returns how many rows were settled.
pub(crate) fn settle_by_file(sign_ins: &mut [SignInRec]) -> u64 {
    let mut files: FxHashMap<u32, Stated> = FxHashMap::default();
    let mut assumed = false;
    for s in sign_ins.iter() {
        if s.has(sflag::KIND_ASSUMED) {
            assumed = true;
            continue;
        }
        let stated = files.entry(s.src_file).or_default();
        match s.kind {
            SignInKind::Interactive => stated.interactive += 1,
            SignInKind::NonInteractive => stated.non_interactive += 1,
            _ => {}
        }
    }
    if !assumed {
        return 0;
    }
    let mut settled = 0;
    for s in sign_ins.iter_mut().filter(|s| s.has(sflag::KIND_ASSUMED)) {
        let Some(stated) = files.get(&s.src_file) else {
            continue;
        };
        let kind = match (stated.interactive > 0, stated.non_interactive > 0) {
            (true, false) => SignInKind::Interactive,
            (false, true) => SignInKind::NonInteractive,
            _ => continue,
        };
        s.kind = kind;
        s.flags &= !sflag::KIND_ASSUMED;
        settled += 1;
    }
    settled
}
