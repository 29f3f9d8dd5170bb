//! OCSF Detection Finding (class 2004) JSON lines, pinned to OCSF **1.8.0**.
//!
//! One finding per line, keys in a fixed order, no timestamps of the run itself: the same
//! findings always give the same bytes. `docs/finding-schema.md` documents every attribute; the
//! places other tools read are:
//!
//! | place | holds |
//! |---|---|
//! | `finding_info.uid` | [`Finding::id`], deterministic |
//! | `finding_info.analytic.uid` / `.name` | rule id (`TT001`) / rule name (`token-replay`) |
//! | `finding_info.related_analytics[].uid` | MITRE ATT&CK analytics (`AN0959`, ...) |
//! | `finding_info.attacks[]` | T1550 / T1550.001 under TA0005 and TA0008 |
//! | `actor.user.uid` / `.name` | user object id / UPN |
//! | `actor.session.uid` / `.credential_uid` | session id / token id |
//! | `actor.app_uid` / `.app_name` | client app |
//! | `evidences[0]` (`name` = `use`) | where it was used from: `src_endpoint.ip`, ASN |
//! | `evidences[]` `access` / `issue` | grouped accesses and the issuing sign-in |
//!
//! Detection Finding 1.8.0 has no top-level `src_endpoint`; the address the token or session was
//! used from therefore lives in the first evidence, which is always the `use` evidence.
//! `actor` comes from the `host` profile and the `*_dt` siblings from the `datetime` profile;
//! both are declared in `metadata.profiles`.

use std::io::Write;
use std::net::IpAddr;

use serde::Serialize;
use tokentrail_model::{
    escape, AccessEvidence, Finding, IssueEvidence, NetworkId, SourceRecord, Suppression, Timestamp,
};

use crate::text::millis;
use crate::ReportError;

/// The OCSF schema version the output follows.
pub const OCSF_VERSION: &str = "1.8.0";
/// Detection Finding.
pub const CLASS_UID: u32 = 2004;
/// Findings.
pub const CATEGORY_UID: u32 = 2;
/// Create: every finding tokentrail writes is a newly created one.
pub const ACTIVITY_ID: u32 = 1;
/// `class_uid * 100 + activity_id`.
pub const TYPE_UID: u32 = CLASS_UID * 100 + ACTIVITY_ID;
/// Finding `status_id` New.
pub const STATUS_NEW: u32 = 1;
/// Finding `status_id` Suppressed.
pub const STATUS_SUPPRESSED: u32 = 3;
/// `evidences[].name` of the evidence that says where the finding's token or session was used
/// from.
pub const EVIDENCE_USE: &str = "use";
/// `evidences[].name` of a group of accesses.
pub const EVIDENCE_ACCESS: &str = "access";
/// `evidences[].name` of the issuing (or root) sign-in.
pub const EVIDENCE_ISSUE: &str = "issue";

/// ATT&CK tactics of T1550, as MITRE lists them (technique page T1550).
const TACTICS: [(&str, &str); 2] = [
    ("TA0005", "Defense Evasion"),
    ("TA0008", "Lateral Movement"),
];

/// What the OCSF writer needs besides the findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcsfOptions {
    /// `metadata.product.version`: the tokentrail version that wrote the findings.
    pub product_version: String,
}

