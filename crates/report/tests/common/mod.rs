//! Hand-built findings covering every rule, suppression, missing optional fields, IPv6 and
//! prefix networks. Shared by the renderer snapshots, the OCSF schema test and the score tests.

#![allow(dead_code)]

use std::net::IpAddr;
use std::sync::Arc;

use tokentrail_model::{
    AccessEvidence, Confidence, Finding, IssueEvidence, NetworkId, Position, RuleId, SessionId,
    Severity, SignInKind, SourceRecord, SourceRef, Suppression, Timestamp, TokenId,
};

pub fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

pub fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn src(file: &str, line: u64) -> SourceRef {
    SourceRef {
        file: Arc::from(file),
        position: Position::Line(line),
    }
}

fn bare(id: &str, rule: RuleId, severity: Severity, confidence: Confidence) -> Finding {
    Finding {
        id: id.to_owned(),
        rule,
        title: String::new(),
        why: String::new(),
        severity,
        confidence,
        user_id: None,
        upn: None,
        session_id: None,
        token_id: None,
        app_id: None,
        app_name: None,
        resource: None,
        src_ip: None,
        network: None,
        first_seen: t("2024-05-01T00:00:00Z"),
        last_seen: t("2024-05-01T00:00:00Z"),
        issue: None,
        accesses: Vec::new(),
        checked: Vec::new(),
        containment: Vec::new(),
        suppression: None,
    }
}

pub const ALICE_ID: &str = "6f1c2a55-3b1e-4d8e-9a0b-1c2d3e4f5a6b";
pub const ALICE: &str = "alice@contoso.example";
pub const ALICE_SESSION: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
pub const ALICE_TOKEN: &str = "xMFjTVvJPE2OChJx_YE-AA";
pub const BOB_ID: &str = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
pub const BOB: &str = "bob@contoso.example";
pub const BOB_SESSION: &str = "11111111-2222-4333-8444-555555555555";
pub const CAROL_ID: &str = "c0c0c0c0-1111-4222-8333-444444444444";
pub const CAROL: &str = "carol@contoso.example";
pub const OUTLOOK: &str = "5d661950-3475-41cd-a2c3-d671a3162bc1";
pub const GRAPH_PS: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// TT001: a token issued in AS64500 used from AS64511, both ASNs known, IPv4.
pub fn tt001() -> Finding {
    Finding {
        title: "Token used from a network it was not issued to".into(),
        why: "Token issued to alice@contoso.example in AS64500 was used 14 minutes later from AS64511 for 3 Exchange operations.".into(),
        user_id: Some(ALICE_ID.into()),
        upn: Some(ALICE.into()),
        session_id: SessionId::parse(ALICE_SESSION),
        token_id: TokenId::parse(ALICE_TOKEN),
        app_id: Some(OUTLOOK.into()),
        app_name: Some("Microsoft Outlook".into()),
        resource: Some("Exchange".into()),
        src_ip: Some(ip("198.51.100.23")),
        network: Some(NetworkId::Asn(64511)),
        first_seen: t("2024-05-01T10:36:10Z"),
        last_seen: t("2024-05-01T10:41:55.250Z"),
        issue: Some(IssueEvidence {
            source: src("signins.json", 12),
            sign_in_id: Some("4d63c1c4-c95b-4d3c-8e0a-1271fd813e00".into()),
            kind: SignInKind::NonInteractive,
            time: t("2024-05-01T10:22:03Z"),
            ip: Some(ip("203.0.113.7")),
            network: Some(NetworkId::Asn(64500)),
            app_id: Some(OUTLOOK.into()),
            app_name: Some("Microsoft Outlook".into()),
            device_id: Some("d3v1ce00-0000-4000-8000-000000000001".into()),
        }),
        accesses: vec![AccessEvidence {
            network: Some(NetworkId::Asn(64511)),
            ips: vec![ip("198.51.100.23"), ip("198.51.100.24")],
            first_seen: t("2024-05-01T10:36:10Z"),
            last_seen: t("2024-05-01T10:41:55.250Z"),
            records: 3,
            operations: 5,
            operation_counts: vec![("MailItemsAccessed".into(), 4), ("Send".into(), 1)],
            app_ids: vec![OUTLOOK.into()],
            samples: vec![
                SourceRecord {
                    source: src("ual.csv", 40),
                    record_id: Some("a1b2c3d4-0000-4000-8000-000000000040".into()),
                    time: t("2024-05-01T10:36:10Z"),
                    operation: "MailItemsAccessed".into(),
                    ip: Some(ip("198.51.100.23")),
                },
                SourceRecord {
                    source: src("ual.csv", 41),
                    record_id: None,
                    time: t("2024-05-01T10:41:55.250Z"),
                    operation: "Send".into(),
                    ip: Some(ip("198.51.100.24")),
                },
            ],
        }],
        checked: vec![
            "not Microsoft infrastructure (AS8075 or published ranges)".into(),
            "not dual stack (no shared ASN between IPv4 and IPv6)".into(),
        ],
        containment: vec![
            "Revoke the user's sessions (Revoke-MgUserSignInSession)".into(),
            "Check inbox rules and forwarding.".into(),
        ],
        ..bare(
            "tt001-5a1f0c2e9b7d4e31",
            tokentrail_engine::rules::tt001::ID,
            Severity::High,
            Confidence::High,
        )
    }
}

