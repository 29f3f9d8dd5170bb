//! Sign-ins whose export does not state their kind (the Entra admin center's CSV), settled by
//! their file as [`tokentrail_model::unstated_kind`] decides: the file's stated rows, else the
//! admin center's name for the download. A row nothing settles stays assumed, and the rules
//! that need a session's root say "unknown" for it.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use tokentrail_model::unstated_kind::{settled_kind, StatedKinds};

use crate::store::{sflag, SignInRec, Sym, Table};

/// Settle the kind of every assumed row that its file settles. Returns how many rows were
/// settled. `tenant` is what every file's stated rows say when these sign-ins are one
/// partition of a tenant's (a file's rows are in many partitions).
pub(crate) fn settle_by_file(
    sign_ins: &mut [SignInRec],
    files: &Table<Arc<str>>,
    tenant: Option<&FxHashMap<Arc<str>, StatedKinds>>,
) -> u64 {
    let mut stated_by: FxHashMap<u32, StatedKinds> = FxHashMap::default();
    let mut assumed = false;
    for s in sign_ins.iter() {
        if s.has(sflag::KIND_ASSUMED) {
            assumed = true;
        } else if tenant.is_none() {
            stated_by.entry(s.src_file).or_default().add(s.kind);
        }
    }
    if !assumed {
        return 0;
    }
    let mut settled = 0;
    for s in sign_ins.iter_mut().filter(|s| s.has(sflag::KIND_ASSUMED)) {
        let file = Sym::from_raw(s.src_file).and_then(|f| files.get(f));
        let stated = match tenant {
            Some(t) => file.and_then(|f| t.get(f)).copied(),
            None => stated_by.get(&s.src_file).copied(),
        }
        .unwrap_or_default();
        let Some(kind) = settled_kind(stated, file.map_or("", |f| &**f)) else {
            continue;
        };
        s.kind = kind;
        s.flags &= !sflag::KIND_ASSUMED;
        settled += 1;
    }
    settled
}