impl Default for OcsfOptions {
    fn default() -> Self {
        OcsfOptions {
            product_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Write `findings` as OCSF JSON lines, in the order given.
pub fn write_ocsf_lines<W: Write>(
    mut out: W,
    findings: &[Finding],
    options: &OcsfOptions,
) -> Result<(), ReportError> {
    for finding in findings {
        let line = ocsf_line(finding, options)?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// One finding as one line of JSON (no trailing newline).
pub fn ocsf_line(finding: &Finding, options: &OcsfOptions) -> Result<String, ReportError> {
    // Active characters (C1 controls, bidi overrides) as `\u` escapes: the same JSON, inert
    // on a terminal.
    escape::json_string(&DetectionFinding::new(finding, options)).map_err(|source| {
        ReportError::Serialize {
            id: finding.id.clone(),
            source,
        }
    })
}

/// One finding as a JSON value (for callers that embed it in a larger document).
pub fn ocsf_value(
    finding: &Finding,
    options: &OcsfOptions,
) -> Result<serde_json::Value, ReportError> {
    serde_json::to_value(DetectionFinding::new(finding, options)).map_err(|source| {
        ReportError::Serialize {
            id: finding.id.clone(),
            source,
        }
    })
}

// The structs below mirror the OCSF objects; field order is the output's key order.

#[derive(Serialize)]
struct DetectionFinding<'a> {
    class_uid: u32,
    class_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    activity_id: u32,
    activity_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    severity_id: u8,
    severity: &'static str,
    confidence_id: u8,
    confidence: &'static str,
    status_id: u32,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_detail: Option<String>,
    is_alert: bool,
    time: i64,
    time_dt: String,
    start_time: i64,
    start_time_dt: String,
    end_time: i64,
    end_time_dt: String,
    duration: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    timezone_offset: i32,
    message: &'a str,
    metadata: Metadata<'a>,
    finding_info: FindingInfo<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<Actor<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<Resource<'a>>,
    evidences: Vec<Evidence<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    observables: Vec<Observable>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remediation: Option<Remediation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unmapped: Option<Unmapped<'a>>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    version: &'static str,
    uid: &'a str,
    product: Product<'a>,
    profiles: [&'static str; 2],
}

#[derive(Serialize)]
struct Product<'a> {
    name: &'static str,
    vendor_name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    uid: &'a str,
    title: &'a str,
    desc: &'a str,
    analytic: Analytic,
    related_analytics: Vec<Analytic>,
    attacks: Vec<Attack>,
    first_seen_time: i64,
    first_seen_time_dt: String,
    last_seen_time: i64,
    last_seen_time_dt: String,
}

#[derive(Serialize)]
struct Analytic {
    uid: &'static str,
    name: String,
    type_id: u32,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Attack {
    tactic: Entity,
    technique: Entity,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_technique: Option<Entity>,
}

#[derive(Serialize)]
struct Entity {
    uid: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct Actor<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<User<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<Session>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_name: Option<&'a str>,
}

#[derive(Serialize)]
struct User<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    type_id: u32,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Session {
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_uid: Option<String>,
}

#[derive(Serialize)]
struct Resource<'a> {
    name: &'a str,
    role_id: u32,
    role: &'static str,
}

#[derive(Serialize)]
struct Evidence<'a> {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<Actor<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api: Option<Api<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_endpoint: Option<Endpoint>,
    data: EvidenceData<'a>,
}

#[derive(Serialize)]
struct Api<'a> {
    operation: &'a str,
}

#[derive(Serialize)]
struct Endpoint {
    ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    autonomous_system: Option<AutonomousSystem>,
}

#[derive(Serialize)]
struct AutonomousSystem {
    number: u32,
}

/// What an evidence carries that OCSF has no attribute for; `evidences[].data` is `json_t`.
#[derive(Serialize)]
struct EvidenceData<'a> {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_approximate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sign_in_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sign_in_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_dt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen_time_dt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen_time_dt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operations: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation_counts: Option<Vec<OperationCount<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ips: Option<&'a [IpAddr]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_ids: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    samples: Option<Vec<Sample<'a>>>,
}

impl EvidenceData<'_> {
    fn empty(role: &'static str) -> Self {
        EvidenceData {
            role,
            network: None,
            network_approximate: None,
            resource: None,
            sign_in_id: None,
            sign_in_kind: None,
            source: None,
            time: None,
            time_dt: None,
            device_id: None,
            first_seen_time: None,
            first_seen_time_dt: None,
            last_seen_time: None,
            last_seen_time_dt: None,
            records: None,
            operations: None,
            operation_counts: None,
            ips: None,
            app_ids: None,
            samples: None,
        }
    }
}

