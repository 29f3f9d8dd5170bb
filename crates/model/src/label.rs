//! Ground truth for synthetic tenants: one [`Label`] per injected attack, written by
//! `tokentrail simulate` to `labels.jsonl` and read by `tokentrail score`.

use serde::{Deserialize, Serialize};

use crate::rule::RuleId;
use crate::time::Timestamp;

/// The attack kinds the simulator injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttackKind {
    /// A stolen access token used from another network.
    StolenAccessToken,
    /// A stolen refresh token or session cookie replayed from a hosting network, then mail and
    /// file access.
    SessionReplay,
    /// Device-code phishing followed by mail reads from the attacker.
    DeviceCodePhish,
    /// A token with no issuance record.
    OrphanToken,
    /// A session that never had an interactive root.
    NoInteractiveRoot,
    /// An unapproved client app reading mail.
    UnapprovedClient,
}

impl AttackKind {
    /// Every kind, in a fixed order.
    pub const ALL: [AttackKind; 6] = [
        AttackKind::StolenAccessToken,
        AttackKind::SessionReplay,
        AttackKind::DeviceCodePhish,
        AttackKind::OrphanToken,
        AttackKind::NoInteractiveRoot,
        AttackKind::UnapprovedClient,
    ];

    /// The kebab-case name used on the command line and in `labels.jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttackKind::StolenAccessToken => "stolen-access-token",
            AttackKind::SessionReplay => "session-replay",
            AttackKind::DeviceCodePhish => "device-code-phish",
            AttackKind::OrphanToken => "orphan-token",
            AttackKind::NoInteractiveRoot => "no-interactive-root",
            AttackKind::UnapprovedClient => "unapproved-client",
        }
    }

    /// Parse the kebab-case name.
    pub fn parse(text: &str) -> Option<AttackKind> {
        AttackKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text.trim())
    }
}

/// One injected attack. `labels.jsonl` holds the rules as their codes: it is read back as a
/// `Label<String>` and [`Label::resolve`]d against the rules the build knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label<R = RuleId> {
    /// Unique id within the tenant (`atk-0001`).
    pub id: String,
    /// What was injected.
    pub kind: AttackKind,
    /// Rules expected to catch it.
    pub expected_rules: Vec<R>,
    /// Victim user principal name.
    pub user: String,
    /// Victim user object id.
    pub user_id: String,
    /// Session the attack used, as logged (GUID text), when it has one.
    pub session_id: Option<String>,
    /// Token ids the attacker used, normalized GUID text (or the text as logged when opaque).
    pub token_ids: Vec<String>,
    /// First attacker record.
    pub start: Timestamp,
    /// Last attacker record.
    pub end: Timestamp,
    /// What happened, in a sentence.
    pub description: String,
    /// A documented blind spot: the rules are not expected to catch this attack (for example
    /// a residential proxy in the victim's own ISP). Scored apart from recall; written only
    /// when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub expected_miss: bool,
}

impl Label<String> {
    /// The label with its rule codes (or names) resolved by `find` (the rule registry's
    /// lookup); `Err` names the first one it does not know.
    pub fn resolve(self, find: impl Fn(&str) -> Option<RuleId>) -> Result<Label, String> {
        let expected_rules = self
            .expected_rules
            .iter()
            .map(|code| find(code).ok_or_else(|| format!("unknown rule {code:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Label {
            id: self.id,
            kind: self.kind,
            expected_rules,
            user: self.user,
            user_id: self.user_id,
            session_id: self.session_id,
            token_ids: self.token_ids,
            start: self.start,
            end: self.end,
            description: self.description,
            expected_miss: self.expected_miss,
        })
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}
