//! Which tab of the Entra admin center's sign-in download a row of unstated kind came from.
//!
//! The admin center's CSV has no column saying whether a user sign-in was interactive: the tab
//! is the file's business. Decoders tell a row's kind from its values where they can (a refresh
//! token redeemed, a challenge answered) and flag the rest ([`crate::SignIn::kind_assumed`]). The
//! admin center writes one tab per file, so a file whose stated rows are all of one kind is that
//! kind's tab; a file none of whose rows states a kind is told by the name the admin center
//! gives the download (`InteractiveSignIns_<from>_<to>.csv`, `NonInteractiveSignIns_...`), since
//! a tab of single sign-on and single-factor rows states nothing row by row. Content comes first,
//! as files get renamed. A file that states both kinds, or none under another name, settles
//! nothing.
//!
//! The engine settles its rows with [`settled_kind`]; so do the commands that count records as
//! they are read (coverage, inventory, the report), holding the unstated ones back until every
//! input is read.

use crate::SignInKind;

/// What the stated rows of one file say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatedKinds {
    /// Rows stated interactive.
    pub interactive: u64,
    /// Rows stated non-interactive.
    pub non_interactive: u64,
}

impl StatedKinds {
    /// Count a row whose kind is stated.
    pub fn add(&mut self, kind: SignInKind) {
        match kind {
            SignInKind::Interactive => self.interactive += 1,
            SignInKind::NonInteractive => self.non_interactive += 1,
            _ => {}
        }
    }
}

/// The kind of the unstated rows of `file`, whose stated rows say `stated` (see the module docs);
/// `None` when nothing settles it.
pub fn settled_kind(stated: StatedKinds, file: &str) -> Option<SignInKind> {
    match (stated.interactive > 0, stated.non_interactive > 0) {
        (true, false) => Some(SignInKind::Interactive),
        (false, true) => Some(SignInKind::NonInteractive),
        (false, false) => kind_named(file),
        (true, true) => None,
    }
}

/// The kind the admin center's name for a download says, read from the last part of the path
/// (after a folder or an archive's `!`), in any case.
fn kind_named(path: &str) -> Option<SignInKind> {
    let name = path.rsplit(['/', '\\', '!']).next().unwrap_or(path);
    let starts = |prefix: &str| {
        name.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if starts("NonInteractiveSignIns") {
        Some(SignInKind::NonInteractive)
    } else if starts("InteractiveSignIns") {
        Some(SignInKind::Interactive)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stated_rows_come_first_then_the_admin_center_name() {
        let nothing = StatedKinds::default();
        let interactive = StatedKinds {
            interactive: 2,
            non_interactive: 0,
        };
        let both = StatedKinds {
            interactive: 1,
            non_interactive: 1,
        };
        let i = Some(SignInKind::Interactive);
        let n = Some(SignInKind::NonInteractive);
        assert_eq!(settled_kind(interactive, "week.csv"), i);
        assert_eq!(settled_kind(interactive, "NonInteractiveSignIns_x.csv"), i);
        assert_eq!(settled_kind(both, "InteractiveSignIns_x.csv"), None);
        assert_eq!(
            settled_kind(nothing, "a/InteractiveSignIns_2026-11-02_2026-11-09.csv"),
            i
        );
        assert_eq!(
            settled_kind(nothing, r"C:\case\interactivesignins_1.csv"),
            i
        );
        assert_eq!(
            settled_kind(nothing, "case.zip!NonInteractiveSignIns_1.csv"),
            n
        );
        assert_eq!(settled_kind(nothing, "InteractiveSignIns/week.csv"), None);
        assert_eq!(settled_kind(nothing, "-"), None);
    }
}
