//! What a rule says about itself, and the id findings carry.
//!
//! Every rule is one module of the engine (`crates/engine/src/rules/ttNNN/`) that declares its
//! [`RuleMeta`] next to its judgement, its Spark SQL and KQL forms and its tests; the engine's
//! registry (`tokentrail_engine::rules::RULES`) lists them. A [`RuleId`] points at that
//! declaration, so everything a renderer, the scorer or the simulator asks of a rule (its code,
//! name, ATT&CK mapping, what its findings are keyed on) is read from the one place the rule is
//! written, and nothing here lists the rules.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Serialize, Serializer};

use crate::finding::Severity;
use crate::label::AttackKind;

/// An ATT&CK technique a finding maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Technique {
    /// `T1550.001`.
    pub uid: &'static str,
    /// Technique name.
    pub name: &'static str,
}

/// T1550 Use Alternate Authentication Material and its sub-technique .001 Application Access
/// Token: where every rule of tokentrail sits.
pub const T1550_001: &[Technique] = &[
    Technique {
        uid: "T1550",
        name: "Use Alternate Authentication Material",
    },
    Technique {
        uid: "T1550.001",
        name: "Application Access Token",
    },
];

/// What one finding of a rule is about: the group its records are gathered into, and so what
/// its id is a hash of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grouping {
    /// One token, used from one network.
    TokenAndNetwork,
    /// One session, used from one network.
    SessionAndNetwork,
    /// One user's use of one client app from one network.
    UserClientAndNetwork,
    /// One user's use of one client app with one token.
    UserClientAndToken,
    /// One user's use of one client app.
    UserAndClient,
}

impl Grouping {
    /// True when a finding is about a user (and client), not about one session or token: it
    /// may cover several of the user's sessions and tokens.
    pub fn per_user(self) -> bool {
        matches!(
            self,
            Grouping::UserClientAndNetwork | Grouping::UserAndClient
        )
    }

    /// True when the finding's network is where a token or session was used and should not
    /// have been (the replay rules).
    pub fn network_is_foreign(self) -> bool {
        matches!(
            self,
            Grouping::TokenAndNetwork | Grouping::SessionAndNetwork
        )
    }

    /// True when the client app is what the finding is about.
    pub fn client_is_the_finding(self) -> bool {
        self == Grouping::UserAndClient
    }

    /// The group key in words, for documentation.
    pub fn describe(self) -> &'static str {
        match self {
            Grouping::TokenAndNetwork => "(token, access network)",
            Grouping::SessionAndNetwork => "(session, new network)",
            Grouping::UserClientAndNetwork => "(user, client app, network)",
            Grouping::UserClientAndToken => "(user, client app, token)",
            Grouping::UserAndClient => "(user, client app)",
        }
    }
}

/// A rule's declaration of itself: written once, in the rule's own module.
#[derive(Debug)]
pub struct RuleMeta {
    /// The stable code (`TT001`): never changes meaning once released.
    pub code: &'static str,
    /// The short name (`token-replay`).
    pub name: &'static str,
    /// What it detects, in one sentence.
    pub summary: &'static str,
    /// The severity of a finding on its own (a finding may be one step less or more: low
    /// confidence lowers it, TT003 on the same session raises it).
    pub severity: Severity,
    /// The MITRE ATT&CK analytics it implements (`AN0959`).
    pub analytics: &'static [&'static str],
    /// The ATT&CK techniques its findings map to.
    pub techniques: &'static [Technique],
    /// What one finding is about.
    pub grouping: Grouping,
    /// The attacks of the simulator this rule is expected to catch: the `expected_rules` of
    /// their labels.
    pub catches: &'static [AttackKind],
}

/// A rule, as findings name it: a reference to its [`RuleMeta`]. Two ids are equal when their
/// codes are; they order by code. Serialized as the code.
#[derive(Clone, Copy)]
pub struct RuleId(&'static RuleMeta);

impl RuleId {
    /// The id of a declared rule.
    pub const fn of(meta: &'static RuleMeta) -> RuleId {
        RuleId(meta)
    }

    /// Everything the rule declares about itself.
    pub fn meta(self) -> &'static RuleMeta {
        self.0
    }

    /// `TT001` ...
    pub fn code(self) -> &'static str {
        self.0.code
    }

    /// `token-replay` ...
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// The MITRE ATT&CK analytics the rule implements.
    pub fn analytics(self) -> &'static [&'static str] {
        self.0.analytics
    }

    /// The ATT&CK techniques its findings map to.
    pub fn techniques(self) -> &'static [Technique] {
        self.0.techniques
    }

    /// What one finding is about.
    pub fn grouping(self) -> Grouping {
        self.0.grouping
    }

    /// The rule among `rules` whose code or name is `text` (case-insensitive, trimmed).
    pub fn find(text: &str, rules: impl IntoIterator<Item = RuleId>) -> Option<RuleId> {
        let text = text.trim();
        rules
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(text) || r.name().eq_ignore_ascii_case(text))
    }
}

impl PartialEq for RuleId {
    fn eq(&self, other: &Self) -> bool {
        self.code() == other.code()
    }
}

impl Eq for RuleId {}

impl PartialOrd for RuleId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RuleId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.code().cmp(other.code())
    }
}

impl Hash for RuleId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.code().hash(state);
    }
}

impl fmt::Debug for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static A: RuleMeta = RuleMeta {
        code: "TT901",
        name: "first-test-rule",
        summary: "A test rule.",
        severity: Severity::Low,
        analytics: &["AN0959"],
        techniques: T1550_001,
        grouping: Grouping::UserAndClient,
        catches: &[],
    };
    static B: RuleMeta = RuleMeta {
        code: "TT902",
        name: "second-test-rule",
        summary: "Another test rule.",
        severity: Severity::High,
        analytics: &["AN0527"],
        techniques: T1550_001,
        grouping: Grouping::TokenAndNetwork,
        catches: &[AttackKind::OrphanToken],
    };

    #[test]
    fn ids_compare_by_code_and_are_found_by_code_or_name() {
        let (a, b) = (RuleId::of(&A), RuleId::of(&B));
        assert!(a < b);
        assert_eq!(a, RuleId::of(&A));
        assert_eq!(RuleId::find(" tt902 ", [a, b]), Some(b));
        assert_eq!(RuleId::find("First-Test-Rule", [a, b]), Some(a));
        assert_eq!(RuleId::find("TT903", [a, b]), None);
        assert_eq!(serde_json::to_string(&a).ok().as_deref(), Some("\"TT901\""));
        assert_eq!(format!("{a} {b:?}"), "TT901 TT902");
    }
}
