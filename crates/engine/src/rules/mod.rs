//! The rules, and the registry that lists them.
//!
//! A rule is one module, `rules/ttNNN/`: its doc (what it detects, why, the evidence, the known
//! false positives and how it avoids them, how to allowlist), its declaration ([`RuleMeta`]:
//! code, name, severity, ATT&CK mapping, grouping, the simulated attacks it catches), what it
//! needs from the logs ([`Need`]), its judgement (a [`Judge`] that gathers accesses into finding
//! groups and turns the groups into findings), its Spark SQL and KQL forms, and its tests.
//! [`RULES`] lists the rules; the engine's finish loop, the `coverage` verdicts, the scorer,
//! the simulator's labels and the exports iterate it. Adding a rule is one module and one line
//! in [`RULES`].

pub(crate) mod judging;
pub mod needs;
pub mod tt001;
pub mod tt002;
pub mod tt003;
pub mod tt004;
pub mod tt005;

use tokentrail_model::{AttackKind, RuleId, RuleMeta};

use crate::correlate::{Context, Linked};
use crate::Tally;
use judging::Candidate;
pub use needs::{Field, Log, Need, Verdict};

/// Every rule the engine runs, in code order.
pub static RULES: &[&Rule] = &[
    &tt001::RULE,
    &tt002::RULE,
    &tt003::RULE,
    &tt004::RULE,
    &tt005::RULE,
];

/// One rule: what the engine, the `coverage` verdicts and the exports need from it.
pub struct Rule {
    /// Its id, pointing at its declaration.
    pub id: RuleId,
    /// What it needs from the logs, in the order the `coverage` command weighs it.
    pub needs: &'static [Need],
    /// Findings of other rules this rule's findings make one step more severe.
    pub raises: Option<Raise>,
    /// Starts its judgement, once the correlation context is built.
    pub(crate) judge: fn(&Context<'_>, &mut Tally) -> Box<dyn Judge>,
    /// Which of the engine's two lanes judges it, when `finish` has a second thread.
    pub(crate) lane: Lane,
    /// Its Spark SQL form (`rules/ttNNN/spark.sql`): views over the shared ones
    /// (`export/spark/prelude.sql`) ending in `ttNNN_findings` (see [`crate::export::spark`]).
    pub spark_sql: &'static str,
    /// Its KQL form (`rules/ttNNN/query.kql`): tables over the shared ones
    /// (`export/kql/prelude.kql`) ending in `tt_rule_findings` (see [`crate::export::kql`]).
    pub kql: &'static str,
}

impl Rule {
    /// Its declaration.
    pub fn meta(&self) -> &'static RuleMeta {
        self.id.meta()
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule").field("id", &self.id).finish()
    }
}

/// The engine's two lanes: with a second thread, the rules of [`Lane::Second`] judge each
/// partition of accesses beside those of [`Lane::First`]. Findings do not depend on it; the
/// lanes only balance the work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lane {
    First,
    Second,
}

/// Findings of other rules that a rule's findings raise: those of `rules` on a session one of
/// its findings covers (a replayed token or session that also has no interactive root is worse
/// than either alone).
#[derive(Clone, Copy, Debug)]
pub struct Raise {
    /// The rules whose findings are raised.
    pub rules: &'static [RuleId],
    /// Why, as the raised finding's `why` says it (`the session has no interactive sign-in`).
    pub because: &'static str,
}

