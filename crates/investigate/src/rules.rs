//! Inbox-rule and forwarding changes: which belong to an investigation and what they do.

use std::collections::BTreeSet;
use std::net::IpAddr;

use tokentrail_ingest::{MailboxChange, OtherRecord};
use tokentrail_model::{SessionId, SourceRef, Timestamp, TokenId};

use crate::context::{key, Context};
use crate::{MailboxRuleChange, Parameter};

/// Operations that change inbox rules or forwarding, as the Unified Audit Log names them.
pub const MAILBOX_CHANGE_OPERATIONS: [&str; 4] = [
    "New-InboxRule",
    "Set-InboxRule",
    "UpdateInboxRules",
    "Set-Mailbox",
];

/// `Set-Mailbox` parameters that set up or clear forwarding of all mail.
const FORWARDING: [&str; 3] = [
    "ForwardingSmtpAddress",
    "ForwardingAddress",
    "DeliverToMailboxAndForward",
];

pub(crate) fn is_change_operation(operation: &str) -> bool {
    MAILBOX_CHANGE_OPERATIONS
        .iter()
        .any(|op| op.eq_ignore_ascii_case(operation.trim()))
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Whether a change with these parameters is one an investigation lists: every rule change,
/// and `Set-Mailbox` only when it touches forwarding.
fn listed(operation: &str, params: &[(String, String)]) -> bool {
    if !operation.trim().eq_ignore_ascii_case("Set-Mailbox") {
        return true;
    }
    FORWARDING.iter().any(|f| param(params, f).is_some())
}

/// What the parameters do to mail, in words.
pub(crate) fn effects(params: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |text: String| {
        if !out.contains(&text) {
            out.push(text);
        }
    };
    let non_empty = |name: &str| param(params, name).filter(|v| !v.is_empty() && *v != "$null");
    for (name, words) in [
        ("ForwardTo", "forwards to"),
        ("ForwardAsAttachmentTo", "forwards as attachment to"),
        ("RedirectTo", "redirects to"),
        ("ForwardingSmtpAddress", "forwards all mail to"),
        ("ForwardingAddress", "forwards all mail to"),
        ("MoveToFolder", "moves it to"),
    ] {
        if let Some(v) = non_empty(name) {
            push(format!("{words} {v}"));
        }
    }
    for name in ["ForwardingSmtpAddress", "ForwardingAddress"] {
        if param(params, name).is_some() && non_empty(name).is_none() {
            push(format!("clears {name}"));
        }
    }
    match param(params, "DeliverToMailboxAndForward") {
        Some(v) if is_true(Some(v)) => push("also delivers to the mailbox".into()),
        Some(_) => push("forwards without keeping a copy in the mailbox".into()),
        None => {}
    }
    if is_true(param(params, "DeleteMessage")) || is_true(param(params, "SoftDeleteMessage")) {
        push("deletes the message".into());
    }
    if is_true(param(params, "MarkAsRead")) {
        push("marks it as read".into());
    }
    // UpdateInboxRules logs the actions as JSON text: [{"ActionType":"Forward",...}].
    if let Some(actions) = param(params, "RuleActions") {
        for part in actions.split("\"ActionType\"").skip(1) {
            let kind: String = part
                .trim_start_matches([':', ' ', '"'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if !kind.is_empty() {
                push(format!("rule action {kind}"));
            }
        }
    }
    out
}

/// One change as the investigation sees it, before it is placed in the chain.
pub(crate) struct Seen<'a> {
    pub(crate) time: Timestamp,
    pub(crate) operation: &'a str,
    pub(crate) user: Option<String>,
    pub(crate) user_keys: BTreeSet<String>,
    pub(crate) ip: Option<IpAddr>,
    pub(crate) session_id: Option<&'a SessionId>,
    pub(crate) token_id: Option<&'a TokenId>,
    pub(crate) object: Option<&'a String>,
    pub(crate) parameters: &'a [(String, String)],
    pub(crate) source: &'a SourceRef,
}

/// The changes among decoded other records that concern the investigation: made by one of
/// `user_keys`, on one of their mailboxes, in one of `sessions`, with one of `tokens`, or from
/// `ip`.
pub(crate) fn related<'a>(
    others: &'a [OtherRecord],
    context: &Context,
    user_keys: &BTreeSet<String>,
    sessions: &BTreeSet<&SessionId>,
    tokens: &BTreeSet<TokenId>,
    ip: Option<IpAddr>,
) -> Vec<Seen<'a>> {
    let mut out = Vec::new();
    for o in others {
        let (Some(c), Some(time), Some(operation)) =
            (o.mailbox_change.as_deref(), o.time, o.operation.as_deref())
        else {
            continue;
        };
        if !listed(operation, &c.parameters) {
            continue;
        }
        let keys = change_user_keys(c, context);
        let on_mailbox = c
            .object
            .as_ref()
            .is_some_and(|obj| user_keys.contains(&key(obj)));
        let wanted = keys.iter().any(|k| user_keys.contains(k))
            || on_mailbox
            || c.session_id.as_ref().is_some_and(|s| sessions.contains(s))
            || c.token_id.as_ref().is_some_and(|t| tokens.contains(t))
            || (ip.is_some() && c.ip == ip);
        if !wanted {
            continue;
        }
        out.push(Seen {
            time,
            operation,
            user: context
                .dir
                .display_user(c.user_id.as_ref(), c.user.as_ref()),
            user_keys: keys,
            ip: c.ip,
            session_id: c.session_id.as_ref(),
            token_id: c.token_id.as_ref(),
            object: c.object.as_ref(),
            parameters: &c.parameters,
            source: &c.source,
        });
    }
    out
}