#[derive(Serialize)]
struct OperationCount<'a> {
    operation: &'a str,
    count: u64,
}

#[derive(Serialize)]
struct Sample<'a> {
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_id: Option<&'a str>,
    time: i64,
    time_dt: String,
    operation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<IpAddr>,
}

#[derive(Serialize)]
struct Observable {
    name: &'static str,
    type_id: u32,
    value: String,
}

#[derive(Serialize)]
struct Remediation {
    desc: String,
}

#[derive(Serialize)]
struct Unmapped<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    checked: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    containment: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<&'a Suppression>,
}

// Observable type ids, from the 1.8.0 dictionary: `ip_t` 2, `username_t` 4 (the type of
// `user.name`), `credential_uid` 19, `user.uid` 31.
const OBSERVABLE_IP: u32 = 2;
const OBSERVABLE_USER_NAME: u32 = 4;
const OBSERVABLE_CREDENTIAL_UID: u32 = 19;
const OBSERVABLE_USER_UID: u32 = 31;

impl<'a> DetectionFinding<'a> {
    fn new(f: &'a Finding, options: &'a OcsfOptions) -> Self {
        let (status_id, status, status_detail) = match &f.suppression {
            Some(s) => (
                STATUS_SUPPRESSED,
                "Suppressed",
                Some(format!(
                    "Suppressed by allowlist entry {}: {}",
                    s.entry_id, s.reason
                )),
            ),
            None => (STATUS_NEW, "New", None),
        };
        let records: u64 = f.accesses.iter().map(|a| a.records).sum();
        let actor = actor_of(f);
        let mut evidences = vec![use_evidence(f)];
        evidences.extend(f.accesses.iter().map(access_evidence));
        if let Some(issue) = &f.issue {
            evidences.push(issue_evidence(issue));
        }
        DetectionFinding {
            class_uid: CLASS_UID,
            class_name: "Detection Finding",
            category_uid: CATEGORY_UID,
            category_name: "Findings",
            activity_id: ACTIVITY_ID,
            activity_name: "Create",
            type_uid: TYPE_UID,
            type_name: "Detection Finding: Create",
            severity_id: f.severity.ocsf_id(),
            severity: f.severity.caption(),
            confidence_id: f.confidence.ocsf_id(),
            confidence: f.confidence.caption(),
            status_id,
            status,
            status_detail,
            is_alert: f.suppression.is_none(),
            // The finding's time is its last record, not the moment of the run, so that
            // re-running over the same logs writes the same bytes.
            time: millis(f.last_seen),
            time_dt: f.last_seen.to_rfc3339(),
            start_time: millis(f.first_seen),
            start_time_dt: f.first_seen.to_rfc3339(),
            end_time: millis(f.last_seen),
            end_time_dt: f.last_seen.to_rfc3339(),
            duration: millis(f.last_seen) - millis(f.first_seen),
            count: (!f.accesses.is_empty()).then_some(records),
            timezone_offset: 0,
            message: &f.why,
            metadata: Metadata {
                version: OCSF_VERSION,
                uid: &f.id,
                product: Product {
                    name: "tokentrail",
                    vendor_name: "tokentrail",
                    version: &options.product_version,
                },
                profiles: ["datetime", "host"],
            },
            finding_info: FindingInfo {
                uid: &f.id,
                title: &f.title,
                desc: &f.why,
                analytic: Analytic {
                    uid: f.rule.code(),
                    name: f.rule.name().to_owned(),
                    type_id: 1,
                    kind: "Rule",
                },
                related_analytics: f
                    .rule
                    .analytics()
                    .iter()
                    .map(|&uid| Analytic {
                        uid,
                        name: format!("MITRE ATT&CK analytic {uid}"),
                        type_id: 99,
                        kind: "MITRE ATT&CK Analytic",
                    })
                    .collect(),
                attacks: attacks_of(f),
                first_seen_time: millis(f.first_seen),
                first_seen_time_dt: f.first_seen.to_rfc3339(),
                last_seen_time: millis(f.last_seen),
                last_seen_time_dt: f.last_seen.to_rfc3339(),
            },
            actor,
            resources: f
                .resource
                .as_deref()
                .map(|name| Resource {
                    name,
                    role_id: 1,
                    role: "Target",
                })
                .into_iter()
                .collect(),
            evidences,
            observables: observables_of(f),
            remediation: remediation_of(&f.containment),
            unmapped: (!f.checked.is_empty()
                || !f.containment.is_empty()
                || f.suppression.is_some())
            .then_some(Unmapped {
                checked: &f.checked,
                containment: &f.containment,
                suppression: f.suppression.as_ref(),
            }),
        }
    }
}