/// A rule's judgement while accesses are read back: every access is offered once (in no
/// particular order), and the groups become findings at the end.
pub(crate) trait Judge: Send {
    /// Judge one linked access: gather it into a finding group, or count why not.
    fn access(&mut self, cx: &Context<'_>, l: &Linked<'_>, stats: &mut Tally);
    /// The groups, as findings.
    fn finish(self: Box<Self>, cx: &Context<'_>) -> Vec<Candidate>;
}

/// Every rule's id, in code order.
pub fn ids() -> impl Iterator<Item = RuleId> {
    RULES.iter().map(|r| r.id)
}

/// The rule whose code or name is `text` (case-insensitive).
pub fn find(text: &str) -> Option<RuleId> {
    RuleId::find(text, ids())
}

/// The registry entry of a rule.
pub fn rule(id: RuleId) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// The rules expected to catch a simulated attack of `kind`, in code order.
pub fn expected_for(kind: AttackKind) -> Vec<RuleId> {
    ids().filter(|r| r.meta().catches.contains(&kind)).collect()
}

/// Raise, by one step, the findings a rule [`Rule::raises`], naming the finding that raised
/// them. `by_rule` holds each rule's candidates in registry order.
pub(crate) fn raise(by_rule: &mut [Vec<Candidate>]) {
    for (i, raiser) in RULES.iter().enumerate() {
        let Some(raise) = raiser.raises else {
            continue;
        };
        let (before, rest) = by_rule.split_at_mut(i);
        let Some((raising, after)) = rest.split_first_mut() else {
            continue;
        };
        for c in before
            .iter_mut()
            .chain(after.iter_mut())
            .flatten()
            .filter(|c| raise.rules.contains(&c.finding.rule))
        {
            let hit = raising
                .iter()
                .find(|t| c.sessions.iter().any(|s| t.sessions.contains(s)));
            if let Some(t) = hit {
                c.finding.severity = c.finding.severity.raised();
                c.finding.why = format!(
                    "{} (severity raised: {}, see {})",
                    c.finding.why.trim_end_matches('.'),
                    raise.because,
                    t.finding.id
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_lists_each_rule_once_in_code_order_under_its_module_name() {
        let codes: Vec<&str> = ids().map(|r| r.code()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        assert_eq!(codes, ["TT001", "TT002", "TT003", "TT004", "TT005"]);
        for r in RULES {
            assert_eq!(find(r.id.code()), Some(r.id));
            assert_eq!(find(r.id.name()), Some(r.id));
            for raised in r.raises.iter().flat_map(|x| x.rules) {
                assert!(rule(*raised).is_some(), "{} raises an unknown rule", r.id);
            }
        }
    }

    /// Each rule's page in `docs/rules/` says what its declaration says: the page cannot drift
    /// from the code on the facts a reader looks up first.
    #[test]
    fn each_rule_page_agrees_with_the_rule_declaration() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
        for r in RULES {
            let m = r.meta();
            let page = std::fs::read_to_string(docs.join(format!("{}.md", m.code)))
                .unwrap_or_else(|e| panic!("docs/rules/{}.md: {e}", m.code));
            let row = |name: &str| {
                page.lines()
                    .find_map(|l| l.strip_prefix(&format!("| {name} | ")))
                    .unwrap_or_else(|| panic!("{}: no {name} row", m.code))
                    .to_string()
            };
            assert_eq!(
                page.lines().next(),
                Some(format!("# {} {}", m.code, m.name).as_str())
            );
            let severity = format!("{:?}", m.severity);
            assert!(row("Severity").contains(&severity), "{}", m.code);
            let attack = row("ATT&CK");
            for t in m.techniques {
                assert!(attack.contains(t.uid), "{}: {}", m.code, t.uid);
            }
            for a in m.analytics {
                assert!(attack.contains(a), "{}: {a}", m.code);
            }
            assert!(
                row("Grouping").starts_with(&format!("one finding per {}", m.grouping.describe())),
                "{}",
                m.code
            );
            let module = format!("`crates/engine/src/rules/{}/`", m.code.to_ascii_lowercase());
            assert!(row("Code").starts_with(&module), "{}", m.code);
        }
    }

    #[test]
    fn every_simulated_attack_kind_is_expected_by_some_rule() {
        for kind in AttackKind::ALL {
            assert!(!expected_for(kind).is_empty(), "{kind:?}");
        }
    }
}