/// TT002: a session replayed from an IPv6 network with no known ASN (prefix, approximate).
pub fn tt002() -> Finding {
    Finding {
        title: "Session used from a network where it was never established".into(),
        why: "Session of bob@contoso.example, established interactively in AS64500, refreshed from 2001:db8:42::/48 with no device id.".into(),
        user_id: Some(BOB_ID.into()),
        upn: Some(BOB.into()),
        session_id: SessionId::parse(BOB_SESSION),
        token_id: None,
        app_id: Some(OUTLOOK.into()),
        app_name: Some("Microsoft Outlook".into()),
        resource: Some("Microsoft Graph".into()),
        src_ip: Some(ip("2001:db8:42:1::5")),
        network: Some(NetworkId::Prefix(ip("2001:db8:42::"), 48)),
        first_seen: t("2024-05-02T03:00:00Z"),
        last_seen: t("2024-05-02T05:30:00Z"),
        issue: Some(IssueEvidence {
            source: src("signins.json", 3),
            sign_in_id: Some("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee".into()),
            kind: SignInKind::Interactive,
            time: t("2024-05-01T08:00:00Z"),
            ip: Some(ip("203.0.113.9")),
            network: Some(NetworkId::Asn(64500)),
            app_id: None,
            app_name: None,
            device_id: None,
        }),
        accesses: vec![
            AccessEvidence {
                network: Some(NetworkId::Prefix(ip("2001:db8:42::"), 48)),
                ips: vec![ip("2001:db8:42:1::5")],
                first_seen: t("2024-05-02T03:00:00Z"),
                last_seen: t("2024-05-02T03:00:00Z"),
                records: 1,
                operations: 1,
                operation_counts: vec![("non-interactive".into(), 1)],
                app_ids: vec![],
                samples: vec![SourceRecord {
                    source: src("noninteractive.json", 7),
                    record_id: Some("ffffffff-0000-4000-8000-000000000007".into()),
                    time: t("2024-05-02T03:00:00Z"),
                    operation: "non-interactive".into(),
                    ip: Some(ip("2001:db8:42:1::5")),
                }],
            },
            AccessEvidence {
                network: Some(NetworkId::Prefix(ip("2001:db8:42::"), 48)),
                ips: vec![ip("2001:db8:42:1::5"), ip("2001:db8:42:2::9")],
                first_seen: t("2024-05-02T03:05:00Z"),
                last_seen: t("2024-05-02T05:30:00Z"),
                records: 120,
                operations: 120,
                operation_counts: vec![("GET /me/messages".into(), 120)],
                app_ids: vec![OUTLOOK.into(), GRAPH_PS.into()],
                samples: vec![],
            },
        ],
        checked: vec!["not phone roaming: no managed device proven by the sign-in".into()],
        containment: vec!["Revoke the user's sessions".into()],
        ..bare(
            "tt002-77c0de11aa22bb33",
            tokentrail_engine::rules::tt002::ID,
            Severity::Critical,
            Confidence::Medium,
        )
    }
}

/// TT003: per user and client app, no session or token, IPv4 prefix network.
pub fn tt003() -> Finding {
    Finding {
        title: "Mail access with no interactive sign-in".into(),
        why: "carol@contoso.example read mail through an app whose tokens descend from no interactive sign-in in the last 7 days.".into(),
        user_id: Some(CAROL_ID.into()),
        upn: Some(CAROL.into()),
        app_id: Some(GRAPH_PS.into()),
        app_name: Some("Microsoft Graph PowerShell".into()),
        resource: Some("Exchange".into()),
        src_ip: Some(ip("192.0.2.77")),
        network: Some(NetworkId::Prefix(ip("192.0.2.0"), 24)),
        first_seen: t("2024-05-03T12:00:00Z"),
        last_seen: t("2024-05-03T12:10:00Z"),
        accesses: vec![AccessEvidence {
            network: Some(NetworkId::Prefix(ip("192.0.2.0"), 24)),
            ips: vec![ip("192.0.2.77")],
            first_seen: t("2024-05-03T12:00:00Z"),
            last_seen: t("2024-05-03T12:10:00Z"),
            records: 7,
            operations: 9,
            operation_counts: vec![("MailItemsAccessed".into(), 9)],
            app_ids: vec![GRAPH_PS.into()],
            samples: vec![],
        }],
        containment: vec!["Review the app's consent grants".into()],
        ..bare(
            "tt003-0123456789abcdef",
            tokentrail_engine::rules::tt003::ID,
            Severity::Medium,
            Confidence::Medium,
        )
    }
}