fn change_user_keys(c: &MailboxChange, context: &Context) -> BTreeSet<String> {
    [&c.user, &c.user_id]
        .into_iter()
        .flatten()
        .flat_map(|u| context.user_keys(u))
        .collect()
}

/// Place a change in the investigation: its network, whether the user signed in there
/// interactively, whether it is part of the chain.
pub(crate) fn describe(
    seen: &Seen<'_>,
    context: &Context,
    sessions: &BTreeSet<&SessionId>,
    tokens: &BTreeSet<TokenId>,
) -> MailboxRuleChange {
    let network = context.networks.of(seen.ip);
    let interactive = context.interactive_networks(&seen.user_keys);
    MailboxRuleChange {
        time: seen.time,
        operation: seen.operation.to_string(),
        effects: effects(seen.parameters),
        user: seen.user.clone(),
        ip: seen.ip,
        network,
        interactive_network: network.map(|n| interactive.contains(&n)),
        foreign_network: context.foreign(&seen.user_keys, seen.ip),
        session_id: seen.session_id.cloned(),
        token_id: seen.token_id.cloned(),
        in_chain: seen.session_id.is_some_and(|s| sessions.contains(s))
            || seen.token_id.is_some_and(|t| tokens.contains(t)),
        object: seen.object.cloned(),
        parameters: seen
            .parameters
            .iter()
            .map(|(name, value)| Parameter {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        source: seen.source.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn effects_of_rule_and_forwarding_parameters() {
        // UpdateInboxRules (Outlook) logs the actions as JSON text in OperationProperties.
        let outlook = params(&[
            ("RuleOperation", "ModifyMailboxRule"),
            (
                "RuleActions",
                r#"[{"ActionType":"Forward","Recipients":["x@evil.example"]},{"ActionType": "Delete"}]"#,
            ),
        ]);
        assert_eq!(
            effects(&outlook),
            ["rule action Forward", "rule action Delete"]
        );
        let cleared = params(&[
            ("ForwardingSmtpAddress", "$null"),
            ("DeliverToMailboxAndForward", "True"),
        ]);
        assert_eq!(
            effects(&cleared),
            [
                "clears ForwardingSmtpAddress",
                "also delivers to the mailbox"
            ]
        );
        assert!(effects(&params(&[("MarkAsRead", "False")])).is_empty());
        assert!(listed("New-InboxRule", &[]));
        assert!(!listed(
            "Set-Mailbox",
            &params(&[("RetainDeletedItemsFor", "30")])
        ));
        assert!(listed(
            "set-mailbox",
            &params(&[("ForwardingAddress", "bob")])
        ));
    }
}