fn actor_of(f: &Finding) -> Option<Actor<'_>> {
    let user = (f.user_id.is_some() || f.upn.is_some()).then_some(User {
        uid: f.user_id.as_deref(),
        name: f.upn.as_deref(),
        type_id: 1,
        kind: "User",
    });
    let session = (f.session_id.is_some() || f.token_id.is_some()).then(|| Session {
        uid: f.session_id.as_ref().map(ToString::to_string),
        credential_uid: f.token_id.as_ref().map(ToString::to_string),
    });
    let actor = Actor {
        user,
        session,
        app_uid: f.app_id.as_deref(),
        app_name: f.app_name.as_deref(),
    };
    // OCSF requires at least one of user, session, app_name, app_uid: an empty actor is omitted.
    (actor.user.is_some()
        || actor.session.is_some()
        || actor.app_uid.is_some()
        || actor.app_name.is_some())
    .then_some(actor)
}

fn attacks_of(f: &Finding) -> Vec<Attack> {
    let techniques = f.rule.techniques();
    let Some(technique) = techniques.iter().find(|t| !t.uid.contains('.')) else {
        return Vec::new();
    };
    let sub = techniques.iter().find(|t| t.uid.contains('.'));
    TACTICS
        .iter()
        .map(|&(uid, name)| Attack {
            tactic: Entity { uid, name },
            technique: Entity {
                uid: technique.uid,
                name: technique.name,
            },
            sub_technique: sub.map(|s| Entity {
                uid: s.uid,
                name: s.name,
            }),
        })
        .collect()
}

fn endpoint(ip: Option<IpAddr>, network: Option<&NetworkId>) -> Option<Endpoint> {
    ip.map(|ip| Endpoint {
        ip,
        autonomous_system: match network {
            Some(NetworkId::Asn(number)) => Some(AutonomousSystem { number: *number }),
            _ => None,
        },
    })
}

fn network_fields(network: Option<&NetworkId>) -> (Option<String>, Option<bool>) {
    (
        network.map(ToString::to_string),
        network.map(NetworkId::is_approximate),
    )
}

fn use_evidence(f: &Finding) -> Evidence<'_> {
    let (network, network_approximate) = network_fields(f.network.as_ref());
    Evidence {
        name: EVIDENCE_USE,
        actor: None,
        api: None,
        src_endpoint: endpoint(f.src_ip, f.network.as_ref()),
        data: EvidenceData {
            network,
            network_approximate,
            resource: f.resource.as_deref(),
            ..EvidenceData::empty(EVIDENCE_USE)
        },
    }
}

fn access_evidence(a: &AccessEvidence) -> Evidence<'_> {
    let (network, network_approximate) = network_fields(a.network.as_ref());
    let top_operation = a.operation_counts.first().map(|(op, _)| op.as_str());
    Evidence {
        name: EVIDENCE_ACCESS,
        // Only one client app makes the group's actor; several are listed in data.app_ids.
        actor: match a.app_ids.as_slice() {
            [one] => Some(Actor {
                user: None,
                session: None,
                app_uid: Some(one),
                app_name: None,
            }),
            _ => None,
        },
        api: top_operation.map(|operation| Api { operation }),
        src_endpoint: endpoint(a.ips.first().copied(), a.network.as_ref()),
        data: EvidenceData {
            network,
            network_approximate,
            first_seen_time: Some(millis(a.first_seen)),
            first_seen_time_dt: Some(a.first_seen.to_rfc3339()),
            last_seen_time: Some(millis(a.last_seen)),
            last_seen_time_dt: Some(a.last_seen.to_rfc3339()),
            records: Some(a.records),
            operations: Some(a.operations),
            operation_counts: Some(
                a.operation_counts
                    .iter()
                    .map(|(operation, count)| OperationCount {
                        operation,
                        count: *count,
                    })
                    .collect(),
            ),
            ips: Some(&a.ips),
            app_ids: Some(&a.app_ids),
            samples: Some(a.samples.iter().map(sample).collect()),
            ..EvidenceData::empty(EVIDENCE_ACCESS)
        },
    }
}