/// TT004: an opaque token id, user object id only, no app name, no issue.
pub fn tt004() -> Finding {
    Finding {
        title: "Token with no sign-in".into(),
        why: "Token tOkEnIdEnTiFiEr123 was used for 2 file downloads but appears in no sign-in although both sign-in logs cover its issue time.".into(),
        user_id: Some(BOB_ID.into()),
        token_id: TokenId::parse("tOkEnIdEnTiFiEr123"),
        app_id: Some("00000000-1111-4222-8333-444444444444".into()),
        resource: Some("SharePoint".into()),
        src_ip: Some(ip("203.0.113.200")),
        network: Some(NetworkId::Asn(64500)),
        first_seen: t("2024-05-04T09:00:00Z"),
        last_seen: t("2024-05-04T09:00:30Z"),
        accesses: vec![AccessEvidence {
            network: Some(NetworkId::Asn(64500)),
            ips: vec![ip("203.0.113.200")],
            first_seen: t("2024-05-04T09:00:00Z"),
            last_seen: t("2024-05-04T09:00:30Z"),
            records: 2,
            operations: 2,
            operation_counts: vec![("FileDownloaded".into(), 2)],
            app_ids: vec!["00000000-1111-4222-8333-444444444444".into()],
            samples: vec![],
        }],
        ..bare(
            "tt004-fedcba9876543210",
            tokentrail_engine::rules::tt004::ID,
            Severity::Low,
            Confidence::Low,
        )
    }
}

/// TT005: device-code client, suppressed by an allowlist entry.
pub fn tt005_suppressed() -> Finding {
    Finding {
        title: "Mail read by an unapproved client".into(),
        why: "alice@contoso.example read mail with Microsoft Graph PowerShell via device code flow, a client the tenant does not use.".into(),
        user_id: Some(ALICE_ID.into()),
        upn: Some(ALICE.into()),
        session_id: SessionId::parse(ALICE_SESSION),
        app_id: Some(GRAPH_PS.into()),
        app_name: Some("Microsoft Graph PowerShell".into()),
        resource: Some("Exchange".into()),
        src_ip: Some(ip("203.0.113.7")),
        network: Some(NetworkId::Asn(64500)),
        first_seen: t("2024-05-01T11:00:00Z"),
        last_seen: t("2024-05-01T11:02:00Z"),
        accesses: vec![AccessEvidence {
            network: Some(NetworkId::Asn(64500)),
            ips: vec![ip("203.0.113.7")],
            first_seen: t("2024-05-01T11:00:00Z"),
            last_seen: t("2024-05-01T11:02:00Z"),
            records: 4,
            operations: 4,
            operation_counts: vec![("MailItemsAccessed".into(), 4)],
            app_ids: vec![GRAPH_PS.into()],
            samples: vec![],
        }],
        containment: vec!["Review the app's consent grants".into()],
        suppression: Some(Suppression {
            entry_id: "graph-ps-admins".into(),
            reason: "Admins use Graph PowerShell, change CHG-1042".into(),
        }),
        ..bare(
            "tt005-aaaabbbbccccdddd",
            tokentrail_engine::rules::tt005::ID,
            Severity::Medium,
            Confidence::High,
        )
    }
}

/// TT001 with every optional field missing: no user, session, token, app, address, network,
/// issue, accesses, checks or containment.
pub fn minimal() -> Finding {
    Finding {
        title: "Token used from a network it was not issued to".into(),
        why: "A token was used from another network.".into(),
        ..bare(
            "tt001-0000000000000000",
            tokentrail_engine::rules::tt001::ID,
            Severity::Informational,
            Confidence::Low,
        )
    }
}

/// Every finding above, in a fixed order that is not the display order.
pub fn all() -> Vec<Finding> {
    vec![
        tt003(),
        tt001(),
        minimal(),
        tt005_suppressed(),
        tt004(),
        tt002(),
    ]
}