fn sample(s: &SourceRecord) -> Sample<'_> {
    Sample {
        source: s.source.to_string(),
        record_id: s.record_id.as_deref(),
        time: millis(s.time),
        time_dt: s.time.to_rfc3339(),
        operation: &s.operation,
        ip: s.ip,
    }
}

fn issue_evidence(i: &IssueEvidence) -> Evidence<'_> {
    let (network, network_approximate) = network_fields(i.network.as_ref());
    let actor = Actor {
        user: None,
        session: None,
        app_uid: i.app_id.as_deref(),
        app_name: i.app_name.as_deref(),
    };
    let has_actor = actor.app_uid.is_some() || actor.app_name.is_some();
    Evidence {
        name: EVIDENCE_ISSUE,
        actor: has_actor.then_some(actor),
        api: None,
        src_endpoint: endpoint(i.ip, i.network.as_ref()),
        data: EvidenceData {
            network,
            network_approximate,
            sign_in_id: i.sign_in_id.as_deref(),
            sign_in_kind: Some(i.kind.as_str()),
            source: Some(i.source.to_string()),
            time: Some(millis(i.time)),
            time_dt: Some(i.time.to_rfc3339()),
            device_id: i.device_id.as_deref(),
            ..EvidenceData::empty(EVIDENCE_ISSUE)
        },
    }
}

fn observables_of(f: &Finding) -> Vec<Observable> {
    let mut out = Vec::new();
    if let Some(uid) = &f.user_id {
        out.push(Observable {
            name: "actor.user.uid",
            type_id: OBSERVABLE_USER_UID,
            value: uid.clone(),
        });
    }
    if let Some(upn) = &f.upn {
        out.push(Observable {
            name: "actor.user.name",
            type_id: OBSERVABLE_USER_NAME,
            value: upn.clone(),
        });
    }
    if let Some(token) = &f.token_id {
        out.push(Observable {
            name: "actor.session.credential_uid",
            type_id: OBSERVABLE_CREDENTIAL_UID,
            value: token.to_string(),
        });
    }
    if let Some(ip) = f.src_ip {
        out.push(Observable {
            name: "evidences[0].src_endpoint.ip",
            type_id: OBSERVABLE_IP,
            value: ip.to_string(),
        });
    }
    out
}

/// `remediation.desc` must be text; the steps are numbered so they stay readable in one field.
fn remediation_of(steps: &[String]) -> Option<Remediation> {
    if steps.is_empty() {
        return None;
    }
    let desc = steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let step = step.trim();
            let end = if step.ends_with(['.', '!', '?']) {
                ""
            } else {
                "."
            };
            format!("{}. {step}{end}", i + 1)
        })
        .collect::<Vec<_>>()
        .join(" ");
    Some(Remediation { desc })
}

/// Read back `*_dt` text or millisecond numbers written by this module.
pub(crate) fn read_time(value: &serde_json::Value, pointer: &str) -> Option<Timestamp> {
    if let Some(text) = value
        .pointer(&format!("{pointer}_dt"))
        .and_then(|v| v.as_str())
    {
        if let Some(t) = Timestamp::parse(text) {
            return Some(t);
        }
    }
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_i64)
        .map(|ms| Timestamp(ms.saturating_mul(1000)))
}
